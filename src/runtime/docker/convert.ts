/**
 * Pure conversions from the runtime port's neutral DTOs to Docker Engine API request bodies: the container create
 * body (with ./convert-host.ts for its host-level keys), endpoint settings, the network create body, label filters.
 * No I/O: unit-tested without an engine. dockerode types stay inside src/runtime/docker/. The other way, engine
 * answers → DTOs, is ./convert-answers.ts.
 */
import type Docker from 'dockerode';
import { TsComposeError } from '../../errors.js';
import { applyHostFields, bindText, endpointOptions, mountOptions } from './convert-host.js';
import type {
  ContainerSpec,
  EndpointSpec,
  HealthcheckSpec,
  LabelSelector,
  MountSpec,
  FileMountSpec,
  NetworkSpec,
  PortRange,
  SecuritySpec,
} from '../runtime.js';

const MS_TO_NS = 1_000_000;

/** `{a: 'x', b: true}` → `{label: ['a=x', 'b']}` (Docker ANDs label filters). Undefined when empty. */
export function labelFilters(selector: LabelSelector | undefined): Record<string, string[]> | undefined {
  if (!selector || Object.keys(selector).length === 0) return undefined;
  return { label: Object.entries(selector).map(([k, v]) => (v === true ? k : `${k}=${v}`)) };
}

/** `80` → `80/tcp`; `53/udp` stays. */
export function portKey(port: string | number, protocol = 'tcp'): string {
  const s = String(port);
  return s.includes('/') ? s : `${s}/${protocol}`;
}

/** A host port or range as Docker's HostPort: `8000`, `9000-9010`. */
export function hostPortText(r: PortRange): string {
  return r.start === r.end ? String(r.start) : `${r.start}-${r.end}`;
}

/** `no` | `always` | `unless-stopped` | `on-failure[:N]` → RestartPolicy. */
export function restartPolicy(restart: string): { Name: string; MaximumRetryCount?: number } {
  const [name = 'no', count] = restart.split(':');
  if (name === 'on-failure' && count !== undefined) return { Name: name, MaximumRetryCount: Number(count) };
  return { Name: name === '' ? 'no' : name };
}

export function healthConfig(h: HealthcheckSpec | 'none'): Docker.HealthConfig {
  if (h === 'none') return { Test: ['NONE'] };
  const out: Docker.HealthConfig = { Test: [...h.test] };
  if (h.intervalMs !== undefined) out.Interval = h.intervalMs * MS_TO_NS;
  if (h.timeoutMs !== undefined) out.Timeout = h.timeoutMs * MS_TO_NS;
  if (h.startPeriodMs !== undefined) out.StartPeriod = h.startPeriodMs * MS_TO_NS;
  if (h.startIntervalMs !== undefined) out.StartInterval = h.startIntervalMs * MS_TO_NS;
  if (h.retries !== undefined) out.Retries = h.retries;
  return out;
}

/** Docker's HealthConfig (of a container or an image) → HealthcheckSpec. */
export function healthFromConfig(h: Docker.HealthConfig | undefined | null): HealthcheckSpec | 'none' | undefined {
  if (!h?.Test || h.Test.length === 0) return undefined;
  if (h.Test[0] === 'NONE') return 'none';
  const out: { -readonly [K in keyof HealthcheckSpec]: HealthcheckSpec[K] } = { test: [...h.Test] };
  if (h.Interval) out.intervalMs = h.Interval / MS_TO_NS;
  if (h.Timeout) out.timeoutMs = h.Timeout / MS_TO_NS;
  if (h.StartPeriod) out.startPeriodMs = h.StartPeriod / MS_TO_NS;
  if (h.StartInterval) out.startIntervalMs = h.StartInterval / MS_TO_NS;
  if (h.Retries) out.retries = h.Retries;
  return out;
}

/** The endpoint a container is created with: highest priority first, declaration order otherwise. */
export function orderEndpoints(networks: readonly EndpointSpec[]): EndpointSpec[] {
  return networks
    .map((n, i) => ({ n, i }))
    .sort((a, b) => (b.n.priority ?? 0) - (a.n.priority ?? 0) || a.i - b.i)
    .map((x) => x.n);
}

export function endpointSettings(ep: Omit<EndpointSpec, 'network'>): Docker.EndpointSettings {
  const out: Docker.EndpointSettings = {};
  if (ep.aliases && ep.aliases.length > 0) out.Aliases = [...ep.aliases];
  if (ep.ipv4Address !== undefined || ep.ipv6Address !== undefined) {
    out.IPAMConfig = {};
    if (ep.ipv4Address !== undefined) out.IPAMConfig.IPv4Address = ep.ipv4Address;
    if (ep.ipv6Address !== undefined) out.IPAMConfig.IPv6Address = ep.ipv6Address;
  }
  if (ep.macAddress !== undefined) out.MacAddress = ep.macAddress;
  endpointOptions(ep, out);
  return out;
}

/**
 * Bind mounts go to `Binds` (Docker creates a missing host path, as compose does) unless `createHostPath` is
 * false (then `Mounts`, which fails on a missing path); the rest to `Mounts`. `files` are the secrets and configs
 * bound read-only; the others (inline ones, files given a mode or owner) are copied in after create (./container-files.ts).
 */
export function mountsConfig(
  mounts: readonly MountSpec[],
  inherited: ReadonlyMap<string, string> = new Map(),
  files: readonly FileMountSpec[] = [],
): { binds: string[]; mounts: Docker.MountSettings[] } {
  const binds: string[] = [];
  const out: Docker.MountSettings[] = [];
  for (const m of mounts) {
    if (m.overlay) {
      throw new TsComposeError('TSC_DOCKER_UNSUPPORTED', `the overlay volume option ":O" (${m.target}) is not supported by Docker Engine`, {
        hint: 'use it with --runtime native, or drop ":O" to bind the host directory itself',
      });
    }
    if (m.type === 'bind' && m.createHostPath !== false) {
      binds.push(bindText(m));
      continue;
    }
    const source = m.source ?? (m.type === 'volume' ? inherited.get(m.target) : undefined) ?? '';
    const ms: Docker.MountSettings = { Type: m.type as Docker.MountType, Source: source, Target: m.target };
    if (m.readOnly) ms.ReadOnly = true;
    if (m.type === 'volume' && m.noCopy) ms.VolumeOptions = { NoCopy: true } as Docker.MountSettings['VolumeOptions'];
    if (m.type === 'tmpfs' && (m.tmpfsSizeBytes !== undefined || m.tmpfsMode !== undefined)) {
      ms.TmpfsOptions = {
        ...(m.tmpfsSizeBytes !== undefined ? { SizeBytes: m.tmpfsSizeBytes } : {}),
        ...(m.tmpfsMode !== undefined ? { Mode: m.tmpfsMode } : {}),
      } as Docker.MountSettings['TmpfsOptions'];
    }
    mountOptions(m, ms);
    out.push(ms);
  }
  for (const f of files) if (f.source !== undefined) binds.push(`${f.source}:${f.target}:ro`);
  return { binds, mounts: out };
}

export interface CreateBody {
  /** The body of `POST /containers/create` (name included, as dockerode wants it). */
  readonly body: Docker.ContainerCreateOptions;
  /** Networks to connect after create, in order. */
  readonly connectAfter: readonly EndpointSpec[];
}

/**
 * The typed `security_opt` back as Docker's HostConfig.SecurityOpt strings, as the docker CLI sends them: a seccomp
 * profile file as `seccomp=<its JSON>`; Docker's defaults (its seccomp profile, docker-default AppArmor) as nothing.
 */
export function securityOpts(s: SecuritySpec): string[] {
  const out: string[] = [];
  for (const l of s.labels ?? []) out.push(`label=${l}`);
  if (s.apparmor !== undefined) out.push(`apparmor=${s.apparmor}`);
  if (s.seccomp === 'unconfined') out.push('seccomp=unconfined');
  else if (s.seccomp !== undefined && s.seccomp !== 'default') out.push(`seccomp=${JSON.stringify(s.seccomp.profile)}`);
  if (s.noNewPrivileges !== undefined) out.push(`no-new-privileges:${s.noNewPrivileges}`);
  if (s.unconfinedSystemPaths) out.push('systempaths=unconfined');
  if (s.writableCgroups !== undefined) out.push(`writable-cgroups=${s.writableCgroups}`);
  return out;
}

/**
 * ContainerSpec → create body. `inherited` maps a target path to the anonymous volume to reuse there
 * (from `inheritVolumesFrom`).
 */
export function toCreateBody(spec: ContainerSpec, inherited: ReadonlyMap<string, string> = new Map()): CreateBody {
  const host: Docker.HostConfig = {};
  const body: Docker.ContainerCreateOptions = { name: spec.name, Image: spec.image, Labels: { ...spec.labels }, HostConfig: host };
  if (spec.command) body.Cmd = [...spec.command];
  if (spec.entrypoint) body.Entrypoint = [...spec.entrypoint];
  if (spec.env) body.Env = [...spec.env];
  if (spec.workingDir !== undefined) body.WorkingDir = spec.workingDir;
  if (spec.user !== undefined) body.User = spec.user;
  if (spec.hostname !== undefined) body.Hostname = spec.hostname;
  if (spec.domainname !== undefined) body.Domainname = spec.domainname;
  if (spec.tty !== undefined) body.Tty = spec.tty;
  if (spec.openStdin !== undefined) {
    body.OpenStdin = spec.openStdin;
    body.AttachStdin = spec.openStdin;
    if (spec.stdinOnce !== undefined) body.StdinOnce = spec.openStdin && spec.stdinOnce;
  }
  body.AttachStdout = true;
  body.AttachStderr = true;
  if (spec.stopSignal !== undefined) body.StopSignal = spec.stopSignal;
  if (spec.stopTimeoutSeconds !== undefined) body.StopTimeout = spec.stopTimeoutSeconds;
  if (spec.healthcheck !== undefined) body.Healthcheck = healthConfig(spec.healthcheck);

  const exposed: Record<string, object> = {};
  for (const p of spec.exposedPorts ?? []) exposed[portKey(p)] = {};
  const bindings: Docker.PortMap = {};
  for (const p of spec.ports ?? []) {
    const key = portKey(p.containerPort, p.protocol);
    exposed[key] = {};
    const b: Docker.PortBinding = {};
    if (p.hostIp !== undefined) b.HostIp = p.hostIp;
    // A range is Docker's too: it picks one free port of it.
    b.HostPort = p.hostPort ? hostPortText(p.hostPort) : '';
    (bindings[key] ??= []).push(b);
  }
  if (Object.keys(exposed).length > 0) body.ExposedPorts = exposed;
  if (Object.keys(bindings).length > 0) host.PortBindings = bindings;

  const { binds, mounts } = mountsConfig(spec.mounts ?? [], inherited, spec.files ?? []);
  if (binds.length > 0) host.Binds = binds;
  if (mounts.length > 0) host.Mounts = mounts;
  if (spec.volumesFrom && spec.volumesFrom.length > 0) host.VolumesFrom = [...spec.volumesFrom];
  if (spec.restart !== undefined) host.RestartPolicy = restartPolicy(spec.restart);
  if (spec.capAdd) host.CapAdd = [...spec.capAdd];
  if (spec.capDrop) host.CapDrop = [...spec.capDrop];
  if (spec.privileged !== undefined) host.Privileged = spec.privileged;
  if (spec.readOnly !== undefined) host.ReadonlyRootfs = spec.readOnly;
  if (spec.init !== undefined) host.Init = spec.init;
  if (spec.extraHosts) host.ExtraHosts = [...spec.extraHosts];
  if (spec.dns) host.Dns = [...spec.dns];
  if (spec.dnsSearch) host.DnsSearch = [...spec.dnsSearch];
  if (spec.dnsOptions) host.DnsOptions = [...spec.dnsOptions];
  const r = spec.resources;
  if (r?.memoryBytes !== undefined) host.Memory = r.memoryBytes;
  if (r?.memorySwapBytes !== undefined) host.MemorySwap = r.memorySwapBytes;
  if (r?.memoryReservationBytes !== undefined) host.MemoryReservation = r.memoryReservationBytes;
  if (r?.cpus !== undefined) host.NanoCpus = Math.round(r.cpus * 1e9);
  if (r?.cpuShares !== undefined) host.CpuShares = r.cpuShares;
  if (r?.cpuset !== undefined) host.CpusetCpus = r.cpuset;
  if (r?.pidsLimit !== undefined) host.PidsLimit = r.pidsLimit;
  if (spec.ulimits) host.Ulimits = spec.ulimits.map((u) => ({ Name: u.name, Soft: u.soft, Hard: u.hard }));
  if (spec.sysctls) host.Sysctls = { ...spec.sysctls };
  if (spec.devices)
    host.Devices = spec.devices.map((d) => ({ PathOnHost: d.source, PathInContainer: d.target, CgroupPermissions: d.permissions ?? 'rwm' }));
  if (spec.shmSizeBytes !== undefined) host.ShmSize = spec.shmSizeBytes;
  if (spec.security) {
    const opts = securityOpts(spec.security);
    if (opts.length > 0) host.SecurityOpt = opts;
  }
  // compose userns_mode (`host`: out of the daemon's userns-remap)
  if (spec.usernsMode !== undefined) host.UsernsMode = spec.usernsMode;
  applyHostFields(spec, host);

  let connectAfter: EndpointSpec[] = [];
  if (spec.networkMode !== undefined) {
    host.NetworkMode = spec.networkMode;
  } else if (spec.networks && spec.networks.length > 0) {
    const [first, ...rest] = orderEndpoints(spec.networks);
    host.NetworkMode = first!.network;
    body.NetworkingConfig = { EndpointsConfig: { [first!.network]: endpointSettings(first!) } };
    connectAfter = rest;
  }
  return { body, connectAfter };
}

export function toNetworkCreateBody(spec: NetworkSpec): Docker.NetworkCreateOptions {
  const body: Docker.NetworkCreateOptions = { Name: spec.name, Labels: { ...spec.labels }, CheckDuplicate: true };
  if (spec.driver !== undefined) body.Driver = spec.driver;
  if (spec.driverOpts) body.Options = { ...spec.driverOpts };
  if (spec.internal !== undefined) body.Internal = spec.internal;
  if (spec.attachable !== undefined) body.Attachable = spec.attachable;
  if (spec.enableIpv6 !== undefined) body.EnableIPv6 = spec.enableIpv6;
  if (spec.ipam) {
    const ipam: { Driver?: string; Config?: Record<string, string>[] } = {};
    if (spec.ipam.driver !== undefined) ipam.Driver = spec.ipam.driver;
    if (spec.ipam.config) {
      ipam.Config = spec.ipam.config.map((c) => {
        const o: Record<string, string> = {};
        if (c.subnet !== undefined) o['Subnet'] = c.subnet;
        if (c.gateway !== undefined) o['Gateway'] = c.gateway;
        if (c.ipRange !== undefined) o['IPRange'] = c.ipRange;
        return o;
      });
    }
    body.IPAM = ipam as Docker.NetworkCreateOptions['IPAM'];
  }
  return body;
}

export { toUnixSeconds } from '../time.js';
