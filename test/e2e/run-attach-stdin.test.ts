/**
 * End-to-end, stdin of `run` and `attach` on Docker and on the native runtime (issue 18): `echo hi | run --rm -T svc
 * cat` prints hi (the end of the input closes the container's stdin); `run -i` with stdin at its end, or /dev/null,
 * returns; `attach` forwards a line to a `stdin_open` service, and `--no-stdin` does not. On Docker, with a terminal
 * (util-linux `script`): a TTY, its size, raw input and the detach keys (ctrl-p ctrl-q) leaving the container
 * running. Native runs under `flock -s /tmp/tscompose-native.lock` in CI, as the other native suites.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { Projects, bin, engine, env as dockerEnv, ok, required, requireEngine, tsc } from './helpers.js';
import { NativeSuite, nativeDescribe } from './native-harness.js';
import { hasScript, underTerminal } from './terminal.js';

const COMPOSE = `services:
  svc:
    image: busybox:latest
  term:
    image: busybox:latest
    tty: true
    stdin_open: true
  reader:
    image: busybox:latest
    stdin_open: true
    command: ["sh", "-c", "read l; echo \\"got $$l\\"; exit 4"]
`;

interface Target {
  run(...args: string[]): SpawnSyncReturns<string>;
  /** Runs the CLI with `input` on its stdin (then its end), or /dev/null. */
  withInput(input: string | 'devnull', ...args: string[]): SpawnSyncReturns<string>;
  spawnArgs(...args: string[]): { args: string[]; cwd: string; env: NodeJS.ProcessEnv };
  name: string;
}

/** Spawns the CLI with a pipe on its stdin that stays open; `exited` resolves with its code. */
function start(t: Target, ...args: string[]) {
  const s = t.spawnArgs(...args);
  const child = spawn(bin, s.args, { cwd: s.cwd, env: s.env, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, out: () => out };
}

function cases(target: () => Target): void {
  test('echo hi | run --rm -T svc cat: hi, and the end of the input ends cat', () => {
    const t = target();
    const r = t.withInput('hi\n', 'run', '--rm', '-T', 'svc', 'cat');
    expect(ok(r)).toBe('hi\n');
    expect(ok(t.run('ps', '-a', '-q'))).toBe('');
  }, 120_000);

  test('run -i with stdin at its end, or /dev/null, returns; the command sees the input', () => {
    const t = target();
    expect(ok(t.withInput('', 'run', '--rm', '-i', 'svc', 'sh', '-c', 'cat; echo done'))).toBe('done\n');
    expect(ok(t.withInput('devnull', 'run', '--rm', 'svc', 'sh', '-c', 'cat; echo done'))).toBe('done\n');
    const r = t.withInput('a b\n', 'run', '--rm', 'svc', 'sh', '-c', 'read x y; echo "$y-$x"; exit 3');
    expect(r.status).toBe(3);
    expect(r.stdout).toBe('b-a\n');
  }, 120_000);

  test('attach forwards a line to a stdin_open service, then exits with its code', async () => {
    const t = target();
    ok(t.run('up', '-d', 'reader'));
    const a = start(t, 'attach', 'reader');
    a.child.stdin.write('line\n'); // the pipe stays open: the container ends on its own
    expect(await a.exited).toBe(4);
    expect(a.out()).toBe('got line\n');
    a.child.stdin.destroy();
  }, 120_000);

  test('attach --no-stdin: the line does not reach the container, which runs on until stopped', async () => {
    const t = target();
    ok(t.run('up', '-d', 'reader'));
    const a = start(t, 'attach', '--no-stdin', 'reader');
    a.child.stdin.write('line\n');
    await new Promise((r) => setTimeout(r, 1500));
    expect(ok(t.run('ps', '--format', '{{.Service}} {{.State}}'))).toContain('reader running');
    ok(t.run('stop', '-t', '1', 'reader'));
    expect(await a.exited).toBe(137);
    expect(a.out()).not.toContain('got');
    a.child.stdin.destroy();
  }, 120_000);
}

const projects = new Projects();
afterAll(() => projects.cleanup());

(engine || required ? describe : describe.skip)('run and attach stdin on Docker', () => {
  beforeAll(requireEngine);
  let p: { dir: string; name: string };
  cases(() => {
    p = projects.create({ 'compose.yaml': COMPOSE });
    return {
      name: p.name,
      run: (...args) => tsc(p, ...args),
      withInput: (input, ...args) =>
        spawnSync(bin, ['-p', p.name, '--progress', 'quiet', ...args], {
          cwd: p.dir,
          env: dockerEnv,
          encoding: 'utf8',
          timeout: 120_000,
          ...(input === 'devnull' ? { stdio: ['ignore', 'pipe', 'pipe'] } : { input }),
        }),
      spawnArgs: (...args) => ({ args: ['-p', p.name, '--progress', 'quiet', ...args], cwd: p.dir, env: dockerEnv }),
    };
  });

  (hasScript ? test : test.skip)(
    'with a terminal: a TTY of its size, raw input, ctrl-p ctrl-q detaches and leaves the container running',
    async () => {
      p = projects.create({ 'compose.yaml': COMPOSE });
      const cmd = `stty cols 91 rows 33; ${bin} -p ${p.name} --progress quiet run svc sh`;
      const { child, output, exited, until } = underTerminal(cmd, p.dir, dockerEnv);
      await until('# ');
      child.stdin.write('tty; stty size; echo sum-$((40+2))\r');
      await until('sum-42');
      expect(output()).toMatch(/\/dev\/pts\/\d+/);
      expect(output()).toContain('33 91');
      child.stdin.write(Buffer.from([0x10, 0x11]));
      expect(await exited).toBe(0);
      expect(ok(tsc(p, 'ps', '--format', '{{.State}}'))).toBe('running\n');
      ok(tsc(p, 'down', '-t', '0'));
    },
    120_000,
  );

  (hasScript ? test : test.skip)(
    'attach --detach-keys to a tty service: ctrl-p ctrl-q reach it (the engine does not detach on them), the given keys detach',
    async () => {
      p = projects.create({ 'compose.yaml': COMPOSE });
      ok(tsc(p, 'up', '-d', 'term'));
      const cmd = `${bin} -p ${p.name} attach --detach-keys ctrl-x,x term`;
      const { child, exited, until } = underTerminal(cmd, p.dir, dockerEnv);
      await new Promise((r) => setTimeout(r, 1500)); // attached
      child.stdin.write('echo one-$((0+1))\r');
      await until('one-1');
      child.stdin.write(Buffer.from([0x10, 0x11]));
      child.stdin.write('echo two-$((1+1))\r');
      await until('two-2');
      child.stdin.write(Buffer.from([0x18, 0x78]));
      expect(await exited).toBe(0);
      expect(ok(tsc(p, 'ps', '--format', '{{.Service}} {{.State}}'))).toBe('term running\n');
      ok(tsc(p, 'down', '-t', '0'));
    },
    120_000,
  );
});

(nativeDescribe ? describe : describe.skip)('run and attach stdin on the native runtime', () => {
  const suite = new NativeSuite();
  afterAll(() => suite.cleanup());
  cases(() => {
    const p = suite.project({ 'compose.yaml': COMPOSE });
    return {
      name: p.name,
      run: (...args) => suite.ts(p, ...args),
      withInput: (input, ...args) =>
        spawnSync(bin, ['-p', p.name, '--progress', 'quiet', ...args], {
          cwd: p.dir,
          env: suite.env,
          encoding: 'utf8',
          timeout: 120_000,
          ...(input === 'devnull' ? { stdio: ['ignore', 'pipe', 'pipe'] } : { input }),
        }),
      spawnArgs: (...args) => ({ args: ['-p', p.name, '--progress', 'quiet', ...args], cwd: p.dir, env: suite.env }),
    };
  });
});
