/**
 * End-to-end: examples/dockercoins (container.training's five services: redis, rng, hasher, worker, webui) from its
 * own directory, on Docker and on the native runtime, with the same compose file. From a clean state,
 * `up -d --build --wait` (WEBUI_PORT a free port); webui's /json reports a hashing rate above 0, which takes every
 * service (worker gets bytes from rng, hashes them with hasher, counts in redis; webui reads redis);
 * `up -d --scale worker=4 --wait` raises the rate clearly; `down -v` leaves nothing of the project.
 *
 * Docker: runs when the engine answers (TSCOMPOSE_E2E=1 makes its absence a failure). Native: root with conmon and
 * runc/crun, a state directory of its own (NativeSuite), so its first build is cold (apt-get in RUN steps).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Projects, bin, docker, engine, freePort, ok, required, requireEngine, root } from './helpers.js';
import { capable, nativeDescribe, NativeSuite } from './native-harness.js';

const example = join(root, 'examples/dockercoins');
const SERVICES = ['redis', 'rng', 'hasher', 'worker', 'webui'];
const BUILT = ['rng', 'hasher', 'worker', 'webui'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Stats {
  hashrate: number;
  hashes: number;
  coins: number;
}

async function stats(port: number): Promise<Stats> {
  const r = await fetch(`http://127.0.0.1:${port}/json`, { signal: AbortSignal.timeout(5_000) });
  if (!r.ok) throw new Error(`GET /json: ${r.status}`);
  return (await r.json()) as Stats;
}

/** Polls /json until `check` holds (the last answer), or fails with what was seen. */
async function until(port: number, what: string, check: (s: Stats) => boolean, timeoutMs: number): Promise<Stats> {
  const end = Date.now() + timeoutMs;
  let last: Stats | string;
  for (;;) {
    try {
      const s = await stats(port);
      last = s;
      if (check(s)) return s;
    } catch (e) {
      last = String(e);
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last /json: ${JSON.stringify(last)}`);
    await sleep(500);
  }
}

/**
 * The scenario, the same on both runtimes: `compose` runs bin/tscompose for the project in examples/dockercoins.
 * Returns after `down -v`; the caller checks what is left.
 */
async function scenario(compose: (...args: string[]) => SpawnSyncReturns<string>, port: number, ps: () => string[]): Promise<void> {
  const t0 = Date.now();
  ok(compose('up', '-d', '--build', '--wait'));
  const tUp = Date.now();
  expect(ps().sort()).toEqual([...SERVICES].sort());
  // One worker: the rate over webui's 5 s window, once the window is full of that worker's seconds.
  await until(port, 'a hashing rate above 0', (s) => s.hashrate > 0 && s.hashes > 0, 30_000);
  await sleep(6_000);
  const one = await stats(port);
  expect(one.hashrate).toBeGreaterThan(0);
  // Four workers.
  ok(compose('up', '-d', '--scale', 'worker=4', '--wait'));
  expect(ps().filter((s) => s === 'worker')).toHaveLength(4);
  const four = await until(port, `a rate clearly above ${one.hashrate}/s (2.5 times)`, (s) => s.hashrate >= 2.5 * one.hashrate, 45_000);
  const tScaled = Date.now();
  ok(compose('down', '-v', '-t', '1'));
  expect(ps()).toEqual([]);
  process.stderr.write(
    `dockercoins: up --build --wait ${((tUp - t0) / 1000).toFixed(1)} s; 1 worker ${one.hashrate}/s; 4 workers ${four.hashrate}/s ` +
      `(${((tScaled - tUp) / 1000).toFixed(1)} s after up); coins ${four.coins}, hashes ${four.hashes}; down ${((Date.now() - tScaled) / 1000).toFixed(1)} s\n`,
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Docker

const projects = new Projects();
const runDocker = engine || required ? describe : describe.skip;
let dockerName = '';

beforeAll(() => {
  requireEngine();
  if (required && !capable) throw new Error('TSCOMPOSE_E2E=1 but the native runtime cannot run here (root, conmon and runc/crun needed)');
});

afterAll(() => {
  if (!engine) return;
  projects.cleanup();
  // The images built for the project (the build cache stays, so the next run builds in seconds).
  if (dockerName) spawnSync('docker', ['image', 'rm', ...BUILT.map((s) => `${dockerName}-${s}`)], { encoding: 'utf8' });
}, 120_000);

runDocker('examples/dockercoins on Docker', () => {
  test('up --build --wait: webui reports a rate; --scale worker=4 raises it; down -v leaves nothing', async () => {
    dockerName = projects.create({}).name;
    const port = await freePort();
    const env = { ...process.env, NO_COLOR: '1', TSCOMPOSE_RUNTIME: 'docker', WEBUI_PORT: String(port) };
    const compose = (...args: string[]) =>
      spawnSync(bin, ['-p', dockerName, '--progress', 'plain', ...args], { cwd: example, encoding: 'utf8', env, timeout: 600_000 });
    const label = `label=com.docker.compose.project=${dockerName}`;
    const ps = () => docker('ps', '-a', '--filter', label, '--format', '{{.Label "com.docker.compose.service"}}').split('\n').filter(Boolean);
    await scenario(compose, port, ps);
    expect(docker('network', 'ls', '-q', '--filter', label)).toBe('');
    expect(docker('volume', 'ls', '-q', '--filter', label)).toBe('');
  }, 900_000);
});

// ---------------------------------------------------------------------------------------------------------------
// Native

const suite = new NativeSuite();
const runNative = nativeDescribe ? describe : describe.skip;

afterAll(() => {
  if (capable) suite.cleanup();
}, 120_000);

runNative('examples/dockercoins on the native runtime', () => {
  test('up --build --wait: webui reports a rate; --scale worker=4 raises it; down -v leaves nothing', async () => {
    const { name } = suite.project({});
    const port = await freePort();
    const env = { ...suite.env, WEBUI_PORT: String(port) };
    const compose = (...args: string[]) =>
      spawnSync(bin, ['-p', name, '--progress', 'plain', ...args], { cwd: example, encoding: 'utf8', env, timeout: 600_000 });
    const ps = () =>
      ok(compose('ps', '-a', '--format', 'json'))
        .split('\n')
        .filter(Boolean)
        .map((l) => (JSON.parse(l) as { Service: string }).Service);
    // The project's bridge, network namespaces and veths, read while it runs, to look for them after `down`.
    let kernel: string[] = [];
    const psAndNet = () => {
      const services = ps();
      const file = join(suite.env.TSCOMPOSE_STATE_DIR!, 'net', 'networks.json');
      if (services.length && existsSync(file)) {
        const net = JSON.parse(readFileSync(file, 'utf8')) as {
          networks: Record<string, { bridge: string; endpoints: Record<string, { netns: string; hostVeth: string }> }>;
        };
        kernel = Object.entries(net.networks)
          .filter(([key]) => key.startsWith(`${name}_`))
          .flatMap(([, n]) => [n.bridge, ...Object.values(n.endpoints).flatMap((e) => [e.netns, e.hostVeth])]);
      }
      return services;
    };
    await scenario(compose, port, psAndNet);
    expect(kernel.length).toBeGreaterThan(5);
    const left = (text: string) => kernel.filter((n) => new RegExp(`\\b${n}\\b`).test(text));
    expect(left(spawnSync('ip', ['-o', 'link'], { encoding: 'utf8' }).stdout)).toEqual([]);
    expect(left(spawnSync('ip', ['netns'], { encoding: 'utf8' }).stdout)).toEqual([]);
    const entries = (dir: string) =>
      existsSync(join(suite.env.TSCOMPOSE_STATE_DIR!, dir)) ? readdirSync(join(suite.env.TSCOMPOSE_STATE_DIR!, dir)) : [];
    expect(entries('containers')).toEqual([]);
    expect(entries('volumes')).toEqual([]);
    expect(suite.leftovers()).toEqual([]);
    // Exit hooks of the last containers may still be finishing: give them a few seconds.
    const procs = () =>
      spawnSync('ps', ['-eo', 'pid,stat,args'], { encoding: 'utf8' })
        .stdout.split('\n')
        .filter((l) => l.includes(suite.stateDir) && !/^\s*\d+\s+Z/.test(l));
    for (let i = 0; i < 20 && procs().length; i++) await sleep(500);
    expect(procs()).toEqual([]);
  }, 900_000);
});
