/**
 * Where the CLIs (and conmon's exit hook) of a state directory and its one health monitor meet: files under the run
 * directory (tmpfs, so a reboot forgets them with the runs they name).
 *
 *   health/<id>.<generation>   a run of a container with a healthcheck, to be checked (JSON: the OCI runtime that
 *                              runs it, and the directory of its read-only mounts when the CLI used one);
 *                              written by its start, removed by the monitor once that run has ended
 *   health-monitor.pid         the pid of the state directory's health monitor (./health-monitor.ts)
 *   health-monitor.lock/       the lock (lib/fs/lock.ts) under which a start registers its run and checks or starts
 *                              the monitor, and under which the monitor takes its place or, idle, gives it up
 *
 * Doing both sides under one lock is what makes it race-free: a start never finds a monitor that is about to exit
 * without looking at the run just registered, and parallel starts find one monitor (or start exactly one).
 */
import { readFileSync } from 'node:fs';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { withLock } from '../../../lib/fs/lock.js';
import { pidAlive } from '../../../lib/fs/proc.js';
import { isHelperEntry } from '../../../lib/helper-entry.js';

/** A run to check: the container, its generation (the start it was made for) and the OCI runtime running it. */
export interface HealthRun {
  readonly id: string;
  readonly generation: number;
  readonly oci: string;
  /** Where the CLI keeps read-only mounts of the runtime's binary (../oci/runtime-binary.ts); probes run it there. */
  readonly binaryMount?: string | undefined;
}

/** The name of the monitor's entry module; its processes are recognized by it and the state directory in their args. */
export const MONITOR_ENTRY = 'health-monitor';

export function healthDir(run: string): string {
  return path.join(run, 'health');
}

function pidFile(run: string): string {
  return path.join(run, 'health-monitor.pid');
}

/** Runs `fn` holding the health lock of the run directory `run`. */
export function withHealthLock<T>(run: string, fn: () => Promise<T>): Promise<T> {
  return withLock(path.join(run, 'health-monitor.lock'), fn);
}

const RUN_FILE = /^([0-9a-zA-Z_-]+)\.(\d+)$/;

/** `<id>.<generation>`, the name of a run's file (and the monitor's key for it). */
export function runKey(id: string, generation: number): string {
  return `${id}.${generation}`;
}

/** Registers a run to check (atomically: the monitor never reads a half-written file). */
export async function registerRun(run: string, r: HealthRun): Promise<void> {
  const dir = healthDir(run);
  await fs.mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.${randomBytes(6).toString('hex')}.tmp`);
  await fs.writeFile(tmp, JSON.stringify({ oci: r.oci, ...(r.binaryMount !== undefined ? { binaryMount: r.binaryMount } : {}) }));
  await fs.rename(tmp, path.join(dir, runKey(r.id, r.generation)));
}

/** The registered runs. */
export async function registeredRuns(run: string): Promise<HealthRun[]> {
  const dir = healthDir(run);
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const out: HealthRun[] = [];
  for (const name of names) {
    const m = RUN_FILE.exec(name);
    if (!m) continue;
    const text = await fs.readFile(path.join(dir, name), 'utf8').catch(() => undefined);
    if (text === undefined) continue; // removed meanwhile
    let oci = '';
    let binaryMount: string | undefined;
    try {
      const j = JSON.parse(text) as { oci?: unknown; binaryMount?: unknown };
      oci = String(j.oci ?? '');
      if (typeof j.binaryMount === 'string' && j.binaryMount !== '') binaryMount = j.binaryMount;
    } catch {
      // unreadable: checked with the default runtime
    }
    out.push({ id: m[1]!, generation: Number(m[2]), oci, ...(binaryMount !== undefined ? { binaryMount } : {}) });
  }
  return out;
}

export async function unregisterRun(run: string, id: string, generation: number): Promise<void> {
  await fs.rm(path.join(healthDir(run), runKey(id, generation)), { force: true });
}

/** Whether `pid` is a live health monitor of the state directory `root` (not another process that got its pid). */
export function isHealthMonitor(pid: number, root: string): boolean {
  if (!(pid > 0) || !pidAlive(pid)) return false;
  let args: string[];
  try {
    args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return false;
  }
  return args.some((a) => isHelperEntry(a, MONITOR_ENTRY)) && args.includes(root);
}

/** The pid of the state directory's live health monitor, if it has one. */
export async function livingMonitor(run: string, root: string): Promise<number | undefined> {
  const pid = Number((await fs.readFile(pidFile(run), 'utf8').catch(() => '')).trim());
  return isHealthMonitor(pid, root) ? pid : undefined;
}

export async function writeMonitorPid(run: string, pid: number): Promise<void> {
  await fs.mkdir(run, { recursive: true });
  const tmp = `${pidFile(run)}.${randomBytes(6).toString('hex')}`;
  await fs.writeFile(tmp, String(pid));
  await fs.rename(tmp, pidFile(run));
}

/** Removes the pid file if it still names `pid`. */
export async function removeMonitorPid(run: string, pid: number): Promise<void> {
  const text = await fs.readFile(pidFile(run), 'utf8').catch(() => '');
  if (Number(text.trim()) === pid) await fs.rm(pidFile(run), { force: true });
}
