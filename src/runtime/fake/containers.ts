/**
 * The fake's container lifecycle: create, start, stop, kill, remove, rename, restart, pause, wait, top. Docker's
 * answers where the engine relies on them: name conflicts, NotModified on start/stop, removing a running container
 * needs `force`, the image and networks must exist at create time.
 */
import { ConflictError, NotFoundError, NotModifiedError } from '../errors.js';
import {
  matchesLabels,
  type ContainerInspect,
  type ContainerSpec,
  type EndpointInfo,
  type ListContainersOptions,
  type MountInfo,
  type ProcessList,
  type WaitOptions,
} from '../runtime.js';
import type { FakeContainer, FakeState } from './state.js';

export function listContainers(s: FakeState, options: ListContainersOptions): ContainerInspect[] {
  return [...s.containers.values()]
    .filter((c) => matchesLabels(c.spec.labels, options.labels) && (options.all !== false || c.status === 'running'))
    .sort((a, b) => a.created - b.created)
    .map((c) => s.toInspect(c));
}

export function createContainer(s: FakeState, spec: ContainerSpec): { id: string } {
  if (s.find(s.containers, spec.name, (x) => x.name)) throw new ConflictError('container', spec.name, 'name already in use');
  const image = s.images.get(spec.image);
  if (!image) throw new NotFoundError('image', spec.image);
  const networks = new Map<string, EndpointInfo>();
  for (const ep of spec.networks ?? []) {
    const net = s.network(ep.network);
    networks.set(net.info.name, { networkId: net.info.id, aliases: [...(ep.aliases ?? [])] });
  }
  const mounts: MountInfo[] = [];
  for (const m of spec.mounts ?? []) {
    let source = m.source ?? '';
    if (m.type === 'volume') {
      if (m.source === undefined) {
        const inherited = spec.inheritVolumesFrom
          ? s.find(s.containers, spec.inheritVolumesFrom, (x) => x.name)?.mounts.find((x) => x.target === m.target && x.type === 'volume')
          : undefined;
        source = inherited?.source ?? s.nextId('a');
        if (!s.volumes.has(source)) s.volumes.set(source, { name: source, driver: 'local', labels: {} });
      } else if (!s.volumes.has(source)) {
        s.volumes.set(source, { name: source, driver: 'local', labels: {} });
      }
    }
    mounts.push({ type: m.type, source, target: m.target, readOnly: m.readOnly ?? false });
  }
  const id = s.nextId('c');
  const c: FakeContainer = {
    id,
    name: spec.name,
    spec,
    imageId: image.id,
    status: 'created',
    exitCode: 0,
    created: s.tick(),
    networks,
    mounts,
    logs: [],
    files: new Map(),
  };
  s.containers.set(id, c);
  s.containerEvent(c, 'create');
  return { id };
}

export function startContainer(s: FakeState, idOrName: string): void {
  const c = s.container(idOrName);
  if (c.status === 'running') throw new NotModifiedError('container', idOrName, 'already started');
  c.status = 'running';
  c.exitCode = 0;
  c.stoppedByUser = false;
  c.interrupted = false;
  s.containerEvent(c, 'start');
}

export function stopContainer(s: FakeState, idOrName: string): void {
  const c = s.container(idOrName);
  if (c.status !== 'running' && c.status !== 'paused' && c.status !== 'restarting')
    throw new NotModifiedError('container', idOrName, 'already stopped');
  c.status = 'exited';
  c.exitCode = 0;
  c.stoppedByUser = true;
  s.containerEvent(c, 'kill', { signal: '15' });
  s.containerEvent(c, 'die', { exitCode: '0' });
  s.containerEvent(c, 'stop');
}

export function killContainer(s: FakeState, idOrName: string, signal: string): void {
  const c = s.container(idOrName);
  if (c.status !== 'running') throw new ConflictError('container', idOrName, 'is not running');
  c.status = 'exited';
  c.exitCode = 137;
  c.stoppedByUser = true;
  s.containerEvent(c, 'kill', { signal });
  s.containerEvent(c, 'die', { exitCode: '137' });
}

/** Simulates a container exiting on its own. */
export function exitContainer(s: FakeState, idOrName: string, exitCode: number): void {
  const c = s.container(idOrName);
  c.status = 'exited';
  c.exitCode = exitCode;
  s.containerEvent(c, 'die', { exitCode: String(exitCode) });
}

export function removeContainer(s: FakeState, idOrName: string, options: { force?: boolean | undefined; volumes?: boolean | undefined } = {}): void {
  const c = s.container(idOrName);
  if (c.status === 'running' && !options.force) throw new ConflictError('container', idOrName, 'cannot remove a running container, stop it first');
  if (c.status === 'running' || c.status === 'paused') {
    c.exitCode = 137;
    s.containerEvent(c, 'die', { exitCode: '137' });
  }
  c.status = 'removing';
  s.containers.delete(c.id);
  s.containerEvent(c, 'destroy');
  if (options.volumes) for (const m of c.mounts) if (m.type === 'volume' && /^a[0-9a-f]{11}0+$/.test(m.source)) s.volumes.delete(m.source);
}

export function renameContainer(s: FakeState, idOrName: string, newName: string): void {
  const c = s.container(idOrName);
  const other = s.find(s.containers, newName, (x) => x.name);
  if (other && other !== c) throw new ConflictError('container', newName, 'name already in use');
  const oldName = c.name;
  c.name = newName;
  s.containerEvent(c, 'rename', { oldName: '/' + oldName });
}

export function restartContainer(s: FakeState, idOrName: string): void {
  const c = s.container(idOrName);
  if (c.status === 'running' || c.status === 'paused') {
    c.status = 'exited';
    s.containerEvent(c, 'die', { exitCode: '0' });
  }
  c.status = 'running';
  c.exitCode = 0;
  s.containerEvent(c, 'start');
  s.containerEvent(c, 'restart');
}

export function pauseContainer(s: FakeState, idOrName: string): void {
  const c = s.container(idOrName);
  if (c.status === 'paused') throw new ConflictError('container', idOrName, 'is already paused');
  if (c.status !== 'running') throw new ConflictError('container', idOrName, 'is not running');
  c.status = 'paused';
  s.containerEvent(c, 'pause');
}

export function unpauseContainer(s: FakeState, idOrName: string): void {
  const c = s.container(idOrName);
  if (c.status !== 'paused') throw new ConflictError('container', idOrName, 'is not paused');
  c.status = 'running';
  s.containerEvent(c, 'unpause');
}

export async function waitContainer(s: FakeState, idOrName: string, options: WaitOptions = {}): Promise<number> {
  const c = s.container(idOrName);
  const condition = options.condition ?? 'not-running';
  if (condition === 'removed') {
    await s.until(() => !s.containers.has(c.id), options.signal);
  } else {
    const stopped = (): boolean => c.status !== 'running' && c.status !== 'paused' && c.status !== 'restarting';
    if (condition === 'next-exit' && stopped()) await s.until(() => !stopped(), options.signal);
    await s.until(stopped, options.signal);
  }
  return c.exitCode;
}

export function topContainer(s: FakeState, idOrName: string): ProcessList {
  const c = s.container(idOrName);
  if (c.status !== 'running' && c.status !== 'paused') throw new ConflictError('container', idOrName, 'is not running');
  const cmd = [...(c.spec.entrypoint ?? []), ...(c.spec.command ?? [])].join(' ') || 'sh';
  return { titles: ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'], processes: [['root', '1', '0', '0', '00:00', '?', '00:00:00', cmd]] };
}

/** Simulates the machine going down: every running, paused or restarting container ends (255) without an exit of its own. */
export function crashAll(s: FakeState): void {
  for (const c of s.containers.values()) {
    if (c.status !== 'running' && c.status !== 'paused' && c.status !== 'restarting') continue;
    c.status = 'exited';
    c.exitCode = 255;
    c.interrupted = true;
  }
}

/** Docker's restart policies after the machine came back (Runtime.listResumable). */
export function listResumable(s: FakeState): string[] {
  const out: string[] = [];
  for (const c of s.containers.values()) {
    if (c.status === 'running' || c.status === 'paused') continue;
    const policy = c.spec.restart ?? 'no';
    const wanted =
      policy === 'always' ||
      (policy === 'unless-stopped' && !c.stoppedByUser) ||
      (policy.startsWith('on-failure') && c.interrupted === true && !c.stoppedByUser);
    if (wanted) out.push(c.id);
  }
  return out;
}
