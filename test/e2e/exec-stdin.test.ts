/**
 * End-to-end, stdin of `exec` without a TTY on Docker and on the native runtime: `echo hi | exec -T svc cat` prints
 * hi (the end of the input closes the process's stdin), about 1 MB of lines reach `wc -c` whole, stdin at /dev/null
 * or closed returns at once, exit codes pass through, a piped stdin without -T turns the TTY off (as docker compose
 * run does), and a process that ends without reading a stdin left open returns. On Docker, with a terminal (util-linux
 * `script`), exec still gets a TTY. `exec -d` returns once the process runs. Native runs under `flock -s /tmp/tscompose-native.lock` in CI, as the other native
 * suites.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { Projects, bin, engine, env as dockerEnv, ok, required, requireEngine } from './helpers.js';
import { NativeSuite, nativeDescribe } from './native-harness.js';

const COMPOSE = `services:
  svc:
    image: busybox:latest
    command: ["sleep", "3600"]
    init: true
`;

interface Target {
  readonly dir: string;
  readonly env: NodeJS.ProcessEnv;
  readonly args: readonly string[];
}

/** Runs the CLI with `input` on its stdin (then its end), or /dev/null. */
function withInput(t: Target, input: string | 'devnull', ...args: string[]): SpawnSyncReturns<string> {
  return spawnSync(bin, [...t.args, ...args], {
    cwd: t.dir,
    env: t.env,
    encoding: 'utf8',
    timeout: 60_000,
    maxBuffer: 16 * 1024 * 1024,
    ...(input === 'devnull' ? { stdio: ['ignore', 'pipe', 'pipe'] } : { input }),
  });
}

/** About 1 MB of numbered lines of varied lengths. */
function megabyte(): string {
  const parts: string[] = [];
  let n = 0;
  for (let i = 0; n < 1_000_000; i++) {
    const line = `line ${i} ${'.'.repeat(i % 97)}\n`;
    parts.push(line);
    n += line.length;
  }
  return parts.join('');
}

function cases(target: () => Target): void {
  test('echo hi | exec -T svc cat: hi, and the end of the input ends cat', () => {
    const r = withInput(target(), 'hi\n', 'exec', '-T', 'svc', 'cat');
    expect(ok(r)).toBe('hi\n');
  }, 60_000);

  test('about 1 MB of lines piped into exec -T svc sh -c "wc -c": the exact byte count', () => {
    const input = megabyte();
    const r = withInput(target(), input, 'exec', '-T', 'svc', 'sh', '-c', 'wc -c');
    expect(ok(r).trim()).toBe(String(Buffer.byteLength(input)));
  }, 60_000);

  test('stdin at /dev/null or closed: exec -T returns at once, the process sees EOF', () => {
    const t = target();
    const started = Date.now();
    expect(withInput(t, 'devnull', 'exec', '-T', 'svc', 'true').status).toBe(0);
    expect(ok(withInput(t, 'devnull', 'exec', '-T', 'svc', 'sh', '-c', 'cat; echo done'))).toBe('done\n');
    expect(ok(withInput(t, '', 'exec', '-T', 'svc', 'sh', '-c', 'cat; echo done'))).toBe('done\n');
    const quoted = [bin, ...t.args, 'exec', '-T', 'svc', 'sh', '-c', "'cat; echo done'"].join(' ');
    const closed = spawnSync('sh', ['-c', `${quoted} <&-`], { cwd: t.dir, env: t.env, encoding: 'utf8', timeout: 60_000 });
    expect(ok(closed)).toBe('done\n');
    expect(Date.now() - started).toBeLessThan(30_000);
  }, 60_000);

  test('exit codes pass through, with and without input; a piped stdin without -T works (no TTY)', () => {
    const t = target();
    expect(withInput(t, 'devnull', 'exec', '-T', 'svc', 'sh', '-c', 'exit 3').status).toBe(3);
    const r = withInput(t, 'a b\n', 'exec', '-T', 'svc', 'sh', '-c', 'read x y; echo "$y-$x"; exit 5');
    expect(r.status).toBe(5);
    expect(r.stdout).toBe('b-a\n');
    const noT = withInput(t, 'hi\n', 'exec', 'svc', 'sh', '-c', 'cat; tty || true');
    expect(ok(noT)).toBe('hi\nnot a tty\n');
  }, 60_000);

  test('a process that ends without reading a stdin left open returns with its code', async () => {
    const t = target();
    const child = spawn(bin, [...t.args, 'exec', '-T', 'svc', 'sh', '-c', 'exit 4'], { cwd: t.dir, env: t.env, stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin.write('never read\n'); // the pipe stays open
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code).toBe(4);
    child.stdin.destroy();
  }, 60_000);

  test('exec -d returns once the process runs, which goes on without the CLI; a command that cannot start fails', async () => {
    const t = target();
    ok(withInput(t, 'devnull', 'exec', '-d', 'svc', 'sh', '-c', 'echo out; sleep 2; touch /tmp/detached'));
    // returned before the process ended (native used to wait for it), which then ends on its own
    expect(withInput(t, 'devnull', 'exec', '-T', 'svc', 'test', '-e', '/tmp/detached').status).toBe(1);
    for (let i = 0; i < 100 && withInput(t, 'devnull', 'exec', '-T', 'svc', 'test', '-e', '/tmp/detached').status !== 0; i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(withInput(t, 'devnull', 'exec', '-T', 'svc', 'test', '-e', '/tmp/detached').status).toBe(0);
    const missing = withInput(t, 'devnull', 'exec', '-d', 'svc', 'no-such-command');
    expect(missing.status).toBe(1); // as `docker exec -d`, on both runtimes (native gave the runtime's 127)
    expect(missing.stderr).toMatch(/^error: .*not found/);
    // the runtime's words only: not dockerode's status phrase, nor the container's id as if it had failed
    expect(missing.stderr).not.toMatch(/unexpected -|container [0-9a-f]{64}/);
  }, 60_000);
}

const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;

(engine || required ? describe : describe.skip)('exec stdin on Docker', () => {
  const projects = new Projects();
  let t: Target;
  beforeAll(() => {
    requireEngine();
    const p = projects.create({ 'compose.yaml': COMPOSE });
    t = { dir: p.dir, env: dockerEnv, args: ['-p', p.name, '--progress', 'quiet'] };
    ok(spawnSync(bin, [...t.args, 'up', '-d'], { cwd: p.dir, env: dockerEnv, encoding: 'utf8', timeout: 180_000 }));
  }, 180_000);
  afterAll(() => projects.cleanup());
  cases(() => t);

  (hasScript ? test : test.skip)(
    'with a terminal: exec still gets a TTY',
    async () => {
      const cmd = `${[bin, ...t.args].join(' ')} exec svc tty`;
      const child = spawn('script', ['-qec', cmd, '/dev/null'], { cwd: t.dir, env: dockerEnv, stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
      child.stdin.destroy();
      expect(code).toBe(0);
      expect(out).toMatch(/\/dev\/pts\/\d+/);
    },
    60_000,
  );
});

(nativeDescribe ? describe : describe.skip)('exec stdin on the native runtime', () => {
  let suite: NativeSuite | undefined;
  let t: Target;
  beforeAll(() => {
    suite = new NativeSuite();
    const p = suite.project({ 'compose.yaml': COMPOSE });
    t = { dir: p.dir, env: suite.env, args: ['-p', p.name, '--progress', 'quiet'] };
    ok(suite.ts(p, 'up', '-d'));
  }, 300_000);
  afterAll(() => suite?.cleanup());
  cases(() => t);
});
