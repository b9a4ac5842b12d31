/**
 * The OCI spec of a service container, one concern per option, as containerd's `pkg/oci/spec_opts.go`: a `SpecOpt`
 * fills or changes one part of the spec from the container's `OciSpecInput` (compose fields mapped onto OCI fields,
 * native-runtime notes §3). `buildOciSpec` (./oci-spec.ts) applies them in order to a base spec. Pure: everything
 * looked up on the host comes in the input; invalid input throws TsComposeError.
 */
import * as path from 'node:path';
import { TsComposeError } from '../../../errors.js';
import type { ContainerSpec, MountSpec } from '../../runtime.js';
import { DEFAULT_DEVICE_RULES, DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS, DEFAULT_SHM_SIZE, DOCKER_INIT_PATH, defaultMounts } from './defaults.js';
import { deviceEntries, hostDeviceEntry, hostDevicesFor } from './devices.js';
import { computeCapabilities, currentCapabilities, envKey, mergeArgs, mergeEnv, rlimitsOf } from './process.js';
import { stopSignalOf } from './signals.js';
import type { OciDevice, OciDeviceCgroup, OciLinuxResources, OciMount, OciNamespace, OciNetwork, OciSpec, OciSpecInput } from './spec-types.js';

/** Changes one part of `spec` (in place) from the container's input. */
export type SpecOpt = (spec: OciSpec, input: OciSpecInput) => void;

// ---------------------------------------------------------------------------------------------------------------
// process

/** `process.args`: compose `entrypoint`/`command` over the image's (see mergeArgs). */
export const withProcessArgs: SpecOpt = (s, { spec, image }) => {
  s.process.args = mergeArgs(spec, image);
};

/** `init: true`: the init binary mounted read-only at /sbin/docker-init runs the command (after withProcessArgs). */
export const withInit: SpecOpt = (s, { spec, initBinary }) => {
  if (!spec.init) return;
  if (!initBinary) {
    throw new TsComposeError('TSC_INIT_MISSING', 'init: true needs an init binary (tini-static), none was found', {
      hint: 'install it (apt-get install tini) or drop `init: true`',
    });
  }
  s.process.args = [DOCKER_INIT_PATH, '--', ...s.process.args];
  s.mounts.push({ destination: DOCKER_INIT_PATH, type: 'bind', source: initBinary, options: ['bind', 'ro'] });
};

/**
 * `process.env` (see mergeEnv), plus `HOME` from the user's passwd entry when neither compose nor image set it. With
 * `tty`, the process's stdio is a terminal (`process.terminal`: the runtime makes the pty and hands its master to
 * conmon) and `TERM=xterm` is set, as Docker.
 */
export const withEnv: SpecOpt = (s, { spec, image, hostname, user }) => {
  if (spec.tty === true) s.process.terminal = true;
  let env = mergeEnv(image.Env, spec.env, hostname, spec.tty === true);
  if (user.home !== undefined && user.home !== '' && !env.some((e) => envKey(e) === 'HOME')) env = [...env, `HOME=${user.home}`];
  s.process.env = env;
};

/** `process.cwd`: compose `working_dir` ?? image WorkingDir ?? `/`; it must be absolute. */
export const withWorkingDir: SpecOpt = (s, { spec, image }) => {
  const cwd = spec.workingDir || image.WorkingDir || '/';
  if (!cwd.startsWith('/')) {
    throw new TsComposeError('TSC_INVALID_WORKDIR', `the working directory '${cwd}' is invalid, it needs to be an absolute path`);
  }
  s.process.cwd = path.posix.normalize(cwd);
};

/** `process.user`: the resolved uid, gid and supplementary groups. */
export const withUser: SpecOpt = (s, { user }) => {
  s.process.user = { uid: user.uid, gid: user.gid, ...(user.additionalGids.length > 0 ? { additionalGids: [...user.additionalGids] } : {}) };
};

/**
 * Bounding, effective and permitted capabilities: Docker's defaults with `cap_add`/`cap_drop`, all when privileged
 * (all = those this process has, as moby: `availableCapabilities`, default currentCapabilities()).
 */
export const withCapabilities: SpecOpt = (s, { spec, availableCapabilities }) => {
  const caps = computeCapabilities(spec.capAdd, spec.capDrop, spec.privileged === true, availableCapabilities ?? currentCapabilities());
  s.process.capabilities = { bounding: [...caps], effective: [...caps], permitted: [...caps] };
};

/** `process.rlimits` from compose `ulimits`. */
export const withUlimits: SpecOpt = (s, { spec }) => {
  const rlimits = rlimitsOf(spec.ulimits);
  if (rlimits) s.process.rlimits = rlimits;
};

/** `security_opt: [no-new-privileges]`. */
export const withNoNewPrivileges: SpecOpt = (s, { spec }) => {
  if (spec.security?.noNewPrivileges === true) s.process.noNewPrivileges = true;
};

// ---------------------------------------------------------------------------------------------------------------
// mounts

/** A compose tmpfs mount (noexec, nosuid, nodev like Docker's). */
export function tmpfsMount(m: MountSpec): OciMount {
  return {
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
  };
}

/** A compose bind mount of a host path. */
export function bindMount(m: MountSpec): OciMount {
  if (!m.source) throw new TsComposeError('TSC_INVALID_MOUNT', `bind mount at ${m.target} has no source`);
  return { destination: m.target, type: 'bind', source: m.source, options: ['rbind', ...(m.readOnly ? ['ro'] : []), 'rprivate'] };
}

/**
 * The service's own tmpfs and bind mounts, in its order (one option for both: their order decides that of mounts at
 * the same depth). Volume, image and overlay-backed bind mounts come from the caller (withExtraMounts).
 */
export const withMounts: SpecOpt = (s, { spec }) => {
  for (const m of spec.mounts ?? []) {
    if (m.type === 'tmpfs') s.mounts.push(tmpfsMount(m));
    else if (m.type === 'bind' && !m.overlay) s.mounts.push(bindMount(m));
  }
};

/** /etc/resolv.conf, /etc/hostname and /etc/hosts bind-mounted from the host unless the service mounts its own. */
export const withEtcFiles: SpecOpt = (s, { spec, etcFiles = {} }) => {
  const opts = ['rbind', 'rprivate', ...(spec.readOnly === true ? ['ro'] : [])];
  for (const [dest, src] of [
    ['/etc/resolv.conf', etcFiles.resolvConf],
    ['/etc/hostname', etcFiles.hostname],
    ['/etc/hosts', etcFiles.hosts],
  ] as const) {
    if (src !== undefined && !s.mounts.some((m) => m.destination === dest))
      s.mounts.push({ destination: dest, type: 'bind', source: src, options: [...opts] });
  }
};

/** The caller's mounts (volumes, image mounts, secrets, configs). */
export const withExtraMounts: SpecOpt = (s, { extraMounts = [] }) => {
  s.mounts.push(...extraMounts.map((m) => ({ ...m, ...(m.options ? { options: [...m.options] } : {}) })));
};

/** Sorts mounts so parents come before children (Docker sorts by the number of path components). */
function sortMounts(mounts: OciMount[]): OciMount[] {
  const depth = (m: OciMount): number => path.posix.normalize(m.destination).split('/').filter(Boolean).length;
  return mounts
    .map((m, i) => ({ m, i }))
    .sort((a, b) => depth(a.m) - depth(b.m) || a.i - b.i)
    .map((x) => x.m);
}

/**
 * Docker's default mounts (/proc, /dev, /sys, /dev/shm of `shm_size`, …) first, except where the container mounts
 * something itself, then the container's own sorted parents first. The last of the mount options.
 */
export const withDefaultMounts: SpecOpt = (s, { spec }) => {
  const own = new Set(s.mounts.map((m) => path.posix.normalize(m.destination)));
  const shmSize = spec.shmSizeBytes !== undefined && spec.shmSizeBytes > 0 ? spec.shmSizeBytes : DEFAULT_SHM_SIZE;
  s.mounts = [...defaultMounts(shmSize, spec.privileged === true).filter((m) => !own.has(m.destination)), ...sortMounts(s.mounts)];
};

/** `read_only`: the root filesystem read-only. */
export const withReadonlyRootfs: SpecOpt = (s, { spec }) => {
  s.root.readonly = spec.readOnly === true;
};

// ---------------------------------------------------------------------------------------------------------------
// linux

/** Own mount, UTS, PID and IPC namespaces; the network namespace given (`none`: a new empty one; `host`: none). */
export const withNamespaces: SpecOpt = (s, { network }) => {
  const namespaces: OciNamespace[] = [{ type: 'mount' }];
  if (network === 'none') namespaces.push({ type: 'network' });
  else if (network !== 'host') namespaces.push({ type: 'network', path: network.netnsPath });
  namespaces.push({ type: 'uts' }, { type: 'pid' }, { type: 'ipc' });
  s.linux.namespaces = namespaces;
};

function checkSysctls(
  sysctls: Readonly<Record<string, string>> | undefined,
  network: OciNetwork,
  ipcHost: boolean,
): Record<string, string> | undefined {
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

/** `linux.sysctl` from compose `sysctls` (no `net.*` in the host's network namespace). */
export const withSysctls: SpecOpt = (s, { spec, network }) => {
  const sysctl = checkSysctls(spec.sysctls, network, spec.ipcMode === 'host');
  if (sysctl) s.linux.sysctl = sysctl;
};

/**
 * `linux.devices` and the device cgroup: Docker's rules plus compose `devices`; privileged containers get every
 * host device (`privilegedDevices`) and access to all.
 */
export const withDevices: SpecOpt = (s, { spec, hostDevices = hostDevicesFor, privilegedDevices = [] }) => {
  const privileged = spec.privileged === true;
  const devices: OciDevice[] = privileged ? privilegedDevices.map(hostDeviceEntry) : [];
  const rules: OciDeviceCgroup[] = privileged ? [{ allow: true, access: 'rwm' }] : DEFAULT_DEVICE_RULES.map((r) => ({ ...r }));
  for (const d of spec.devices ?? []) {
    const entries = deviceEntries(d, hostDevices);
    for (const dev of entries.devices) {
      const i = devices.findIndex((x) => x.path === dev.path);
      if (i >= 0) devices.splice(i, 1);
      devices.push(dev);
    }
    if (!privileged) rules.push(...entries.rules);
  }
  (s.linux.resources ??= {}).devices = rules;
  if (devices.length > 0) s.linux.devices = devices;
};

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

/** The cgroup limits: memory (with Docker's swap default), CPU and pids (see resourcesOf). */
export const withResources: SpecOpt = (s, { spec, swapLimitSupported = true }) => {
  Object.assign((s.linux.resources ??= {}), resourcesOf(spec, swapLimitSupported));
};

/** Docker's masked paths (and the caller's extra ones), unless privileged or `systempaths=unconfined`. */
export const withMaskedPaths: SpecOpt = (s, { spec, extraMaskedPaths = [] }) => {
  if (spec.privileged !== true && spec.security?.unconfinedSystemPaths !== true) s.linux.maskedPaths = [...DEFAULT_MASKED_PATHS, ...extraMaskedPaths];
};

/** Docker's read-only /proc paths, unless privileged or `systempaths=unconfined`. */
export const withReadonlyPaths: SpecOpt = (s, { spec }) => {
  if (spec.privileged !== true && spec.security?.unconfinedSystemPaths !== true) s.linux.readonlyPaths = [...DEFAULT_READONLY_PATHS];
};

// ---------------------------------------------------------------------------------------------------------------
// identity

/** The hostname; under `network: host` without a compose hostname the UTS namespace keeps the host's (Docker). */
export const withHostname: SpecOpt = (s, { spec, network, hostname }) => {
  if (!(network === 'host' && !spec.hostname)) s.hostname = hostname;
};

/** Compose `domainname`. */
export const withDomainname: SpecOpt = (s, { spec }) => {
  if (spec.domainname) s.domainname = spec.domainname;
};

/** Image labels, then compose labels, as annotations; plus the stop signal unless a label sets it. */
export const withAnnotations: SpecOpt = (s, { spec, image }) => {
  const annotations: Record<string, string> = { ...(image.Labels ?? {}), ...spec.labels };
  if (annotations['org.opencontainers.image.stopSignal'] === undefined) {
    annotations['org.opencontainers.image.stopSignal'] = stopSignalOf(spec, image);
  }
  s.annotations = annotations;
};
