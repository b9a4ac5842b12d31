/**
 * The Engine API's swarm objects, as `GET /services`, `/tasks`, `/nodes`, `/networks`, `/secrets`, `/configs` and
 * `/info` return them (moby's api/types/swarm), mapped onto the Swarm port's values (../port.ts). Only the fields
 * read are typed; the Engine sends more.
 */
import type { ServiceSpec } from '../api-types.js';
import type { SwarmInfo, SwarmNetwork, SwarmNode, SwarmObject, SwarmService, SwarmTask, TaskState } from '../port.js';

interface Version {
  readonly Index?: number;
}

export interface EngineService {
  readonly ID: string;
  readonly Version?: Version;
  readonly CreatedAt?: string;
  readonly UpdatedAt?: string;
  readonly Spec: ServiceSpec;
  readonly PreviousSpec?: ServiceSpec;
  readonly UpdateStatus?: { readonly State?: string; readonly Message?: string };
}

export interface EngineTask {
  readonly ID: string;
  readonly Version?: Version;
  readonly CreatedAt?: string;
  readonly UpdatedAt?: string;
  readonly ServiceID: string;
  readonly NodeID?: string;
  readonly Slot?: number;
  readonly DesiredState?: string;
  readonly SpecVersion?: Version;
  readonly Status?: {
    readonly Timestamp?: string;
    readonly State?: string;
    readonly Message?: string;
    readonly Err?: string;
    readonly ContainerStatus?: { readonly ContainerID?: string; readonly ExitCode?: number };
  };
}

export interface EngineNode {
  readonly ID: string;
  readonly Spec?: { readonly Role?: string; readonly Availability?: string; readonly Labels?: Record<string, string> };
  readonly Description?: { readonly Hostname?: string };
  readonly Status?: { readonly State?: string; readonly Addr?: string };
  readonly ManagerStatus?: { readonly Addr?: string };
}

export interface EngineNetwork {
  readonly Id: string;
  readonly Name: string;
  readonly Driver?: string;
  readonly Scope?: string;
  readonly Labels?: Record<string, string> | null;
}

export interface EngineObject {
  readonly ID: string;
  readonly CreatedAt?: string;
  readonly Spec?: { readonly Name?: string; readonly Labels?: Record<string, string> | null };
}

export interface EngineInfo {
  readonly Swarm?: {
    readonly NodeID?: string;
    readonly LocalNodeState?: string;
    readonly ControlAvailable?: boolean;
    readonly Nodes?: number;
    readonly Managers?: number;
    readonly Cluster?: { readonly ID?: string };
  };
}

const nonEmpty = (s: string | undefined): string | undefined => (s === undefined || s === '' ? undefined : s);

export function toService(s: EngineService): SwarmService {
  return {
    id: s.ID,
    version: s.Version?.Index ?? 0,
    spec: s.Spec,
    previousSpec: s.PreviousSpec,
    createdAt: s.CreatedAt ?? '',
    updatedAt: s.UpdatedAt ?? s.CreatedAt ?? '',
    updateState: nonEmpty(s.UpdateStatus?.State),
    updateMessage: nonEmpty(s.UpdateStatus?.Message),
  };
}

export function toTask(t: EngineTask): SwarmTask {
  const st = t.Status ?? {};
  const container = st.ContainerStatus;
  return {
    id: t.ID,
    serviceId: t.ServiceID,
    nodeId: nonEmpty(t.NodeID),
    slot: t.Slot !== undefined && t.Slot > 0 ? t.Slot : undefined,
    desiredState: (t.DesiredState ?? 'new') as TaskState,
    state: (st.State ?? 'new') as TaskState,
    message: st.Message ?? '',
    error: nonEmpty(st.Err),
    exitCode: container?.ContainerID ? container.ExitCode : undefined,
    containerId: nonEmpty(container?.ContainerID),
    updatedAt: st.Timestamp ?? t.UpdatedAt ?? t.CreatedAt ?? '',
    specVersion: t.SpecVersion?.Index,
  };
}

/** An RFC 3339 UTC time with its fraction padded to nanoseconds, so that strings compare as times. */
export function sortableTime(ts: string): string {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(ts);
  return m ? `${m[1]!}.${(m[2] ?? '').padEnd(9, '0')}Z` : ts;
}

/** Newest first per slot (global services: per node), slots and services in a stable order. */
export function sortTasks(tasks: readonly EngineTask[]): EngineTask[] {
  const key = (t: EngineTask): string => `${t.ServiceID}\0${t.Slot ? String(t.Slot).padStart(8, '0') : (t.NodeID ?? '')}`;
  const created = (t: EngineTask): string => sortableTime(t.CreatedAt ?? '');
  return [...tasks].sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    if (ka !== kb) return ka < kb ? -1 : 1;
    const ca = created(a);
    const cb = created(b);
    if (ca !== cb) return ca < cb ? 1 : -1;
    return (b.Version?.Index ?? 0) - (a.Version?.Index ?? 0);
  });
}

export function toNode(n: EngineNode): SwarmNode {
  const address = n.Status?.Addr && n.Status.Addr !== '0.0.0.0' ? n.Status.Addr : n.ManagerStatus?.Addr?.replace(/:\d+$/, '');
  return {
    id: n.ID,
    hostname: n.Description?.Hostname ?? '',
    role: n.Spec?.Role === 'manager' ? 'manager' : 'worker',
    availability: (n.Spec?.Availability ?? 'active') as SwarmNode['availability'],
    state: (n.Status?.State ?? 'unknown') as SwarmNode['state'],
    address: nonEmpty(address),
    labels: n.Spec?.Labels ?? {},
  };
}

export function toNetwork(n: EngineNetwork): SwarmNetwork {
  return { id: n.Id, name: n.Name, driver: n.Driver ?? '', scope: n.Scope ?? '', labels: n.Labels ?? {} };
}

export function toObject(o: EngineObject): SwarmObject {
  return { id: o.ID, name: o.Spec?.Name ?? '', labels: o.Spec?.Labels ?? {}, createdAt: o.CreatedAt ?? '' };
}

/** undefined unless the engine is an active member of a swarm (`inactive`, `pending`, `error`, `locked`). */
export function toSwarmInfo(info: EngineInfo): SwarmInfo | undefined {
  const s = info.Swarm;
  if (!s || s.LocalNodeState !== 'active') return undefined;
  return {
    nodeId: s.NodeID ?? '',
    clusterId: s.Cluster?.ID ?? '',
    isManager: s.ControlAvailable === true,
    nodes: s.Nodes ?? 0,
    managers: s.Managers ?? 0,
  };
}

/** `filters` for a list call: `label=k=v` for each label. */
export function labelFilters(labels: Readonly<Record<string, string>> | undefined, extra: Record<string, string[]> = {}): string | undefined {
  const f: Record<string, string[]> = { ...extra };
  const l = Object.entries(labels ?? {}).map(([k, v]) => `${k}=${v}`);
  if (l.length) f['label'] = l;
  return Object.keys(f).length ? JSON.stringify(f) : undefined;
}
