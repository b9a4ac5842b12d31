/**
 * End-to-end: compose `logging` on the native runtime (issue 18). json-file with max-size/max-file keeps at most
 * max-file files, each within max-size, and `logs` prints the newest lines in order across them (also with
 * --tail, and `logs -f` following a rotation); `none` keeps nothing and `logs` warns as docker compose does;
 * `local` keeps its files by Docker's defaults.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { bin, required } from './helpers.js';
import { capable, nativeDescribe, NativeSuite, ok, type NativeProject } from './native-harness.js';

const run = nativeDescribe ? describe : describe.skip;
const suite = new NativeSuite();
const containers = join(suite.stateDir, 'state', 'containers');

beforeAll(() => {
  if (required && !capable) throw new Error('TSCOMPOSE_E2E=1 but the native runtime cannot run here (root, conmon and runc/crun needed)');
});
afterAll(() => {
  if (capable) suite.cleanup();
}, 120_000);

/**
 * 2000 numbered lines of ~50 bytes (~100 KB of output, ~180 KB of k8s-file records), 20 at a time (a service's
 * pace, not one burst: the keeper reacts within milliseconds, a burst goes into the current file whole).
 */
const WRITER =
  'i=1; while [ $$i -le 2000 ]; do echo "line $$i xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"; i=$$((i+1)); [ $$((i % 20)) -eq 0 ] && usleep 2000; done; true';
/** The same lines in one burst. */
const BURST = 'i=1; while [ $$i -le 2000 ]; do echo "line $$i xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"; i=$$((i+1)); done';
const line = (i: number) => `line ${i} xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx`;

function compose(logging: string, command = WRITER): string {
  return `services:\n  app:\n    image: busybox:latest\n    command: ["sh", "-c", ${JSON.stringify(command)}]\n    logging: ${logging}\n`;
}

/** The log files of the project's one container that hold lines (by inode; not the prepared next one): their sizes. */
function logFilesOf(p: NativeProject): number[] {
  const id = ok(suite.ts(p, 'ps', '-a', '-q', '--no-trunc', 'app')).trim();
  expect(id).toMatch(/^[0-9a-f]{64}$/);
  const dir = join(containers, id);
  const next = existsSync(join(dir, 'ctr.log.tmp')) ? statSync(join(dir, 'ctr.log.tmp')).ino : -1;
  const sizes = new Map<number, number>();
  for (const f of readdirSync(dir)) {
    if (!/^ctr\.log(\.\d+)?$/.test(f)) continue;
    const st = statSync(join(dir, f));
    if (st.ino !== next) sizes.set(st.ino, st.size);
  }
  return [...sizes.values()];
}

/** The log keepers of this suite's containers (processes running log-keeper.js, or its bundle, on a log under its state directory). */
function keepers(): number[] {
  return readdirSync('/proc')
    .filter((f) => /^\d+$/.test(f))
    .filter((f) => {
      try {
        const argv = readFileSync(`/proc/${f}/cmdline`, 'utf8').split('\0');
        return argv.some((a) => /log-keeper\.c?js$/.test(a)) && argv.some((a) => a.startsWith(suite.stateDir));
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Waits for the service's container to have exited (the writer is done). */
function waitExited(p: NativeProject): void {
  for (let i = 0; i < 150; i++) {
    if (ok(suite.ts(p, 'ps', '-a', '--format', '{{.State}}')).trim() === 'exited') return;
    spawnSyncSleep(0.2);
  }
  throw new Error('the writer did not finish');
}

function spawnSyncSleep(s: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, s * 1000);
}

/** The printed lines of `logs --no-log-prefix` (plus args). */
function logs(p: NativeProject, ...args: string[]): string[] {
  return ok(suite.ts(p, 'logs', '--no-log-prefix', ...args, 'app'))
    .split('\n')
    .filter((l) => l !== '');
}

run('native logging e2e', () => {
  test('json-file max-size 10k, max-file 3: at most 3 files of ~10k; logs prints the newest lines in order', () => {
    const p = suite.project({ 'compose.yaml': compose('{driver: json-file, options: {max-size: 10k, max-file: "3"}}') });
    ok(suite.ts(p, 'up', '-d'));
    waitExited(p);
    spawnSyncSleep(0.5); // the keeper's last pass
    const sizes = logFilesOf(p);
    expect(sizes.length).toBe(3);
    // conmon writes on while the keeper asks for the reopen (at 8.75k): a little past 10k at most
    for (const size of sizes) expect(size).toBeLessThanOrEqual(12 * 1024);
    const all = logs(p);
    const n = all.length;
    // 3 files of ~10k / ~89-byte records: the last 200-400 lines, contiguous, ending with the last one
    expect(n).toBeGreaterThan(200);
    expect(n).toBeLessThan(420);
    expect(all).toEqual(Array.from({ length: n }, (_, k) => line(2001 - n + k)));
    expect(logs(p, '--tail', '5')).toEqual([1996, 1997, 1998, 1999, 2000].map(line));
    const ts = logs(p, '--timestamps', '--tail', '2');
    expect(ts[1]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z line 2000 x+$/);
    expect(logs(p, '--since', '2000-01-01T00:00:00Z').length).toBe(n);
    ok(suite.ts(p, 'down', '-t', '0'));
  });

  test('a burst faster than the keeper: files may grow past max-size, but no line is lost', () => {
    const p = suite.project({ 'compose.yaml': compose('{driver: json-file, options: {max-size: 10k, max-file: "100"}}', BURST) });
    ok(suite.ts(p, 'up', '-d'));
    waitExited(p);
    spawnSyncSleep(0.5);
    expect(logs(p)).toEqual(Array.from({ length: 2000 }, (_, k) => line(k + 1)));
    ok(suite.ts(p, 'down', '-t', '0'));
  });

  test('logs -f follows across rotations: every line once, in order', async () => {
    const slow =
      'i=1; while [ $$i -le 600 ]; do echo "line $$i xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"; i=$$((i+1)); [ $$((i % 50)) -eq 0 ] && sleep 0.1; done; sleep 1';
    const p = suite.project({ 'compose.yaml': compose('{driver: json-file, options: {max-size: 4k, max-file: "50"}}', slow) });
    ok(suite.ts(p, 'up', '-d'));
    const child = spawn(bin, ['-p', p.name, 'logs', '-f', '--no-log-prefix', 'app'], { cwd: p.dir, env: suite.env });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
    for (let i = 0; i < 600 && !out.includes(`${line(600)}\n`); i++) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 300)); // nothing more should come
    child.kill('SIGINT');
    await closed;
    const got = out.split('\n').filter((l) => l.startsWith('line '));
    expect(got).toEqual(Array.from({ length: 600 }, (_, k) => line(k + 1)));
    expect(logFilesOf(p).length).toBeGreaterThan(10); // it did rotate (~13 files of 4k)
    ok(suite.ts(p, 'down', '-t', '0'));
  }, 120_000);

  test('driver none: no log file; logs warns as docker compose does and succeeds', () => {
    const p = suite.project({ 'compose.yaml': compose('{driver: none}', 'echo hello; echo world') });
    ok(suite.ts(p, 'up', '-d'));
    waitExited(p);
    expect(logFilesOf(p)).toEqual([]);
    const r = suite.ts(p, 'logs', 'app');
    expect(r.status).toBe(0);
    expect(r.stdout).not.toMatch(/hello/);
    expect(r.stderr).toMatch(/Can't retrieve logs for "[^"]+-app-1": configured logging driver does not support reading/);
    ok(suite.ts(p, 'down', '-t', '0'));
  });

  test('local: honoured with its own default max-file (5), read like json-file', () => {
    const p = suite.project({ 'compose.yaml': compose('{driver: local, options: {max-size: 8k}}') });
    ok(suite.ts(p, 'up', '-d'));
    waitExited(p);
    spawnSyncSleep(0.5);
    const sizes = logFilesOf(p);
    expect(sizes.length).toBe(5);
    for (const size of sizes) expect(size).toBeLessThanOrEqual(12 * 1024); // 8k and what came before the keeper reacted
    const all = logs(p);
    expect(all[all.length - 1]).toBe(line(2000));
    expect(all).toEqual(Array.from({ length: all.length }, (_, k) => line(2001 - all.length + k)));
    ok(suite.ts(p, 'down', '-t', '0'));
  });

  test("a container's log keeper ends with its removal, also when the container lived less than the keeper's poll", () => {
    const yaml =
      'services:\n' + [1, 2, 3].map((i) => `  k${i}:\n    image: busybox:latest\n    command: sleep 3600\n    logging: {driver: local}\n`).join('');
    const p = suite.project({ 'compose.yaml': yaml });
    ok(suite.ts(p, 'up', '-d'));
    expect(keepers().length).toBe(3);
    ok(suite.ts(p, 'down', '-t', '0')); // at once: a keeper may not have seen its conmon yet
    for (let i = 0; i < 20 && keepers().length > 0; i++) spawnSyncSleep(0.2);
    expect(keepers()).toEqual([]); // they waited out a 60 s grace before
  });

  test("attached up: a restarted container's lines are printed once per run", () => {
    const yaml =
      'services:\n  app:\n    image: busybox:latest\n    command: ["sh", "-c", "echo run at $$(cat /proc/uptime); sleep 1; exit 1"]\n    restart: on-failure:2\n';
    const p = suite.project({ 'compose.yaml': yaml });
    const out = ok(suite.ts(p, 'up'));
    const runs = out.split('\n').filter((l) => / \| run at /.test(l));
    expect(runs).toHaveLength(3); // the first run and two restarts, each once
    expect(new Set(runs).size).toBe(3);
    expect(out.split('\n').filter((l) => /exited with code 1/.test(l))).toHaveLength(3);
    ok(suite.ts(p, 'down', '-t', '0'));
  }, 120_000);
});
