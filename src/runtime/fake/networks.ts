/** The fake's networks and volumes (Docker's answers: name conflicts, in-use conflicts, idempotent volume create). */
import { ConflictError, NotFoundError } from '../errors.js';
import {
  matchesLabels,
  type EndpointSpec,
  type ListOptions,
  type NetworkInfo,
  type NetworkSpec,
  type VolumeInfo,
  type VolumeSpec,
} from '../runtime.js';
import type { FakeNetwork, FakeState } from './state.js';

export function networkInfo(s: FakeState, n: FakeNetwork): NetworkInfo {
  const containers = [...s.containers.values()].filter((c) => [...c.networks.values()].some((e) => e.networkId === n.info.id)).map((c) => c.id);
  return { ...n.info, labels: { ...n.info.labels }, containers };
}

export function listNetworks(s: FakeState, options: ListOptions): NetworkInfo[] {
  return [...s.networks.values()].filter((n) => matchesLabels(n.info.labels, options.labels)).map((n) => networkInfo(s, n));
}

export function createNetwork(s: FakeState, spec: NetworkSpec): { id: string } {
  if (s.find(s.networks, spec.name, (x) => x.info.name)) throw new ConflictError('network', spec.name, 'already exists');
  const id = s.nextId('n');
  s.networks.set(id, {
    info: {
      id,
      name: spec.name,
      driver: spec.driver ?? 'bridge',
      labels: { ...spec.labels },
      internal: spec.internal ?? false,
      attachable: spec.attachable ?? false,
    },
  });
  s.emitEvent('network', 'create', id, { ...spec.labels, name: spec.name, type: spec.driver ?? 'bridge' });
  return { id };
}

export function removeNetwork(s: FakeState, idOrName: string): void {
  const n = s.network(idOrName);
  if (networkInfo(s, n).containers.length > 0) throw new ConflictError('network', idOrName, 'has active endpoints');
  s.networks.delete(n.info.id);
  s.emitEvent('network', 'destroy', n.info.id, { ...n.info.labels, name: n.info.name, type: n.info.driver });
}

export function connectNetwork(s: FakeState, network: string, container: string, endpoint?: Omit<EndpointSpec, 'network'>): void {
  const n = s.network(network);
  const c = s.container(container);
  if (c.networks.has(n.info.name)) throw new ConflictError('container', container, `already connected to ${n.info.name}`);
  c.networks.set(n.info.name, { networkId: n.info.id, aliases: [...(endpoint?.aliases ?? [])] });
  s.emitEvent('network', 'connect', n.info.id, { ...n.info.labels, name: n.info.name, container: c.id, type: n.info.driver });
}

export function disconnectNetwork(s: FakeState, network: string, container: string): void {
  const n = s.network(network);
  const c = s.container(container);
  if (!c.networks.delete(n.info.name)) throw new NotFoundError('network', `${n.info.name} (on ${container})`);
  s.emitEvent('network', 'disconnect', n.info.id, { ...n.info.labels, name: n.info.name, container: c.id, type: n.info.driver });
}

export function listVolumes(s: FakeState, options: ListOptions): VolumeInfo[] {
  return [...s.volumes.values()].filter((v) => matchesLabels(v.labels, options.labels)).map((v) => ({ ...v }));
}

export function inspectVolume(s: FakeState, name: string): VolumeInfo {
  const v = s.volumes.get(name);
  if (!v) throw new NotFoundError('volume', name);
  return { ...v };
}

export function createVolume(s: FakeState, spec: VolumeSpec): VolumeInfo {
  const existing = s.volumes.get(spec.name);
  if (existing) return { ...existing }; // Docker's volume create is idempotent
  const v: VolumeInfo = { name: spec.name, driver: spec.driver ?? 'local', labels: { ...spec.labels } };
  s.volumes.set(spec.name, v);
  s.emitEvent('volume', 'create', spec.name, { ...spec.labels, driver: v.driver });
  return { ...v };
}

export function removeVolume(s: FakeState, name: string, force: boolean): void {
  const v = s.volumes.get(name);
  if (!v) throw new NotFoundError('volume', name);
  const used = [...s.containers.values()].some((c) => c.mounts.some((m) => m.type === 'volume' && m.source === name));
  if (used && !force) throw new ConflictError('volume', name, 'volume is in use');
  s.volumes.delete(name);
  s.emitEvent('volume', 'destroy', name, { ...v.labels, driver: v.driver });
}
