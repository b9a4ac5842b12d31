/**
 * Spawn-free versions of the two runtime calls every stop makes, used by OciRuntime before it spawns runc or crun.
 *
 * A process spawn from the CLI costs ~10 ms of its main thread (fork + exec are serial in Node) and runc itself
 * ~20–30 ms of CPU; `down` of 20 containers made ~80 such spawns. What runc does for these two calls is small
 * and fully described by its state file (`<root>/<id>/state.json`):
 * - `runc kill ID SIG` (without --all) sends SIG to the container's init process, after checking the pid still
 *   is that process (its start time in /proc/PID/stat against `init_process_start`). With --all it signals every
 *   process of the cgroup, which for a container with its own pid namespace is what SIGKILL to init does anyway.
 * - `runc delete` of a container whose init has exited removes its cgroups (`cgroup_paths`, deepest first) and
 *   its state directory; poststop hooks and Intel RDT, which tscompose never configures, would need runc.
 * crun keeps the same facts in `<root>/<id>/status` (`pid`, `process-start-time` from the same /proc field,
 * `cgroup-path` relative to each cgroup hierarchy) and the container's config.json beside it (namespaces, hooks);
 * its delete of a stopped container likewise removes the cgroup in every hierarchy and the state directory.
 * Anything unexpected — an unknown state, a pid that is not the container's init, a systemd-managed cgroup, hooks,
 * a cgroup that will not go — returns false and the caller spawns the runtime as before, so the result is never
 * worse than the runtime's own.
 */
import { existsSync, promises as fs, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseProcStat } from '../../../lib/fs/proc.js';
import { cgroupDirs, detectCgroupMode } from './cgroups.js';

interface RuncState {
  readonly init_process_pid: number;
  readonly init_process_start: number | string;
  readonly cgroup_paths?: Readonly<Record<string, string>>;
  readonly intel_rdt_path?: string;
  readonly config?: {
    readonly namespaces?: readonly { readonly type: string; readonly path?: string }[];
    readonly hooks?: Readonly<Record<string, readonly unknown[] | null>> | null;
  };
}

// The state files below are small and local (the runtime's --root, on /run): read synchronously, as records are
// (lib/fs/atomic.ts readJson). Through the thread pool a read costs the main thread an open, fstat, read and close
// each, which during a 20-container `down` was the CLI's largest cost after its start.

export async function readRuncState(root: string, id: string): Promise<RuncState | undefined> {
  try {
    const file = path.join(root, id, 'state.json');
    if (!existsSync(file)) return undefined; // crun's, or none: no exception thrown and caught
    const s = JSON.parse(readFileSync(file, 'utf8')) as RuncState;
    if (!Number.isInteger(s.init_process_pid) || s.init_process_pid <= 0 || s.init_process_start === undefined) return undefined;
    return s;
  } catch {
    return undefined;
  }
}

/** Field 22 of /proc/PID/stat (start time in clock ticks since boot), or undefined when there is no such process. */
export async function processStartTime(pid: number): Promise<number | undefined> {
  try {
    const start = Number(parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8')).fields[22 - 3]);
    return Number.isFinite(start) ? start : undefined;
  } catch {
    return undefined;
  }
}

/** What the fast paths need from either runtime's state. */
export interface FastState {
  readonly pid: number;
  readonly startTime: number;
  /** Whether the container has a pid namespace of its own (SIGKILL to init then ends every process). */
  readonly ownPidNamespace: boolean;
  /** Hooks, Intel RDT or systemd cgroups: only the runtime itself handles those. */
  readonly needsRuntime: boolean;
  /** The container's cgroup directories (absolute, under /sys/fs/cgroup). */
  readonly cgroupDirs: readonly string[];
}

const hasHooks = (hooks: Readonly<Record<string, readonly unknown[] | null>> | null | undefined): boolean =>
  Object.values(hooks ?? {}).some((h) => Array.isArray(h) && h.length > 0);

function fromRunc(s: RuncState): FastState {
  return {
    pid: s.init_process_pid,
    startTime: Number(s.init_process_start),
    ownPidNamespace: (s.config?.namespaces ?? []).some((n) => n.type === 'NEWPID' && !n.path),
    needsRuntime: Boolean(s.intel_rdt_path) || hasHooks(s.config?.hooks),
    cgroupDirs: [...new Set(Object.values(s.cgroup_paths ?? {}))],
  };
}

interface CrunStatus {
  readonly pid?: number;
  readonly 'process-start-time'?: number;
  readonly 'cgroup-path'?: string;
  readonly 'systemd-cgroup'?: boolean;
  readonly scope?: string;
}

interface CrunConfig {
  readonly hooks?: Readonly<Record<string, readonly unknown[] | null>> | null;
  readonly linux?: { readonly namespaces?: readonly { readonly type: string; readonly path?: string }[]; readonly intelRdt?: unknown };
}

/** crun's `cgroup-path` in every hierarchy of this host (./cgroups.ts); none for an empty path (never the roots). */
export function crunCgroupDirs(cgroupPath: string, fsRoot = '/'): string[] {
  if (path.posix.normalize(`/${cgroupPath}`) === '/') return [];
  return cgroupDirs(detectCgroupMode(fsRoot), cgroupPath, fsRoot);
}

/**
 * What the fast paths take from a crun container's config.json, kept per file while its inode, mtime and size stay
 * the same: it is written once at create, and a stop reads it twice (kill, delete); parsing the whole file (the
 * seccomp filter is most of it) once per container is enough.
 */
const crunConfigs = new Map<string, { key: string; ownPidNamespace: boolean; needsRuntime: boolean }>();

function crunConfigFacts(file: string): { ownPidNamespace: boolean; needsRuntime: boolean } {
  const st = statSync(file);
  const key = `${st.ino}:${st.mtimeMs}:${st.size}`;
  const cached = crunConfigs.get(file);
  if (cached?.key === key) return cached;
  const config = JSON.parse(readFileSync(file, 'utf8')) as CrunConfig;
  const facts = {
    key,
    ownPidNamespace: (config.linux?.namespaces ?? []).some((n) => n.type === 'pid' && !n.path),
    needsRuntime: config.linux?.intelRdt !== undefined || hasHooks(config.hooks),
  };
  crunConfigs.set(file, facts);
  return facts;
}

async function readCrunState(root: string, id: string): Promise<FastState | undefined> {
  try {
    const dir = path.join(root, id);
    const s = JSON.parse(readFileSync(path.join(dir, 'status'), 'utf8')) as CrunStatus;
    if (!Number.isInteger(s.pid) || (s.pid ?? 0) <= 0 || typeof s['process-start-time'] !== 'number') return undefined;
    const config = crunConfigFacts(path.join(dir, 'config.json'));
    return {
      pid: s.pid as number,
      startTime: s['process-start-time'],
      ownPidNamespace: config.ownPidNamespace,
      needsRuntime: Boolean(s['systemd-cgroup']) || Boolean(s.scope) || config.needsRuntime,
      cgroupDirs: crunCgroupDirs(s['cgroup-path'] ?? ''),
    };
  } catch {
    return undefined;
  }
}

/** The state of container `id` as runc (`state.json`) or crun (`status`) left it, or undefined. */
export async function readFastState(root: string, id: string): Promise<FastState | undefined> {
  const runc = await readRuncState(root, id);
  return runc ? fromRunc(runc) : readCrunState(root, id);
}

/** Whether the state's init process is still running (the same process, not a reused pid). */
export async function initRunning(s: FastState): Promise<boolean> {
  return (await processStartTime(s.pid)) === s.startTime;
}

/**
 * `kill [--all] ID SIGNAL` without the runtime: true when the signal was sent (or the init had already exited),
 * false when the runtime must do it.
 */
export async function fastKill(root: string, id: string, signal: number, all: boolean): Promise<boolean> {
  const s = await readFastState(root, id);
  if (!s) return false;
  if (all && (signal !== 9 || !s.ownPidNamespace)) return false;
  if (!(await initRunning(s))) return false; // let the runtime say "container not running" as before
  try {
    process.kill(s.pid, signal);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return true;
    return false;
  }
  return true;
}

/**
 * Removes a cgroup directory and any below it; true when it is gone. The rmdir comes first: a container's cgroup
 * has no child in most hierarchies, so one call per hierarchy instead of a listing and a call (~12 hierarchies per
 * container on a hybrid host). The kernel says EBUSY (a real directory ENOTEMPTY) for a child cgroup, and EBUSY too
 * while the cgroup's processes are still being reaped after their init died: children are removed, else it waits.
 */
export async function removeCgroupDir(dir: string, attempts = 20): Promise<boolean> {
  for (let i = 0; i < attempts; i++) {
    try {
      await fs.rmdir(dir);
      return true;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return true;
      if (code !== 'EBUSY' && code !== 'ENOTEMPTY') return false;
    }
    let subdirs: string[];
    try {
      subdirs = (await fs.readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => path.join(dir, e.name));
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'ENOENT';
    }
    if (subdirs.length > 0) {
      for (const sub of subdirs) if (!(await removeCgroupDir(sub, attempts))) return false;
      continue;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return false;
}

/**
 * `delete ID` of a container whose init has exited, without the runtime: true when its cgroups and state are gone,
 * false when the runtime must do it (the state directory is then untouched or only partly cleaned, which both
 * runtimes accept).
 */
export async function fastDeleteStopped(root: string, id: string): Promise<boolean> {
  const s = await readFastState(root, id);
  if (!s || !s.ownPidNamespace || s.needsRuntime) return false;
  if (await initRunning(s)) return false;
  if (s.cgroupDirs.some((p) => !p.startsWith('/sys/fs/cgroup/'))) return false;
  const removed = await Promise.all(s.cgroupDirs.map((p) => removeCgroupDir(p)));
  if (removed.includes(false)) return false;
  await fs.rm(path.join(root, id), { recursive: true, force: true });
  return true;
}
