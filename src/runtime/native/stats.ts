/**
 * `containerStats` on the native runtime: what `docker stats` shows, read from the container's cgroup and network
 * namespace the way dockerd's collector does (moby `daemon/stats`, libcontainer's cgroup managers).
 *
 * - The cgroup comes from `/proc/<init pid>/cgroup` (v2's `0::/path`; v1's `N:ctrl[,ctrl]:/path` per hierarchy), so a
 *   `cgroup_parent` or an OCI runtime's own placement is found as it is.
 * - v2: `cpu.stat` usage_usec, `memory.current` minus `memory.stat` inactive_file, `memory.max`, `pids.current`,
 *   `io.stat` rbytes/wbytes. v1: `cpuacct.usage`, `memory.usage_in_bytes` minus `memory.stat` total_inactive_file,
 *   `memory.limit_in_bytes`, `pids.current`, `blkio.throttle.io_service_bytes_recursive` (or the CFQ file).
 * - Network: `/proc/<pid>/net/dev` (the container's namespace), every interface but `lo`; none with `network_mode: host`
 *   (Docker shows none there either).
 * - The host's CPU time: `/proc/stat`'s `cpu` line (user … softirq) in clock ticks (USER_HZ 100), as dockerd.
 *
 * Every reader takes `fsRoot` (default `/`) so tests can point it at a fake tree.
 */
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import * as path from 'node:path';
import type { StatsSample } from '../runtime.js';
import type { CgroupMode } from './oci/cgroups.js';
import { parseCgroupNumber } from './oci/cgroups.js';

const USER_HZ = 100;

function read(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** `/proc/<pid>/cgroup` → controller → path (`''` for the v2 unified line `0::/path`). */
export function parseProcCgroup(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line.trim());
    if (!m) continue;
    if (m[1] === '') out.set('', m[2]!);
    for (const c of m[1]!.split(',').filter(Boolean)) out.set(c.replace(/^name=/, ''), m[2]!);
  }
  return out;
}

/** `key value` lines (`cpu.stat`, `memory.stat`). */
export function parseFlatKeyed(text: string | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of (text ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^\d+$/.test(v)) out.set(k, Number(v));
  }
  return out;
}

/** v2 `io.stat`: `MAJ:MIN rbytes=N wbytes=N rios=N …` per device, summed. */
export function parseIoStat(text: string | undefined): { read: number; write: number } {
  let r = 0;
  let w = 0;
  for (const line of (text ?? '').split('\n')) {
    for (const field of line.trim().split(/\s+/).slice(1)) {
      const [k, v] = field.split('=');
      if (k === 'rbytes') r += Number(v) || 0;
      else if (k === 'wbytes') w += Number(v) || 0;
    }
  }
  return { read: r, write: w };
}

/** v1 `blkio.*io_service_bytes_recursive`: `MAJ:MIN Read N` / `Write N` lines summed (the `Total` lines skipped). */
export function parseBlkio(text: string | undefined): { read: number; write: number } {
  let r = 0;
  let w = 0;
  for (const line of (text ?? '').split('\n')) {
    const [dev, op, v] = line.trim().split(/\s+/);
    if (!dev?.includes(':') || v === undefined) continue;
    if (op === 'Read') r += Number(v) || 0;
    else if (op === 'Write') w += Number(v) || 0;
  }
  return { read: r, write: w };
}

/** `/proc/<pid>/net/dev`: received and sent bytes of every interface but `lo`. */
export function parseNetDev(text: string | undefined): { rx: number; tx: number } {
  let rx = 0;
  let tx = 0;
  for (const line of (text ?? '').split('\n')) {
    const m = /^\s*([^:\s]+):\s*(.*)$/.exec(line);
    if (!m || m[1] === 'lo') continue;
    const f = m[2]!.trim().split(/\s+/);
    if (f.length < 9) continue;
    rx += Number(f[0]) || 0;
    tx += Number(f[8]) || 0;
  }
  return { rx, tx };
}

/** `/proc/stat`: the host's CPU time in nanoseconds (user … softirq of the `cpu` line) and the CPUs listed. */
export function parseProcStat(text: string | undefined): { systemCpuNs: number; onlineCpus: number } {
  let systemCpuNs = 0;
  let onlineCpus = 0;
  for (const line of (text ?? '').split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[0] === 'cpu') systemCpuNs = (f.slice(1, 8).reduce((a, v) => a + (Number(v) || 0), 0) * 1e9) / USER_HZ;
    else if (/^cpu\d+$/.test(f[0] ?? '')) onlineCpus++;
  }
  return { systemCpuNs, onlineCpus };
}

/** The cgroup part of a sample: CPU, memory (usage and limit; -1 = none), PIDs, block I/O. */
export interface CgroupUsage {
  readonly cpuNs: number;
  readonly memoryBytes: number;
  readonly memoryLimitBytes: number;
  readonly pids: number;
  readonly blockReadBytes: number;
  readonly blockWriteBytes: number;
}

const number = (file: string): number | undefined => {
  const s = read(file);
  return s === undefined ? undefined : parseCgroupNumber(s);
};

/** Reads a container's usage from its cgroup (`cgroups`: parseProcCgroup of its init process). */
export function readCgroupUsage(mode: CgroupMode, cgroups: Map<string, string>, fsRoot = '/'): CgroupUsage {
  const mount = path.join(fsRoot, 'sys/fs/cgroup');
  const rel = (p: string): string => path.posix.normalize('/' + p).replace(/^\/+/, '');
  if (mode === 'v2') {
    const d = path.join(mount, rel(cgroups.get('') ?? '/'));
    const usage = number(path.join(d, 'memory.current')) ?? 0;
    const inactive = parseFlatKeyed(read(path.join(d, 'memory.stat'))).get('inactive_file');
    const io = parseIoStat(read(path.join(d, 'io.stat')));
    return {
      cpuNs: (parseFlatKeyed(read(path.join(d, 'cpu.stat'))).get('usage_usec') ?? 0) * 1000,
      memoryBytes: inactive !== undefined && inactive < usage ? usage - inactive : usage,
      memoryLimitBytes: number(path.join(d, 'memory.max')) ?? -1,
      pids: number(path.join(d, 'pids.current')) ?? 0,
      blockReadBytes: io.read,
      blockWriteBytes: io.write,
    };
  }
  /** A v1 controller's file: the hierarchy is mounted under the joint name (`cpu,cpuacct`) with a link per controller. */
  const file = (ctrl: string, name: string): string | undefined => {
    const p = cgroups.get(ctrl);
    if (p === undefined) return undefined;
    return path.join(mount, ctrl, rel(p), name);
  };
  const v = (ctrl: string, name: string): number | undefined => {
    const f = file(ctrl, name);
    return f === undefined ? undefined : number(f);
  };
  const usage = v('memory', 'memory.usage_in_bytes') ?? 0;
  const memStat = file('memory', 'memory.stat');
  const inactive = memStat === undefined ? undefined : parseFlatKeyed(read(memStat)).get('total_inactive_file');
  const throttle = file('blkio', 'blkio.throttle.io_service_bytes_recursive');
  let io = parseBlkio(throttle === undefined ? undefined : read(throttle));
  if (io.read === 0 && io.write === 0) {
    const cfq = file('blkio', 'blkio.io_service_bytes_recursive');
    if (cfq !== undefined) io = parseBlkio(read(cfq));
  }
  return {
    cpuNs: v('cpuacct', 'cpuacct.usage') ?? 0,
    memoryBytes: inactive !== undefined && inactive < usage ? usage - inactive : usage,
    memoryLimitBytes: v('memory', 'memory.limit_in_bytes') ?? -1,
    pids: v('pids', 'pids.current') ?? 0,
    blockReadBytes: io.read,
    blockWriteBytes: io.write,
  };
}

/** What a sample needs of a native container: its init pid while it runs, its network mode and memory limit. */
export interface StatsSubject {
  readonly running: boolean;
  readonly pid?: number | undefined;
  readonly networkMode?: string | undefined;
  readonly memoryLimitBytes?: number | undefined;
}

/** One sample of a native container (zeros, its limit too, when it does not run or its process is gone: as Docker). */
export function nativeStatsSample(mode: CgroupMode, c: StatsSubject, fsRoot = '/', now = Date.now()): StatsSample {
  const host = parseProcStat(read(path.join(fsRoot, 'proc/stat')));
  const hostMemory = totalmem();
  const limitOf = (n: number | undefined): number => (n === undefined || n < 0 || n > hostMemory ? hostMemory : n);
  const zero: StatsSample = {
    read: now,
    cpuNs: 0,
    systemCpuNs: host.systemCpuNs,
    onlineCpus: host.onlineCpus,
    memoryBytes: 0,
    memoryLimitBytes: 0,
    netRxBytes: 0,
    netTxBytes: 0,
    blockReadBytes: 0,
    blockWriteBytes: 0,
    pids: 0,
  };
  if (!c.running || c.pid === undefined) return zero;
  const procCgroup = read(path.join(fsRoot, `proc/${c.pid}/cgroup`));
  if (procCgroup === undefined) return zero;
  const u = readCgroupUsage(mode, parseProcCgroup(procCgroup), fsRoot);
  const net = c.networkMode === 'host' ? { rx: 0, tx: 0 } : parseNetDev(read(path.join(fsRoot, `proc/${c.pid}/net/dev`)));
  return {
    ...zero,
    cpuNs: u.cpuNs,
    memoryBytes: u.memoryBytes,
    memoryLimitBytes: limitOf(u.memoryLimitBytes < 0 ? c.memoryLimitBytes : u.memoryLimitBytes),
    netRxBytes: net.rx,
    netTxBytes: net.tx,
    blockReadBytes: u.blockReadBytes,
    blockWriteBytes: u.blockWriteBytes,
    pids: u.pids,
  };
}
