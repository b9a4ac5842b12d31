/**
 * Starting a native container's process under conmon, shared by the CLI and conmon's exit hook (./exit-hook.ts:
 * restarts after the CLI exited).
 *
 * A start: spawn conmon (it daemonizes, runs `<oci> create` with the container's stdio on its own pipes, logs them
 * in k8s-file format, reaps the container and writes its exit code), wait for conmon's sync message with the pid,
 * then `<oci> start`. conmon's `--exit-command` runs the exit hook, which records the exit (./exit.ts) and applies
 * the restart policy (./restart-policy.ts); a container with a healthcheck gets a health monitor
 * (./health-monitor.ts). Both are spawned by path: they are built next to this module. Nothing here waits on a
 * pipe the container could hold.
 */
import { spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { TsComposeError } from '../../../errors.js';
import { bootId, processRunning } from '../../../lib/fs/proc.js';
import type { NativeContext } from '../context.js';
import { attachNetworks, detachNetworks, usesBridge, type Attached } from '../netglue.js';
import { runtimeErrorMessage } from '../oci/oci-runtime.js';
import type { ContainerRecord } from '../state.js';
import { healthcheckOf } from './healthcheck.js';
import { monitorHealth } from './health-launch.js';
import { imageRunConfig } from './record.js';

function here(file: string): string {
  return fileURLToPath(new URL(file, import.meta.url));
}

async function readSync(
  stream: NodeJS.ReadableStream & { destroy(): void },
  timeoutMs: number,
): Promise<{ data: number; message?: string } | undefined> {
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
  const combined = !ctx.settings.separateStart;
  const args = [
    '--api-version',
    '1',
    '-c',
    id,
    '-u',
    id,
    '-r',
    combined ? await createStartWrapper(ctx) : ctx.oci.binary,
    '-b',
    path.join(dir, 'bundle'),
    '-p',
    path.join(run, 'pidfile'),
    '-n',
    r.name,
    '--exit-dir',
    path.join(dir, 'exits'),
    '-l',
    `k8s-file:${ctx.state.logFile(id)}`,
    '--log-level',
    'error',
    '--conmon-pidfile',
    path.join(run, 'conmon.pid'),
    '--socket-dir-path',
    path.join(ctx.paths.run, 'sock'),
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
      bootId: bootId(),
    },
  };
  delete next.state.finishedAt;
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

/** The cmdline of a created container's process that was not started yet: `runc init`, or crun's `create`. */
const CREATED_CMDLINE = /^(?:runc\0init|crun\0init\0?$|(?:[^\0]*\/)?crun\0(?:[^\0]*\0)*create\0)/;

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
 * Waits until the container's init has left the runtime (it was started), or the start failed. A created container's
 * process is `runc init`; crun's is the `crun … create …` process itself (crun forks it without exec).
 */
async function waitStarted(pid: number, startLog: string): Promise<void> {
  const end = Date.now() + 30_000;
  let delay = 2;
  for (;;) {
    const cmd = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => undefined);
    if (cmd === undefined || !CREATED_CMDLINE.test(cmd)) return; // exec'd (or already gone)
    const log = await fs.readFile(startLog, 'utf8').catch(() => '');
    if (log.includes('start-failed')) throw new Error(runtimeErrorMessage(log.replace(/start-failed \d+\n?/g, '')) || 'start failed');
    if (Date.now() > end) throw new Error('the container did not start within 30 s');
    await sleep(delay);
    delay = Math.min(delay * 2, 20);
  }
}

/**
 * Has the state directory's health monitor check this run: registers it and starts the monitor when none is alive
 * (./health-launch.ts; one process for all containers). Health is best-effort, as Docker's: no error fails the start.
 */
async function spawnHealthMonitor(ctx: NativeContext, id: string, generation: number): Promise<void> {
  await monitorHealth(ctx, id, generation).catch(() => undefined);
}
