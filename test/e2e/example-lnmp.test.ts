/**
 * End-to-end: examples/lnmp (nginx + PHP-FPM + MariaDB, every image built from a Dockerfile FROM debian:bookworm-slim
 * with `apt-get install`), run from its own directory with its one compose file on Docker and on the native runtime.
 * On each: `up -d --build --wait` on a free LNMP_PORT from a clean state; two views of the page count 1 then 2 (nginx
 * passed the script to PHP-FPM, which incremented the row in MariaDB with the password from the compose secret);
 * a static file comes from nginx; after `down` and `up -d --wait` the count goes on (the named volume kept the
 * data); `down -v` leaves no container, volume or network of the project.
 *
 * Docker: runs when the engine answers (TSCOMPOSE_E2E=1 makes its absence a failure); the built images are removed
 * afterwards, the build cache stays (so only the first run builds cold). Native: a state directory of its own
 * (NativeSuite), so every run builds cold; its base image comes from the local registry (scripts/engine-env.sh).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import { bin, docker, engine, env as dockerEnv, freePort, requireEngine, required, root } from './helpers.js';
import { capable, nativeDescribe, NativeSuite, ok, ProjectTraces } from './native-harness.js';

const EXAMPLE = join(root, 'examples/lnmp');
const SERVICES = ['db', 'nginx', 'php'];
const rand = (): string => Math.random().toString(36).slice(2, 8);

interface Answer {
  status: number;
  type: string;
  body: string;
}

function get(port: number, path: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/**
 * The view count the page shows. Right after `up --wait` nginx may not listen yet, or answer 502 while PHP-FPM
 * starts: those requests reached no PHP code, so they are retried (for up to 30 s); any other answer is final.
 */
async function views(port: number): Promise<number> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    // (no `instanceof Error` here: errors from node:http come from another realm than Jest's test code)
    let a: Answer | undefined;
    let failure = '';
    try {
      a = await get(port, '/');
    } catch (e) {
      failure = String(e);
    }
    if (a && a.status !== 502) {
      const n = /This page has been viewed (\d+) times\./.exec(a.body)?.[1];
      if (a.status !== 200 || n === undefined) throw new Error(`GET / answered ${a.status}: ${a.body}`);
      expect(a.body).toMatch(/PHP 8\.2\.\d+ \(fpm-fcgi\), MariaDB 10\.11\.\d+-MariaDB/);
      return Number(n);
    }
    if (Date.now() > deadline) throw new Error(`GET / on 127.0.0.1:${port}: ${a ? `${a.status} ${a.body}` : failure}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** One runtime's way to run `bin/tscompose -p NAME …` in the example's directory with LNMP_PORT set. */
type Run = (args: string[], timeoutMs?: number) => SpawnSyncReturns<string>;

function runner(name: string, baseEnv: NodeJS.ProcessEnv, port: number): Run {
  return (args, timeoutMs = 120_000) =>
    spawnSync(bin, ['-p', name, '--progress', 'plain', ...args], {
      cwd: EXAMPLE,
      env: { ...baseEnv, LNMP_PORT: String(port) },
      encoding: 'utf8',
      timeout: timeoutMs,
    });
}

const seconds = (t0: number): string => `${((Date.now() - t0) / 1000).toFixed(1)} s`;

/**
 * The scenario both runtimes go through. `left` lists what of the project remains (containers, volumes, networks);
 * `whileUp` runs after each `up` (the native test notes the kernel objects the project made then).
 */
async function scenario(run: Run, port: number, left: () => string[], whileUp?: () => void): Promise<void> {
  expect(left()).toEqual([]);
  let t0 = Date.now();
  ok(run(['up', '-d', '--build', '--wait'], 900_000));
  const upTime = seconds(t0);
  expect(
    ok(run(['ps', '--services']))
      .trim()
      .split('\n'),
  ).toEqual(SERVICES);
  whileUp?.();
  expect(await views(port)).toBe(1);
  expect(await views(port)).toBe(2);
  // Static files are nginx's own; a script that does not exist is a 404 from nginx, not an error from PHP.
  const css = await get(port, '/style.css');
  expect([css.status, css.type]).toEqual([200, 'text/css']);
  expect(css.body).toContain('#views');
  expect((await get(port, '/nothing.php')).status).toBe(404);
  // The named volume keeps the count across down and up (no build this time).
  t0 = Date.now();
  ok(run(['down']));
  expect(ok(run(['ps', '-a', '-q'])).trim()).toBe('');
  ok(run(['up', '-d', '--wait'], 300_000));
  const againTime = seconds(t0);
  whileUp?.();
  expect(await views(port)).toBe(3);
  ok(run(['down', '-v']));
  expect(left()).toEqual([]);
  console.log(`lnmp: up --build --wait ${upTime}; down + up --wait ${againTime}`);
}

const onDocker = engine || required ? describe : describe.skip;

onDocker('examples/lnmp on Docker', () => {
  const name = `e2e-lnmp-${rand()}`;
  const byLabel = (kind: 'container' | 'volume' | 'network'): string[] =>
    docker(...(kind === 'container' ? ['ps', '-a'] : [kind, 'ls']), '-q', '--filter', `label=com.docker.compose.project=${name}`)
      .split('\n')
      .filter(Boolean)
      .map((id) => `${kind} ${id}`);
  const left = (): string[] => [...byLabel('container'), ...byLabel('volume'), ...byLabel('network')];

  beforeAll(requireEngine);
  afterAll(() => {
    if (!engine) return;
    spawnSync(bin, ['-p', name, 'down', '-v', '-t', '0', '--rmi', 'local'], { cwd: EXAMPLE, env: dockerEnv, encoding: 'utf8' });
    for (const s of SERVICES) spawnSync('docker', ['rmi', '-f', `${name}-${s}`]);
  }, 120_000);

  test('builds, counts views in MariaDB through nginx and PHP-FPM, keeps the count across down/up, leaves nothing', async () => {
    const port = await freePort();
    await scenario(runner(name, dockerEnv, port), port, left);
  }, 900_000);
});

(nativeDescribe ? describe : describe.skip)('examples/lnmp on the native runtime', () => {
  let suite: NativeSuite | undefined;
  const name = `nb-lnmp-${rand()}`;

  beforeAll(() => {
    if (required && !capable) throw new Error('TSCOMPOSE_E2E=1 but the native runtime cannot run here (root, conmon and runc/crun needed)');
    suite = new NativeSuite();
  });
  afterAll(() => {
    if (!suite) return;
    spawnSync(bin, ['-p', name, 'down', '-v', '-t', '0'], { cwd: EXAMPLE, env: suite.env, encoding: 'utf8' });
    suite.cleanup();
  }, 180_000);

  test('builds, counts views in MariaDB through nginx and PHP-FPM, keeps the count across down/up, leaves nothing', async () => {
    const s = suite!;
    const traces = new ProjectTraces(s, name, EXAMPLE);
    const left = (): string[] => traces.left();
    const noteKernel = (): void => {
      expect(traces.noteKernel()).toBeGreaterThan(3);
    };
    const port = await freePort();
    await scenario(runner(name, s.env, port), port, left, noteKernel);
  }, 900_000);
});
