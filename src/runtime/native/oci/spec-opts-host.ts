/**
 * The OCI spec options of the host-level compose keys (after ./spec-opts.ts's, in ./oci-spec.ts's order), mapped as
 * moby's `daemon/oci_linux.go` does: `pid`/`ipc`/`uts: host` (no namespace of that kind), `cgroup: private|host`
 * (a cgroup namespace or not), `oom_score_adj`, `oom_kill_disable`, `mem_swappiness`, `cpu_period`/`cpu_quota`
 * (when `cpus` does not set them), `cpu_rt_*`, `device_cgroup_rules`, `annotations` and bind propagation (the
 * rootfs made rshared/rslave when a bind needs it). `group_add` is resolved in the image by ../group-add.ts into
 * `input.user.additionalGids`. Joining another container's namespaces (`service:`, `container:`) is not done here:
 * the engine warns about it (src/engine/key-support.ts).
 */
import { TsComposeError } from '../../../errors.js';
import type { OciDeviceCgroup, OciSpec, OciSpecInput } from './spec-types.js';
import type { SpecOpt } from './spec-opts.js';

/** `pid`/`ipc`/`uts: host`: the host's namespace (none of that kind created); `cgroup: private`: a cgroup namespace. */
export const withHostNamespaces: SpecOpt = (s, { spec }) => {
  const shared = new Set<string>();
  if (spec.pidMode === 'host') shared.add('pid');
  if (spec.ipcMode === 'host') shared.add('ipc');
  if (spec.utsMode === 'host') shared.add('uts');
  s.linux.namespaces = s.linux.namespaces.filter((n) => !shared.has(n.type));
  if (spec.cgroupnsMode === 'private' && !s.linux.namespaces.some((n) => n.type === 'cgroup')) s.linux.namespaces.push({ type: 'cgroup' });
  // Without a UTS namespace of its own the container cannot be given a hostname (runc refuses the spec).
  if (spec.utsMode === 'host') {
    delete s.hostname;
    delete s.domainname;
  }
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
