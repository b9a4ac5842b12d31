/**
 * ServiceConfig → neutral ContainerSpec for one container of a service (host-level keys and the rarer resources in
 * ./container-spec-host.ts). `network_mode: service:X` (and pid/ipc/uts `service:X`) joins X's first container.
 */
import { UsageError } from '../errors.js';
import { inlineContent } from '../project/file-sources.js';
import { portMapping } from '../project/ports.js';
import type { Project, ServiceConfig, ServicePortConfig } from '../project/types.js';
import type { ContainerSpec, EndpointSpec, FileMountSpec, HealthcheckSpec, MountSpec, PortBinding, ResourceLimits } from '../runtime/runtime.js';
import { parseDuration } from '../util/duration.js';
import { extraResources, hostFields } from './container-spec-host.js';
import { LABEL_WORKING_DIR, containerName, networkName, volumeName } from './labels.js';
import { parseSecurityOpts } from './security-opt.js';

/** The network keys a service is attached to: its `networks:`, else `default` unless it has a network_mode. */
export function serviceNetworkKeys(svc: ServiceConfig): string[] {
  if (svc.networks && Object.keys(svc.networks).length > 0) return Object.keys(svc.networks).sort();
  return svc.network_mode === undefined ? ['default'] : [];
}

/** The project volume keys a service mounts (named volumes declared at the top level). */
export function serviceVolumeKeys(project: Project, svc: ServiceConfig): string[] {
  const keys = new Set<string>();
  for (const v of svc.volumes ?? [])
    if (v.type === 'volume' && v.source !== undefined && project.volumes?.[v.source] !== undefined) keys.add(v.source);
  return [...keys].sort();
}

const ms = (d: string | undefined): number | undefined => {
  if (d === undefined) return undefined;
  const ns = parseDuration(d);
  return ns === undefined ? undefined : Math.round(ns / 1e6);
};

function healthcheck(svc: ServiceConfig): HealthcheckSpec | 'none' | undefined {
  const h = svc.healthcheck;
  if (!h) return undefined;
  if (h.disable || (h.test && h.test[0] === 'NONE')) return 'none';
  const spec: { -readonly [K in keyof HealthcheckSpec]: HealthcheckSpec[K] } = { test: h.test ?? [] };
  const interval = ms(h.interval);
  if (interval !== undefined) spec.intervalMs = interval;
  const timeout = ms(h.timeout);
  if (timeout !== undefined) spec.timeoutMs = timeout;
  const startPeriod = ms(h.start_period);
  if (startPeriod !== undefined) spec.startPeriodMs = startPeriod;
  const startInterval = ms(h.start_interval);
  if (startInterval !== undefined) spec.startIntervalMs = startInterval;
  if (h.retries !== undefined) spec.retries = h.retries;
  return spec;
}

/** The service whose network namespace `network_mode: service:X` joins, if any. */
export function networkParent(svc: ServiceConfig): string | undefined {
  return svc.network_mode?.startsWith('service:') ? svc.network_mode.slice('service:'.length) : undefined;
}

/** mem_limit, cpus, pids_limit, … with deploy.resources.limits/reservations as the fallback (as compose). */
function resourceLimits(svc: ServiceConfig): ResourceLimits | undefined {
  const limits = svc.deploy?.resources?.limits;
  const reservations = svc.deploy?.resources?.reservations;
  const bytes = (v: string | undefined): number | undefined => (v === undefined ? undefined : Number(v));
  const r: { -readonly [K in keyof ResourceLimits]: ResourceLimits[K] } = {};
  const memory = bytes(svc.mem_limit) ?? bytes(limits?.memory);
  if (memory !== undefined) r.memoryBytes = memory;
  const swap = bytes(svc.memswap_limit);
  if (swap !== undefined) r.memorySwapBytes = swap;
  const reservation = bytes(svc.mem_reservation) ?? bytes(reservations?.memory);
  if (reservation !== undefined) r.memoryReservationBytes = reservation;
  const cpus = svc.cpus ?? limits?.cpus;
  if (cpus !== undefined) r.cpus = cpus;
  if (svc.cpu_shares !== undefined) r.cpuShares = svc.cpu_shares;
  if (svc.cpuset !== undefined) r.cpuset = svc.cpuset;
  const pids = svc.pids_limit ?? limits?.pids;
  if (pids !== undefined) r.pidsLimit = pids;
  Object.assign(r, extraResources(svc));
  return Object.keys(r).length > 0 ? r : undefined;
}

export interface SpecInput {
  readonly project: Project;
  readonly service: string;
  readonly svc: ServiceConfig;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly inheritVolumesFrom?: string | undefined;
}

function parseBytes(s: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$/i.exec(s.trim());
  if (!m) return undefined;
  const mult: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };
  return Math.round(Number(m[1]) * mult[m[2]!.toLowerCase()]!);
}

/** Secrets (default target /run/secrets/<name>) and configs (default /<name>) as files in the container. */
export function fileMounts(project: Project, svc: ServiceConfig): FileMountSpec[] {
  const out: FileMountSpec[] = [];
  const add = (kind: 'secrets' | 'configs', ref: { source: string; target?: string; uid?: string; gid?: string; mode?: string }): void => {
    const def = project[kind]?.[ref.source];
    if (!def || def.external) return; // external ones live in a swarm: nothing to mount
    let target = ref.target ?? (kind === 'secrets' ? ref.source : `/${ref.source}`);
    if (kind === 'secrets' && !target.startsWith('/')) target = `/run/secrets/${target}`;
    const f: { -readonly [K in keyof FileMountSpec]: FileMountSpec[K] } = { target };
    if (def.file !== undefined) f.source = def.file;
    else if (def.content !== undefined || def.environment !== undefined) {
      // `environment:` sources were resolved from the project's environment when it was loaded (project/file-sources.ts).
      f.content =
        inlineContent(ref.source, def, (msg) => {
          throw new UsageError(msg);
        }) ?? '';
    } else return;
    if (ref.mode !== undefined) f.mode = Number.parseInt(String(ref.mode), 8);
    if (ref.uid !== undefined) f.uid = Number(ref.uid);
    if (ref.gid !== undefined) f.gid = Number(ref.gid);
    out.push(f);
  };
  for (const r of svc.secrets ?? []) add('secrets', r);
  for (const r of svc.configs ?? []) add('configs', r);
  return out;
}

/** compose's long-form ports → the runtime port's typed bindings (one conversion, src/project/ports.ts). */
export function portBindings(ports: readonly ServicePortConfig[]): PortBinding[] {
  return ports.map(portMapping);
}

export function containerSpec({ project, service, svc, name, labels, inheritVolumesFrom }: SpecInput): ContainerSpec {
  const spec: { -readonly [K in keyof ContainerSpec]: ContainerSpec[K] } = { name, image: svc.image ?? `${project.name}-${service}`, labels };
  if (svc.command) spec.command = svc.command;
  if (svc.entrypoint) spec.entrypoint = svc.entrypoint;
  const env = Object.entries(svc.environment ?? {})
    .filter((e): e is [string, string] => e[1] !== null)
    .map(([k, v]) => `${k}=${v}`);
  if (env.length > 0) spec.env = env;
  if (svc.working_dir !== undefined) spec.workingDir = svc.working_dir;
  if (svc.user !== undefined) spec.user = svc.user;
  if (svc.hostname !== undefined) spec.hostname = svc.hostname;
  if (svc.domainname !== undefined) spec.domainname = svc.domainname;
  if (svc.tty !== undefined) spec.tty = svc.tty;
  if (svc.stdin_open !== undefined) spec.openStdin = svc.stdin_open;
  if (svc.init !== undefined) spec.init = svc.init;
  if (svc.privileged !== undefined) spec.privileged = svc.privileged;
  if (svc.read_only !== undefined) spec.readOnly = svc.read_only;
  if (svc.cap_add) spec.capAdd = svc.cap_add;
  if (svc.cap_drop) spec.capDrop = svc.cap_drop;
  if (svc.extra_hosts) spec.extraHosts = svc.extra_hosts;
  if (svc.dns) spec.dns = svc.dns;
  if (svc.dns_search) spec.dnsSearch = svc.dns_search;
  if (svc.dns_opt) spec.dnsOptions = svc.dns_opt;
  if (svc.stop_signal !== undefined) spec.stopSignal = svc.stop_signal;
  const grace = ms(svc.stop_grace_period);
  if (grace !== undefined) spec.stopTimeoutSeconds = Math.ceil(grace / 1000);
  if (svc.restart !== undefined) spec.restart = svc.restart;
  if (svc.expose) spec.exposedPorts = svc.expose;
  if (svc.ports) spec.ports = portBindings(svc.ports);
  if (svc.volumes || svc.tmpfs) {
    const mounts: MountSpec[] = [];
    for (const v of svc.volumes ?? []) {
      if (v.type !== 'bind' && v.type !== 'volume' && v.type !== 'tmpfs' && v.type !== 'image') continue;
      let source = v.source;
      if (v.type === 'volume' && source !== undefined) source = volumeName(project.name, source, project.volumes?.[source]);
      const m: { -readonly [K in keyof MountSpec]: MountSpec[K] } = { type: v.type, target: v.target };
      if (source !== undefined && v.type !== 'tmpfs') m.source = source;
      if (v.read_only) m.readOnly = true;
      if (v.type === 'volume' && v.volume?.nocopy) m.noCopy = true;
      // compose creates a missing bind source unless the long syntax says create_host_path: false.
      if (v.type === 'bind' && v.bind?.create_host_path !== false) m.createHostPath = true;
      if (v.type === 'bind' && (v as { 'x-tscompose-overlay'?: boolean })['x-tscompose-overlay'] === true) m.overlay = true;
      if (v.type === 'tmpfs' && v.tmpfs?.size !== undefined) {
        const size = typeof v.tmpfs.size === 'number' ? v.tmpfs.size : parseBytes(String(v.tmpfs.size));
        if (size !== undefined) m.tmpfsSizeBytes = size;
      }
      if (v.type === 'tmpfs' && v.tmpfs?.mode !== undefined) m.tmpfsMode = v.tmpfs.mode;
      const bind = v.type === 'bind' ? (v.bind as { propagation?: string; selinux?: string } | undefined) : undefined;
      if (bind?.propagation) m.propagation = bind.propagation;
      if (bind?.selinux === 'z' || bind?.selinux === 'Z') m.selinux = bind.selinux;
      const subpath = v.type === 'volume' ? (v.volume as { subpath?: string } | undefined)?.subpath : undefined;
      if (subpath) m.subpath = subpath;
      mounts.push(m);
    }
    for (const t of svc.tmpfs ?? []) mounts.push({ type: 'tmpfs', target: t.split(':')[0]! });
    spec.mounts = mounts;
  }
  if (svc.links && svc.links.length > 0) spec.links = svc.links;
  if (svc.volumes_from && svc.volumes_from.length > 0) {
    spec.volumesFrom = svc.volumes_from.map((v) => {
      const [first, ...rest] = v.split(':');
      // `container:NAME[:mode]` names a container; `SERVICE[:mode]` the service's first container.
      if (first === 'container') return rest.join(':');
      const target = project.services[first!];
      return [containerName(project.name, first!, 1, target), ...rest].join(':');
    });
  }
  const files = fileMounts(project, svc);
  if (files.length > 0) spec.files = files;
  if (svc.network_mode !== undefined) {
    // Engines know `container:<name|id>`, not services: join the parent service's first container.
    const parent = networkParent(svc);
    spec.networkMode = parent === undefined ? svc.network_mode : `container:${containerName(project.name, parent, 1, project.services[parent])}`;
  }
  const keys = serviceNetworkKeys(svc);
  if (keys.length > 0) {
    spec.networks = keys.map((key): EndpointSpec => {
      const cfg = svc.networks?.[key] ?? undefined;
      const ep: { -readonly [K in keyof EndpointSpec]: EndpointSpec[K] } = {
        network: networkName(project.name, key, project.networks?.[key]),
        aliases: [service, ...(cfg?.aliases ?? [])],
      };
      if (cfg?.ipv4_address !== undefined) ep.ipv4Address = cfg.ipv4_address;
      if (cfg?.ipv6_address !== undefined) ep.ipv6Address = cfg.ipv6_address;
      if (cfg?.mac_address !== undefined) ep.macAddress = cfg.mac_address;
      if (cfg?.priority !== undefined) ep.priority = cfg.priority;
      if (cfg?.gw_priority !== undefined) ep.gwPriority = cfg.gw_priority;
      // an empty interface_name is none (compose sets the endpoint's ifname option only for a non-empty one)
      if (cfg?.interface_name) ep.interfaceName = cfg.interface_name;
      return ep;
    });
    // compose: the service's mac_address is that of the endpoint the container is created with.
    const mac = svc['mac_address'];
    if (typeof mac === 'string' && mac !== '') {
      const first = spec.networks.map((ep, i) => ({ ep, i })).sort((a, b) => (b.ep.priority ?? 0) - (a.ep.priority ?? 0) || a.i - b.i)[0]!;
      if (first.ep.macAddress === undefined) spec.networks = spec.networks.map((ep, i) => (i === first.i ? { ...ep, macAddress: mac } : ep));
    }
  }
  const resources = resourceLimits(svc);
  if (resources !== undefined) spec.resources = resources;
  if (svc.ulimits)
    spec.ulimits = Object.entries(svc.ulimits).map(([name, u]) =>
      typeof u === 'number' ? { name, soft: u, hard: u } : { name, soft: u.soft ?? u.hard ?? 0, hard: u.hard ?? u.soft ?? 0 },
    );
  if (svc.sysctls) spec.sysctls = svc.sysctls;
  if (svc.devices)
    spec.devices = svc.devices.map((d) => ({
      source: d.source,
      target: d.target ?? d.source,
      ...(d.permissions === undefined ? {} : { permissions: d.permissions }),
    }));
  if (svc.shm_size !== undefined) spec.shmSizeBytes = Number(svc.shm_size);
  if (svc.security_opt && svc.security_opt.length > 0)
    spec.security = parseSecurityOpts(svc.security_opt, labels[LABEL_WORKING_DIR] ?? process.cwd());
  if (typeof svc.userns_mode === 'string' && svc.userns_mode !== '') spec.usernsMode = svc.userns_mode;
  Object.assign(spec, hostFields(project, svc));
  const hc = healthcheck(svc);
  if (hc !== undefined) spec.healthcheck = hc;
  if (inheritVolumesFrom !== undefined) spec.inheritVolumesFrom = inheritVolumesFrom;
  return spec;
}
