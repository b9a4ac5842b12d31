/**
 * The crash test's world (test/heavy/crash.test.ts): one base directory holding the native runtime's state and run
 * directories, the project and the image archive; bin/tscompose run to completion or started and SIGKILLed after a
 * delay (the CLI process alone, as `kill -9` of it does: what it started lives on); and what a finished cycle may
 * leave behind besides the host snapshot (test/e2e/host-snapshot.ts): OCI runtime containers, container records,
 * build scratch, image store scratch and leases, temp files of interrupted atomic writes, the project's networks in
 * the runtime's state.
 */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, type Dirent } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bin } from '../e2e/helpers.js';
import { REGISTRY } from '../e2e/native-harness.js';
import { nativePaths } from '../../src/runtime/native/state.js';

export interface Ran {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

export interface Killed {
  /** false: the command had exited (with `exitCode`) before the kill came. */
  readonly killed: boolean;
  readonly exitCode: number | null;
  /** The last progress line it printed: where it was when killed. */
  readonly lastLine: string;
  /** The end of what it printed on stderr. */
  readonly stderr: string;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class CrashEnv {
  readonly base = mkdtempSync(join(tmpdir(), 'tscompose-crash-'));
  readonly dir = join(this.base, 'project');
  readonly name = `crash${Math.random().toString(36).slice(2, 7)}`;
  readonly env: NodeJS.ProcessEnv = {
    ...process.env,
    NO_COLOR: '1',
    TSCOMPOSE_RUNTIME: 'native',
    TSCOMPOSE_STATE_DIR: join(this.base, 'state'),
    TSCOMPOSE_RUN_DIR: join(this.base, 'run'),
    TSCOMPOSE_REGISTRY_MIRRORS: `http://${REGISTRY}`,
  };
  readonly paths = nativePaths({ stateDir: this.env['TSCOMPOSE_STATE_DIR'], runDir: this.env['TSCOMPOSE_RUN_DIR'] });

  /** The CLI's arguments: `-p NAME` for project commands, plain progress (one line per state change). */
  argv(project: boolean, args: readonly string[]): string[] {
    return [...(project ? ['-p', this.name] : []), '--progress', 'plain', ...args];
  }

  /** Runs a command to its end. */
  ts(project: boolean, ...args: string[]): Ran {
    const t0 = Date.now();
    const r: SpawnSyncReturns<string> = spawnSync(bin, this.argv(project, args), {
      cwd: this.dir,
      env: this.env,
      encoding: 'utf8',
      timeout: 300_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { status: r.status, stdout: r.stdout ?? '', stderr: `${r.stderr ?? ''}${r.error ? `\n${r.error.message}` : ''}`, ms: Date.now() - t0 };
  }

  /** Runs a command that must succeed; returns its stdout. */
  ok(project: boolean, ...args: string[]): string {
    const r = this.ts(project, ...args);
    if (r.status !== 0) throw new Error(`tscompose ${args.join(' ')}: exit ${r.status}\nstdout: ${tail(r.stdout)}\nstderr: ${tail(r.stderr)}`);
    return r.stdout;
  }

  /** Starts a command and SIGKILLs the CLI process after `delayMs` (if it has not exited by then). */
  async killAfter(project: boolean, args: readonly string[], delayMs: number): Promise<Killed> {
    const child = spawn(bin, this.argv(project, args), { cwd: this.dir, env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stdout.resume();
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const early = await Promise.race([exited.then((c) => ({ c })), sleep(delayMs).then(() => undefined)]);
    if (early) return { killed: false, exitCode: early.c, lastLine: lastLine(err), stderr: err };
    child.kill('SIGKILL');
    await exited;
    // orphans of the CLI keep its pipes open: stop reading them
    child.stdout.destroy();
    child.stderr.destroy();
    return { killed: true, exitCode: null, lastLine: lastLine(err), stderr: err };
  }

  /** What the runtime's own state still holds of the project or of finished work, once the project is down. */
  stateLeftovers(): string[] {
    const out: string[] = [];
    for (const rt of ['runc', 'crun']) {
      const r = spawnSync(rt, ['--root', this.paths.ociRoot, 'list', '-q'], { encoding: 'utf8' });
      if (r.status === 0)
        out.push(
          ...r.stdout
            .split('\n')
            .filter(Boolean)
            .map((id) => `${rt} container ${id}`),
        );
    }
    out.push(...ls(this.paths.containers).map((c) => `container record ${c}`));
    out.push(...ls(join(this.paths.root, 'build', 'runs')).map((d) => `build scratch build/runs/${d}`));
    out.push(...ls(join(this.paths.root, 'build', 'worker')).map((d) => `RUN step scratch build/worker/${d}`));
    out.push(...ls(join(this.paths.images, 'tmp')).map((d) => `image store scratch ${d}`));
    out.push(...ls(join(this.paths.images, 'leases')).map((d) => `image store lease ${d}`));
    out.push(...atomicTemps(this.paths.root).map((f) => `temp file ${f}`));
    const nets = join(this.paths.root, 'net', 'networks.json');
    if (existsSync(nets)) {
      const state = JSON.parse(readFileSync(nets, 'utf8')) as { networks?: Record<string, unknown> };
      out.push(...Object.keys(state.networks ?? {}).map((n) => `network ${n}`));
    }
    return out;
  }

  /**
   * The kernel side of the project's networks, for a failure's report: per recorded network its bridge, whether it
   * exists, its route_localnet (127.0.0.1 publications need 1), its iptables rules and whether its nft table exists.
   */
  networkDiagnosis(): string {
    const file = join(this.paths.root, 'net', 'networks.json');
    if (!existsSync(file)) return 'no networks.json';
    const nets = (JSON.parse(readFileSync(file, 'utf8')) as { networks?: Record<string, { bridge: string }> }).networks ?? {};
    const rules = spawnSync('iptables-save', { encoding: 'utf8' }).stdout ?? '';
    const tables = spawnSync('nft', ['list', 'tables'], { encoding: 'utf8' }).stdout ?? '';
    return Object.entries(nets)
      .filter(([k]) => k.startsWith(`${this.name}_`))
      .map(([k, n]) => {
        const dev = `/sys/class/net/${n.bridge}`;
        let localnet = '-';
        try {
          localnet = readFileSync(`/proc/sys/net/ipv4/conf/${n.bridge}/route_localnet`, 'utf8').trim();
        } catch {
          /* no bridge */
        }
        const ipt = rules.split('\n').filter((l) => l.includes(n.bridge)).length;
        return `${k}: bridge ${n.bridge} ${existsSync(dev) ? 'exists' : 'MISSING'}, route_localnet ${localnet}, iptables rules ${ipt}, nft table ${tables.includes(n.bridge) ? 'yes' : 'NO'}`;
      })
      .join('; ');
  }

  /** Whether the named volume is still in the runtime's state. */
  volumeExists(): boolean {
    return ls(this.paths.volumes).some((v) => v === `${this.name}_data`);
  }
}

function ls(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Directories not walked for temp files: image layers and container filesystems hold files of their own. */
const NOT_WALKED = new Set(['layers', 'l', 'rootfs', 'merged', 'upper', 'work', 'diff', 'volumes', 'cache', 'mounts']);

/** Temp files of interrupted atomic writes (lib/fs/atomic.ts names them `.<file>.tmp-<pid>-<hex>`) under `dir`. */
function atomicTemps(dir: string, depth = 0): string[] {
  const out: string[] = [];
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (/^\..+\.tmp-\d+-[0-9a-f]+$/.test(e.name)) out.push(p);
    else if (e.isDirectory() && depth < 5 && !NOT_WALKED.has(e.name)) out.push(...atomicTemps(p, depth + 1));
  }
  return out;
}

export function tail(s: string, n = 1500): string {
  return s.length > n ? `…${s.slice(-n)}` : s;
}

function lastLine(s: string): string {
  const lines = s.split('\n').filter((l) => l.trim() !== '');
  return (lines.at(-1) ?? '').slice(0, 120);
}

/**
 * What a rerun did, from its plain progress: counts of the final word of each `Kind name  Status` line and of
 * BuildKit-style `CACHED`/`DONE` step lines, e.g. `Started×2 Running×2`.
 */
export function progressSummary(stderr: string): string {
  const counts = new Map<string, number>();
  for (const line of stderr.split('\n')) {
    const m = /^(?:Container|Network|Volume|Image|Service)\s+\S+\s{2,}(.+)$/.exec(line.trim()) ?? /^#\d+ (CACHED|DONE)\b/.exec(line.trim());
    const key = m?.[1]?.trim().split(/\s/)[0];
    if (key) counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const loaded = (stderr.match(/Loaded image/g) ?? []).length;
  if (loaded) counts.set('Loaded', loaded);
  return [...counts].map(([k, n]) => `${k}×${n}`).join(' ') || '-';
}
