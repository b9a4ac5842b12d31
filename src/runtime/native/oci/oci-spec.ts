/**
 * Builds the OCI runtime `config.json` of a compose service container with Docker's defaults (moby
 * `daemon/pkg/oci/defaults.go`, `daemon/oci_linux.go`, `oci/caps`): mounts, namespaces, the 14 default capabilities,
 * masked/read-only paths, the device cgroup, and the compose fields mapped onto OCI fields (native-runtime notes §3).
 *
 * `buildOciSpec` is pure: everything it would have to look up on the host (the user's ids, host devices, the netns,
 * the init binary, /etc files) is passed in; `hostDevicesFor` and `listHostDevices` are the small impure helpers for
 * `devices:` and `privileged`.
 */
import { lstatSync, readdirSync, statSync, type BigIntStats } from 'node:fs';
import * as path from 'node:path';
import { TsComposeError } from '../../../errors.js';
import type { ContainerSpec, DeviceSpec, HealthcheckSpec } from '../../runtime.js';

// ---------------------------------------------------------------------------------------------------------------
// OCI runtime-spec subset

export const OCI_VERSION = '1.0.2-dev';

export interface OciUser {
  uid: number;
  gid: number;
  umask?: number;
  additionalGids?: number[];
}

export interface OciCapabilities {
  bounding: string[];
  effective: string[];
  permitted: string[];
  inheritable?: string[];
  ambient?: string[];
}

export interface OciRlimit {
  type: string;
  hard: number;
  soft: number;
}

export interface OciProcess {
  terminal?: boolean;
  consoleSize?: { height: number; width: number };
  user: OciUser;
  args: string[];
  env: string[];
  cwd: string;
  capabilities?: OciCapabilities;
  rlimits?: OciRlimit[];
  noNewPrivileges?: boolean;
  oomScoreAdj?: number;
  apparmorProfile?: string;
  selinuxLabel?: string;
}

export interface OciMount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
}

export interface OciNamespace {
  type: 'pid' | 'network' | 'mount' | 'ipc' | 'uts' | 'user' | 'cgroup';
  path?: string;
}

export interface OciDevice {
  path: string;
  type: 'c' | 'b' | 'u' | 'p';
  major: number;
  minor: number;
  fileMode?: number;
  uid?: number;
  gid?: number;
}

export interface OciDeviceCgroup {
  allow: boolean;
  type?: 'a' | 'c' | 'b';
  major?: number;
  minor?: number;
  access?: string;
}

export interface OciLinuxResources {
  devices?: OciDeviceCgroup[];
  memory?: { limit?: number; reservation?: number; swap?: number; swappiness?: number; disableOOMKiller?: boolean };
  cpu?: { shares?: number; quota?: number; period?: number; cpus?: string; mems?: string };
  pids?: { limit: number };
  unified?: Record<string, string>;
}

export interface OciSeccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  syscalls?: { names: string[]; action: string; errnoRet?: number; args?: unknown[] }[];
}

export interface OciLinux {
  namespaces: OciNamespace[];
  resources?: OciLinuxResources;
  cgroupsPath?: string;
  sysctl?: Record<string, string>;
  devices?: OciDevice[];
  maskedPaths?: string[];
  readonlyPaths?: string[];
  rootfsPropagation?: string;
  seccomp?: OciSeccomp;
  uidMappings?: { containerID: number; hostID: number; size: number }[];
  gidMappings?: { containerID: number; hostID: number; size: number }[];
}

export interface OciHook {
  path: string;
  args?: string[];
  env?: string[];
  timeout?: number;
}

export interface OciSpec {
  ociVersion: string;
  process: OciProcess;
  root: { path: string; readonly?: boolean };
  hostname?: string;
  domainname?: string;
  mounts: OciMount[];
  hooks?: Partial<Record<'prestart' | 'createRuntime' | 'createContainer' | 'startContainer' | 'poststart' | 'poststop', OciHook[]>>;
  annotations?: Record<string, string>;
  linux: OciLinux;
}

// ---------------------------------------------------------------------------------------------------------------
// Image config (`config` of an OCI/Docker image config JSON)

export interface ImageRunConfig {
  readonly User?: string;
  readonly ExposedPorts?: Readonly<Record<string, unknown>>;
  readonly Env?: readonly string[] | null;
  readonly Entrypoint?: readonly string[] | null;
  readonly Cmd?: readonly string[] | null;
  readonly Volumes?: Readonly<Record<string, unknown>> | null;
  readonly WorkingDir?: string;
  readonly Labels?: Readonly<Record<string, string>> | null;
  readonly StopSignal?: string;
  readonly Healthcheck?: {
    readonly Test?: readonly string[];
    readonly Interval?: number;
    readonly Timeout?: number;
    readonly StartPeriod?: number;
    readonly StartInterval?: number;
    readonly Retries?: number;
  } | null;
}

export type OciNetwork = 'none' | 'host' | { readonly netnsPath: string };

/** A host device as `hostDevicesFor` reads it. */
export interface HostDevice {
  /** Host path. */
  readonly path: string;
  readonly type: 'c' | 'b';
  readonly major: number;
  readonly minor: number;
  /** Permission bits (mode & 0o7777). */
  readonly fileMode: number;
  readonly uid: number;
  readonly gid: number;
}

export interface OciSpecInput {
  readonly id: string;
  readonly spec: ContainerSpec;
  readonly image: ImageRunConfig;
  readonly rootfsPath: string;
  readonly user: { readonly uid: number; readonly gid: number; readonly additionalGids: readonly number[]; readonly home?: string | undefined };
  /**
   * The container's hostname (`spec.hostname` or the short id). Under `network: 'host'` without `spec.hostname`
   * pass the host's hostname: it only fills `HOSTNAME=`, the UTS namespace keeps the host's name (as Docker does).
   */
  readonly hostname: string;
  /** Host files bind-mounted at /etc/hosts, /etc/hostname, /etc/resolv.conf (rbind, rprivate; ro with read_only). */
  readonly etcFiles?: { readonly hosts?: string; readonly hostname?: string; readonly resolvConf?: string };
  /** Host path of the init (tini-static), mounted read-only at /sbin/docker-init when `spec.init`. */
  readonly initBinary?: string;
  readonly cgroupsPath: string;
  readonly network: OciNetwork;
  /** Caller-computed mounts (volumes, image mounts, secrets, configs), added after the service's binds/tmpfs. */
  readonly extraMounts?: readonly OciMount[];
  /** Reads `spec.devices` sources on the host; default `hostDevicesFor` (fs.statSync). */
  readonly hostDevices?: (source: string) => HostDevice[];
  /** Host devices given to privileged containers (Docker: all of /dev); `listHostDevices()` computes them. */
  readonly privilegedDevices?: readonly HostDevice[];
  /** Extra masked paths, e.g. `thermalThrottlePaths()` (Docker masks each CPU's thermal_throttle). */
  readonly extraMaskedPaths?: readonly string[];
  /**
   * Whether the host can limit swap (v1 `memory.memsw.*` present, or v2). Docker sets memory+swap to twice the
   * memory limit when only the memory limit is given, unless the kernel cannot limit swap. Default true.
   */
  readonly swapLimitSupported?: boolean;
}

// ---------------------------------------------------------------------------------------------------------------
// Docker defaults

export const DEFAULT_PATH_ENV = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
export const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;
export const DOCKER_INIT_PATH = '/sbin/docker-init';

/** moby `oci/caps/defaults.go`, in its order. */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

/** Every Linux capability up to CAP_CHECKPOINT_RESTORE (40), in number order. */
export const ALL_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
];

export const DEFAULT_MASKED_PATHS: readonly string[] = [
  '/proc/acpi',
  '/proc/asound',
  '/proc/interrupts',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/sys/devices/virtual/powercap',
  '/sys/firmware',
];

export const DEFAULT_READONLY_PATHS: readonly string[] = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** Docker's device cgroup: deny all, allow zero, null, urandom, random, tty, console; deny fuse. */
export const DEFAULT_DEVICE_RULES: readonly OciDeviceCgroup[] = [
  { allow: false, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 1, access: 'rwm' },
  { allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' },
];

function defaultMounts(shmSize: number, privileged: boolean): OciMount[] {
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
    },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: privileged ? ['nosuid', 'noexec', 'nodev'] : ['nosuid', 'noexec', 'nodev', 'ro'] },
    {
      destination: '/sys/fs/cgroup',
      type: 'cgroup',
      source: 'cgroup',
      options: privileged ? ['nosuid', 'noexec', 'nodev'] : ['ro', 'nosuid', 'noexec', 'nodev'],
    },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${shmSize}`] },
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// Signals

/** Linux (x86/arm) signal numbers. */
const SIGNALS: Readonly<Record<string, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGIOT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
  SIGSTKFLT: 16,
  SIGCHLD: 17,
  SIGCLD: 17,
  SIGCONT: 18,
  SIGSTOP: 19,
  SIGTSTP: 20,
  SIGTTIN: 21,
  SIGTTOU: 22,
  SIGURG: 23,
  SIGXCPU: 24,
  SIGXFSZ: 25,
  SIGVTALRM: 26,
  SIGPROF: 27,
  SIGWINCH: 28,
  SIGIO: 29,
  SIGPOLL: 29,
  SIGPWR: 30,
  SIGSYS: 31,
  SIGRTMIN: 34,
  SIGRTMAX: 64,
};
const SIGRTMIN = 34;
const SIGRTMAX = 64;

/** The canonical name of a signal number (`15` → `SIGTERM`, `36` → `SIGRTMIN+2`). */
function signalName(n: number): string {
  for (const [name, num] of Object.entries(SIGNALS)) {
    if (num === n && name !== 'SIGIOT' && name !== 'SIGCLD' && name !== 'SIGPOLL') return name;
  }
  if (n > SIGRTMIN && n < SIGRTMAX) return n - SIGRTMIN <= SIGRTMAX - n ? `SIGRTMIN+${n - SIGRTMIN}` : `SIGRTMAX-${SIGRTMAX - n}`;
  throw invalidSignal(String(n));
}

function invalidSignal(s: string): TsComposeError {
  return new TsComposeError('TSC_INVALID_SIGNAL', `invalid signal: ${s}`);
}

/**
 * A signal number from `SIGTERM`, `TERM`, `sigterm`, `15`, `SIGRTMIN+3`, `RTMAX-1`. TsComposeError
 * `TSC_INVALID_SIGNAL` otherwise.
 */
export function signalNumber(signal: string | number): number {
  if (typeof signal === 'number') {
    if (!Number.isInteger(signal) || signal < 1 || signal > SIGRTMAX) throw invalidSignal(String(signal));
    return signal;
  }
  const s = signal.trim();
  if (/^\d+$/.test(s)) return signalNumber(Number(s));
  let name = s.toUpperCase();
  if (!name.startsWith('SIG')) name = 'SIG' + name;
  const direct = SIGNALS[name];
  if (direct !== undefined) return direct;
  const rt = /^SIGRT(MIN|MAX)([+-])(\d+)$/.exec(name);
  if (rt) {
    const base = rt[1] === 'MIN' ? SIGRTMIN : SIGRTMAX;
    const n = rt[2] === '+' ? base + Number(rt[3]) : base - Number(rt[3]);
    if (n >= SIGRTMIN && n <= SIGRTMAX) return n;
  }
  throw invalidSignal(signal);
}

/** Normalizes any accepted signal form to its canonical name (`term`, `15` → `SIGTERM`). */
export function normalizeSignal(signal: string | number): string {
  return signalName(signalNumber(signal));
}

/** The signal `stop` sends: compose `stop_signal` ?? image `StopSignal` ?? SIGTERM, normalized (`SIGTERM` form). */
export function stopSignalOf(spec: Pick<ContainerSpec, 'stopSignal'>, image?: Pick<ImageRunConfig, 'StopSignal'>): string {
  const s = spec.stopSignal || image?.StopSignal || 'SIGTERM';
  return normalizeSignal(s);
}

// ---------------------------------------------------------------------------------------------------------------
// Pieces

function noCommand(): TsComposeError {
  return new TsComposeError('TSC_NO_COMMAND', 'no command specified', {
    hint: 'set `command:` (or `entrypoint:`) for the service; the image defines neither Entrypoint nor Cmd',
  });
}

/**
 * `process.args` from compose and image (Docker's rules): compose `entrypoint` (set, even empty) replaces the image
 * Entrypoint and then the image Cmd is ignored; a non-empty compose `command` replaces the image Cmd (an empty one
 * counts as unset, as in Docker). TsComposeError `TSC_NO_COMMAND` when nothing is left.
 */
export function mergeArgs(spec: Pick<ContainerSpec, 'entrypoint' | 'command'>, image: Pick<ImageRunConfig, 'Entrypoint' | 'Cmd'>): string[] {
  // `entrypoint: ""` arrives as [''] from some front ends: that means "no entrypoint".
  const specEntrypoint = spec.entrypoint && spec.entrypoint.length === 1 && spec.entrypoint[0] === '' ? [] : spec.entrypoint;
  const command = spec.command && spec.command.length > 0 ? spec.command : undefined;
  let entrypoint: readonly string[];
  let cmd: readonly string[];
  if (specEntrypoint !== undefined) {
    entrypoint = specEntrypoint;
    cmd = command ?? [];
  } else {
    entrypoint = image.Entrypoint ?? [];
    cmd = command ?? image.Cmd ?? [];
  }
  const args = [...entrypoint, ...cmd];
  if (args.length === 0) throw noCommand();
  return args;
}

function envKey(e: string): string {
  const i = e.indexOf('=');
  return i === -1 ? e : e.slice(0, i);
}

/**
 * Docker's `ReplaceOrAppendEnvValues`: each override replaces the entry with the same key in place, or is appended;
 * an override without `=` removes the key.
 */
export function replaceOrAppendEnv(defaults: readonly string[], overrides: readonly string[]): string[] {
  const out: (string | undefined)[] = [...defaults];
  const index = new Map<string, number>();
  out.forEach((e, i) => index.set(envKey(e as string), i));
  for (const o of overrides) {
    const key = envKey(o);
    const i = index.get(key);
    if (!o.includes('=')) {
      if (i !== undefined) out[i] = undefined;
      continue;
    }
    if (i !== undefined && out[i] !== undefined) out[i] = o;
    else {
      index.set(key, out.length);
      out.push(o);
    }
  }
  return out.filter((e): e is string => e !== undefined);
}

/**
 * `process.env` as Docker builds it: `PATH` (default) and `HOSTNAME` first, then the compose environment, then the
 * image Env entries compose did not set; each replacing an earlier entry with the same key in place.
 */
export function mergeEnv(imageEnv: readonly string[] | null | undefined, specEnv: readonly string[] | undefined, hostname: string): string[] {
  const user = [...(specEnv ?? [])];
  const userKeys = new Set(user.map(envKey));
  const config = [...user, ...(imageEnv ?? []).filter((e) => !userKeys.has(envKey(e)))];
  return replaceOrAppendEnv([`PATH=${DEFAULT_PATH_ENV}`, `HOSTNAME=${hostname}`], config);
}

function unknownCapability(c: string): TsComposeError {
  return new TsComposeError('TSC_UNKNOWN_CAPABILITY', `unknown capability: "${c}"`);
}

/** `net_admin`, `NET_ADMIN`, `cap_net_admin` → `CAP_NET_ADMIN`; `all` → `ALL`. */
export function normalizeCapability(c: string): string {
  const up = c.trim().toUpperCase();
  if (up === 'ALL') return 'ALL';
  const name = up.startsWith('CAP_') ? up : `CAP_${up}`;
  if (!ALL_CAPABILITIES.includes(name)) throw unknownCapability(c);
  return name;
}

/** moby `TweakCapabilities`: privileged → all; `cap_add: [ALL]` → all minus drops; `cap_drop: [ALL]` → only adds. */
export function computeCapabilities(capAdd: readonly string[] = [], capDrop: readonly string[] = [], privileged = false): string[] {
  if (privileged) return [...ALL_CAPABILITIES];
  if (capAdd.length === 0 && capDrop.length === 0) return [...DEFAULT_CAPABILITIES];
  const adds = capAdd.map(normalizeCapability);
  const drops = capDrop.map(normalizeCapability);
  let caps: string[];
  if (adds.includes('ALL')) caps = ALL_CAPABILITIES.filter((c) => !drops.includes(c));
  else if (drops.includes('ALL')) caps = adds;
  else caps = [...DEFAULT_CAPABILITIES.filter((c) => !drops.includes(c)), ...adds];
  return [...new Set(caps)];
}

const ULIMIT_NAMES = new Set([
  'as',
  'core',
  'cpu',
  'data',
  'fsize',
  'locks',
  'memlock',
  'msgqueue',
  'nice',
  'nofile',
  'nproc',
  'rss',
  'rtprio',
  'rttime',
  'sigpending',
  'stack',
]);

/**
 * RLIM_INFINITY (2^64 − 1) as runc reads it. A JS number cannot hold it: this is 2^64, which `ociSpecToJson`
 * writes as 18446744073709551615 (plain JSON.stringify would write 18446744073709552000, which overflows uint64).
 */
export const RLIM_INFINITY = 2 ** 64;

/** `nofile` → `RLIMIT_NOFILE`; -1 = unlimited; unknown names → TsComposeError `TSC_INVALID_ULIMIT`. */
export function rlimitsOf(ulimits: ContainerSpec['ulimits']): OciRlimit[] | undefined {
  if (!ulimits || ulimits.length === 0) return undefined;
  return ulimits.map((u) => {
    const name = u.name.trim().toLowerCase().replace(/^rlimit_/, '');
    if (!ULIMIT_NAMES.has(name)) throw new TsComposeError('TSC_INVALID_ULIMIT', `invalid ulimit type: ${u.name}`);
    const v = (n: number): number => (n < 0 ? RLIM_INFINITY : n);
    const soft = v(u.soft);
    const hard = v(u.hard);
    if (soft > hard) {
      throw new TsComposeError('TSC_INVALID_ULIMIT', `ulimit soft limit must be less than or equal to hard limit: ${u.soft} > ${u.hard}`);
    }
    return { type: `RLIMIT_${name.toUpperCase()}`, hard, soft };
  });
}

/** config.json text for a spec (RLIM_INFINITY written exactly; see RLIM_INFINITY). */
export function ociSpecToJson(spec: OciSpec | OciProcess, indent = 2): string {
  const token = `__rlim_infinity_${Math.random().toString(36).slice(2)}__`;
  const text = JSON.stringify(spec, (_k, v: unknown) => (v === RLIM_INFINITY ? token : v), indent);
  return text.split(`"${token}"`).join('18446744073709551615');
}

/** `no-new-privileges`, `no-new-privileges:true`, `no-new-privileges=true` (`:false` turns it off). */
export function noNewPrivilegesOf(securityOpt: readonly string[] | undefined): boolean {
  let on = false;
  for (const o of securityOpt ?? []) {
    const m = /^no-new-privileges(?:[:=](.*))?$/.exec(o.trim());
    if (!m) continue;
    const v = (m[1] ?? 'true').toLowerCase();
    if (v === 'true' || v === '1') on = true;
    else if (v === 'false' || v === '0') on = false;
    else throw new TsComposeError('TSC_INVALID_SECURITY_OPT', `invalid --security-opt 2: "${o}"`);
  }
  return on;
}

/** `linux.resources` limits from compose (notes §7.1), without devices. */
export function resourcesOf(spec: ContainerSpec, swapLimitSupported = true): Omit<OciLinuxResources, 'devices'> {
  const r = spec.resources;
  const out: Omit<OciLinuxResources, 'devices'> = {};
  if (!r) return out;
  const memory: NonNullable<OciLinuxResources['memory']> = {};
  if (r.memoryBytes !== undefined && r.memoryBytes > 0) memory.limit = r.memoryBytes;
  if (r.memoryReservationBytes !== undefined && r.memoryReservationBytes > 0) memory.reservation = r.memoryReservationBytes;
  if (swapLimitSupported) {
    if (r.memorySwapBytes !== undefined && r.memorySwapBytes !== 0) memory.swap = r.memorySwapBytes;
    else if (memory.limit !== undefined) memory.swap = memory.limit * 2; // Docker's default: as much swap as memory
  }
  if (memory.swap !== undefined && memory.swap > 0 && memory.limit !== undefined && memory.swap < memory.limit) {
    throw new TsComposeError('TSC_INVALID_RESOURCES', 'Minimum memoryswap limit should be larger than memory limit, see usage');
  }
  if (Object.keys(memory).length > 0) out.memory = memory;
  const cpu: NonNullable<OciLinuxResources['cpu']> = {};
  if (r.cpuShares !== undefined && r.cpuShares > 0) cpu.shares = r.cpuShares;
  if (r.cpus !== undefined && r.cpus > 0) {
    cpu.period = 100000;
    cpu.quota = Math.round(r.cpus * 100000);
  }
  if (r.cpuset !== undefined && r.cpuset !== '') cpu.cpus = r.cpuset;
  if (Object.keys(cpu).length > 0) out.cpu = cpu;
  if (r.pidsLimit !== undefined && r.pidsLimit > 0) out.pids = { limit: r.pidsLimit };
  return out;
}

/** Sorts mounts so parents come before children (Docker sorts by the number of path components). */
function sortMounts(mounts: OciMount[]): OciMount[] {
  const depth = (m: OciMount): number => path.posix.normalize(m.destination).split('/').filter(Boolean).length;
  return mounts
    .map((m, i) => ({ m, i }))
    .sort((a, b) => depth(a.m) - depth(b.m) || a.i - b.i)
    .map((x) => x.m);
}

function parseDeviceRule(d: DeviceSpec, hostDevices: (source: string) => HostDevice[]): { devices: OciDevice[]; rules: OciDeviceCgroup[] } {
  const access = d.permissions && d.permissions !== '' ? d.permissions : 'rwm';
  if (!/^[rwm]{1,3}$/.test(access)) throw new TsComposeError('TSC_INVALID_DEVICE', `invalid device mode: ${access}`);
  const found = hostDevices(d.source);
  if (found.length === 0) throw new TsComposeError('TSC_INVALID_DEVICE', `error gathering device information while adding custom device "${d.source}": not a device node`);
  const devices: OciDevice[] = [];
  const rules: OciDeviceCgroup[] = [];
  const target = d.target || d.source;
  for (const h of found) {
    // A directory maps each device below it to the same relative path below the target.
    const rel = h.path === d.source ? '' : path.posix.relative(d.source, h.path);
    devices.push({ path: rel ? path.posix.join(target, rel) : target, type: h.type, major: h.major, minor: h.minor, fileMode: h.fileMode, uid: h.uid, gid: h.gid });
    rules.push({ allow: true, type: h.type, major: h.major, minor: h.minor, access });
  }
  return { devices, rules };
}

function checkSysctls(sysctls: Readonly<Record<string, string>> | undefined, network: OciNetwork, ipcHost: boolean): Record<string, string> | undefined {
  if (!sysctls || Object.keys(sysctls).length === 0) return undefined;
  for (const k of Object.keys(sysctls)) {
    if (k.startsWith('net.') && network === 'host') {
      throw new TsComposeError('TSC_INVALID_SYSCTL', `sysctl "${k}" not allowed in host network namespace`);
    }
    if ((k.startsWith('kernel.shm') || k.startsWith('kernel.msg') || k === 'kernel.sem' || k.startsWith('fs.mqueue.')) && ipcHost) {
      throw new TsComposeError('TSC_INVALID_SYSCTL', `sysctl "${k}" not allowed in host IPC namespace`);
    }
  }
  return { ...sysctls };
}

// ---------------------------------------------------------------------------------------------------------------
// The spec

/**
 * The OCI `config.json` for a service container. Pure: throws TsComposeError for invalid input
 * (`TSC_NO_COMMAND`, `TSC_UNKNOWN_CAPABILITY`, `TSC_INVALID_ULIMIT`, `TSC_INVALID_SIGNAL`, `TSC_INIT_MISSING`, …).
 */
export function buildOciSpec(input: OciSpecInput): OciSpec {
  const { spec, image } = input;
  const privileged = spec.privileged === true;
  const readOnly = spec.readOnly === true;

  // process
  let args = mergeArgs(spec, image);
  const mounts: OciMount[] = [];
  if (spec.init) {
    if (!input.initBinary) {
      throw new TsComposeError('TSC_INIT_MISSING', 'init: true needs an init binary (tini-static), none was found', {
        hint: 'install it (apt-get install tini) or drop `init: true`',
      });
    }
    args = [DOCKER_INIT_PATH, '--', ...args];
    mounts.push({ destination: DOCKER_INIT_PATH, type: 'bind', source: input.initBinary, options: ['bind', 'ro'] });
  }
  let env = mergeEnv(image.Env, spec.env, input.hostname);
  if (input.user.home !== undefined && input.user.home !== '' && !env.some((e) => envKey(e) === 'HOME')) {
    env = [...env, `HOME=${input.user.home}`];
  }
  const cwd = spec.workingDir || image.WorkingDir || '/';
  if (!cwd.startsWith('/')) {
    throw new TsComposeError('TSC_INVALID_WORKDIR', `the working directory '${cwd}' is invalid, it needs to be an absolute path`);
  }
  const caps = computeCapabilities(spec.capAdd, spec.capDrop, privileged);
  const user: OciUser = { uid: input.user.uid, gid: input.user.gid };
  if (input.user.additionalGids.length > 0) user.additionalGids = [...input.user.additionalGids];
  const proc: OciProcess = {
    terminal: false,
    user,
    args,
    env,
    cwd: path.posix.normalize(cwd),
    capabilities: { bounding: [...caps], effective: [...caps], permitted: [...caps] },
  };
  const rlimits = rlimitsOf(spec.ulimits);
  if (rlimits) proc.rlimits = rlimits;
  if (noNewPrivilegesOf(spec.securityOpt)) proc.noNewPrivileges = true;

  // mounts: the service's binds and tmpfs, /etc files, then the caller's
  for (const m of spec.mounts ?? []) {
    if (m.type === 'tmpfs') {
      mounts.push({
        destination: m.target,
        type: 'tmpfs',
        source: 'tmpfs',
        options: [
          'noexec',
          'nosuid',
          'nodev',
          'rprivate',
          ...(m.tmpfsSizeBytes !== undefined ? [`size=${m.tmpfsSizeBytes}`] : []),
          ...(m.tmpfsMode !== undefined ? [`mode=${m.tmpfsMode.toString(8)}`] : []),
          ...(m.readOnly ? ['ro'] : []),
        ],
      });
    } else if (m.type === 'bind' && !m.overlay) {
      if (!m.source) throw new TsComposeError('TSC_INVALID_MOUNT', `bind mount at ${m.target} has no source`);
      mounts.push({ destination: m.target, type: 'bind', source: m.source, options: ['rbind', ...(m.readOnly ? ['ro'] : []), 'rprivate'] });
    }
    // volume, image and overlay-backed bind mounts: the caller passes them in extraMounts.
  }
  const etc = input.etcFiles ?? {};
  const etcOpts = ['rbind', 'rprivate', ...(readOnly ? ['ro'] : [])];
  for (const [dest, src] of [
    ['/etc/resolv.conf', etc.resolvConf],
    ['/etc/hostname', etc.hostname],
    ['/etc/hosts', etc.hosts],
  ] as const) {
    if (src !== undefined && !mounts.some((m) => m.destination === dest)) mounts.push({ destination: dest, type: 'bind', source: src, options: [...etcOpts] });
  }
  mounts.push(...(input.extraMounts ?? []).map((m) => ({ ...m, ...(m.options ? { options: [...m.options] } : {}) })));
  const userDests = new Set(mounts.map((m) => path.posix.normalize(m.destination)));
  const shmSize = spec.shmSizeBytes !== undefined && spec.shmSizeBytes > 0 ? spec.shmSizeBytes : DEFAULT_SHM_SIZE;
  const allMounts = [...defaultMounts(shmSize, privileged).filter((m) => !userDests.has(m.destination)), ...sortMounts(mounts)];

  // namespaces
  const namespaces: OciNamespace[] = [{ type: 'mount' }];
  if (input.network === 'none') namespaces.push({ type: 'network' });
  else if (input.network !== 'host') namespaces.push({ type: 'network', path: input.network.netnsPath });
  namespaces.push({ type: 'uts' }, { type: 'pid' }, { type: 'ipc' });

  // devices
  const hostDevices = input.hostDevices ?? hostDevicesFor;
  const devices: OciDevice[] = [];
  let deviceRules: OciDeviceCgroup[] = DEFAULT_DEVICE_RULES.map((r) => ({ ...r }));
  if (privileged) {
    deviceRules = [{ allow: true, access: 'rwm' }];
    for (const h of input.privilegedDevices ?? []) {
      devices.push({ path: h.path, type: h.type, major: h.major, minor: h.minor, fileMode: h.fileMode, uid: h.uid, gid: h.gid });
    }
  }
  for (const d of spec.devices ?? []) {
    const { devices: ds, rules } = parseDeviceRule(d, hostDevices);
    for (const dev of ds) {
      const i = devices.findIndex((x) => x.path === dev.path);
      if (i >= 0) devices.splice(i, 1);
      devices.push(dev);
    }
    if (!privileged) deviceRules.push(...rules);
  }

  const linux: OciLinux = {
    namespaces,
    resources: { devices: deviceRules, ...resourcesOf(spec, input.swapLimitSupported ?? true) },
    cgroupsPath: input.cgroupsPath,
  };
  const sysctl = checkSysctls(spec.sysctls, input.network, false);
  if (sysctl) linux.sysctl = sysctl;
  if (devices.length > 0) linux.devices = devices;
  if (!privileged) {
    linux.maskedPaths = [...DEFAULT_MASKED_PATHS, ...(input.extraMaskedPaths ?? [])];
    linux.readonlyPaths = [...DEFAULT_READONLY_PATHS];
  }

  const out: OciSpec = {
    ociVersion: OCI_VERSION,
    process: proc,
    root: { path: input.rootfsPath, readonly: readOnly },
    mounts: allMounts,
    linux,
  };
  // Host network without an explicit hostname: the UTS namespace keeps the host's name (Docker).
  if (!(input.network === 'host' && !spec.hostname)) out.hostname = input.hostname;
  if (spec.domainname) out.domainname = spec.domainname;

  const annotations: Record<string, string> = { ...(image.Labels ?? {}), ...spec.labels };
  if (annotations['org.opencontainers.image.stopSignal'] === undefined) {
    annotations['org.opencontainers.image.stopSignal'] = stopSignalOf(spec, image);
  }
  out.annotations = annotations;
  return out;
}

/**
 * The effective healthcheck as Docker merges it: compose `none` (or test `NONE`) disables it; without a compose
 * healthcheck the image's applies; otherwise each field compose leaves unset (empty test, 0/absent timings) is taken
 * from the image. Image durations are nanoseconds.
 */
export function healthcheckOf(spec: Pick<ContainerSpec, 'healthcheck'>, image: Pick<ImageRunConfig, 'Healthcheck'>): HealthcheckSpec | undefined {
  if (spec.healthcheck === 'none') return undefined;
  const img = image.Healthcheck ?? undefined;
  const ms = (ns: number | undefined): number | undefined => (ns ? ns / 1e6 : undefined);
  const user = spec.healthcheck;
  const test = user && user.test.length > 0 ? user.test : img?.Test ?? [];
  if (test.length === 0 || test[0] === 'NONE') return undefined;
  const out: { -readonly [K in keyof HealthcheckSpec]: HealthcheckSpec[K] } = { test: [...test] };
  const pick = (u: number | undefined, i: number | undefined): number | undefined => (u ? u : i);
  const intervalMs = pick(user?.intervalMs, ms(img?.Interval));
  const timeoutMs = pick(user?.timeoutMs, ms(img?.Timeout));
  const startPeriodMs = pick(user?.startPeriodMs, ms(img?.StartPeriod));
  const startIntervalMs = pick(user?.startIntervalMs, ms(img?.StartInterval));
  const retries = pick(user?.retries, img?.Retries);
  if (intervalMs !== undefined) out.intervalMs = intervalMs;
  if (timeoutMs !== undefined) out.timeoutMs = timeoutMs;
  if (startPeriodMs !== undefined) out.startPeriodMs = startPeriodMs;
  if (startIntervalMs !== undefined) out.startIntervalMs = startIntervalMs;
  if (retries !== undefined) out.retries = retries;
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Impure helpers (host devices)

function devMajor(rdev: bigint): number {
  return Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
}
function devMinor(rdev: bigint): number {
  return Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
}

function toHostDevice(p: string, st: BigIntStats): HostDevice | undefined {
  const type = st.isCharacterDevice() ? 'c' : st.isBlockDevice() ? 'b' : undefined;
  if (!type) return undefined;
  return { path: p, type, major: devMajor(st.rdev), minor: devMinor(st.rdev), fileMode: Number(st.mode & 0o7777n), uid: Number(st.uid), gid: Number(st.gid) };
}

/**
 * The device node(s) at a host path (following symlinks): one for a device node, every device below it for a
 * directory (as `docker run --device /dev/dri` does), none for anything else.
 */
export function hostDevicesFor(source: string): HostDevice[] {
  let st: BigIntStats;
  try {
    st = statSync(source, { bigint: true });
  } catch (err) {
    throw new TsComposeError('TSC_INVALID_DEVICE', `error gathering device information while adding custom device "${source}": ${(err as Error).message}`);
  }
  if (st.isDirectory()) return listHostDevices(source, []);
  const d = toHostDevice(source, st);
  return d ? [d] : [];
}

/** Docker's/containerd's `HostDevices`: every device below `dir` (default /dev), skipping pts, shm, mqueue, … */
export function listHostDevices(dir = '/dev', skip: readonly string[] = ['pts', 'shm', 'mqueue', 'fd', '.lxc', '.lxd-mounts', '.udev']): HostDevice[] {
  const out: HostDevice[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names.sort()) {
    if (skip.includes(name) || (dir === '/dev' && name === 'console')) continue;
    const p = path.join(dir, name);
    let st: BigIntStats;
    try {
      st = lstatSync(p, { bigint: true });
    } catch {
      continue;
    }
    if (st.isSymbolicLink()) continue;
    if (st.isDirectory()) {
      out.push(...listHostDevices(p, skip));
      continue;
    }
    const d = toHostDevice(p, st);
    if (d) out.push(d);
  }
  return out;
}

/** Docker masks each CPU's `thermal_throttle` directory (GHSA-6fw5-f8r9-fgfm): those present on this host. */
export function thermalThrottlePaths(sysCpu = '/sys/devices/system/cpu'): string[] {
  let names: string[];
  try {
    names = readdirSync(sysCpu);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const n of names) {
    if (!/^cpu\d+$/.test(n)) continue;
    try {
      statSync(path.join(sysCpu, n, 'thermal_throttle'));
      out.push(`${sysCpu}/${n}/thermal_throttle`);
    } catch {
      // absent on VMs
    }
  }
  return out.sort((a, b) => Number(/cpu(\d+)/.exec(a)?.[1]) - Number(/cpu(\d+)/.exec(b)?.[1]));
}
