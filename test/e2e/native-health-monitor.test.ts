/**
 * End-to-end: the native runtime's health monitor is one process per state directory (issue 14 item 3), not one
 * per container. 10 containers with healthchecks (and one failing) get one monitor, which makes them healthy (the
 * failing one unhealthy); 11 parallel `start` CLIs still leave exactly one; after a `kill -9` of it the next command
 * that lists the containers (`ps`, `stop`, `start`, …) brings it back and it carries on with every running container; once nothing with a healthcheck runs it exits, so
 * `down` leaves no process naming the state directory.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bin, required } from './helpers.js';
import { capable, nativeDescribe, NativeSuite, ok } from './native-harness.js';
import { nativePaths, type ContainerRecord } from '../../src/runtime/native/state.js';

const run = nativeDescribe ? describe : describe.skip;
const suite = new NativeSuite();
const paths = nativePaths({ stateDir: suite.env['TSCOMPOSE_STATE_DIR'], runDir: suite.env['TSCOMPOSE_RUN_DIR'] });

beforeAll(() => {
  if (required && !capable) throw new Error('TSCOMPOSE_E2E=1 but the native runtime cannot run here (root, conmon and runc/crun needed)');
});
afterAll(() => {
  if (capable) suite.cleanup();
}, 120_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, cond: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

/**
 * The health monitor processes of the suite's state directory: pid and RSS (kB). Not a child it is just forking
 * (for a check's `runc exec`): until its exec, that one shows the monitor's args too.
 */
function monitors(): { pid: number; rssKb: number }[] {
  const out = spawnSync('ps', ['-eo', 'pid=,ppid=,rss=,args='], { encoding: 'utf8' }).stdout;
  const all = out
    .split('\n')
    .filter((l) => /health-monitor\.c?js /.test(l) && l.includes(paths.root))
    .map((l) => {
      const [pid, ppid, rss] = l.trim().split(/\s+/);
      return { pid: Number(pid), ppid: Number(ppid), rssKb: Number(rss) };
    });
  const pids = new Set(all.map((m) => m.pid));
  return all.filter((m) => !pids.has(m.ppid)).map(({ pid, rssKb }) => ({ pid, rssKb }));
}

/** Processes whose args name the suite's directory (what the leak tests look for). */
function suiteProcesses(): string[] {
  return spawnSync('ps', ['-eo', 'pid=,stat=,args='], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter((l) => l.includes(suite.stateDir) && !/^\s*\d+\s+Z/.test(l));
}

const HEALTHY = Array.from({ length: 10 }, (_, i) => `s${i + 1}`);

run('native health monitor: one per state directory', () => {
  test('10 containers with healthchecks: one monitor; parallel starts; kill -9; down leaves none', async () => {
    const services = HEALTHY.map(
      (s) => `  ${s}:
    image: busybox:latest
    network_mode: none
    init: true
    command: ["sleep", "3600"]
    healthcheck:
      test: ["CMD", "true"]
      interval: 1s
`,
    ).join('');
    const p = suite.project({
      'compose.yaml': `services:
${services}  sick:
    image: busybox:latest
    network_mode: none
    init: true
    command: ["sleep", "3600"]
    healthcheck:
      test: ["CMD-SHELL", "echo not-ok; exit 2"]
      interval: 500ms
      retries: 2
  plain:
    image: busybox:latest
    network_mode: none
    init: true
    command: ["sleep", "3600"]
`,
    });
    const ts = (...args: string[]) => suite.ts(p, ...args);
    const psLines = () => ok(ts('ps', '-a')).split('\n');
    const line = (svc: string) => psLines().find((l) => l.includes(` ${svc} `)) ?? '';
    const allHealthy = () => HEALTHY.every((s) => line(s).includes('(healthy)'));
    const record = (svc: string): ContainerRecord => {
      const id = ok(ts('ps', '-q', svc)).trim();
      return JSON.parse(readFileSync(join(paths.containers, id, 'record.json'), 'utf8')) as ContainerRecord;
    };
    const lastCheck = (svc: string) => Date.parse(record(svc).state.health?.log.at(-1)?.end ?? '1970-01-01T00:00:00Z');

    ok(ts('up', '-d'));
    await until('10 healthy', allHealthy);
    await until('sick unhealthy', () => line('sick').includes('(unhealthy)'));
    expect(line('plain')).not.toContain('health');
    const one = monitors();
    expect(one).toHaveLength(1);
    const rss = one[0]!.rssKb;
    console.log(`health monitor: ${one.length} process for 11 containers with healthchecks, RSS ${(rss / 1024).toFixed(1)} MB`);
    // The record keeps the last 5 results and the failing streak; events were emitted.
    await until('5 results of sick', () => record('sick').state.health!.log.length === 5);
    const sick = record('sick').state.health!;
    expect(sick.status).toBe('unhealthy');
    expect(sick.failingStreak).toBeGreaterThanOrEqual(2);
    expect(sick.log.at(-1)).toMatchObject({ exitCode: 2, output: 'not-ok\n' });
    const events = readFileSync(paths.events, 'utf8');
    expect(events).toContain('"health_status: healthy"');
    expect(events).toContain('"health_status: unhealthy"');

    // Stopped, nothing with a healthcheck runs: the monitor exits by itself.
    ok(ts('stop', '-t', '0'));
    await until('no monitor after stop', () => monitors().length === 0, 10_000);

    // 11 CLIs starting one service each at the same time: exactly one monitor, which checks them all.
    const starts = [...HEALTHY, 'sick'].map(
      (s) =>
        new Promise<number | null>((resolve) => {
          const c = spawn(bin, ['-p', p.name, '--progress', 'quiet', 'start', s], { cwd: p.dir, env: suite.env, stdio: 'ignore' });
          c.on('exit', (code) => resolve(code));
        }),
    );
    expect(await Promise.all(starts)).toEqual(Array(11).fill(0));
    await until('10 healthy again', allHealthy);
    for (let i = 0; i < 4; i++) {
      expect(monitors()).toHaveLength(1);
      await sleep(250);
    }

    // kill -9 of the monitor: health stands still until the next command listing the containers brings it back.
    const killed = monitors()[0]!.pid;
    process.kill(killed, 'SIGKILL');
    await until('monitor gone', () => monitors().length === 0, 5000);
    const t = Date.now();
    await sleep(1500);
    expect(lastCheck('s2')).toBeLessThan(t);
    ok(ts('ps'));
    expect(monitors()).toHaveLength(1);
    ok(ts('stop', '-t', '0', 's1'));
    ok(ts('start', 's1'));
    const back = monitors();
    expect(back).toHaveLength(1);
    expect(back[0]!.pid).not.toBe(killed);
    // s2 (started before the kill) is checked again, s1 (started after) gets healthy, sick stays unhealthy.
    await until('s2 checked again', () => lastCheck('s2') > t);
    await until('s1 healthy', () => line('s1').includes('(healthy)'));
    expect(line('sick')).toContain('(unhealthy)');
    expect(record('s2').state.health!.status).toBe('healthy');

    // down: no monitor, nor any other process of the state directory, is left.
    ok(ts('down', '-t', '0'));
    await until('no monitor after down', () => monitors().length === 0, 5000);
    expect(suiteProcesses()).toEqual([]);
  }, 300_000);
});
