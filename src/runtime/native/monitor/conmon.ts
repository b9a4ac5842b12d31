/**
 * Running and stopping one native container, shared by the CLI (NativeRuntime), conmon's exit hook
 * (./exit-hook.ts: restart policies after the CLI exited) and the health monitor (./health-monitor.ts).
 *
 * A start: mount the rootfs if needed, spawn conmon (it daemonizes, runs `<oci> create` with the container's
 * stdio on its own pipes, logs them in k8s-file format, reaps the container and writes its exit code), wait for
 * conmon's sync message with the pid, then `<oci> start`. conmon's `--exit-command` runs the exit hook, which
 * records the exit and applies the restart policy. Nothing here waits on a pipe the container could hold.
 */
import { spawn, execFile } from 'node:child_process';
import { existsSync, promises as fs, watch, type FSWatcher } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { TsComposeError } from '../../../errors.js';
import { coalescing } from '../../../lib/coalesce.js';
import { OciRuntime, chooseOciRuntime, runtimeErrorMessage } from '../oci/oci-runtime.js';
import type { ImageRunConfig, OciSpec } from '../oci/spec-types.js';
import { healthcheckOf } from './healthcheck.js';
import { appendEvent, type ContainerRecord, type NativePaths, StateStore } from '../state.js';
import { readJson } from '../../../lib/fs/atomic.js';
import { pidAlive, processRunning } from '../../../lib/fs/proc.js';
import { attachNetworks, detachNetworks, usesBridge, type Attached } from '../netglue.js';

const execFileP = promisify(execFile);

export interface NativeContext {
  readonly paths: NativePaths;
  readonly state: StateStore;
  readonly oci: OciRuntime;
  /** Environment handed to conmon (and so to the exit hook and health monitor). */
  readonly env: NodeJS.ProcessEnv;
}

export function nativeContext(paths: NativePaths, env: NodeJS.ProcessEnv = process.env): NativeContext {
  const choice = chooseOciRuntime(env);
  return { paths, state: new StateStore(paths), oci: new OciRuntime(choice.path, paths.ociRoot, env['TSCOMPOSE_OCI_FAST'] === '0' ? { noFastPaths: true } : {}), env };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------------------------------------------------------
// rootfs mount

export function rootfsDir(ctx: NativeContext, id: string): string {
  return path.join(ctx.state.containerDir(id), 'bundle', 'rootfs');
}

export async function isMounted(target: string): Promise<boolean> {
  const text = await fs.readFile('/proc/self/mountinfo', 'utf8');
  const esc = target.replace(/[ \t\n\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
  return text.split('\n').some((l) => l.split(' ')[4] === esc);
}

/** Mounts the container's overlay rootfs (image layers read-only, its own upper and work dirs) unless mounted. */
export async function mountRootfs(ctx: NativeContext, id: string, lower: { cwd: string; lowerdir: string }): Promise<string> {
  const dir = ctx.state.containerDir(id);
  const target = rootfsDir(ctx, id);
  if (await isMounted(target)) return target;
  await Promise.all([fs.mkdir(target, { recursive: true }), fs.mkdir(path.join(dir, 'upper'), { recursive: true }), fs.mkdir(path.join(dir, 'work'), { recursive: true })]);
  const opts = `lowerdir=${lower.lowerdir},upperdir=${path.join(dir, 'upper')},workdir=${path.join(dir, 'work')}`;
  try {
    await execFileP('mount', ['-t', 'overlay', 'overlay', '-o', opts, target], { cwd: lower.cwd });
  } catch (e) {
    throw new TsComposeError('TSC_NATIVE_MOUNT', `cannot mount the root filesystem of container ${id.slice(0, 12)}: ${String((e as { stderr?: string }).stderr ?? e).trim()}`, {
      hint: 'the native runtime needs root and overlayfs; its state directory must not itself be on overlayfs (set TSCOMPOSE_STATE_DIR)',
    });
  }
  return target;
}

/** Mount points in this mount namespace under `dir` (itself included), deepest first. */
export async function mountsUnder(dir: string): Promise<string[]> {
  const text = await fs.readFile('/proc/self/mountinfo', 'utf8');
  const unescape = (p: string) => p.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
  return text
    .split('\n')
    .map((l) => unescape(l.split(' ')[4] ?? ''))
    .filter((p) => p === dir || p.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}

/**
 * `umount` of mount points asked for at the same time, as one process (containers stopping together); failures
 * are not reported: the caller checks /proc/self/mountinfo again and retries what is left.
 */
const umountMerged = coalescing<string>(async (points) => {
  await execFileP('umount', points).catch(() => undefined);
});

/** Unmounts the container's rootfs and overlay volumes (everything mounted under its directory). */
export async function unmountRootfs(ctx: NativeContext, id: string): Promise<void> {
  const dir = ctx.state.containerDir(id);
  for (let round = 0; round < 5; round++) {
    const points = await mountsUnder(dir);
    if (points.length === 0) return;
    for (const p of points) {
      if (round < 4) await umountMerged(p);
      else await execFileP('umount', ['-l', p]).catch(() => undefined);
    }
    if (round > 0) await sleep(100);
  }
}

// ------------------------------------------------------------------------------------------------------------
// status

/** The container's status, checking a recorded `running` against conmon's exit file and the pid. */
export async function liveStatus(ctx: NativeContext, r: ContainerRecord): Promise<ContainerRecord['state']['status']> {
  const s = r.state.status;
  if (s !== 'running' && s !== 'paused') return s;
  if (await ctx.state.readExitCode(r.id)) return 'exited';
  if (r.state.pid !== undefined && !pidAlive(r.state.pid)) return 'exited';
  return s;
}

// ------------------------------------------------------------------------------------------------------------
// start

function here(file: string): string {
  return fileURLToPath(new URL(file, import.meta.url));
}

async function readSync(stream: NodeJS.ReadableStream & { destroy(): void }, timeoutMs: number): Promise<{ data: number; message?: string } | undefined> {
  return new Promise((resolve) => {
    let buf = '';
    const done = (v: { data: number; message?: string } | undefined) => {
      clearTimeout(timer);
      stream.removeAllListeners('data');
      stream.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    stream.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        try {
          done(JSON.parse(buf.slice(0, nl)) as { data: number; message?: string });
        } catch {
          done(undefined);
        }
      }
    });
    stream.on('end', () => done(undefined));
    stream.on('error', () => done(undefined));
  });
}

async function ociLogMessage(file: string): Promise<string> {
  const text = await fs.readFile(file, 'utf8').catch(() => '');
  return runtimeErrorMessage(text.split('\n').slice(-5).join('\n'));
}

/**
 * Starts a created or exited container (the caller holds its record lock and writes back the returned record).
 * Removes the previous run's runtime state first.
 */
export async function startContainerProcess(ctx: NativeContext, r: ContainerRecord): Promise<ContainerRecord> {
  const id = r.id;
  const dir = ctx.state.containerDir(id);
  const run = path.join(ctx.paths.run, id.slice(0, 12));
  await Promise.all([
    fs.mkdir(run, { recursive: true }),
    fs.mkdir(path.join(ctx.paths.run, 'sock'), { recursive: true }), // conmon exits silently without it
    fs.mkdir(path.join(dir, 'exits'), { recursive: true }),
  ]);
  // A previous run's runtime state (<root>/<id>) must go before `create` (a fresh container has none). It may
  // even run: a CLI killed between starting it and recording that. Its conmon then writes an exit file: wait for
  // that conmon to be gone before clearing the exit file of the new run.
  if (existsSync(path.join(ctx.oci.root, id))) {
    const oldConmon = Number(await fs.readFile(path.join(run, 'conmon.pid'), 'utf8').catch(() => '0'));
    await ctx.oci.delete(id, true).catch(() => undefined);
    for (let i = 0; i < 100 && oldConmon > 0 && processRunning(oldConmon); i++) await sleep(20);
  }
  await fs.rm(ctx.state.exitFile(id), { force: true });
  await fs.rm(ctx.state.stoppingFile(id), { force: true });
  const ociLog = path.join(run, 'oci.log');
  await fs.rm(ociLog, { force: true });
  const generation = r.state.generation + 1;
  // Bridge networks: the netns, veths, addresses, port rules and DNS names of this run (released when it ends).
  let attached: Attached | undefined;
  if (usesBridge(r)) {
    // Endpoints left by a stop for removal whose removal never came (finalizeExit's keepNetworks): release first.
    await detachNetworks(ctx.paths, r);
    attached = await attachNetworks(ctx.paths, r, path.join(dir, 'etc'));
  }
  const undoNetworks = async (): Promise<void> => {
    if (attached) await detachNetworks(ctx.paths, r).catch(() => undefined);
  };
  const hook = here('./exit-hook.js');
  const startLog = path.join(run, 'start.log');
  await fs.rm(startLog, { force: true });
  const combined = ctx.env.TSCOMPOSE_NATIVE_SEPARATE_START !== '1';
  const args = [
    '--api-version', '1',
    '-c', id,
    '-u', id,
    '-r', combined ? await createStartWrapper(ctx) : ctx.oci.binary,
    '-b', path.join(dir, 'bundle'),
    '-p', path.join(run, 'pidfile'),
    '-n', r.name,
    '--exit-dir', path.join(dir, 'exits'),
    '-l', `k8s-file:${ctx.state.logFile(id)}`,
    '--log-level', 'error',
    '--conmon-pidfile', path.join(run, 'conmon.pid'),
    '--socket-dir-path', path.join(ctx.paths.run, 'sock'),
    '--runtime-arg', `--root=${ctx.oci.root}`,
    '--runtime-arg', `--log=${ociLog}`,
    '--runtime-arg', '--log-format=json',
    // The exit command: nothing when the CLI is stopping the container (it records the exit itself), else the
    // Node exit hook (restart policy, network release) — a Node start costs ~0.3 s of CPU, sh ~1 ms.
    '--exit-command', '/bin/sh',
    '--exit-command-arg', '-c',
    '--exit-command-arg', 'test -e "$1" && exit 0; shift; exec "$@"',
    '--exit-command-arg', 'tscompose-exit',
    '--exit-command-arg', ctx.state.stoppingFile(id),
    '--exit-command-arg', process.execPath,
    '--exit-command-arg', hook,
    '--exit-command-arg', ctx.paths.root,
    '--exit-command-arg', ctx.paths.run,
    '--exit-command-arg', id,
    '--exit-command-arg', String(generation),
  ];
  const child = spawn('conmon', args, {
    stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
    detached: true,
    env: {
      ...ctx.env,
      TSCOMPOSE_STATE_DIR: ctx.paths.root,
      TSCOMPOSE_RUN_DIR: ctx.paths.run,
      TSC_OCI_BINARY: ctx.oci.binary,
      TSC_OCI_ROOT: ctx.oci.root,
      TSC_OCI_START_LOG: startLog,
      _OCI_SYNCPIPE: '3',
    },
  });
  child.on('error', () => undefined);
  const spawned = await new Promise<Error | undefined>((resolve) => {
    child.once('spawn', () => resolve(undefined));
    child.once('error', (e) => resolve(e));
  });
  if (spawned) {
    await undoNetworks();
    throw new TsComposeError('TSC_NATIVE_CONMON', `cannot run conmon: ${spawned.message}`, { hint: 'install it: apt-get install conmon' });
  }
  child.unref();
  const sync = await readSync(child.stdio[3] as NodeJS.ReadableStream & { destroy(): void }, 60_000);
  if (!sync || sync.data <= 0) {
    const msg = sync?.message ?? ((await ociLogMessage(ociLog)).replace(/^failed$/, '') || 'conmon exited before the container was created');
    await ctx.oci.delete(id, true).catch(() => undefined);
    await undoNetworks();
    throw new TsComposeError('TSC_NATIVE_START', `cannot start container ${r.name}: ${msg}`);
  }
  try {
    if (combined) await waitStarted(sync.data, startLog);
    else await ctx.oci.start(id);
  } catch (e) {
    const msg = (await ociLogMessage(ociLog)) || (e as Error).message;
    await ctx.oci.kill(id, 'SIGKILL').catch(() => undefined);
    await ctx.oci.delete(id, true).catch(() => undefined);
    await undoNetworks();
    throw new TsComposeError('TSC_NATIVE_START', `cannot start container ${r.name}: ${msg}`);
  }
  const conmonPid = Number(await fs.readFile(path.join(run, 'conmon.pid'), 'utf8').catch(() => '0')) || undefined;
  const next: ContainerRecord = {
    ...r,
    state: {
      ...r.state,
      status: 'running',
      pid: sync.data,
      ...(conmonPid ? { conmonPid } : {}),
      startedAt: new Date().toISOString(),
      exitCode: 0,
      generation,
    },
  };
  delete next.state.finishedAt;
  if (attached) {
    next.state.endpoints = attached.endpoints;
    next.state.publishedPorts = attached.ports;
  }
  const hc = healthcheckOf(r.spec, await imageRunConfig(ctx, r));
  if (hc) {
    next.state.health = { status: 'starting', failingStreak: 0, log: [] };
    spawnHealthMonitor(ctx, id, generation);
  } else {
    delete next.state.health;
  }
  return next;
}

/**
 * The OCI runtime as conmon runs it: `create`, then (when it succeeded) `start` in the background, so a container
 * start costs the CLI one process spawn (conmon) instead of two: a spawn from the CLI's large Node process is the
 * most expensive step of a start on a busy 2-core machine. TSCOMPOSE_NATIVE_SEPARATE_START=1 turns it off.
 */
const WRAPPER = `#!/bin/sh
# tscompose: conmon's OCI runtime. create, then start in the background; anything else unchanged.
rt="$TSC_OCI_BINARY"
case " $* " in
  *" create "*) ;;
  *) exec "$rt" "$@" ;;
esac
"$rt" "$@" || exit $?
for id; do :; done
( "$rt" --root "$TSC_OCI_ROOT" start "$id" >>"$TSC_OCI_START_LOG" 2>&1 || echo "start-failed $?" >>"$TSC_OCI_START_LOG" ) </dev/null >/dev/null 2>&1 &
exit 0
`;

async function createStartWrapper(ctx: NativeContext): Promise<string> {
  const file = path.join(ctx.paths.run, 'oci-create-start.sh');
  const current = await fs.readFile(file, 'utf8').catch(() => '');
  if (current !== WRAPPER) {
    await fs.mkdir(ctx.paths.run, { recursive: true });
    const tmp = `${file}.${process.pid}-${Math.random().toString(36).slice(2)}`; // concurrent starts each write their own
    await fs.writeFile(tmp, WRAPPER, { mode: 0o755 });
    await fs.rename(tmp, file);
  }
  return file;
}

/** Waits until the container's init has left `runc init` (it was started), or the start failed. */
async function waitStarted(pid: number, startLog: string): Promise<void> {
  const end = Date.now() + 30_000;
  let delay = 2;
  for (;;) {
    const cmd = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => undefined);
    if (cmd === undefined || !/^(runc|crun)\0init\0?$/.test(cmd) && !cmd.startsWith('runc\0init')) return; // exec'd (or already gone)
    const log = await fs.readFile(startLog, 'utf8').catch(() => '');
    if (log.includes('start-failed')) throw new Error(runtimeErrorMessage(log.replace(/start-failed \d+\n?/g, '')) || 'start failed');
    if (Date.now() > end) throw new Error('the container did not start within 30 s');
    await sleep(delay);
    delay = Math.min(delay * 2, 20);
  }
}

export async function imageRunConfig(ctx: NativeContext, r: ContainerRecord): Promise<ImageRunConfig> {
  const cfg = await readJson<{ config?: ImageRunConfig }>(path.join(ctx.state.containerDir(r.id), 'image-config.json'));
  return cfg?.config ?? {};
}

export async function ociSpecOf(ctx: NativeContext, id: string): Promise<OciSpec> {
  const spec = await readJson<OciSpec>(path.join(ctx.state.containerDir(id), 'bundle', 'config.json'));
  if (!spec) throw new TsComposeError('TSC_NATIVE_STATE', `container ${id.slice(0, 12)} has no bundle`);
  return spec;
}

function spawnHealthMonitor(ctx: NativeContext, id: string, generation: number): void {
  const child = spawn(process.execPath, [here('./health-monitor.js'), ctx.paths.root, ctx.paths.run, id, String(generation)], {
    stdio: 'ignore',
    detached: true,
    env: { ...ctx.env, TSCOMPOSE_STATE_DIR: ctx.paths.root, TSCOMPOSE_RUN_DIR: ctx.paths.run },
  });
  child.on('error', () => undefined);
  child.unref();
}

// ------------------------------------------------------------------------------------------------------------
// exit

export function eventAttributes(r: ContainerRecord, extra: Record<string, string> = {}): Record<string, string> {
  return { ...r.labels, name: r.name, image: r.image, ...extra };
}

/**
 * Records the end of the current run when conmon's exit file says it ended (idempotent: the exit hook and a
 * stopping CLI may both get here). Deletes the runtime state (which frees the cgroup) and releases the network
 * endpoints, unless `keepNetworks`: the container is about to be removed and its removal releases them (a start
 * before that releases them first). Returns the updated record.
 */
export async function finalizeExit(ctx: NativeContext, id: string, generation?: number, opts: { keepNetworks?: boolean } = {}): Promise<ContainerRecord | undefined> {
  let died: ContainerRecord | undefined;
  const rec = await ctx.state.update(id, async (r) => {
    if (generation !== undefined && r.state.generation !== generation) return undefined;
    if (r.state.status !== 'running' && r.state.status !== 'paused') return undefined;
    const exit = await ctx.state.readExitCode(id);
    if (!exit && r.state.pid !== undefined && pidAlive(r.state.pid)) return undefined;
    if (existsSync(path.join(ctx.oci.root, id))) await ctx.oci.delete(id, true).catch(() => undefined);
    if (usesBridge(r) && !opts.keepNetworks) await detachNetworks(ctx.paths, r).catch(() => undefined);
    const next: ContainerRecord = { ...r, state: { ...r.state, status: 'exited', exitCode: exit?.code ?? 255, finishedAt: (exit?.at ?? new Date()).toISOString() } };
    delete next.state.pid;
    delete next.state.endpoints;
    delete next.state.publishedPorts;
    if (shouldRestart(next)) next.state.status = 'restarting';
    died = next;
    return next;
  });
  if (died) await appendEvent(ctx.paths, { type: 'container', action: 'die', id, attributes: eventAttributes(died, { exitCode: String(died.state.exitCode) }) });
  return rec;
}

/** Waits until conmon's exit file appears (or the pid is gone); false on timeout. */
export async function waitExitFile(ctx: NativeContext, r: ContainerRecord, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  let delay = 10;
  // Woken by inotify as soon as conmon writes the file (polling alone found it ~50 ms late on average).
  let wake: (() => void) | undefined;
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(path.dirname(ctx.state.exitFile(r.id)), () => wake?.());
    watcher.on('error', () => undefined);
  } catch {
    watcher = undefined; // polling only
  }
  try {
    for (;;) {
      if (await ctx.state.readExitCode(r.id)) return true;
      if (r.state.pid !== undefined && !pidAlive(r.state.pid)) {
        // The process is gone; conmon writes the file right after reaping it.
        await sleep(50);
        return true;
      }
      if (Date.now() >= end) return false;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, delay);
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      wake = undefined;
      delay = Math.min(delay * 2, 100);
    }
  } finally {
    watcher?.close();
  }
}

/** Whether the restart policy wants another run after this exit. */
export function shouldRestart(r: ContainerRecord): boolean {
  if (r.state.stoppedByUser) return false;
  const policy = r.spec.restart ?? 'no';
  if (policy === 'always' || policy === 'unless-stopped') return true;
  const m = /^on-failure(?::(\d+))?$/.exec(policy);
  if (!m) return false;
  if (r.state.exitCode === 0) return false;
  // Docker: a maximum of 0 (or none) means no limit.
  return m[1] === undefined || Number(m[1]) === 0 || r.state.restartCount < Number(m[1]);
}

/** Docker's restart back-off: 100 ms doubling per quick restart, at most 10 s here; reset after 10 s of running. */
export function restartDelayMs(r: ContainerRecord): number {
  const ran = r.state.startedAt && r.state.finishedAt ? Date.parse(r.state.finishedAt) - Date.parse(r.state.startedAt) : 0;
  if (ran >= 10_000) return 100;
  return Math.min(100 * 2 ** Math.min(r.state.restartCount, 7), 10_000);
}
