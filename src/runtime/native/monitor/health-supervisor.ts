/**
 * The health monitor of a state directory: one process (./health-monitor.ts) checks every registered run of a
 * container with a healthcheck (./health-registry.ts), each on its own schedule (./health.ts `checkRun`), instead of
 * one Node process (~45 MB) per container.
 *
 * - It takes its place under the health lock: a second monitor of the same state directory (started by hand, or
 *   left from a race) finds the first alive and exits.
 * - It watches the registry directory (inotify; a slow rescan as a safety net) and starts checking each new run;
 *   a run whose end it noticed is unregistered.
 * - Idle (no run to check) for IDLE_GRACE_MS, it exits — under the lock, after looking once more, so a start that
 *   registered meanwhile is either seen here or finds no monitor and starts one.
 * - Killed, the next start (./health-launch.ts) starts another, which takes up every run still registered.
 */
import { watch, promises as fs, type FSWatcher } from 'node:fs';
import { nativePaths, StateStore } from '../state.js';
import { OciRuntime } from '../oci/oci-runtime.js';
import { checkRun, type HealthContext } from './health.js';
import {
  healthDir,
  livingMonitor,
  registeredRuns,
  removeMonitorPid,
  runKey,
  unregisterRun,
  withHealthLock,
  writeMonitorPid,
  type HealthRun,
} from './health-registry.js';

export interface SupervisorOptions {
  /** How long it stays with nothing to check before exiting. */
  readonly idleGraceMs?: number;
  /** The safety-net rescan of the registry (inotify wakes it at once). */
  readonly rescanMs?: number;
  /** Checks one run until it ends (tests replace it). */
  readonly check?: (ctx: HealthContext, run: HealthRun, signal: AbortSignal) => Promise<void>;
}

const IDLE_GRACE_MS = 1000;
const RESCAN_MS = 10_000;
/** The OCI runtime when a registration names none. */
const DEFAULT_OCI = 'runc';

/**
 * Runs the health monitor of state directory `root` (run directory `run`) until it is idle; returns false at once
 * when another monitor of it is alive.
 */
export async function runHealthSupervisor(root: string, run: string, opts: SupervisorOptions = {}): Promise<boolean> {
  const claimed = await withHealthLock(run, async () => {
    const other = await livingMonitor(run, root);
    if (other !== undefined && other !== process.pid) return false;
    await writeMonitorPid(run, process.pid);
    return true;
  });
  if (!claimed) return false;
  await new Supervisor(root, run, opts).loop();
  return true;
}

class Supervisor {
  private readonly paths;
  private readonly state;
  private readonly ocis = new Map<string, OciRuntime>();
  private readonly checks = new Map<string, AbortController>();
  /** Runs whose check ended, until their file is gone (so a failed unlink never restarts a check). */
  private readonly ended = new Set<string>();
  private wake: (() => void) | undefined;
  private pending = false;
  private watcher: FSWatcher | undefined;

  constructor(
    root: string,
    private readonly runDir: string,
    private readonly opts: SupervisorOptions,
  ) {
    this.paths = nativePaths({ stateDir: root, runDir });
    this.state = new StateStore(this.paths); // the records alone: no NativeContext (see ./health.ts)
  }

  async loop(): Promise<void> {
    await fs.mkdir(healthDir(this.runDir), { recursive: true });
    try {
      this.watcher = watch(healthDir(this.runDir), () => this.poke());
      this.watcher.on('error', () => undefined);
    } catch {
      this.watcher = undefined; // the rescan finds new runs
    }
    try {
      for (;;) {
        await this.scan();
        if (this.checks.size > 0) {
          await this.sleep(this.opts.rescanMs ?? RESCAN_MS);
          continue;
        }
        await this.sleep(this.opts.idleGraceMs ?? IDLE_GRACE_MS);
        if (this.pending || this.checks.size > 0) continue;
        if (await this.quitIfIdle()) return;
      }
    } finally {
      this.watcher?.close();
      for (const ac of this.checks.values()) ac.abort();
    }
  }

  /** Under the lock: exits (gives up the pid file) if no run is registered; a start registering next starts a new monitor. */
  private quitIfIdle(): Promise<boolean> {
    return withHealthLock(this.runDir, async () => {
      const runs = (await registeredRuns(this.runDir)).filter((r) => !this.ended.has(runKey(r.id, r.generation)));
      if (runs.length > 0) return false;
      await removeMonitorPid(this.runDir, process.pid);
      return true;
    });
  }

  /** Starts a check for each registered run without one. */
  private async scan(): Promise<void> {
    this.pending = false;
    const runs = await registeredRuns(this.runDir);
    const present = new Set(runs.map((r) => runKey(r.id, r.generation)));
    for (const key of this.ended) if (!present.has(key)) this.ended.delete(key);
    for (const r of runs) {
      const key = runKey(r.id, r.generation);
      if (this.checks.has(key) || this.ended.has(key)) continue;
      const ac = new AbortController();
      this.checks.set(key, ac);
      void this.check(r, ac.signal).finally(async () => {
        this.ended.add(key);
        await unregisterRun(this.runDir, r.id, r.generation).catch(() => undefined);
        this.checks.delete(key);
        this.poke();
      });
    }
  }

  private async check(r: HealthRun, signal: AbortSignal): Promise<void> {
    const ctx = this.context(r.oci || DEFAULT_OCI, r.binaryMount);
    try {
      await (this.opts.check ?? ((c, x, s) => checkRun(c, x.id, x.generation, s)))(ctx, r, signal);
    } catch (e) {
      process.stderr.write(`tscompose health monitor: ${r.id.slice(0, 12)}: ${(e as Error).message}\n`);
    }
  }

  private context(binary: string, binaryMount: string | undefined): HealthContext {
    const key = `${binary}\0${binaryMount ?? ''}`;
    let oci = this.ocis.get(key);
    if (!oci) {
      // Probes run the runtime from the read-only mount the CLI used, where it skips copying itself at each exec.
      oci = new OciRuntime(binary, this.paths.ociRoot, binaryMount !== undefined ? { protectedBinaryDir: binaryMount } : {});
      this.ocis.set(key, oci);
    }
    return { paths: this.paths, state: this.state, oci };
  }

  private poke(): void {
    this.pending = true;
    this.wake?.();
  }

  /** Sleeps `ms`, or until the registry changes or a check ends. */
  private sleep(ms: number): Promise<void> {
    if (this.pending) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }
}
