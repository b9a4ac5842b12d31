/**
 * cgroup helpers for the native runtime: host mode detection (v1 / v2 / hybrid), where a container's limit files
 * live, reading them back, listing tscompose's cgroups (leak checks) and removing them.
 *
 * The OCI runtime (runc/crun) creates the cgroups and writes the limits from `linux.resources`; this module only
 * looks at them and cleans up. Every function takes an optional `fsRoot` (default `/`) so tests can point it at a
 * fake tree: `<fsRoot>/sys/fs/cgroup/...`.
 *
 * Layouts:
 * - v1: one hierarchy per controller, `/sys/fs/cgroup/<ctrl>/<cgroupsPath>/memory.limit_in_bytes`, …
 * - v2: one tree, `/sys/fs/cgroup/<cgroupsPath>/memory.max`, …
 * - hybrid: v1 controllers plus a cgroup2 mount at `/sys/fs/cgroup/unified` that holds controllers (crun 1.8 refuses
 *   this; runc treats it as v1 and also creates the container's dir under `unified/`). `crunCgroupSupport` answers
 *   whether crun can run here, by crun's own checks (what ./oci-choice.ts picks the OCI runtime by).
 */
import { existsSync, lstatSync, readdirSync, readFileSync, rmdirSync, statfsSync, type Dirent } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import * as path from 'node:path';

export type CgroupMode = 'v1' | 'v2' | 'hybrid';

/** statfs f_type of cgroup2 (CGROUP2_SUPER_MAGIC). */
const CGROUP2_SUPER_MAGIC = 0x63677270;

/** Parent of every tscompose container cgroup. */
export const CGROUP_PARENT = '/tscompose';

function cgroupMount(fsRoot: string): string {
  return path.join(fsRoot, 'sys/fs/cgroup');
}

function readTrim(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/**
 * The host's cgroup mode. v2: `/sys/fs/cgroup` is a cgroup2 filesystem (statfs) or holds `cgroup.controllers`;
 * hybrid: a v1 tmpfs whose `unified/cgroup.controllers` is non-empty; v1 otherwise (an empty `unified` mount, as on
 * systemd's "hybrid" setups without controllers, is plain v1 for crun and runc alike). The host's answer is kept
 * for a second (hostFacts).
 */
export function detectCgroupMode(fsRoot = '/'): CgroupMode {
  return fsRoot === '/' ? hostFacts('mode', () => detectMode('/')) : detectMode(fsRoot);
}

/**
 * The host's cgroup layout changes only when an administrator remounts `/sys/fs/cgroup`, while a `down` of 20
 * containers asked for it ~120 times (each stop and removal: statfs, a readdir of every hierarchy): its answers
 * are kept for a second, so a long-running process (the health monitor) still sees such a change.
 */
const HOST_FACTS_MS = 1000;
const hostCache = new Map<string, { readonly at: number; readonly value: unknown }>();

function hostFacts<T>(key: string, read: () => T): T {
  const now = Date.now();
  const hit = hostCache.get(key);
  if (hit && now - hit.at < HOST_FACTS_MS) return hit.value as T;
  const value = read();
  hostCache.set(key, { at: now, value });
  return value;
}

function detectMode(fsRoot: string): CgroupMode {
  const mount = cgroupMount(fsRoot);
  try {
    if (Number(statfsSync(mount).type) === CGROUP2_SUPER_MAGIC) return 'v2';
  } catch {
    // missing mount point: fall through to the file checks
  }
  if (existsSync(path.join(mount, 'cgroup.controllers'))) return 'v2';
  const unified = readTrim(path.join(mount, 'unified/cgroup.controllers'));
  if (unified !== undefined && unified !== '') return 'hybrid';
  return 'v1';
}

/** statfs f_type of tmpfs (TMPFS_MAGIC), what a v1 `/sys/fs/cgroup` is. */
const TMPFS_MAGIC = 0x01021994;

/** What crun's cgroup checks look at: the filesystem types of the two mounts and the unified hierarchy's controllers. */
export interface CgroupMountFacts {
  /** statfs type of `/sys/fs/cgroup`, undefined when it cannot be read. */
  readonly rootType: number | undefined;
  /** statfs type of `/sys/fs/cgroup/unified`, undefined when it does not exist. */
  readonly unifiedType: number | undefined;
  /** `unified/cgroup.controllers`, split (empty when the file is empty or missing). */
  readonly unifiedControllers: readonly string[];
}

/** Whether crun can create containers here, and the host's layout in words (for the runtime choice's reason). */
export interface CrunCgroupCheck {
  readonly ok: boolean;
  readonly layout: string;
}

function statfsType(file: string): number | undefined {
  try {
    return Number(statfsSync(file).type);
  } catch {
    return undefined;
  }
}

export function cgroupMountFacts(fsRoot = '/'): CgroupMountFacts {
  const mount = cgroupMount(fsRoot);
  const unified = path.join(mount, 'unified');
  return {
    rootType: statfsType(mount),
    unifiedType: existsSync(unified) ? statfsType(unified) : undefined,
    unifiedControllers: (readTrim(path.join(unified, 'cgroup.controllers')) ?? '').split(/\s+/).filter(Boolean),
  };
}

/**
 * crun's verdict on a cgroup layout, by the checks crun 1.8 (Debian bookworm's) makes before it creates a cgroup
 * (libcrun `libcrun_get_cgroup_mode`, then the hybrid check of `libcrun_cgroup_enter`), whatever the cgroup manager:
 * - `/sys/fs/cgroup` a cgroup2 filesystem: unified, fine;
 * - a tmpfs (v1 hierarchies) without a cgroup2 mount at `unified`: legacy, fine;
 * - a tmpfs with a cgroup2 `unified` mount: hybrid, fine only while `unified/cgroup.controllers` is empty, else
 *   "cgroups in hybrid mode not supported, drop all controllers from cgroupv2" (e.g. Debian's hybrid boots, whose
 *   cgroup2 mount holds `hugetlb`, the one controller no v1 hierarchy was mounted for);
 * - anything else: "invalid file system type on /sys/fs/cgroup".
 */
export function crunCgroupVerdict(f: CgroupMountFacts): CrunCgroupCheck {
  if (f.rootType === CGROUP2_SUPER_MAGIC) return { ok: true, layout: 'cgroup v2' };
  if (f.rootType !== TMPFS_MAGIC) return { ok: false, layout: '/sys/fs/cgroup is neither cgroup2 nor a tmpfs of cgroup v1 hierarchies' };
  if (f.unifiedType !== CGROUP2_SUPER_MAGIC) return { ok: true, layout: 'cgroup v1' };
  if (f.unifiedControllers.length === 0) return { ok: true, layout: 'cgroup v1, the cgroup2 mount at /sys/fs/cgroup/unified holding no controller' };
  return {
    ok: false,
    layout: `hybrid cgroups with ${f.unifiedControllers.join(', ')} on the cgroup2 mount at /sys/fs/cgroup/unified, which crun 1.8 refuses`,
  };
}

/** crunCgroupVerdict of this host (three stats and a small read: cheap enough for every CLI start). */
export function crunCgroupSupport(fsRoot = '/'): CrunCgroupCheck {
  return crunCgroupVerdict(cgroupMountFacts(fsRoot));
}

/**
 * The OCI `linux.cgroupsPath` of a container (cgroupfs form): under /tscompose, or under compose `cgroup_parent`,
 * taken from the hierarchies' roots (a relative parent too: the runtimes would put it below their own cgroup, the
 * CLI's, which differs from one shell to the next); `..` cannot climb out.
 */
export function cgroupsPathFor(id: string, parent?: string): string {
  if (parent === undefined || parent === '') return `${CGROUP_PARENT}/${id}`;
  const p = path.posix.normalize('/' + parent).replace(/\/+$/, '');
  return `${p}/${id}`;
}

/**
 * The directories of a `cgroup_parent` (each component, in every hierarchy) that do not exist yet: the runtime
 * creates them with the container's cgroup, and the container's removal removes them again when empty
 * (removeEmptyCgroupDirs). Those that existed before are someone else's and stay.
 */
export function missingCgroupDirs(parent: string, fsRoot = '/', mode: CgroupMode = detectCgroupMode(fsRoot)): string[] {
  const parts = rel(parent).split('/').filter(Boolean);
  const out: string[] = [];
  for (const root of hierarchyRoots(mode, fsRoot)) {
    for (let i = 1; i <= parts.length; i++) {
      const dir = path.join(root, ...parts.slice(0, i));
      if (!existsSync(dir)) out.push(dir);
    }
  }
  return out;
}

/** rmdir of `dirs` deepest first, each only when empty (rmdir fails otherwise); never a hierarchy root. */
export function removeEmptyCgroupDirs(dirs: readonly string[], fsRoot = '/'): void {
  const mount = cgroupMount(fsRoot);
  const roots = new Set(hierarchyRoots(detectCgroupMode(fsRoot), fsRoot));
  const safe = dirs.filter((d) => d.startsWith(mount + '/') && !roots.has(d) && path.normalize(d) === d);
  for (const d of [...safe].sort((a, b) => b.split('/').length - a.split('/').length)) {
    try {
      rmdirSync(d);
    } catch {
      // busy (another container under the same parent) or already gone
    }
  }
}

/** Absolute host paths of a container's limit files. Both `cpuQuota` and `cpuPeriod` are `cpu.max` on v2. */
export interface CgroupFiles {
  readonly memoryLimit: string;
  readonly memoryReservation: string;
  /** v1 `memory.memsw.limit_in_bytes` (memory + swap); v2 `memory.swap.max` (swap alone). */
  readonly memorySwap: string;
  readonly cpuQuota: string;
  readonly cpuPeriod: string;
  /** v1 `cpu.shares`; v2 `cpu.weight`. */
  readonly cpuShares: string;
  readonly cpuset: string;
  readonly pidsMax: string;
  /** v1 `freezer.state` (`THAWED`/`FROZEN`); v2 `cgroup.freeze` (`0`/`1`). */
  readonly freezer: string;
  /** The processes in the cgroup (v1: the memory hierarchy's `cgroup.procs`). */
  readonly procs: string;
}

function rel(cgroupsPath: string): string {
  // Never let a path climb out of the hierarchy.
  return path.posix.normalize('/' + cgroupsPath).replace(/^\/+/, '');
}

export function cgroupFiles(mode: CgroupMode, cgroupsPath: string, fsRoot = '/'): CgroupFiles {
  const mount = cgroupMount(fsRoot);
  const p = rel(cgroupsPath);
  if (mode === 'v2') {
    const d = path.join(mount, p);
    return {
      memoryLimit: path.join(d, 'memory.max'),
      memoryReservation: path.join(d, 'memory.low'),
      memorySwap: path.join(d, 'memory.swap.max'),
      cpuQuota: path.join(d, 'cpu.max'),
      cpuPeriod: path.join(d, 'cpu.max'),
      cpuShares: path.join(d, 'cpu.weight'),
      cpuset: path.join(d, 'cpuset.cpus'),
      pidsMax: path.join(d, 'pids.max'),
      freezer: path.join(d, 'cgroup.freeze'),
      procs: path.join(d, 'cgroup.procs'),
    };
  }
  const c = (ctrl: string, file: string): string => path.join(mount, ctrl, p, file);
  return {
    memoryLimit: c('memory', 'memory.limit_in_bytes'),
    memoryReservation: c('memory', 'memory.soft_limit_in_bytes'),
    memorySwap: c('memory', 'memory.memsw.limit_in_bytes'),
    cpuQuota: c('cpu', 'cpu.cfs_quota_us'),
    cpuPeriod: c('cpu', 'cpu.cfs_period_us'),
    cpuShares: c('cpu', 'cpu.shares'),
    cpuset: c('cpuset', 'cpuset.cpus'),
    pidsMax: c('pids', 'pids.max'),
    freezer: c('freezer', 'freezer.state'),
    procs: c('memory', 'cgroup.procs'),
  };
}

/**
 * Limits as read back from the cgroup files, in OCI/Docker units; -1 = unlimited. A field is absent when its file
 * does not exist (controller not mounted, swap accounting off, cgroup gone).
 */
export interface CgroupLimits {
  readonly memoryLimit?: number;
  readonly memoryReservation?: number;
  /** Memory + swap, as OCI `memory.swap` (on v2 computed from `memory.max` + `memory.swap.max`). */
  readonly memorySwap?: number;
  readonly cpuQuota?: number;
  readonly cpuPeriod?: number;
  /** v1 only. */
  readonly cpuShares?: number;
  /** v2 only. */
  readonly cpuWeight?: number;
  readonly cpuset?: string;
  readonly pidsMax?: number;
  readonly frozen?: boolean;
}

/** v1 memory files say "unlimited" with PAGE_COUNTER_MAX × page size (9223372036854771712 on 4 KiB pages). */
const V1_UNLIMITED = 2n ** 62n;

/** A cgroup number: `max` → -1, huge v1 "unlimited" values → -1. */
export function parseCgroupNumber(s: string): number | undefined {
  const t = s.trim();
  if (t === 'max') return -1;
  if (!/^-?\d+$/.test(t)) return undefined;
  const b = BigInt(t);
  if (b >= V1_UNLIMITED) return -1;
  return Number(b);
}

function num(file: string): number | undefined {
  const s = readTrim(file);
  return s === undefined ? undefined : parseCgroupNumber(s);
}

function assign<K extends string, V>(o: Partial<Record<K, V>>, k: K, v: V | undefined): void {
  if (v !== undefined) o[k] = v;
}

export function readLimits(mode: CgroupMode, cgroupsPath: string, fsRoot = '/'): CgroupLimits {
  const f = cgroupFiles(mode, cgroupsPath, fsRoot);
  const out: Partial<Record<keyof CgroupLimits, number | string | boolean>> = {};
  const memoryLimit = num(f.memoryLimit);
  assign(out, 'memoryLimit', memoryLimit);
  assign(out, 'memoryReservation', num(f.memoryReservation));
  const cpuset = readTrim(f.cpuset);
  assign(out, 'cpuset', cpuset);
  assign(out, 'pidsMax', num(f.pidsMax));
  if (mode === 'v2') {
    const swap = num(f.memorySwap);
    if (swap !== undefined) {
      out.memorySwap = swap === -1 || memoryLimit === undefined || memoryLimit === -1 ? -1 : memoryLimit + swap;
    }
    const max = readTrim(f.cpuQuota)?.split(/\s+/);
    if (max && max[0] !== undefined) {
      assign(out, 'cpuQuota', parseCgroupNumber(max[0]));
      assign(out, 'cpuPeriod', max[1] === undefined ? undefined : parseCgroupNumber(max[1]));
    }
    assign(out, 'cpuWeight', num(f.cpuShares));
    const freeze = readTrim(f.freezer);
    if (freeze !== undefined) out.frozen = freeze === '1';
  } else {
    assign(out, 'memorySwap', num(f.memorySwap));
    assign(out, 'cpuQuota', num(f.cpuQuota));
    assign(out, 'cpuPeriod', num(f.cpuPeriod));
    assign(out, 'cpuShares', num(f.cpuShares));
    const freeze = readTrim(f.freezer);
    if (freeze !== undefined) out.frozen = freeze === 'FROZEN' || freeze === 'FREEZING';
  }
  return out as CgroupLimits;
}

/**
 * The hierarchy roots a container's cgroup lives under: v2 the mount itself; v1/hybrid every mounted hierarchy
 * directory (controllers, `systemd`, and `unified` when present), skipping symlinks such as `cpu -> cpu,cpuacct`.
 */
export function hierarchyRoots(mode: CgroupMode, fsRoot = '/'): string[] {
  return fsRoot === '/' ? [...hostFacts(`roots-${mode}`, () => readHierarchyRoots(mode, '/'))] : readHierarchyRoots(mode, fsRoot);
}

function readHierarchyRoots(mode: CgroupMode, fsRoot: string): string[] {
  const mount = cgroupMount(fsRoot);
  if (mode === 'v2') return [mount];
  let entries: Dirent[];
  try {
    entries = readdirSync(mount, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries
    .filter((e) => e.isDirectory())
    .map((e) => path.join(mount, e.name))
    .sort();
}

/** Host directories of a container's cgroup in every hierarchy (existing or not). */
export function cgroupDirs(mode: CgroupMode, cgroupsPath: string, fsRoot = '/'): string[] {
  const p = rel(cgroupsPath);
  return hierarchyRoots(mode, fsRoot).map((h) => path.join(h, p));
}

/**
 * Existing cgroup directories directly under `prefix` (default `/tscompose`) in every hierarchy, as absolute host
 * paths, sorted: after `down` this should hold nothing of the project's containers.
 */
export function listCgroupDirs(prefix = CGROUP_PARENT, fsRoot = '/', mode: CgroupMode = detectCgroupMode(fsRoot)): string[] {
  const out: string[] = [];
  for (const parent of cgroupDirs(mode, prefix, fsRoot)) {
    let entries: Dirent[];
    try {
      entries = readdirSync(parent, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) if (e.isDirectory()) out.push(path.join(parent, e.name));
  }
  return out.sort();
}

export interface RemoveCgroupOptions {
  readonly fsRoot?: string;
  /** Attempts per directory while it is busy (processes still exiting); default 10, 10 ms apart doubling to 160 ms. */
  readonly retries?: number;
}

function subdirsDeepestFirst(dir: string): string[] {
  const out: string[] = [];
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const child = path.join(dir, e.name);
    out.push(...subdirsDeepestFirst(child), child);
  }
  return out;
}

/**
 * Removes a container's cgroup in every hierarchy: child cgroups first, then the leaf (`rmdir`; the kernel's pseudo
 * files do not prevent it). ENOENT is ignored, EBUSY retried (processes still leaving); other errors, or a
 * directory still busy after the retries, are thrown after trying all hierarchies. Parents (`/tscompose`) stay.
 */
export async function removeCgroup(mode: CgroupMode, cgroupsPath: string, options: RemoveCgroupOptions = {}): Promise<void> {
  const fsRoot = options.fsRoot ?? '/';
  const retries = options.retries ?? 10;
  if (rel(cgroupsPath) === '') throw new Error('removeCgroup: refusing to remove a hierarchy root');
  const errors: unknown[] = [];
  for (const leaf of cgroupDirs(mode, cgroupsPath, fsRoot)) {
    let st;
    try {
      st = lstatSync(leaf);
    } catch {
      continue;
    }
    if (!st.isDirectory()) continue;
    for (const dir of [...subdirsDeepestFirst(leaf), leaf]) {
      for (let attempt = 0; ; attempt++) {
        try {
          rmdirSync(dir);
          break;
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') break;
          if (code === 'EBUSY' && attempt + 1 < retries) {
            await sleep(Math.min(10 * 2 ** attempt, 160));
            continue;
          }
          errors.push(err);
          break;
        }
      }
    }
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new AggregateError(errors, `removing cgroup ${cgroupsPath}: ${errors.length} errors`);
}

/**
 * cgroup v2 `cpu.weight` for OCI `cpu.shares`: runc's linear mapping, or crun's (≥ 1.7) logarithmic one
 * `10^((log2(x)^2 + 125·log2(x))/612 − 7/34)`. Both map 2..262144 onto 1..10000 and 1024 onto ~100.
 */
export function cpuSharesToWeight(shares: number, runtime: 'runc' | 'crun' = 'runc'): number {
  if (shares <= 0) return 0;
  if (runtime === 'runc') return Math.floor(1 + ((shares - 2) * 9999) / 262142);
  if (shares <= 2) return 1;
  if (shares >= 262144) return 10000;
  const l = Math.log2(shares);
  return Math.ceil(10 ** ((l * l + 125 * l) / 612 - 7 / 34));
}
