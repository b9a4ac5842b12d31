/**
 * ContainerSpec → Docker Engine API, the keys ./convert.ts's toCreateBody leaves to this module: namespaces
 * (PidMode, IpcMode, UTSMode, CgroupnsMode), groups, OOM, cgroup parent, OCI runtime, storage options, LogConfig,
 * device cgroup rules and requests (gpus), annotations, isolation, the rarer resources (swappiness, CFS and real-time
 * periods, block IO) and the mount/endpoint options (bind propagation and SELinux label, volume subpath, gateway
 * priority, interface name), with the field names docker compose sends (compose `pkg/compose/create.go`). Pure.
 */
import type Docker from 'dockerode';
import type { BlkioDeviceSpec, ContainerSpec, EndpointSpec, MountSpec } from '../runtime.js';

/** Fields of Docker's HostConfig dockerode's typings lack (API 1.41+). */
type HostConfigMore = Docker.HostConfig & {
  CgroupnsMode?: string;
  Annotations?: Record<string, string>;
  Isolation?: string;
  DeviceRequests?: { Driver?: string; Count?: number; DeviceIDs?: string[]; Capabilities: string[][]; Options?: Record<string, string> }[];
};

const devices = (
  list: readonly BlkioDeviceSpec[] | undefined,
  field: 'Rate' | 'Weight',
): { Path: string; Rate?: number; Weight?: number }[] | undefined => list?.map((d) => ({ Path: d.path, [field]: d.value }));

/** The HostConfig fields of the spec's host-level keys and extra resources (set in place). */
export function applyHostFields(spec: ContainerSpec, hostConfig: Docker.HostConfig): void {
  const host = hostConfig as HostConfigMore;
  if (spec.pidMode !== undefined) host.PidMode = spec.pidMode;
  if (spec.ipcMode !== undefined) host.IpcMode = spec.ipcMode;
  if (spec.utsMode !== undefined) host.UTSMode = spec.utsMode;
  if (spec.cgroupnsMode !== undefined) host.CgroupnsMode = spec.cgroupnsMode;
  if (spec.cgroupParent !== undefined) host.CgroupParent = spec.cgroupParent;
  if (spec.groupAdd) host.GroupAdd = [...spec.groupAdd];
  if (spec.oomScoreAdj !== undefined) host.OomScoreAdj = spec.oomScoreAdj;
  if (spec.oomKillDisable !== undefined) host.OomKillDisable = spec.oomKillDisable;
  if (spec.runtime !== undefined) host.Runtime = spec.runtime;
  if (spec.storageOpt) host.StorageOpt = { ...spec.storageOpt };
  if (spec.logging) host.LogConfig = { Type: spec.logging.driver ?? '', Config: { ...(spec.logging.options ?? {}) } };
  if (spec.deviceCgroupRules) host.DeviceCgroupRules = [...spec.deviceCgroupRules];
  if (spec.deviceRequests)
    host.DeviceRequests = spec.deviceRequests.map((d) => ({
      ...(d.driver !== undefined ? { Driver: d.driver } : {}),
      ...(d.count !== undefined ? { Count: d.count } : {}),
      ...(d.deviceIds ? { DeviceIDs: [...d.deviceIds] } : {}),
      Capabilities: d.capabilities.map((c) => [...c]),
      ...(d.options ? { Options: { ...d.options } } : {}),
    }));
  if (spec.annotations) host.Annotations = { ...spec.annotations };
  if (spec.isolation !== undefined) host.Isolation = spec.isolation;
  const r = spec.resources;
  if (!r) return;
  if (r.memorySwappiness !== undefined) host.MemorySwappiness = r.memorySwappiness;
  if (r.cpuPeriod !== undefined) host.CpuPeriod = r.cpuPeriod;
  if (r.cpuQuota !== undefined) host.CpuQuota = r.cpuQuota;
  if (r.cpuRtPeriod !== undefined) host.CpuRealtimePeriod = r.cpuRtPeriod;
  if (r.cpuRtRuntime !== undefined) host.CpuRealtimeRuntime = r.cpuRtRuntime;
  const b = r.blkio;
  if (b) {
    if (b.weight !== undefined) host.BlkioWeight = b.weight;
    const set = <K extends keyof Docker.HostConfig>(key: K, v: unknown): void => {
      if (v !== undefined) (host as Record<string, unknown>)[key] = v;
    };
    set('BlkioWeightDevice', devices(b.weightDevice, 'Weight'));
    set('BlkioDeviceReadBps', devices(b.deviceReadBps, 'Rate'));
    set('BlkioDeviceWriteBps', devices(b.deviceWriteBps, 'Rate'));
    set('BlkioDeviceReadIOps', devices(b.deviceReadIops, 'Rate'));
    set('BlkioDeviceWriteIOps', devices(b.deviceWriteIops, 'Rate'));
  }
}

/** A bind as a `Binds` entry: `src:dst[:ro,rshared,z]` (the docker CLI's `-v` options). */
export function bindText(m: MountSpec): string {
  const opts = [...(m.readOnly ? ['ro'] : []), ...(m.propagation ? [m.propagation] : []), ...(m.selinux ? [m.selinux] : [])];
  return `${m.source ?? ''}:${m.target}${opts.length > 0 ? `:${opts.join(',')}` : ''}`;
}

/** The options of a `Mounts` entry beyond type, source, target and read-only: bind propagation, volume subpath. */
export function mountOptions(m: MountSpec, ms: Docker.MountSettings): void {
  if (m.type === 'bind' && m.propagation) ms.BindOptions = { Propagation: m.propagation as Docker.MountPropagation };
  if (m.type === 'volume' && m.subpath)
    ms.VolumeOptions = { ...(ms.VolumeOptions ?? {}), Subpath: m.subpath } as Docker.MountSettings['VolumeOptions'];
}

/** Endpoint options beyond aliases, addresses and MAC: gateway priority (API 1.48) and interface name (Engine 28). */
export function endpointOptions(ep: Omit<EndpointSpec, 'network'>, out: Docker.EndpointSettings): void {
  const settings = out as Docker.EndpointSettings & { GwPriority?: number; DriverOpts?: Record<string, string> };
  if (ep.gwPriority !== undefined) settings.GwPriority = ep.gwPriority;
  if (ep.interfaceName !== undefined)
    settings.DriverOpts = { ...(settings.DriverOpts ?? {}), 'com.docker.network.endpoint.ifname': ep.interfaceName };
}
