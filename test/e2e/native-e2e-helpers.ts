/**
 * Shared set-up of the native runtime e2e suites (native.test.ts, native-images.test.ts, native-bridge.test.ts):
 * `bin/tscompose --runtime native` with a state directory of each suite's own (each test file loads this module
 * afresh), projects in temp directories, the CLI helpers, the hooks (`nativeE2eHooks`: capability check, then
 * down, image prune, unmount and removal of the state) and the final check that nothing of the suite is left
 * (`expectNoLeftovers`). Images come from the local registry scripts/engine-env.sh seeds (the Docker Hub mirror).
 */
import { afterAll, beforeAll, describe, expect } from '@jest/globals';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bin, required } from './helpers.js';
import { listCgroupDirs } from '../../src/runtime/native/oci/cgroups.js';
import { nativePaths } from '../../src/runtime/native/state.js';

const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const capable = process.getuid?.() === 0 && has('conmon') && (has('runc') || has('crun'));
export const run = capable || required ? describe : describe.skip;

export const REGISTRY = `127.0.0.1:${process.env.TSCOMPOSE_REGISTRY_PORT ?? '5001'}`;
export const stateDir = mkdtempSync(join(tmpdir(), 'tscompose-native-e2e-'));
const runDir = join(stateDir, 'run');
export const env = {
  ...process.env,
  NO_COLOR: '1',
  TSCOMPOSE_RUNTIME: 'native',
  TSCOMPOSE_STATE_DIR: join(stateDir, 'state'),
  TSCOMPOSE_RUN_DIR: runDir,
  // The registry scripts/engine-env.sh runs is the Docker Hub mirror (also read from /etc/docker/daemon.json).
  TSCOMPOSE_REGISTRY_MIRRORS: `http://${REGISTRY}`,
};
export const paths = nativePaths({ stateDir: env.TSCOMPOSE_STATE_DIR, runDir: env.TSCOMPOSE_RUN_DIR });
const dirs: string[] = [];
export const projectNames: string[] = [];

export interface P {
  dir: string;
  name: string;
}

export function project(files: Record<string, string>): P {
  const dir = mkdtempSync(join(tmpdir(), 'tscompose-native-p-'));
  dirs.push(dir);
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(join(dir, f, '..'), { recursive: true });
    writeFileSync(join(dir, f), text);
  }
  const name = `ne2e-${Math.random().toString(36).slice(2, 8)}`;
  projectNames.push(name);
  return { dir, name };
}

export function ts(p: P | undefined, ...args: string[]): SpawnSyncReturns<string> {
  const pre = p ? ['-p', p.name] : [];
  return spawnSync(bin, [...pre, '--progress', 'plain', ...args], { cwd: p?.dir ?? stateDir, encoding: 'utf8', env, timeout: 120_000 });
}

export function ok(r: SpawnSyncReturns<string>): string {
  if (r.status !== 0) throw new Error(`exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.stdout;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await sleep(100);
  }
}

export const idOf = (p: P, service: string): string => ok(ts(p, 'ps', '-a', '-q', service)).trim();
export const psLine = (p: P, service: string): string => ok(ts(p, 'ps', '-a', service)).split('\n')[1] ?? '';

export function nativeE2eHooks(): void {
  beforeAll(() => {
    if (required && !capable)
      throw new Error('TSCOMPOSE_E2E=1 but the native runtime cannot run here (root, conmon and runc/crun needed): run scripts/engine-env.sh');
  }, 5_000);

  afterAll(async () => {
    if (!capable) return;
    for (const name of projectNames) spawnSync(bin, ['-p', name, 'down', '-v', '-t', '0'], { cwd: stateDir, env, encoding: 'utf8' });
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    // Images go too (rmi), then the whole state directory.
    spawnSync(bin, ['image', 'prune', '-a', '-f'], { cwd: stateDir, env, encoding: 'utf8' });
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .filter((l) => l.includes(stateDir));
    for (const m of mounts) spawnSync('umount', ['-l', m.split(' ')[4]!]);
    rmSync(stateDir, { recursive: true, force: true });
  }, 120_000);
}

/** The body of each suite's last test, 'after the suite: no leftover mounts, cgroups, processes or runtime state'. */
export async function expectNoLeftovers(): Promise<void> {
  for (const name of projectNames) ok(spawnSync(bin, ['-p', name, 'down', '-v', '-t', '0'], { cwd: stateDir, env, encoding: 'utf8' }));
  await sleep(300);
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.includes(stateDir));
  expect(mounts).toEqual([]);
  const containers = existsSync(paths.containers) ? readdirSync(paths.containers) : [];
  expect(containers).toEqual([]);
  const cg = listCgroupDirs('/tscompose').filter((d) => containers.some((c) => d.includes(c)));
  expect(cg).toEqual([]);
  // Exit hooks of the last containers may still be finishing: give them a few seconds.
  const procs = (): string[] =>
    spawnSync('ps', ['-eo', 'pid,stat,args'], { encoding: 'utf8' })
      .stdout.split('\n')
      .filter((l) => l.includes(stateDir) && !/^\s*\d+\s+Z/.test(l));
  await until('no processes of the suite left', () => procs().length === 0, 10_000).catch(() => undefined);
  expect(procs()).toEqual([]);
  const oci = existsSync(paths.ociRoot) ? readdirSync(paths.ociRoot) : [];
  expect(oci).toEqual([]);
}
