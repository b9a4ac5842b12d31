/**
 * A harness for end-to-end tests of the native runtime: `bin/tscompose --runtime native` with a state directory of
 * the suite's own, projects in temp directories, and a final check that nothing of the suite is left (mounts,
 * OCI runtime containers, build scratch). Images come from the local registry scripts/engine-env.sh seeds (the
 * Docker Hub mirror).
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bin, required } from './helpers.js';

const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
export const capable = process.getuid?.() === 0 && has('conmon') && (has('runc') || has('crun'));
export const nativeDescribe = capable || required;
export const REGISTRY = `127.0.0.1:${process.env.TSCOMPOSE_REGISTRY_PORT ?? '5001'}`;

export interface NativeProject {
  readonly dir: string;
  readonly name: string;
}

export class NativeSuite {
  readonly stateDir = mkdtempSync(join(tmpdir(), 'tscompose-native-e2e-'));
  readonly env: NodeJS.ProcessEnv = {
    ...process.env,
    NO_COLOR: '1',
    TSCOMPOSE_RUNTIME: 'native',
    TSCOMPOSE_STATE_DIR: join(this.stateDir, 'state'),
    TSCOMPOSE_RUN_DIR: join(this.stateDir, 'run'),
    TSCOMPOSE_REGISTRY_MIRRORS: `http://${REGISTRY}`,
  };
  private readonly dirs: string[] = [];
  private readonly names: string[] = [];

  project(files: Record<string, string>): NativeProject {
    const dir = mkdtempSync(join(tmpdir(), 'tscompose-native-p-'));
    this.dirs.push(dir);
    for (const [f, text] of Object.entries(files)) {
      mkdirSync(join(dir, f, '..'), { recursive: true });
      writeFileSync(join(dir, f), text);
    }
    const name = `nb-${Math.random().toString(36).slice(2, 8)}`;
    this.names.push(name);
    return { dir, name };
  }

  ts(p: NativeProject | undefined, ...args: string[]): SpawnSyncReturns<string> {
    const pre = p ? ['-p', p.name] : [];
    return spawnSync(bin, [...pre, '--progress', 'plain', ...args], {
      cwd: p?.dir ?? this.stateDir,
      encoding: 'utf8',
      env: this.env,
      timeout: 300_000,
    });
  }

  /** Mount points under the state directory. */
  mounts(): string[] {
    return readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[4] ?? '')
      .filter((m) => m.startsWith(this.stateDir));
  }

  /** What a build may leave behind: mounts, OCI containers of RUN steps (32-hex ids), scratch directories. */
  leftovers(): string[] {
    const out = this.mounts()
      .filter((m) => m.startsWith(join(this.stateDir, 'state', 'build')))
      .map((m) => `mount ${m}`);
    const oci = join(this.stateDir, 'run');
    for (const rt of ['runc', 'crun']) {
      const r = spawnSync(rt, ['--root', join(oci, 'oci'), 'list', '-q'], { encoding: 'utf8' });
      if (r.status === 0) for (const id of r.stdout.split('\n').filter((x) => /^[0-9a-f]{32}$/.test(x))) out.push(`${rt} container ${id}`);
    }
    const runs = join(this.stateDir, 'state', 'build', 'runs');
    try {
      for (const d of readdirSync(runs)) out.push(`build scratch ${d}`);
    } catch {
      /* none */
    }
    return out;
  }

  cleanup(): void {
    for (const name of this.names) spawnSync(bin, ['-p', name, 'down', '-v', '-t', '0'], { cwd: this.stateDir, env: this.env, encoding: 'utf8' });
    for (const d of this.dirs) rmSync(d, { recursive: true, force: true });
    spawnSync(bin, ['image', 'prune', '-a', '-f'], { cwd: this.stateDir, env: this.env, encoding: 'utf8' });
    for (const m of this.mounts().sort((a, b) => b.length - a.length)) spawnSync('umount', ['-l', m]);
    rmSync(this.stateDir, { recursive: true, force: true });
  }
}

export function ok(r: SpawnSyncReturns<string>): string {
  if (r.status !== 0) throw new Error(`exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.stdout;
}
