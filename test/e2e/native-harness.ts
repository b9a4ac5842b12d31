/**
 * A harness for end-to-end tests of the native runtime: `bin/tscompose --runtime native` with a state directory of
 * the suite's own, projects in temp directories, and a final check that nothing of the suite is left (mounts,
 * OCI runtime containers, build scratch). Images come from the local registry scripts/engine-env.sh seeds (the
 * Docker Hub mirror).
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bin, required } from './helpers.js';
import { nativePaths } from '../../src/runtime/native/state.js';

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
    // The health monitor lingers a second after the last container stopped and tidies its run directory as it
    // exits (re-making it): wait for the processes of the state to end first.
    for (let i = 0; i < 50; i++) {
      const ps = spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).stdout ?? '';
      if (!ps.split('\n').some((l) => l.includes(this.stateDir))) break;
      spawnSync('sleep', ['0.2']);
    }
    rmSync(this.stateDir, { recursive: true, force: true, maxRetries: 15, retryDelay: 200 });
  }
}

export function ok(r: SpawnSyncReturns<string>): string {
  if (r.status !== 0) throw new Error(`exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.stdout;
}

/** What the native runtime records of its bridge networks (state/net/networks.json), as far as read here. */
interface NetState {
  networks: Record<string, { bridge: string; endpoints: Record<string, { netns: string; hostVeth: string }> }>;
}

/**
 * One project's traces on the native runtime, for tests that bring a whole project up and down (the examples):
 * `left()` lists what remains of it (containers by `ps -a`, volumes and networks in the state, the suite's
 * leftovers, and the bridges, veths and network namespaces noted while it ran); `noteKernel()`, called while it
 * is up, notes those kernel objects.
 */
export class ProjectTraces {
  private readonly kernel = new Set<string>();
  private readonly paths;
  private readonly netState: string;

  /** `args`: what goes before the command (`-f` files), `cwd`: the project's directory. */
  constructor(
    private readonly suite: NativeSuite,
    private readonly name: string,
    private readonly cwd: string,
    private readonly args: readonly string[] = [],
  ) {
    this.paths = nativePaths({ stateDir: suite.env['TSCOMPOSE_STATE_DIR'], runDir: suite.env['TSCOMPOSE_RUN_DIR'] });
    this.netState = join(this.paths.root, 'net', 'networks.json');
  }

  left(): string[] {
    const out: string[] = [];
    const ps = spawnSync(bin, ['-p', this.name, ...this.args, 'ps', '-a', '-q'], { cwd: this.cwd, env: this.suite.env, encoding: 'utf8' });
    out.push(
      ...ps.stdout
        .split('\n')
        .filter(Boolean)
        .map((id) => `container ${id}`),
    );
    if (ps.status !== 0) out.push(`ps failed: ${ps.stderr}`);
    if (existsSync(this.paths.volumes))
      out.push(
        ...readdirSync(this.paths.volumes)
          .filter((v) => v.startsWith(`${this.name}_`))
          .map((v) => `volume ${v}`),
      );
    if (existsSync(this.netState)) {
      const nets = (JSON.parse(readFileSync(this.netState, 'utf8')) as Partial<NetState>).networks ?? {};
      out.push(
        ...Object.keys(nets)
          .filter((k) => k.startsWith(`${this.name}_`))
          .map((k) => `network ${k}`),
      );
    }
    out.push(...this.suite.leftovers());
    const links = spawnSync('ip', ['-o', 'link'], { encoding: 'utf8' }).stdout + spawnSync('ip', ['netns'], { encoding: 'utf8' }).stdout;
    out.push(...[...this.kernel].filter((k) => new RegExp(`\\b${k}\\b`).test(links)).map((k) => `kernel ${k}`));
    return out;
  }

  /** Notes the project's bridges, veths and network namespaces; returns how many it knows now. */
  noteKernel(): number {
    const nets = (JSON.parse(readFileSync(this.netState, 'utf8')) as NetState).networks;
    for (const [key, n] of Object.entries(nets)) {
      if (!key.startsWith(`${this.name}_`)) continue;
      this.kernel.add(n.bridge);
      for (const e of Object.values(n.endpoints)) this.kernel.add(e.netns).add(e.hostVeth);
    }
    return this.kernel.size;
  }
}
