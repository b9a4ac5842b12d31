/**
 * Engine answers → the runtime port's neutral DTOs: container summaries and inspects, networks, volumes, images and
 * events. Pure; inputs are typed loosely: the engine omits or nulls fields freely. The other way, DTOs → request
 * bodies, is ./convert.ts.
 */
import type {
  ContainerInspect,
  ContainerStatus,
  EndpointInfo,
  HealthStatus,
  ImageInfo,
  ImageSummary,
  Labels,
  MountInfo,
  NetworkInfo,
  PortProtocol,
  PublishedPort,
  RuntimeEvent,
  VolumeInfo,
} from '../runtime.js';

type Nullable<T> = T | null | undefined;

/** Docker's `tcp`/`udp`/`sctp` (anything else is reported as tcp). */
export function toProtocol(s: Nullable<string>): PortProtocol {
  const p = (s ?? '').toLowerCase();
  return p === 'udp' || p === 'sctp' ? p : 'tcp';
}

export interface RawContainerSummary {
  Id: string;
  Names?: Nullable<string[]>;
  Image?: Nullable<string>;
  ImageID?: Nullable<string>;
  Labels?: Nullable<Record<string, string>>;
  State?: Nullable<string>;
  Created?: Nullable<number>;
  Ports?: Nullable<{ PrivatePort: number; PublicPort?: number; Type: string; IP?: string }[]>;
  NetworkSettings?: Nullable<{ Networks?: Nullable<Record<string, RawEndpoint>> }>;
  Mounts?: Nullable<RawMount[]>;
}

interface RawEndpoint {
  NetworkID?: Nullable<string>;
  Aliases?: Nullable<string[]>;
  DNSNames?: Nullable<string[]>;
  IPAddress?: Nullable<string>;
  IPAMConfig?: Nullable<{ IPv4Address?: string; IPv6Address?: string }>;
  MacAddress?: Nullable<string>;
}

interface RawMount {
  Type?: Nullable<string>;
  Name?: Nullable<string>;
  Source?: Nullable<string>;
  Destination?: Nullable<string>;
  RW?: Nullable<boolean>;
}

const STATUSES: readonly ContainerStatus[] = ['created', 'running', 'paused', 'restarting', 'removing', 'exited', 'dead'];

export function toStatus(state: Nullable<string>): ContainerStatus {
  return STATUSES.includes(state as ContainerStatus) ? (state as ContainerStatus) : 'dead';
}

function toEndpoints(networks: Nullable<Record<string, RawEndpoint>>): Record<string, EndpointInfo> {
  const out: Record<string, EndpointInfo> = {};
  for (const name of Object.keys(networks ?? {}).sort()) {
    const e = networks![name]!;
    const info: { networkId: string; aliases: string[]; ipAddress?: string } = { networkId: e.NetworkID ?? '', aliases: [...(e.Aliases ?? [])] };
    if (e.IPAddress) info.ipAddress = e.IPAddress;
    out[name] = info;
  }
  return out;
}

function toMountInfo(m: RawMount): MountInfo {
  const type = m.Type === 'bind' || m.Type === 'volume' || m.Type === 'tmpfs' || m.Type === 'image' ? m.Type : 'volume';
  return { type, source: (type === 'volume' ? m.Name : m.Source) ?? '', target: m.Destination ?? '', readOnly: m.RW === false };
}

export function toContainerSummary(
  c: RawContainerSummary,
): { -readonly [K in keyof ContainerInspect]?: ContainerInspect[K] } & Omit<ContainerInspect, 'exitCode'> {
  const published: PublishedPort[] = [];
  for (const p of c.Ports ?? []) {
    if (p.PublicPort === undefined) continue;
    const pp: { -readonly [K in keyof PublishedPort]: PublishedPort[K] } = {
      containerPort: p.PrivatePort,
      protocol: toProtocol(p.Type),
      hostPort: p.PublicPort,
    };
    if (p.IP) pp.hostIp = p.IP;
    published.push(pp);
  }
  return {
    id: c.Id,
    name: (c.Names?.[0] ?? '').replace(/^\//, ''),
    image: c.Image ?? '',
    imageId: c.ImageID ?? '',
    labels: { ...(c.Labels ?? {}) },
    status: toStatus(c.State),
    created: (c.Created ?? 0) * 1000,
    networks: toEndpoints(c.NetworkSettings?.Networks),
    mounts: (c.Mounts ?? []).map(toMountInfo),
    publishedPorts: published,
  };
}

export interface RawContainerInspect {
  Id: string;
  Name?: Nullable<string>;
  Path?: Nullable<string>;
  Args?: Nullable<string[]>;
  Image?: Nullable<string>;
  Created?: Nullable<string>;
  State?: Nullable<{
    Status?: Nullable<string>;
    ExitCode?: Nullable<number>;
    StartedAt?: Nullable<string>;
    FinishedAt?: Nullable<string>;
    Health?: Nullable<{ Status?: Nullable<string> }>;
  }>;
  Config?: Nullable<{
    Image?: Nullable<string>;
    Labels?: Nullable<Record<string, string>>;
    Tty?: Nullable<boolean>;
  }>;
  NetworkSettings?: Nullable<{
    Networks?: Nullable<Record<string, RawEndpoint>>;
    Ports?: Nullable<Record<string, Nullable<{ HostIp?: string; HostPort?: string }[]>>>;
  }>;
  Mounts?: Nullable<RawMount[]>;
}

function toHealth(s: Nullable<string>): HealthStatus | undefined {
  return s === 'starting' || s === 'healthy' || s === 'unhealthy' ? s : undefined;
}

const dockerZeroTime = (t: Nullable<string>): boolean => !t || t.startsWith('0001-01-01');

/** Inspect → ContainerInspect. */
export function toContainerInspect(c: RawContainerInspect): ContainerInspect {
  const cfg = c.Config ?? {};
  const state = c.State ?? {};
  const name = (c.Name ?? '').replace(/^\//, '');
  const networks = toEndpoints(c.NetworkSettings?.Networks);

  const published: PublishedPort[] = [];
  for (const [key, list] of Object.entries(c.NetworkSettings?.Ports ?? {})) {
    const [port = '0', protocol = 'tcp'] = key.split('/');
    for (const b of list ?? []) {
      if (!b.HostPort) continue;
      const pp: { -readonly [K in keyof PublishedPort]: PublishedPort[K] } = {
        containerPort: Number(port),
        protocol: toProtocol(protocol),
        hostPort: Number(b.HostPort),
      };
      if (b.HostIp) pp.hostIp = b.HostIp;
      published.push(pp);
    }
  }

  const out: { -readonly [K in keyof ContainerInspect]: ContainerInspect[K] } = {
    id: c.Id,
    name,
    image: cfg.Image ?? '',
    imageId: c.Image ?? '',
    labels: { ...(cfg.Labels ?? {}) },
    status: toStatus(state.Status),
    created: c.Created ? Date.parse(c.Created) : 0,
    networks,
    mounts: (c.Mounts ?? []).map(toMountInfo),
    publishedPorts: published,
    exitCode: state.ExitCode ?? 0,
  };
  const h = toHealth(state.Health?.Status);
  if (h !== undefined) out.health = h;
  if (!dockerZeroTime(state.StartedAt)) out.startedAt = state.StartedAt!;
  if (!dockerZeroTime(state.FinishedAt)) out.finishedAt = state.FinishedAt!;
  if (c.Path) out.command = [c.Path, ...(c.Args ?? [])];
  return out;
}

export interface RawNetwork {
  Id: string;
  Name: string;
  Driver?: Nullable<string>;
  Labels?: Nullable<Record<string, string>>;
  Internal?: Nullable<boolean>;
  Attachable?: Nullable<boolean>;
  Containers?: Nullable<Record<string, unknown>>;
}

export function toNetworkInfo(n: RawNetwork): NetworkInfo {
  return {
    id: n.Id,
    name: n.Name,
    driver: n.Driver ?? '',
    labels: { ...(n.Labels ?? {}) },
    internal: n.Internal ?? false,
    attachable: n.Attachable ?? false,
    containers: Object.keys(n.Containers ?? {}).sort(),
  };
}

export function toVolumeInfo(v: {
  Name: string;
  Driver?: Nullable<string>;
  Labels?: Nullable<Record<string, string>>;
  Mountpoint?: Nullable<string>;
}): VolumeInfo {
  const out: { -readonly [K in keyof VolumeInfo]: VolumeInfo[K] } = { name: v.Name, driver: v.Driver ?? 'local', labels: { ...(v.Labels ?? {}) } };
  if (v.Mountpoint) out.mountpoint = v.Mountpoint;
  return out;
}

export function toImageInfo(i: { Id: string; RepoTags?: Nullable<string[]>; RepoDigests?: Nullable<string[]> }): ImageInfo {
  return {
    id: i.Id,
    repoTags: (i.RepoTags ?? []).filter((t) => t !== '<none>:<none>'),
    repoDigests: (i.RepoDigests ?? []).filter((d) => d !== '<none>@<none>'),
  };
}

export function toImageSummary(i: {
  Id: string;
  RepoTags?: Nullable<string[]>;
  RepoDigests?: Nullable<string[]>;
  Labels?: Nullable<Record<string, string>>;
  Created?: Nullable<number>;
  Size?: Nullable<number>;
}): ImageSummary {
  return { ...toImageInfo(i), labels: { ...(i.Labels ?? {}) }, created: (i.Created ?? 0) * 1000, sizeBytes: i.Size ?? 0 };
}

/** One line of `GET /events` → RuntimeEvent. */
export function toRuntimeEvent(e: {
  Type?: string;
  Action?: string;
  status?: string;
  id?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
  time?: number;
  timeNano?: number;
}): RuntimeEvent {
  const attributes: Labels = { ...(e.Actor?.Attributes ?? {}) };
  return {
    type: e.Type ?? '',
    action: e.Action ?? e.status ?? '',
    id: e.Actor?.ID ?? e.id ?? '',
    attributes,
    time: e.timeNano !== undefined ? Math.floor(e.timeNano / 1e6) : (e.time ?? 0) * 1000,
  };
}
