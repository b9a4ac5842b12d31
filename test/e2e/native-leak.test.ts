/**
 * Leak test of the native runtime: 30 up/down cycles of a project with 3 networks (one internal), 5 services,
 * published ports, named, bind and tmpfs volumes; then a `kill -9` of the CLI during `up`, followed by `up` and
 * `down`. Afterwards the host has no new links, mounts, nftables tables, iptables rules, network namespaces,
 * cgroups or processes, compared with a snapshot taken before.
 *
 * TSCOMPOSE_LEAK_CYCLES changes the number of cycles (default 30).
 */
import { afterAll, describe, expect, test } from '@jest/globals';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bin, required } from './helpers.js';
import { hostSnapshot, type HostSnapshot } from './host-snapshot.js';

const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const capable = process.getuid?.() === 0 && has('conmon') && (has('runc') || has('crun')) && has('nft');
const run = capable || required ? describe : describe.skip;
const REGISTRY = `127.0.0.1:${process.env.TSCOMPOSE_REGISTRY_PORT ?? '5001'}`;
const CYCLES = Number(process.env.TSCOMPOSE_LEAK_CYCLES ?? 30);

const base = mkdtempSync(join(tmpdir(), 'tscompose-leak-'));
const env = {
  ...process.env,
  NO_COLOR: '1',
  TSCOMPOSE_RUNTIME: 'native',
  TSCOMPOSE_STATE_DIR: join(base, 'state'),
  TSCOMPOSE_RUN_DIR: join(base, 'run'),
  TSCOMPOSE_REGISTRY_MIRRORS: `http://${REGISTRY}`,
};
const dir = join(base, 'project');
const name = `leak${Math.random().toString(36).slice(2, 7)}`;
const port = 21000 + Math.floor(Math.random() * 20000);

function ts(...args: string[]): SpawnSyncReturns<string> {
  return spawnSync(bin, ['-p', name, '--progress', 'quiet', ...args], { cwd: dir, env, encoding: 'utf8', timeout: 120_000 });
}
function ok(r: SpawnSyncReturns<string>): string {
  if (r.status !== 0) throw new Error(`exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.stdout;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** conmon's links in the run directory's socket directory (one per container; a removal must take it). */
const sockLinks = (): string[] => {
  try {
    return readdirSync(join(base, 'run', 'sock')).sort();
  } catch {
    return [];
  }
};

/** What the host has that a native project could leave behind (./host-snapshot.ts), and conmon's socket links. */
const snapshot = (): HostSnapshot & { sockLinks: string[] } => ({ ...hostSnapshot(base), sockLinks: sockLinks() });

afterAll(() => {
  if (!capable) return;
  ts('down', '-v', '-t', '0');
  rmSync(base, { recursive: true, force: true });
}, 120_000);

run('native runtime leak test', () => {
  test(`${CYCLES} up/down cycles, then kill -9 during up, up, down: nothing left behind`, async () => {
    mkdirSync(join(dir, 'site'), { recursive: true });
    writeFileSync(join(dir, 'site', 'index.html'), 'leak-test\n');
    writeFileSync(
      join(dir, 'compose.yaml'),
      `services:
  web:
    image: busybox:latest
    init: true
    command: ["httpd", "-f", "-p", "8080", "-h", "/site"]
    ports: ["127.0.0.1:${port}:8080"]
    volumes: ["./site:/site:ro", "data:/data"]
    networks: [front, back]
  api:
    image: busybox:latest
    init: true
    command: ["sleep", "3600"]
    tmpfs: [/scratch]
    networks: [back, inner]
  worker:
    image: busybox:latest
    init: true
    command: ["sleep", "3600"]
    volumes: ["data:/data"]
    networks: [inner]
  cache:
    image: busybox:latest
    init: true
    command: ["sleep", "3600"]
    networks: [back]
  edge:
    image: busybox:latest
    init: true
    command: ["sleep", "3600"]
    ports: ["9000"]
    networks: [front]
networks:
  front: {}
  back: {}
  inner: {internal: true}
volumes:
  data: {}
`,
    );
    ok(ts('pull'));
    const before = snapshot();
    for (let i = 0; i < CYCLES; i++) {
      ok(ts('up', '-d'));
      if (i === 0) {
        // It really works: the page is served on the published port.
        const { request } = await import('node:http');
        const get = () =>
          new Promise<string>((resolve, reject) => {
            const req = request({ host: '127.0.0.1', port, path: '/index.html', timeout: 3000 }, (res) => {
              let b = '';
              res.on('data', (d: Buffer) => (b += d.toString()));
              res.on('end', () => resolve(b));
            });
            req.on('error', reject);
            req.end();
          });
        // `up -d` returns once httpd is started, not listening: give it a few seconds on a busy machine
        let body = '';
        for (let t = 0; t < 50 && body === ''; t++) body = await get().catch(async () => (await sleep(200), ''));
        expect(body).toBe('leak-test\n');
      }
      ok(ts('down', '-t', '0'));
    }
    expect(snapshot()).toEqual(before);

    // kill -9 of the CLI in the middle of `up` (at several points: networks, creates, starts), then `up`
    // converges and `down` leaves nothing.
    for (const delay of [250, 450, 700, 1000, 1400]) {
      const child = spawn(bin, ['-p', name, '--progress', 'quiet', 'up', '-d'], { cwd: dir, env, stdio: 'ignore' });
      await sleep(delay);
      // `up` may have finished before the kill (an idle machine is fast): then there is no exit left to wait for.
      const exited = child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
      ok(ts('up', '-d'));
      expect(
        ok(ts('ps', '--format', 'json'))
          .trim()
          .split('\n')
          .filter(Boolean).length,
      ).toBe(5);
      ok(ts('down', '-t', '0'));
    }
    await sleep(500);
    expect(snapshot()).toEqual(before);
    // Named volume data survives all of that; down -v removes it.
    ok(ts('down', '-v'));
  }, 900_000);
});
