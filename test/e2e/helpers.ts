/**
 * Shared by the Docker end-to-end tests: temp projects named e2e-<random>, bin/tscompose runs, docker CLI
 * look-ups, and clean-up of everything a test's projects created (by the compose project label).
 *
 * The tests run when Docker answers; with TSCOMPOSE_E2E=1 (set by .ci/run) a missing engine fails them.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../..', import.meta.url));
export const bin = join(root, 'bin/tscompose');
export const required = process.env.TSCOMPOSE_E2E === '1';
export const engine = spawnSync('docker', ['version', '--format', '{{.Server.Version}}'], { encoding: 'utf8' }).status === 0;
export const env = { ...process.env, NO_COLOR: '1', TSCOMPOSE_RUNTIME: 'docker' };
export const SLEEPER = 'image: busybox:latest\n    command: ["sleep", "3600"]\n    init: true';

export interface TestProject {
  readonly dir: string;
  readonly name: string;
}

export function docker(...args: string[]): string {
  const r = spawnSync('docker', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

/** Creates projects in temp dirs and removes them, with their containers, networks and volumes, in `cleanup`. */
export class Projects {
  private readonly names: string[] = [];
  private readonly dirs: string[] = [];

  create(files: Record<string, string>): TestProject {
    const dir = mkdtempSync(join(tmpdir(), 'tscompose-e2e-'));
    this.dirs.push(dir);
    for (const [f, text] of Object.entries(files)) {
      mkdirSync(join(dir, f, '..'), { recursive: true });
      writeFileSync(join(dir, f), text);
    }
    const name = `e2e-${Math.random().toString(36).slice(2, 8)}`;
    this.names.push(name);
    return { dir, name };
  }

  cleanup(): void {
    for (const name of this.names) {
      const ids = docker('ps', '-aq', '--filter', `label=com.docker.compose.project=${name}`).split('\n').filter(Boolean);
      if (ids.length) spawnSync('docker', ['rm', '-f', '-v', ...ids]);
      for (const kind of ['network', 'volume'] as const) {
        const found = docker(kind, 'ls', '-q', '--filter', `label=com.docker.compose.project=${name}`).split('\n').filter(Boolean);
        if (found.length) spawnSync('docker', [kind, 'rm', ...found]);
      }
    }
    for (const d of this.dirs) rmSync(d, { recursive: true, force: true });
  }
}

/** Runs bin/tscompose for a project (plain progress). */
export function tsc(p: TestProject, ...args: string[]): SpawnSyncReturns<string> {
  return spawnSync(bin, ['-p', p.name, '--progress', 'plain', ...args], { cwd: p.dir, encoding: 'utf8', env, timeout: 180_000 });
}

export function ok(r: SpawnSyncReturns<string>): string {
  if (r.status !== 0) throw new Error(`exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.stdout;
}

export function requireEngine(): void {
  if (required && !engine) throw new Error('TSCOMPOSE_E2E=1 but Docker does not answer: run `npm run engine:setup` (scripts/engine-env.sh)');
}

/** A TCP port nothing listens on now on 127.0.0.1 (the kernel's pick for port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (a && typeof a === 'object' ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}
