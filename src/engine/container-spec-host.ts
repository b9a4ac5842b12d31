/**
 * The host-level service keys of a ContainerSpec (namespaces, groups, OOM, cgroups, logging, device requests,
 * storage, annotations) and the resource keys beyond ./container-spec.ts's limits (swappiness, CFS and real-time
 * periods, block IO), as docker compose passes them to the Engine (compose `pkg/compose/create.go`: getCreateConfigs,
 * getDeployResources). `service:X` namespace modes join X's first container, as `network_mode: service:X` does.
 * What each runtime does with them is in ./key-support.ts.
 */
import type { Project, ServiceConfig } from '../project/types.js';
import type { BlkioDeviceSpec, BlkioSpec, ContainerSpec, DeviceRequestSpec, LoggingSpec, ResourceLimits } from '../runtime/runtime.js';
import { parseDuration } from '../util/duration.js';
import { containerName } from './labels.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** `service:X` → `container:<X's first container>`; other modes as given; empty or not a string = absent. */
export function namespaceMode(project: Project, mode: unknown): string | undefined {
  if (typeof mode !== 'string' || mode === '') return undefined;
  if (!mode.startsWith('service:')) return mode;
  const parent = mode.slice('service:'.length);
  return `container:${containerName(project.name, parent, 1, project.services[parent])}`;
}

const num = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : undefined;

/** A byte size as compose-go reads one (go-units RAMInBytes: `1mb`, `512k`, `1.5g`, a plain number). */
export function parseByteSize(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') return undefined;
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)i?b?$/i.exec(v.trim());
  if (!m) return undefined;
  const mult: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };
  return Math.round(Number(m[1]) * mult[m[2]!.toLowerCase()]!);
}

/** cpu_rt_period / cpu_rt_runtime: microseconds, or a Go duration (`400ms`). */
function micros(v: unknown): number | undefined {
  const n = num(v);
  if (n !== undefined) return n;
  if (typeof v !== 'string') return undefined;
  const ns = parseDuration(v);
  return ns === undefined ? undefined : Math.round(ns / 1000);
}

function blkioDevices(list: unknown, field: 'weight' | 'rate'): BlkioDeviceSpec[] | undefined {
  if (!Array.isArray(list)) return undefined;
  const out: BlkioDeviceSpec[] = [];
  for (const e of list as { path?: unknown; weight?: unknown; rate?: unknown }[]) {
    const value = field === 'weight' ? num(e.weight) : parseByteSize(e.rate);
    if (typeof e.path === 'string' && value !== undefined) out.push({ path: e.path, value });
  }
  return out.length > 0 ? out : undefined;
}

/** compose `blkio_config` → BlkioSpec (rates of `device_*_bps` may be sizes: `1mb`). */
export function blkioOf(cfg: unknown): BlkioSpec | undefined {
  if (cfg === null || typeof cfg !== 'object') return undefined;
  const c = cfg as Record<string, unknown>;
  const b: Mutable<BlkioSpec> = {};
  const weight = num(c['weight']);
  if (weight !== undefined) b.weight = weight;
  const pairs = [
    ['weightDevice', 'weight_device', 'weight'],
    ['deviceReadBps', 'device_read_bps', 'rate'],
    ['deviceWriteBps', 'device_write_bps', 'rate'],
    ['deviceReadIops', 'device_read_iops', 'rate'],
    ['deviceWriteIops', 'device_write_iops', 'rate'],
  ] as const;
  for (const [to, from, field] of pairs) {
    const list = blkioDevices(c[from], field);
    if (list) b[to] = list;
  }
  return Object.keys(b).length > 0 ? b : undefined;
}

/** The resource keys ./container-spec.ts's resourceLimits does not cover. */
export function extraResources(svc: ServiceConfig): Partial<ResourceLimits> {
  const r: Mutable<Partial<ResourceLimits>> = {};
  const swappiness = num(svc['mem_swappiness']);
  if (swappiness !== undefined) r.memorySwappiness = swappiness;
  const period = num(svc['cpu_period']);
  if (period !== undefined) r.cpuPeriod = period;
  const quota = num(svc['cpu_quota']);
  if (quota !== undefined) r.cpuQuota = quota;
  const rtPeriod = micros(svc['cpu_rt_period']);
  if (rtPeriod !== undefined) r.cpuRtPeriod = rtPeriod;
  const rtRuntime = micros(svc['cpu_rt_runtime']);
  if (rtRuntime !== undefined) r.cpuRtRuntime = rtRuntime;
  const blkio = blkioOf(svc['blkio_config']);
  if (blkio) r.blkio = blkio;
  return r;
}

function stringMap(v: unknown): Record<string, string> | undefined {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) if (x !== null && x !== undefined) out[k] = String(x);
  return Object.keys(out).length > 0 ? out : undefined;
}

function logging(svc: ServiceConfig): LoggingSpec | undefined {
  const l = svc.logging;
  if (!l) return undefined;
  const out: Mutable<LoggingSpec> = {};
  if (l.driver !== undefined && l.driver !== '') out.driver = l.driver;
  const options = stringMap(l.options);
  if (options) out.options = options;
  return Object.keys(out).length > 0 ? out : undefined;
}

interface ComposeDeviceRequest {
  readonly driver?: string;
  readonly count?: number | string;
  readonly device_ids?: readonly string[];
  readonly capabilities?: readonly string[];
  readonly options?: Record<string, unknown>;
}

function deviceRequest(d: ComposeDeviceRequest, defaultCaps: readonly string[]): DeviceRequestSpec {
  const r: Mutable<DeviceRequestSpec> = { capabilities: [d.capabilities && d.capabilities.length > 0 ? [...d.capabilities] : [...defaultCaps]] };
  if (d.driver !== undefined) r.driver = d.driver;
  if (d.count === 'all' || d.count === -1) r.count = -1;
  else if (num(d.count) !== undefined) r.count = num(d.count)!;
  else if (!d.device_ids || d.device_ids.length === 0) r.count = defaultCaps.length > 0 ? -1 : 0;
  if (d.device_ids && d.device_ids.length > 0) r.deviceIds = [...d.device_ids];
  const options = stringMap(d.options);
  if (options) r.options = options;
  return r;
}

/** compose `gpus` (`all` or a list) and `deploy.resources.reservations.devices` → Docker's DeviceRequests. */
export function deviceRequests(svc: ServiceConfig): DeviceRequestSpec[] | undefined {
  const out: DeviceRequestSpec[] = [];
  const gpus = svc['gpus'];
  if (gpus === 'all') out.push({ count: -1, capabilities: [['gpu']] });
  else if (Array.isArray(gpus)) for (const g of gpus as ComposeDeviceRequest[]) out.push(deviceRequest(g, ['gpu']));
  const reserved = (svc.deploy?.resources?.reservations as { devices?: ComposeDeviceRequest[] } | undefined)?.devices;
  for (const d of reserved ?? []) out.push(deviceRequest(d, []));
  return out.length > 0 ? out : undefined;
}

/** The host-level fields of a service's ContainerSpec (see the module comment). */
export function hostFields(project: Project, svc: ServiceConfig): Partial<ContainerSpec> {
  const spec: Mutable<Partial<ContainerSpec>> = {};
  const pid = namespaceMode(project, svc.pid);
  if (pid !== undefined) spec.pidMode = pid;
  const ipc = namespaceMode(project, svc.ipc);
  if (ipc !== undefined) spec.ipcMode = ipc;
  const uts = namespaceMode(project, svc.uts);
  if (uts !== undefined) spec.utsMode = uts;
  if (typeof svc['cgroup'] === 'string' && svc['cgroup'] !== '') spec.cgroupnsMode = svc['cgroup'];
  if (typeof svc['cgroup_parent'] === 'string' && svc['cgroup_parent'] !== '') spec.cgroupParent = svc['cgroup_parent'];
  const groups = svc['group_add'];
  if (Array.isArray(groups) && groups.length > 0) spec.groupAdd = groups.map(String);
  const oomScoreAdj = num(svc['oom_score_adj']);
  if (oomScoreAdj !== undefined) spec.oomScoreAdj = oomScoreAdj;
  if (svc['oom_kill_disable'] === true) spec.oomKillDisable = true;
  if (typeof svc['runtime'] === 'string' && svc['runtime'] !== '') spec.runtime = svc['runtime'];
  const storageOpt = stringMap(svc['storage_opt']);
  if (storageOpt) spec.storageOpt = storageOpt;
  const log = logging(svc);
  if (log) spec.logging = log;
  const rules = svc['device_cgroup_rules'];
  if (Array.isArray(rules) && rules.length > 0) spec.deviceCgroupRules = rules.map(String);
  const requests = deviceRequests(svc);
  if (requests) spec.deviceRequests = requests;
  const annotations = stringMap(svc.annotations);
  if (annotations) spec.annotations = annotations;
  if (typeof svc['isolation'] === 'string' && svc['isolation'] !== '') spec.isolation = svc['isolation'];
  return spec;
}
