/**
 * End-to-end, `stats --no-stream` and `attach` on Docker and on the native runtime (issue 18): stats reads a running
 * container's usage (CPU %, memory against its mem_limit, PIDs) as a table, JSON and a template; attach prints the
 * output from then on, forwards a SIGTERM to the container (--sig-proxy) and exits with the container's code.
 * Native runs under `flock -s /tmp/tscompose-native.lock` in CI, as the other native suites.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn, type SpawnSyncReturns } from 'node:child_process';
import { Projects, bin, engine, env as dockerEnv, ok, required, requireEngine, tsc } from './helpers.js';
import { NativeSuite, nativeDescribe } from './native-harness.js';

const COMPOSE = `services:
  s:
    image: busybox:latest
    init: true
    mem_limit: 64m
    command: ["sh", "-c", "trap 'echo bye; exit 3' TERM; while true; do echo tick; sleep 0.3; done"]
`;

interface Target {
  run(...args: string[]): SpawnSyncReturns<string>;
  spawnArgs(...args: string[]): { args: string[]; cwd: string; env: NodeJS.ProcessEnv };
  name: string;
}

function cases(target: () => Target): void {
  test('stats --no-stream: the running container with its usage and limit; json; a template; -a with a stopped one', () => {
    const t = target();
    ok(t.run('up', '-d'));
    const table = ok(t.run('stats', '--no-stream')).split('\n');
    expect(table[0]).toMatch(/^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+BLOCK I\/O\s+PIDS$/);
    expect(table[1]).toMatch(new RegExp(`^[0-9a-f]{12}\\s+${t.name}-s-1\\s+\\d+\\.\\d\\d%\\s+\\S+ / 64MiB\\s+\\d+\\.\\d\\d%\\s+.+\\s+[1-9]\\d*$`));
    const json = JSON.parse(ok(t.run('stats', '--no-stream', '--format', 'json'))) as Record<string, string>;
    expect(json.Name).toBe(`${t.name}-s-1`);
    expect(json.MemUsage).toMatch(/ \/ 64MiB$/);
    expect(Number(json.PIDs)).toBeGreaterThanOrEqual(2);
    expect(ok(t.run('stats', '--no-stream', '--format', '{{.Name}}={{.PIDs}}'))).toMatch(new RegExp(`^${t.name}-s-1=\\d+\\n$`));
    ok(t.run('stop', '-t', '1'));
    expect(ok(t.run('stats', '--no-stream', '--format', '{{.Name}}'))).toBe('');
    expect(ok(t.run('stats', '--no-stream', '-a', '--format', '{{.Name}} {{.CPUPerc}} {{.PIDs}}'))).toBe(`${t.name}-s-1 0.00% 0\n`);
  }, 120_000);

  test('attach: output from now on; SIGTERM goes to the container, whose exit code attach exits with', async () => {
    const t = target();
    ok(t.run('up', '-d'));
    const { args, cwd, env } = t.spawnArgs('attach', '--no-stdin', 's');
    const child = spawn(bin, args, { cwd, env });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    for (let i = 0; i < 100 && !out.includes('tick'); i++) await new Promise((r) => setTimeout(r, 100));
    expect(out).toContain('tick');
    child.kill('SIGTERM');
    expect(await exited).toBe(3);
    expect(out).toContain('bye');
  }, 120_000);
}

const projects = new Projects();
afterAll(() => projects.cleanup());

(engine || required ? describe : describe.skip)('stats and attach on Docker', () => {
  beforeAll(requireEngine);
  let p: { dir: string; name: string };
  cases(() => {
    p = projects.create({ 'compose.yaml': COMPOSE });
    return {
      name: p.name,
      run: (...args) => tsc(p, ...args),
      spawnArgs: (...args) => ({ args: ['-p', p.name, ...args], cwd: p.dir, env: dockerEnv }),
    };
  });
});

(nativeDescribe ? describe : describe.skip)('stats and attach on the native runtime', () => {
  const suite = new NativeSuite();
  afterAll(() => suite.cleanup());
  cases(() => {
    const p = suite.project({ 'compose.yaml': COMPOSE });
    return {
      name: p.name,
      run: (...args) => suite.ts(p, ...args),
      spawnArgs: (...args) => ({ args: ['-p', p.name, ...args], cwd: p.dir, env: suite.env }),
    };
  });
});
