/**
 * The OCI spec options of the host-level compose keys (after ./spec-opts.ts's, in ./oci-spec.ts's order), mapped as
 * moby's `daemon/oci_linux.go` does: `pid`/`ipc`/`uts: host` (no namespace of that kind) or `container:X` (X's, by the
 * paths the caller resolved), /dev/shm by IPC mode, `cgroup: private|host`
 * (a cgroup namespace or not), `oom_score_adj`, `oom_kill_disable`, `mem_swappiness`, `cpu_period`/`cpu_quota`
 * (when `cpus` does not set them), `cpu_rt_*`, `device_cgroup_rules`, `annotations` and bind propagation (the
 * rootfs made rshared/rslave when a bind needs it). `group_add` is resolved in the image by ../group-add.ts into
 * `input.user.additionalGids`; `blkio_config` is ./blkio.ts.
 */
import { TsComposeError } from '../../../errors.js';
import type { OciDeviceCgroup, OciMount, OciSpec, OciSpecInput } from './spec-types.js';
import type { SpecOpt } from './spec-opts.js';

const NAMESPACE_KEYS = { pid: 'pidMode', ipc: 'ipcMode', uts: 'utsMode' } as const;
/** The modes each key accepts besides `container:X` (Docker's PidMode/IpcMode/UTSMode, plus uts `container:`). */
const PLAIN_MODES: Record<keyof typeof NAMESPACE_KEYS, ReadonlySet<string>> = {
  pid: new Set(['host', 'private']),
  ipc: new Set(['host', 'private', 'shareable', 'none']),
  uts: new Set(['host', 'private']),
};

/**
 * `pid`/`ipc`/`uts`: `host` (no namespace of that kind), `container:X` (X's namespace, its path in
 * `input.joinedNamespaces`); `cgroup: private`: a cgroup namespace. Without a UTS namespace of its own the container
 * is given no hostname (runc refuses the spec for `host`; in a joined one it would rename X).
 */
export const withHostNamespaces: SpecOpt = (s, { spec, joinedNamespaces = {} }) => {
  const shared = new Set<string>();
  const joined = new Map<string, string>();
  for (const [kind, key] of Object.entries(NAMESPACE_KEYS) as [keyof typeof NAMESPACE_KEYS, (typeof NAMESPACE_KEYS)[keyof typeof NAMESPACE_KEYS]][]) {
    const mode = spec[key];
    if (mode === undefined || mode === '') continue;
    if (mode === 'host') shared.add(kind);
    else if (mode.startsWith('container:') && mode.length > 'container:'.length) {
      const p = joinedNamespaces[kind];
      if (p === undefined) throw new TsComposeError('TSC_INVALID_NAMESPACE', `${kind} ${mode}: the namespace to join was not resolved`);
      joined.set(kind, p);
    } else if (!PLAIN_MODES[kind].has(mode)) throw new TsComposeError('TSC_INVALID_NAMESPACE', `invalid ${kind.toUpperCase()} mode: ${mode}`);
  }
  s.linux.namespaces = s.linux.namespaces
    .filter((n) => !shared.has(n.type))
    .map((n) => (joined.has(n.type) ? { type: n.type, path: joined.get(n.type)! } : n));
  if (spec.cgroupnsMode === 'private' && !s.linux.namespaces.some((n) => n.type === 'cgroup')) s.linux.namespaces.push({ type: 'cgroup' });
  if (spec.utsMode === 'host' || joined.has('uts')) {
    delete s.hostname;
    delete s.domainname;
  }
};

/**
 * /dev/shm by IPC mode, as moby's setupIpcDirs/withIPC: `none` has none; `host` the host's /dev/shm; `shareable` and
 * `container:X` the host directory `input.shmSource` (the shareable container's own tmpfs, X's for a joiner); the
 * default a tmpfs of its own (withDefaultMounts). A /dev/shm the service mounts itself is left alone.
 */
export const withIpcShm: SpecOpt = (s, { spec, shmSource }) => {
  const mode = spec.ipcMode ?? '';
  const isDefault = (m: OciMount): boolean => m.destination === '/dev/shm' && m.type === 'tmpfs' && m.source === 'shm';
  if (!s.mounts.some(isDefault)) return;
  const bind = (source: string): OciMount => ({
    destination: '/dev/shm',
    type: 'bind',
    source,
    options: ['rbind', 'rprivate', 'nosuid', 'noexec', 'nodev'],
  });
  if (mode === 'none') s.mounts = s.mounts.filter((m) => !isDefault(m));
  else if (mode === 'host') s.mounts = s.mounts.map((m) => (isDefault(m) ? bind('/dev/shm') : m));
  else if ((mode === 'shareable' || mode.startsWith('container:')) && shmSource !== undefined)
    s.mounts = s.mounts.map((m) => (isDefault(m) ? bind(shmSource) : m));
};

/** `oom_score_adj` (-1000..1000, as Docker checks it). */
export const withOomScoreAdj: SpecOpt = (s, { spec }) => {
  if (spec.oomScoreAdj === undefined) return;
  if (!Number.isInteger(spec.oomScoreAdj) || spec.oomScoreAdj < -1000 || spec.oomScoreAdj > 1000)
    throw new TsComposeError('TSC_INVALID_RESOURCES', `Invalid value ${spec.oomScoreAdj}, range for oom score adj is [-1000, 1000]`);
  s.process.oomScoreAdj = spec.oomScoreAdj;
};

/** swappiness, the OOM killer switch, CFS period/quota (unless `cpus` set them) and the real-time scheduler budget. */
export const withMoreResources: SpecOpt = (s, { spec }) => {
  const r = spec.resources;
  const res = (s.linux.resources ??= {});
  if (r?.memorySwappiness !== undefined) {
    if (r.memorySwappiness < 0 || r.memorySwappiness > 100)
      throw new TsComposeError('TSC_INVALID_RESOURCES', `Invalid value: ${r.memorySwappiness}, valid memory swappiness range is 0-100`);
    (res.memory ??= {}).swappiness = r.memorySwappiness;
  }
  if (spec.oomKillDisable === true) (res.memory ??= {}).disableOOMKiller = true;
  if (r === undefined) return;
  const cpu = (res.cpu ??= {});
  if (r.cpus === undefined) {
    if (r.cpuPeriod !== undefined && r.cpuPeriod > 0) cpu.period = r.cpuPeriod;
    if (r.cpuQuota !== undefined && r.cpuQuota !== 0) cpu.quota = r.cpuQuota;
  }
  if (r.cpuRtPeriod !== undefined && r.cpuRtPeriod > 0) cpu.realtimePeriod = r.cpuRtPeriod;
  if (r.cpuRtRuntime !== undefined && r.cpuRtRuntime !== 0) cpu.realtimeRuntime = r.cpuRtRuntime;
  if (Object.keys(cpu).length === 0) delete res.cpu;
};

/** One `device_cgroup_rules` entry (`c 1:3 mr`, `a *:* rwm`) as the OCI device cgroup rule (moby's regexp). */
export function parseDeviceCgroupRule(rule: string): OciDeviceCgroup {
  const m = /^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$/.exec(rule.trim());
  if (!m) throw new TsComposeError('TSC_INVALID_DEVICE_RULE', `invalid device cgroup rule format: '${rule}'`);
  const out: OciDeviceCgroup = { allow: true, type: m[1] as 'a' | 'b' | 'c', access: m[4]! };
  if (m[2] !== '*') out.major = Number(m[2]);
  if (m[3] !== '*') out.minor = Number(m[3]);
  return out;
}

/** `device_cgroup_rules`, after the default rules and `devices:` (withDevices). */
export const withDeviceCgroupRules: SpecOpt = (s, { spec }) => {
  if (!spec.deviceCgroupRules || spec.deviceCgroupRules.length === 0) return;
  const rules = spec.deviceCgroupRules.map(parseDeviceCgroupRule);
  const res = (s.linux.resources ??= {});
  res.devices = [...(res.devices ?? []), ...rules];
};

/** compose `annotations`, over the image's labels and the compose labels (after withAnnotations). */
export const withServiceAnnotations: SpecOpt = (s, { spec }) => {
  if (spec.annotations) s.annotations = { ...(s.annotations ?? {}), ...spec.annotations };
};

const PROPAGATIONS = new Set(['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave']);

/**
 * Bind propagation (`bind.propagation`): the bind's `rprivate` replaced, and the rootfs made `rshared` (or
 * `rslave`) when a bind needs it, as moby's setMounts does.
 */
export const withBindPropagation: SpecOpt = (s: OciSpec, { spec }: OciSpecInput) => {
  let rootfs: string | undefined;
  for (const m of spec.mounts ?? []) {
    if (m.type !== 'bind' || !m.propagation) continue;
    if (!PROPAGATIONS.has(m.propagation)) throw new TsComposeError('TSC_INVALID_MOUNT', `invalid propagation mode: ${m.propagation} (${m.target})`);
    const mount = s.mounts.find((x) => x.destination === m.target && x.type === 'bind' && x.source === m.source);
    if (!mount?.options) continue;
    mount.options = mount.options.map((o) => (o === 'rprivate' ? m.propagation! : o));
    if (m.propagation.endsWith('shared')) rootfs = 'rshared';
    else if (m.propagation.endsWith('slave') && rootfs === undefined) rootfs = 'rslave';
  }
  if (rootfs !== undefined) s.linux.rootfsPropagation = rootfs;
};
