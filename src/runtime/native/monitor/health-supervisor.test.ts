import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nativePaths, StateStore, type ContainerRecord, type NativePaths } from '../state.js';
import { checkRun, type HealthContext } from './health.js';
import { healthDir, isHealthMonitor, livingMonitor, registeredRuns, registerRun, unregisterRun, writeMonitorPid } from './health-registry.js';
import { runHealthSupervisor } from './health-supervisor.js';
import { OciRuntime } from '../oci/oci-runtime.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await sleep(20);
  }
}

let dir: string;
let paths: NativePaths;
const children: ChildProcess[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsc-health-'));
  paths = nativePaths({ stateDir: join(dir, 'state'), runDir: join(dir, 'run') });
});
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const ID = (n: number) => String(n).repeat(64).slice(0, 64);

/** A process that looks like a health monitor of `root` (its args name the entry and the state dir). */
function fakeMonitor(root: string): ChildProcess {
  const c = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)', '/x/health-monitor.js', root], { stdio: 'ignore' });
  children.push(c);
  return c;
}

describe('health registry', () => {
  test('registers, lists and unregisters runs; temp files are not runs', async () => {
    await registerRun(paths.run, { id: ID(1), generation: 3, oci: '/usr/bin/crun' });
    await registerRun(paths.run, { id: ID(2), generation: 1, oci: 'runc' });
    await registerRun(paths.run, { id: ID(3), generation: 2, oci: '/usr/bin/crun', binaryMount: '/run/tscompose/oci-bin' });
    writeFileSync(join(healthDir(paths.run), '.abc.tmp'), '{}');
    const runs = (await registeredRuns(paths.run)).sort((a, b) => a.id.localeCompare(b.id));
    expect(runs).toEqual([
      { id: ID(1), generation: 3, oci: '/usr/bin/crun' },
      { id: ID(2), generation: 1, oci: 'runc' },
      { id: ID(3), generation: 2, oci: '/usr/bin/crun', binaryMount: '/run/tscompose/oci-bin' },
    ]);
    await unregisterRun(paths.run, ID(1), 3);
    await unregisterRun(paths.run, ID(3), 2);
    expect(await registeredRuns(paths.run)).toEqual([{ id: ID(2), generation: 1, oci: 'runc' }]);
  });

  test('a monitor is recognized by its args, not by a pid alone', async () => {
    expect(isHealthMonitor(process.pid, paths.root)).toBe(false); // alive, but jest
    expect(isHealthMonitor(0, paths.root)).toBe(false);
    const m = fakeMonitor(paths.root);
    await until('spawned', () => m.pid !== undefined && existsSync(`/proc/${m.pid}`));
    await sleep(100);
    expect(isHealthMonitor(m.pid!, paths.root)).toBe(true);
    expect(isHealthMonitor(m.pid!, '/another/state')).toBe(false);
    await writeMonitorPid(paths.run, m.pid!);
    expect(await livingMonitor(paths.run, paths.root)).toBe(m.pid);
    m.kill('SIGKILL');
    await until('dead', () => !isHealthMonitor(m.pid!, paths.root));
    expect(await livingMonitor(paths.run, paths.root)).toBeUndefined();
  });
});

describe('health supervisor', () => {
  test('checks each registered run, also those registered later, and exits once idle (pid file gone)', async () => {
    const seen: string[] = [];
    const ends = new Map<string, () => void>();
    const mounts = new Map<string, string | undefined>();
    const check = (c: HealthContext, r: { id: string; generation: number }, signal: AbortSignal) =>
      new Promise<void>((resolve) => {
        seen.push(`${r.id.slice(0, 1)}.${r.generation}`);
        mounts.set(`${r.id.slice(0, 1)}.${r.generation}`, c.oci.options.protectedBinaryDir);
        ends.set(`${r.id.slice(0, 1)}.${r.generation}`, resolve);
        signal.addEventListener('abort', () => resolve());
      });
    await registerRun(paths.run, { id: ID(1), generation: 1, oci: 'runc' });
    let done = false;
    const sup = runHealthSupervisor(paths.root, paths.run, { check, idleGraceMs: 200, rescanMs: 60_000 }).then((v) => {
      done = true;
      return v;
    });
    await until('first run checked', () => seen.includes('1.1'));
    expect(Number(readFileSync(join(paths.run, 'health-monitor.pid'), 'utf8'))).toBe(process.pid);
    // registered while it runs: noticed through the directory watch (the rescan is a minute away)
    await registerRun(paths.run, { id: ID(2), generation: 4, oci: 'runc', binaryMount: join(paths.run, 'oci-bin') });
    await until('second run checked', () => seen.includes('2.4'));
    // Probes run the runtime from the read-only mount the CLI registered the run with, if any.
    expect(mounts.get('1.1')).toBeUndefined();
    expect(mounts.get('2.4')).toBe(join(paths.run, 'oci-bin'));
    ends.get('1.1')!();
    await until('ended run unregistered', async () => (await registeredRuns(paths.run)).length === 1);
    await sleep(400);
    expect(done).toBe(false); // still has a run
    ends.get('2.4')!();
    expect(await sup).toBe(true);
    expect(existsSync(join(paths.run, 'health-monitor.pid'))).toBe(false);
    expect(await registeredRuns(paths.run)).toEqual([]);
    expect(seen).toEqual(['1.1', '2.4']); // each once
  });

  test('a run registered during the idle grace keeps it running', async () => {
    const seen: string[] = [];
    const check = async (_: unknown, r: { generation: number }) => {
      seen.push(String(r.generation));
      await sleep(50);
    };
    const sup = runHealthSupervisor(paths.root, paths.run, { check, idleGraceMs: 300 });
    await sleep(100);
    await registerRun(paths.run, { id: ID(3), generation: 7, oci: 'runc' });
    expect(await sup).toBe(true);
    expect(seen).toEqual(['7']);
  });

  test('does not run beside a live monitor of the same state directory', async () => {
    const m = fakeMonitor(paths.root);
    await until('spawned', () => m.pid !== undefined && existsSync(`/proc/${m.pid}`));
    await sleep(100);
    await writeMonitorPid(paths.run, m.pid!);
    await registerRun(paths.run, { id: ID(1), generation: 1, oci: 'runc' });
    const seen: number[] = [];
    expect(await runHealthSupervisor(paths.root, paths.run, { check: async (_, r) => void seen.push(r.generation) })).toBe(false);
    expect(seen).toEqual([]);
    // once it is gone (kill -9: its pid file stays), the next one takes its place and the registered run
    m.kill('SIGKILL');
    await until('dead', () => !isHealthMonitor(m.pid!, paths.root));
    expect(await runHealthSupervisor(paths.root, paths.run, { check: async (_, r) => void seen.push(r.generation), idleGraceMs: 50 })).toBe(true);
    expect(seen).toEqual([1]);
  });
});

/**
 * checkRun against a fake OCI runtime: `exec` exits with the code in <dir>/code (printing "out <code>"); the
 * container is "running" while its exit file is absent (its pid is the test's own).
 */
describe('checkRun', () => {
  let state: StateStore;
  let oci: OciRuntime;
  const id = ID(5);
  beforeEach(async () => {
    state = new StateStore(paths);
    const fake = join(dir, 'fake-runc');
    writeFileSync(fake, `#!/bin/sh\nc=$(cat ${join(dir, 'code')})\necho "out $c"\nexit $c\n`, { mode: 0o755 });
    writeFileSync(join(dir, 'code'), '0');
    oci = new OciRuntime(fake, paths.ociRoot);
    mkdirSync(join(paths.ociRoot, id), { recursive: true });
    mkdirSync(join(state.containerDir(id), 'bundle'), { recursive: true });
    mkdirSync(join(state.containerDir(id), 'exits'), { recursive: true });
    writeFileSync(
      join(state.containerDir(id), 'bundle', 'config.json'),
      JSON.stringify({
        ociVersion: '1.0.2',
        process: { user: { uid: 0, gid: 0 }, args: ['sh'], env: ['PATH=/bin'], cwd: '/' },
        root: { path: 'rootfs' },
      }),
    );
  });

  function record(generation: number, hc: { retries?: number; startPeriodMs?: number } = {}): ContainerRecord {
    return {
      id,
      name: 'web',
      image: 'busybox',
      imageId: 'sha256:' + 'b'.repeat(64),
      labels: { 'com.docker.compose.service': 'web' },
      created: 0,
      hostname: 'web',
      spec: { name: 'web', image: 'busybox', labels: {}, healthcheck: { test: ['CMD', 'check'], intervalMs: 100, retries: hc.retries ?? 2, ...hc } },
      mounts: [],
      anonymousVolumes: [],
      state: {
        status: 'running',
        pid: process.pid,
        startedAt: new Date().toISOString(),
        exitCode: 0,
        restartCount: 0,
        stoppedByUser: false,
        generation,
        health: { status: 'starting', failingStreak: 0, log: [] },
      },
    };
  }
  const health = async () => (await state.read(id))!.state.health!;
  const events = () =>
    existsSync(paths.events)
      ? readFileSync(paths.events, 'utf8')
          .trim()
          .split('\n')
          .map((l) => (JSON.parse(l) as { action: string }).action)
      : [];

  test('starting → healthy → unhealthy after `retries` failures; keeps 5 results; ends with the run', async () => {
    await state.write(record(2));
    const ctx = { paths, state, oci };
    const run = checkRun(ctx, id, 2);
    await until('healthy', async () => (await health()).status === 'healthy');
    expect((await health()).log[0]).toMatchObject({ exitCode: 0, output: 'out 0\n' });
    writeFileSync(join(dir, 'code'), '3');
    await until('unhealthy', async () => (await health()).status === 'unhealthy');
    expect((await health()).failingStreak).toBe(2);
    await until('5 results', async () => (await health()).log.length === 5);
    expect(events()).toEqual(['health_status: healthy', 'health_status: unhealthy']);
    // the run ends (conmon writes the exit file): the check returns soon, without polling for long
    const t = Date.now();
    writeFileSync(state.exitFile(id), '0');
    await run;
    expect(Date.now() - t).toBeLessThan(900);
  });

  test('waits for the start to be recorded; acts only on its own generation', async () => {
    await state.write({ ...record(1), state: { ...record(1).state, status: 'exited' } });
    const ctx = { paths, state, oci };
    const run = checkRun(ctx, id, 2); // registered before the CLI wrote the record of start 2
    await sleep(150);
    await state.write(record(2));
    await until('healthy', async () => (await health()).status === 'healthy');
    // a newer start: this check is done, and it leaves the new run's health alone
    await state.write(record(3));
    await run;
    expect((await health()).status).toBe('starting');
  });

  test('a newer run already recorded, or no record: nothing to do', async () => {
    await state.write(record(4));
    await checkRun({ paths, state, oci }, id, 3);
    await checkRun({ paths, state, oci }, ID(6), 1);
    expect(await health()).toEqual({ status: 'starting', failingStreak: 0, log: [] });
  });
});
