/**
 * Starting a native container's process under conmon, shared by the CLI and conmon's exit hook (./exit-hook.ts:
 * restarts after the CLI exited).
 *
 * A start: conmon, started by the context's helper process (it daemonizes, runs `<oci> create` through a small
 * wrapper that makes it `<oci> run --detach`, keeps the container's stdio on its own pipes, logs them in k8s-file
 * format, reaps the container and writes its exit code); the CLI waits for the wrapper's word in the start log.
 * A prepared start (../prepared-starts.ts) stops short of the runtime's `start`: the wrapper runs a plain `create`,
 * and `startLaunched` runs `<oci> start` once the container's dependencies are up.
 * conmon's `--exit-command` runs the exit hook, which records the exit (./exit.ts) and applies
 * the restart policy (./restart-policy.ts); a container with a healthcheck gets a health monitor
 * (./health-monitor.ts). Both are spawned by path: they are built next to this module. Nothing here waits on a
 * pipe the container could hold.
 */
import { existsSync, mkdirSync, promises as fs, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { TsComposeError } from '../../../errors.js';
import { DirWaiter } from '../../../lib/fs/dir-waiter.js';
import { bootId, processRunning } from '../../../lib/fs/proc.js';
import type { NativeContext } from '../context.js';
import { attachNetworks, detachNetworks, usesBridge, type Attached } from '../netglue.js';
import { runtimeErrorMessage } from '../oci/oci-runtime.js';
import { rememberFilter, seccompCacheDir } from '../oci/seccomp-cache.js';
import type { ContainerRecord } from '../state.js';
import { traced, traceSpan } from '../../../util/trace.js';
import { healthcheckOf } from './healthcheck.js';
import { monitorHealth } from './health-launch.js';
import { imageRunConfig } from './record.js';
import { pendingStdinFifo } from '../pending-stdin.js';
import { armLogFiles, keepsRotatedFiles, logPolicy } from '../log-files.js';
import { spawnLogKeeper } from './log-keeper.js';
import { helperEntry } from '../../../lib/helper-entry.js';

async function ociLogMessage(file: string): Promise<string> {
  const text = await fs.readFile(file, 'utf8').catch(() => '');
  return runtimeErrorMessage(text.split('\n').slice(-5).join('\n'));
}

/**
 * Starts a created or exited container (the caller holds its record lock and writes back the returned record).
 * Removes the previous run's runtime state first.
 */
export async function startContainerProcess(ctx: NativeContext, r: ContainerRecord): Promise<ContainerRecord> {
  return runningRecord(ctx, r, await launchProcess(ctx, r, false));
}

/**
 * A container's process as launched: running, or (a prepared start, ../prepared-starts.ts) created by the OCI runtime
 * and waiting for its `start`, with everything else of the run in place: endpoints, conmon, log keeper.
 */
export interface Launched {
  readonly pid: number;
  readonly generation: number;
  readonly attached: Attached | undefined;
  readonly conmonPid: number | undefined;
  readonly keeperPid: number | undefined;
}

/**
 * Ahead of a start: everything a start does but the OCI runtime's `start` (the caller holds the record lock; the
 * record stays as it is). `startLaunched` finishes it, `discardLaunched` undoes it.
 */
export function prepareContainerProcess(ctx: NativeContext, r: ContainerRecord): Promise<Launched> {
  return launchProcess(ctx, r, true);
}

/** Lets a prepared container's process run (`<oci> start`, through the helper) and returns its running record. */
export async function startLaunched(ctx: NativeContext, r: ContainerRecord, l: Launched): Promise<ContainerRecord> {
  const rt = ctx.oci.forContainer(r.id);
  const res = await traced('native.start.oci-start', () =>
    ctx.spawner.run({ command: rt.exe, args: rt.startArgs(r.id), env: rt.launchEnv, output: 'capture' }),
  );
  if (res.code !== 0) {
    const msg = runtimeErrorMessage(res.stderr ?? '') || `the OCI runtime's start failed (status ${res.code})`;
    await discardLaunched(ctx, r, l);
    throw new TsComposeError('TSC_NATIVE_START', `cannot start container ${r.name}: ${msg}`);
  }
  return runningRecord(ctx, r, l);
}

/**
 * Undoes a prepared start that will not come: the created process goes (its conmon's exit command then does nothing,
 * as for a stop), and so do its endpoints and its log keeper; the record never knew of them.
 */
export async function discardLaunched(ctx: NativeContext, r: ContainerRecord, l: Launched): Promise<void> {
  ctx.state.markStopping(r.id);
  await ctx.oci.delete(r.id, true).catch(() => undefined);
  if (l.attached) await detachNetworks(ctx.paths, r).catch(() => undefined);
  stopProcess(l.keeperPid);
  for (let i = 0; i < 200 && l.conmonPid !== undefined && processRunning(l.conmonPid); i++) await sleep(5);
}

/** SIGTERM to `pid` (a log keeper), if it is still there. */
export function stopProcess(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    /* gone */
  }
}

async function launchProcess(ctx: NativeContext, r: ContainerRecord, createOnly: boolean): Promise<Launched> {
  const id = r.id;
  const dir = ctx.state.containerDir(id);
  const run = path.join(ctx.paths.run, id.slice(0, 12));
  // The small steps of a start are synchronous, as the records' reads: each through the thread pool waited behind
  // the other containers' work, in a row, on the path of every `depends_on` level.
  mkdirSync(run, { recursive: true });
  mkdirSync(path.join(ctx.paths.run, 'sock'), { recursive: true }); // conmon exits silently without it
  mkdirSync(path.join(dir, 'exits'), { recursive: true });
  // A previous run's runtime state (<root>/<id>) must go before `create` (a fresh container has none). It may
  // even run: a CLI killed between starting it and recording that. Its conmon then writes an exit file: wait for
  // that conmon to be gone before clearing the exit file of the new run.
  if (existsSync(path.join(ctx.oci.root, id))) {
    const oldConmon = Number(await fs.readFile(path.join(run, 'conmon.pid'), 'utf8').catch(() => '0'));
    await ctx.oci.delete(id, true).catch(() => undefined);
    for (let i = 0; i < 100 && oldConmon > 0 && processRunning(oldConmon); i++) await sleep(20);
  }
  rmSync(ctx.state.exitFile(id), { force: true });
  rmSync(ctx.state.stoppingFile(id), { force: true });
  const ociLog = path.join(run, 'oci.log');
  rmSync(ociLog, { force: true });
  const generation = r.state.generation + 1;
  // Bridge networks: the netns, veths, addresses, port rules and DNS names of this run (released when it ends).
  let attached: Attached | undefined;
  if (usesBridge(r)) {
    // Endpoints left by a stop for removal whose removal never came (finalizeExit's keepNetworks): release first.
    await detachNetworks(ctx.paths, r);
    attached = await traced('native.start.network', () => attachNetworks(ctx.paths, r, path.join(dir, 'etc')));
  }
  const undoNetworks = async (): Promise<void> => {
    if (attached) await detachNetworks(ctx.paths, r).catch(() => undefined);
  };
  // compose `logging` (../log-files.ts): none = no file; max-size = conmon's rotation (max-file 1: the full file
  // is dropped, as Docker's), or the log keeper's when it keeps files (./log-keeper.ts; started first).
  const logs = logPolicy(r.spec.logging);
  const logFile = ctx.state.logFile(id);
  const keeper = keepsRotatedFiles(logs);
  let keeperPid: number | undefined;
  if (keeper && logs.maxSize !== undefined) {
    const maxSize = logs.maxSize;
    await armLogFiles(logFile, logs.maxFile);
    keeperPid = await traced('native.start.log-keeper', () =>
      spawnLogKeeper(ctx.spawner, {
        file: logFile,
        maxSize,
        maxFile: logs.maxFile,
        ctl: path.join(dir, 'bundle', 'ctl'),
        conmonPidFile: path.join(run, 'conmon.pid'),
        exitFile: ctx.state.exitFile(id),
      }),
    );
  }
  const logArgs =
    logs.store === 'none'
      ? ['-l', 'none']
      : ['-l', `k8s-file:${logFile}`, ...(logs.maxSize === undefined || keeper ? [] : ['--log-size-max', String(logs.maxSize)])];
  // A TTY (`tty`): conmon takes the pty master from the OCI runtime (-t) and serves its input on the attach socket
  // and resizes on the ctl FIFO (../attach.ts). Its stdin is the terminal: no pipe, no FIFO, and no --stdin, so
  // conmon never closes it when an attached client leaves (Docker never closes a TTY container's stdin either).
  const tty = r.spec.tty === true;
  const stdinFifo = r.spec.openStdin && !tty ? pendingStdinFifo(id) : undefined;
  const hook = helperEntry('exit-hook', import.meta.url);
  const startLog = path.join(run, 'start.log');
  rmSync(startLog, { force: true });
  const args = [
    '--api-version',
    '1',
    '-c',
    id,
    '-u',
    id,
    '-r',
    await createStartWrapper(ctx),
    '-b',
    path.join(dir, 'bundle'),
    '-p',
    path.join(run, 'pidfile'),
    '-n',
    r.name,
    '--exit-dir',
    path.join(dir, 'exits'),
    ...logArgs,
    '--log-level',
    'error',
    '--conmon-pidfile',
    path.join(run, 'conmon.pid'),
    '--socket-dir-path',
    path.join(ctx.paths.run, 'sock'),
    // stdin: an attach's FIFO (../attach.ts), else kept open by conmon for `stdin_open` (attach writes to its pipe)
    ...(r.spec.openStdin && !tty && stdinFifo === undefined ? ['--stdin'] : []),
    ...(tty ? ['--terminal'] : []),
    '--runtime-arg',
    `--root=${ctx.oci.root}`,
    '--runtime-arg',
    `--log=${ociLog}`,
    '--runtime-arg',
    '--log-format=json',
    // The exit command: nothing when the CLI is stopping the container (it records the exit itself), else the
    // Node exit hook (restart policy, network release) — a Node start costs ~0.3 s of CPU, sh ~1 ms.
    '--exit-command',
    '/bin/sh',
    '--exit-command-arg',
    '-c',
    '--exit-command-arg',
    'test -e "$1" && exit 0; shift; exec "$@"',
    '--exit-command-arg',
    'tscompose-exit',
    '--exit-command-arg',
    ctx.state.stoppingFile(id),
    '--exit-command-arg',
    process.execPath,
    '--exit-command-arg',
    hook,
    '--exit-command-arg',
    ctx.paths.root,
    '--exit-command-arg',
    ctx.paths.run,
    '--exit-command-arg',
    id,
    '--exit-command-arg',
    String(generation),
  ];
  // Started by the context's helper (lib/proc/spawner.ts), not forked from this process. conmon daemonizes at
  // once; the wrapper it runs as its OCI runtime writes `started` (or `start-failed N`) to the start log, which is
  // all this waits for.
  const t0 = performance.now();
  const spawned = await ctx.spawner.run({
    command: 'conmon',
    args,
    output: 'ignore',
    env: {
      TSCOMPOSE_STATE_DIR: ctx.paths.root,
      TSCOMPOSE_RUN_DIR: ctx.paths.run,
      // The runtime from its read-only bind mount, with the variable that tells it so (../oci/runtime-binary.ts).
      TSC_OCI_BINARY: ctx.oci.exe,
      ...ctx.oci.launchEnv,
      TSC_OCI_ROOT: ctx.oci.root,
      TSC_OCI_START_LOG: startLog,
      ...(createOnly ? { TSC_OCI_CREATE_ONLY: '1' } : {}),
      // The exit hook (Node) makes no TLS connection: an empty NODE_EXTRA_CA_CERTS spares its start that file.
      NODE_EXTRA_CA_CERTS: '',
      ...(stdinFifo === undefined ? {} : { TSC_STDIN_FIFO: stdinFifo }),
      // conmon makes its console socket (-t) in $TMPDIR: the run directory, removed with the container.
      ...(tty ? { TMPDIR: run } : {}),
    },
  });
  const stopKeeper = (): void => stopProcess(keeperPid);
  if (spawned.code === 127) {
    stopKeeper();
    await undoNetworks();
    throw new TsComposeError('TSC_NATIVE_CONMON', 'cannot run conmon: not found', { hint: 'install it: apt-get install conmon' });
  }
  traceSpan('native.start.conmon-spawn', performance.now() - t0);
  let pid: number;
  try {
    pid = await traced('native.start.runtime', () => waitStarted(startLog, path.join(run, 'pidfile'), path.join(run, 'conmon.pid')));
  } catch (e) {
    const msg = (await ociLogMessage(ociLog)).replace(/^failed$/, '') || (e as Error).message;
    await ctx.oci.kill(id, 'SIGKILL').catch(() => undefined);
    await ctx.oci.delete(id, true).catch(() => undefined);
    await undoNetworks();
    stopKeeper();
    throw new TsComposeError('TSC_NATIVE_START', `cannot start container ${r.name}: ${msg}`);
  }
  // The first container of a seccomp profile leaves the filter crun compiled for the next ones (oci/seccomp-cache.ts).
  const key = ctx.oci.name === 'crun' ? readSmall(path.join(dir, 'seccomp.key')) || undefined : undefined;
  if (key) {
    await rememberFilter(seccompCacheDir(ctx), key, ctx.oci.root, id).catch(() => undefined);
    await fs.rm(path.join(dir, 'seccomp.key'), { force: true });
  }
  const conmonPid = Number(readSmall(path.join(run, 'conmon.pid')).trim()) || undefined;
  return { pid, generation, attached, conmonPid, keeperPid };
}

async function runningRecord(ctx: NativeContext, r: ContainerRecord, l: Launched): Promise<ContainerRecord> {
  const { pid, generation, attached, conmonPid } = l;
  const id = r.id;
  const next: ContainerRecord = {
    ...r,
    state: {
      ...r.state,
      status: 'running',
      pid,
      ...(conmonPid ? { conmonPid } : {}),
      startedAt: new Date().toISOString(),
      exitCode: 0,
      generation,
      bootId: bootId(),
    },
  };
  // finishedAt stays: the previous run's end, as Docker's State.FinishedAt while running (where a run's log begins).
  delete next.state.interrupted;
  if (attached) {
    next.state.endpoints = attached.endpoints;
    next.state.publishedPorts = attached.ports;
  }
  const hc = healthcheckOf(r.spec, await imageRunConfig(ctx, r));
  if (hc) {
    next.state.health = { status: 'starting', failingStreak: 0, log: [] };
    await spawnHealthMonitor(ctx, id, generation);
  } else {
    delete next.state.health;
  }
  return next;
}

/**
 * The OCI runtime as conmon runs it: conmon's `create` becomes `run --detach` (create and start in one process of
 * the runtime; both runc and crun take create's flags there), so a container start costs one conmon and one
 * runtime process, none spawned by the CLI. With $TSC_OCI_CREATE_ONLY (a prepared start) `create` stays `create`.
 * The outcome goes to the start log ($TSC_OCI_START_LOG), which the CLI watches: `started` (`created`) or
 * `start-failed N`. Any other command goes to the runtime unchanged. With $TSC_STDIN_FIFO (an
 * attach before the start, ../attach.ts) the container's stdin is that FIFO. Without a stdin of its own, conmon hands
 * the runtime the host's /dev/null (and with a terminal, for stdout and stderr too), which crun 1.8 chowns to the
 * container's root (fchown of every standard stream that is not a terminal, before a terminal replaces them; runc and
 * later crun skip devices): with a user namespace remap the host's /dev/null then belonged to 300000:310000. The
 * container gets an empty pipe as stdin instead, at its end at once as /dev/null would be, and the runtime's own
 * output that would have gone to /dev/null goes to a file of the container's run directory.
 */
const WRAPPER = `#!/bin/sh
# tscompose: conmon's OCI runtime. create = run --detach (unless TSC_OCI_CREATE_ONLY); anything else unchanged.
rt="$TSC_OCI_BINARY"
case " $* " in
  *" create "*) ;;
  *) exec "$rt" "$@" ;;
esac
first=1 swapped=
for a; do
  if [ -n "$first" ]; then set --; first=; fi
  if [ "$a" = create ] && [ -z "$swapped" ] && [ -z "$TSC_OCI_CREATE_ONLY" ]; then set -- "$@" run --detach; swapped=1; else set -- "$@" "$a"; fi
done
[ -c /proc/self/fd/1 ] && exec >>"\${TSC_OCI_START_LOG%/*}/oci.out"
[ -c /proc/self/fd/2 ] && exec 2>>"\${TSC_OCI_START_LOG%/*}/oci.out"
if [ -n "$TSC_STDIN_FIFO" ]; then "$rt" "$@" <"$TSC_STDIN_FIFO"
elif [ -c /proc/self/fd/0 ]; then : | "$rt" "$@"
else "$rt" "$@"; fi
st=$?
if [ "$st" -ne 0 ]; then echo "start-failed $st"; elif [ -n "$TSC_OCI_CREATE_ONLY" ]; then echo created; else echo started; fi >>"$TSC_OCI_START_LOG"
exit "$st"
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

/**
 * Waits for the start log to say the container started (its pid is then in `pidFile`), or that it failed, or for
 * conmon to be gone without a word. Woken by inotify on the run directory when a file there changes (with a
 * 50 ms poll as a safety net): polling 20 starts at once cost the CLI's main thread more than their starts did.
 */
async function waitStarted(startLog: string, pidFile: string, conmonPidFile: string): Promise<number> {
  const end = Date.now() + 60_000;
  const waiter = new DirWaiter(path.dirname(startLog));
  try {
    for (let i = 1; ; i++) {
      const log = readSmall(startLog);
      if (/^(started|created)$/m.test(log)) {
        const pid = Number(readSmall(pidFile).trim());
        if (pid > 0) return pid;
      }
      const failed = /^start-failed (\d+)$/m.exec(log);
      if (failed) throw new Error(`the OCI runtime failed (status ${failed[1]})`);
      // conmon writes its pid file once it has forked; gone without a word = it failed before the runtime ran.
      if (i % 4 === 0) {
        const conmon = Number(readSmall(conmonPidFile).trim());
        if (conmon > 0 && !processRunning(conmon) && !/^start/m.test(readSmall(startLog)))
          throw new Error('conmon exited before the container was created');
      }
      if (Date.now() > end) throw new Error('the container did not start within 60 s');
      await waiter.wait(waiter.watching ? 50 : 10);
    }
  } finally {
    waiter.close();
  }
}

function readSmall(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/**
 * Has the state directory's health monitor check this run: registers it and starts the monitor when none is alive
 * (./health-launch.ts; one process for all containers). Health is best-effort, as Docker's: no error fails the start.
 */
async function spawnHealthMonitor(ctx: NativeContext, id: string, generation: number): Promise<void> {
  await monitorHealth(ctx, id, generation).catch(() => undefined);
}
