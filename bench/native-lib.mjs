// Helpers of bench/native.mjs (see its header): running and timing commands, a CPU-accounting cgroup, what is left
// on the host (mounts, OCI runtime state, processes, cgroups), and the per-step breakdown (its markdown tables
// too) from two sources:
//
// - Linux BSD process accounting (acct(5), version 3 records, written by the kernel for every process that exits
//   while `accton FILE` is on): CPU per command name. Struct acct_v3 of <linux/acct.h>, 64 bytes, host byte order:
//     0 ac_flag u8, 1 ac_version u8 (3), 2 ac_tty u16, 4 ac_exitcode u32, 8 ac_uid, 12 ac_gid, 16 ac_pid,
//     20 ac_ppid, 24 ac_btime (u32, start time in seconds since the epoch), 28 ac_etime (float, elapsed ticks),
//     32 ac_utime, 34 ac_stime, 36 ac_mem, 38 ac_io, 40 ac_rw, 42 ac_minflt, 44 ac_majflt, 46 ac_swaps (comp_t:
//     13-bit mantissa, 3-bit base-8 exponent), 48 ac_comm (16 bytes, NUL-padded).
//   Times are in AHZ = 100 ticks per second, and the kernel truncates each process's user and system time to a
//   whole tick (10 ms) when it writes the record: processes that each run for a few milliseconds (mount, ip, most
//   OCI runtime calls) mostly count as 0. The sums are a lower bound; the bench prints the cgroup's total beside them.
// - TSCOMPOSE_TRACE (src/util/trace.ts): JSON lines `{"pid":N,"span":"name","ms":X}` appended by each CLI process
//   at exit.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const log = (msg) => process.stderr.write(`${msg}\n`);

export function fail(msg) {
  process.stderr.write(`bench: ${msg}\n`);
  process.exit(2);
}

export function which(cmd) {
  for (const d of [...(process.env.PATH ?? '').split(':'), '/usr/local/sbin', '/usr/sbin', '/sbin', '/usr/bin', '/bin']) {
    if (d && existsSync(join(d, cmd))) return join(d, cmd);
  }
  return undefined;
}

/** Runs a command to its end; throws unless it exits 0. Returns its wall time, stdout and pid. */
export function sh(cmd, argv, options = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, { encoding: 'utf8', maxBuffer: 64 << 20, ...options });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.error) throw new Error(`${cmd} ${argv.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status ?? r.signal}):\n${(r.stderr || r.stdout || '').trim()}`);
  return { ms, stdout: r.stdout, pid: r.pid };
}

export const sleepMs = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

export const f0 = (x) => (Number.isFinite(x) ? x.toFixed(0) : '–');
export const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '–');
export const x2 = (x) => (Number.isFinite(x) ? `${x.toFixed(2)}×` : '–');
export const range = (xs) => `${f0(Math.min(...xs))}–${f0(Math.max(...xs))}`;

/** The first line of `BIN --version`, without the leading `NAME version `. */
export function versionOf(bin) {
  const first = (spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout ?? '').split('\n')[0] ?? '';
  return first.replace(/^\S+ version /, '') || '?';
}

/**
 * A cgroup of its own for CPU time (v1 cpuacct or v2 cpu.stat): `read()` is its CPU time in ms so far, `procs()`
 * the processes in it. Undefined (with a note) when neither is available.
 */
export function createCpuCgroup(name) {
  const v1 = join('/sys/fs/cgroup/cpuacct', name);
  const v2 = existsSync('/sys/fs/cgroup/cgroup.controllers') ? join('/sys/fs/cgroup', name) : join('/sys/fs/cgroup/unified', name);
  for (const [dir, read] of [
    [v1, () => Number(readFileSync(join(v1, 'cpuacct.usage'), 'utf8')) / 1e6],
    [v2, () => Number(/usage_usec (\d+)/.exec(readFileSync(join(v2, 'cpu.stat'), 'utf8'))?.[1]) / 1e3],
  ]) {
    try {
      if (!existsSync(dirname(dir))) continue;
      mkdirSync(dir);
      if (Number.isFinite(read())) return { dir, read, procs: () => readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean) };
      rmdirSync(dir);
    } catch {
      // not this one
    }
  }
  log('bench: no cpuacct (v1) or cpu.stat (v2) cgroup available: CPU time not measured');
  return undefined;
}

export const mountsUnder = (dir) =>
  readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m) => m && (m === dir || m.startsWith(dir + '/')))
    .map((m) => m.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8))));

/** `BIN --root ROOT list -f json` (runc and crun print the same shape): [{id, status, …}], [] on any error. */
export function ociList(bin, root) {
  if (!bin || !existsSync(root)) return [];
  const r = spawnSync(bin, ['--root', root, 'list', '-f', 'json'], { encoding: 'utf8', detached: true });
  if (r.status !== 0) return [];
  try {
    return JSON.parse(r.stdout.trim() || 'null') ?? [];
  } catch {
    return [];
  }
}

/** Container state directories left in an OCI runtime's --root (both runc and crun keep one per container). */
export function ociStateLeft(root) {
  try {
    return readdirSync(root, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => join(root, e.name));
  } catch {
    return [];
  }
}

/** Processes (conmon, exit hooks, containers' runtimes) whose command line mentions `dir`. */
export function processesMentioning(dir) {
  const out = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').join(' ').trim();
      if (cmd.includes(dir)) out.push(`${p} ${cmd.slice(0, 120)}`);
    } catch {
      // gone
    }
  }
  return out;
}

const CGROUP_ROOT = '/sys/fs/cgroup';
export const cgroupHierarchies = () => {
  try {
    return readdirSync(CGROUP_ROOT)
      .map((h) => join(CGROUP_ROOT, h))
      .filter((h) => existsSync(join(h, 'cgroup.procs')));
  } catch {
    return [];
  }
};

// ---------------------------------------------------------------------------------------------------------
// Process accounting

const ACCT_V3_SIZE = 64;
const AHZ = 100;

/** comp_t: 13-bit mantissa, 3-bit base-8 exponent. */
export const decodeCompT = (v) => (v & 0x1fff) * 8 ** ((v >> 13) & 7);

/** The acct v3 records of a file's contents: {pid, ppid, btime (s), cpuMs, comm}. Other versions are skipped. */
export function parseAcctV3(buf) {
  const out = [];
  for (let o = 0; o + ACCT_V3_SIZE <= buf.length; o += ACCT_V3_SIZE) {
    if ((buf[o + 1] & 0x0f) !== 3) continue;
    const end = buf.indexOf(0, o + 48);
    const comm = buf.toString('latin1', o + 48, end < 0 || end > o + 64 ? o + 64 : end);
    out.push({
      pid: buf.readUInt32LE(o + 16),
      ppid: buf.readUInt32LE(o + 20),
      btime: buf.readUInt32LE(o + 24),
      cpuMs: ((decodeCompT(buf.readUInt16LE(o + 32)) + decodeCompT(buf.readUInt16LE(o + 34))) * 1000) / AHZ,
      comm,
    });
  }
  return out;
}

/**
 * The records of one measured session: the processes started by the `roots` (pids of the measured commands) and
 * their descendants, followed through each record's parent pid at exit. A daemon (conmon, a detached container)
 * has been reparented by then to the reaping subreaper the bench runs under (`reaper`): those that started since
 * `sinceSec` (the window's start, a 1 s resolution) count as the session's, with their descendants.
 */
export function sessionRecords(records, { roots, reaper, sinceSec }) {
  const children = new Map();
  for (const r of records) {
    if (!children.has(r.ppid)) children.set(r.ppid, []);
    children.get(r.ppid).push(r);
  }
  const keep = new Set();
  const queue = records.filter((r) => roots.includes(r.pid) || (r.ppid === reaper && r.btime + 1 >= sinceSec));
  while (queue.length > 0) {
    const r = queue.pop();
    if (keep.has(r)) continue;
    keep.add(r);
    for (const c of children.get(r.pid) ?? []) if (c.btime + 1 >= sinceSec) queue.push(c);
  }
  return [...keep];
}

/** CPU ms and process count per command name: Map comm → {count, ms}. */
export function cpuByCommand(records) {
  const m = new Map();
  for (const r of records) {
    const e = m.get(r.comm) ?? { count: 0, ms: 0 };
    e.count += 1;
    e.ms += r.cpuMs;
    m.set(r.comm, e);
  }
  return m;
}

const DISTRO_PACCT = '/var/log/account/pacct';
// Accounting is one per host: two benches at once (under the shared native lock) take turns through this lock.
const ACCT_LOCK = '/tmp/tscompose-bench-acct.lock';

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
};

/** Takes ACCT_LOCK (a directory holding the owner's pid), waiting up to 15 min; a dead owner's lock is taken over. */
function lockAccounting() {
  for (let i = 0; ; i++) {
    try {
      mkdirSync(ACCT_LOCK);
      writeFileSync(join(ACCT_LOCK, 'pid'), String(process.pid));
      return;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
    }
    let owner;
    try {
      owner = Number(readFileSync(join(ACCT_LOCK, 'pid'), 'utf8'));
    } catch {
      // being written, or its writer died: stale after 10 s
      if (Date.now() - (statSync(ACCT_LOCK, { throwIfNoEntry: false })?.mtimeMs ?? Date.now()) > 10_000) owner = -1;
    }
    if (owner === -1 || (owner && !alive(owner))) {
      rmSync(ACCT_LOCK, { recursive: true, force: true });
      continue;
    }
    if (i === 0) log(`bench: waiting for another bench's process accounting to end (${ACCT_LOCK})`);
    if (i > 9000) throw new Error(`${ACCT_LOCK}: held by pid ${owner} for 15 minutes`);
    sleepMs(100);
  }
}

/**
 * Host-wide process accounting through `accton` (package acct; installed with apt-get when `install`). `start(file)`
 * turns it on into `file`, `stop()` off again; it is idempotent, and the bench calls it on every exit path. If the
 * distribution's accounting was on before (a process exiting adds a record to /var/log/account/pacct), `stop()`
 * turns that back on instead of off. Between start and stop it holds ACCT_LOCK, so two benches never account at
 * once. `available` is false, with a `note`, when there is no accton.
 */
export function processAccounting({ install }) {
  let accton = which('accton');
  let wasOn = false;
  try {
    // On into the distribution's file if an exiting process adds a record to it.
    const size = () => statSync(DISTRO_PACCT).size;
    if (existsSync(DISTRO_PACCT)) {
      const before = size();
      spawnSync('true');
      wasOn = size() > before;
    }
  } catch {
    // unreadable: assume off
  }
  if (!accton && install) {
    log('bench: installing acct (apt-get install -y acct) for the CPU breakdown');
    const r = spawnSync('apt-get', ['install', '-y', '-q', 'acct'], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    if (r.status === 0) accton = which('accton');
  }
  if (!accton) {
    return {
      available: false,
      note: install ? 'installing acct failed' : 'accton not found (package acct; run the bench with --install to install it)',
      stop: () => undefined,
    };
  }
  let on = false;
  return {
    available: true,
    start(file) {
      writeFileSync(file, '', { mode: 0o600 });
      lockAccounting();
      on = true;
      sh(accton, [file]);
    },
    stop() {
      if (!on) return;
      on = false;
      const r = spawnSync(accton, wasOn ? [DISTRO_PACCT] : ['off'], { stdio: 'ignore', detached: true });
      if (r.status !== 0) log(`bench: warning: \`accton ${wasOn ? DISTRO_PACCT : 'off'}\` failed: process accounting may still be on`);
      rmSync(ACCT_LOCK, { recursive: true, force: true });
    },
    /** The session's records of `file` (see sessionRecords). */
    read(file, session) {
      return sessionRecords(parseAcctV3(readFileSync(file)), session);
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// TSCOMPOSE_TRACE

/** Per span name: {count, ms} of a TSCOMPOSE_TRACE file; empty when the file is missing or has no spans. */
export function readTrace(file) {
  const m = new Map();
  if (!existsSync(file)) return m;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const { span, ms } = JSON.parse(line);
      if (typeof span !== 'string' || typeof ms !== 'number') continue;
      const e = m.get(span) ?? { count: 0, ms: 0 };
      e.count += 1;
      e.ms += ms;
      m.set(span, e);
    } catch {
      // a torn line (a process killed while appending): skipped
    }
  }
  return m;
}

// ---------------------------------------------------------------------------------------------------------
// The breakdown

/**
 * The breakdown's markdown: CPU by process name (rows with `byComm` from cpuByCommand, `m` the cycle's
 * measurement) and the CLI's spans (rows with `trace` from readTrace), per container of `n`.
 */
export function breakdownSection({ n, variant, rows, parallel, acctNote }) {
  let s = `\n#### Breakdown per step: one up + down cycle of ${n} services (${variant}) per row\n`;
  const cols = rows.filter((r) => r.byComm);
  if (cols.length === 0) s += `\nCPU by process: skipped (${acctNote ?? 'no accounting'}).\n`;
  else {
    s += `\nCPU by process name over the whole cycle (BSD process accounting), ms per container (processes per container):\n\n`;
    s += `| Process | ${cols.map((c) => c.label).join(' | ')} |\n|---|${cols.map(() => '---:|').join('')}\n`;
    const names = [...new Set(cols.flatMap((c) => [...c.byComm.keys()]))];
    const top = (name) => Math.max(...cols.map((c) => c.byComm.get(name)?.ms ?? 0));
    names.sort((a, b) => top(b) - top(a) || a.localeCompare(b));
    for (const name of names) {
      s += `| \`${name.replace(/\|/g, '\\|')}\` | ${cols.map((c) => (c.byComm.has(name) ? `${f1(c.byComm.get(name).ms / n)} (${f1(c.byComm.get(name).count / n)})` : '')).join(' | ')} |\n`;
    }
    const sum = (c) => [...c.byComm.values()].reduce((a, e) => a + e.ms, 0);
    const procs = (c) => [...c.byComm.values()].reduce((a, e) => a + e.count, 0);
    s += `| **all processes (accounting)** | ${cols.map((c) => `**${f1(sum(c) / n)}** (${f1(procs(c) / n)})`).join(' | ')} |\n`;
    s += `| the cgroup's CPU (up + down) | ${cols.map((c) => f1((c.m.up.cpuMs + c.m.down.cpuMs) / n)).join(' | ')} |\n`;
    s +=
      "\nThe kernel rounds each process's CPU time down to 10 ms in its record, so processes of a few ms (mount, most runtime calls) mostly count 0: the accounting sum is a lower bound. It includes the containers' own processes (`sleep`, `docker-init`: their CPU before the exec is the OCI runtime setting them up), which the cgroup leaves out. ";
    s += `Bare rows: ${parallel} at once.\n`;
  }
  const traced = rows.filter((r) => r.trace);
  const spans = [...new Set(traced.flatMap((r) => [...r.trace.keys()]))];
  if (spans.length === 0) s += '\nWall time per step inside the CLI (TSCOMPOSE_TRACE): no spans recorded (this build traces no steps).\n';
  else {
    const total = (name) => Math.max(...traced.map((r) => r.trace.get(name)?.ms ?? 0));
    spans.sort((a, b) => total(b) - total(a) || a.localeCompare(b));
    s += '\nWall time per step inside the CLI (TSCOMPOSE_TRACE; concurrent steps overlap, so totals add up to more than the elapsed time):\n\n';
    s += `| Span | ${traced.map((r) => `${r.label}: count | total ms | ms per container`).join(' | ')} |\n|---|${traced.map(() => '---:|---:|---:|').join('')}\n`;
    for (const name of spans) {
      s += `| \`${name}\` | ${traced
        .map((r) => {
          const e = r.trace.get(name);
          return e ? `${e.count} | ${f0(e.ms)} | ${f1(e.ms / n)}` : ' | | ';
        })
        .join(' | ')} |\n`;
    }
  }
  return s;
}
