/**
 * An in-memory Runtime for unit tests and `--dry-run`. Deterministic: ids come from per-kind counters
 * (`c00000000001…`, `n00000000001…`), timestamps from a counter. Every call is recorded, in order, in `calls`.
 * Behaves like the Docker Engine where it matters to the engine: name conflicts, 304s on start/stop, removing a
 * running container needs `force`, networks and images must exist at create time.
 *
 * Beyond the engine: `exit()` makes a container exit, `emitLog()` gives it output, `onExec` decides what an exec
 * does (default: `echo …` prints, `false` exits 1, `exit N` exits N, anything else exits 0 silently), and every
 * state change is an event (`create`, `start`, `die`, `stop`, `kill`, `destroy`, `pause`, `unpause`, `rename`, and
 * network/volume `create`/`destroy`/`connect`/`disconnect`) with deterministic times (one second per event from
 * 2020-01-01T00:00:00Z). A build fails with BuildError when the inline Dockerfile contains `RUN false`.
 */
import { EventEmitter, once } from 'node:events';
import { Readable } from 'node:stream';
import { TsComposeError } from '../../errors.js';
import { BuildError, ConflictError, NotFoundError, NotModifiedError, PullError } from '../errors.js';
import { toUnixSeconds } from '../time.js';
import {
  matchesLabels,
  type LoadResult,
  type PruneResult,
  type ImageDetails,
  type BuildProgress,
  type BuildSpec,
  type EventsOptions,
  type ExecResult,
  type ExecSession,
  type ExecSpec,
  type ImageSummary,
  type Labels,
  type LogLine,
  type LogsOptions,
  type ProcessList,
  type PublishedPort,
  type PushProgress,
  type RuntimeEvent,
  type WaitOptions,
  type CallOptions,
  type ContainerInspect,
  type ContainerSpec,
  type ContainerStatus,
  type EndpointInfo,
  type EndpointSpec,
  type ImageInfo,
  type ListContainersOptions,
  type ListOptions,
  type MountInfo,
  type NetworkInfo,
  type NetworkSpec,
  type PullProgress,
  type Runtime,
  type VolumeInfo,
  type VolumeSpec,
} from '../runtime.js';

export interface FakeCall {
  readonly method: string;
  /** The main argument(s): a name/id, or the spec's name for creates. */
  readonly args: readonly string[];
}

interface FakeContainer {
  id: string;
  name: string;
  spec: ContainerSpec;
  imageId: string;
  status: ContainerStatus;
  exitCode: number;
  created: number;
  networks: Map<string, EndpointInfo>;
  mounts: MountInfo[];
  logs: { stream: 'stdout' | 'stderr'; line: string; timestamp: string }[];
  files: Map<string, Buffer>;
}

/** What the fake does for an exec (see FakeRuntimeOptions.onExec). */
export type FakeExecHandler = (container: ContainerInspect, spec: ExecSpec) => ExecResult;

const EPOCH = Date.UTC(2020, 0, 1);

/** The default exec behaviour: `echo a b` → "a b\n", `false` → 1, `exit N` / `sh -c 'exit N'` → N, else 0. */
export function defaultFakeExec(_container: ContainerInspect, spec: ExecSpec): ExecResult {
  let cmd = [...spec.cmd];
  if ((cmd[0] === 'sh' || cmd[0] === '/bin/sh') && cmd[1] === '-c' && cmd[2] !== undefined) cmd = cmd[2].trim().split(/\s+/);
  if (cmd[0] === 'echo') return { exitCode: 0, stdout: cmd.slice(1).join(' ') + '\n', stderr: '' };
  if (cmd[0] === 'false') return { exitCode: 1, stdout: '', stderr: '' };
  if (cmd[0] === 'exit') return { exitCode: Number(cmd[1] ?? 0) || 0, stdout: '', stderr: '' };
  return { exitCode: 0, stdout: '', stderr: '' };
}

interface FakeNetwork {
  info: Omit<NetworkInfo, 'containers'>;
}

type Failure = { method: string; match?: ((args: readonly string[]) => boolean) | undefined; error: Error };

export interface FakeRuntimeOptions {
  /** Images present from the start: ref → image id (repo digests are derived from it). */
  readonly images?: Readonly<Record<string, string>>;
  /** Images `pullImage` can fetch (ref → id); a ref not listed fails with PullError. Default: any ref. */
  readonly registry?: Readonly<Record<string, string>>;
  /** What execs do; default `defaultFakeExec`. */
  readonly onExec?: FakeExecHandler;
}

const pad = (prefix: string, n: number): string => (prefix + n.toString(16).padStart(11, '0')).padEnd(64, '0');

export class FakeRuntime implements Runtime {
  readonly kind = 'fake';
  readonly calls: FakeCall[] = [];
  private readonly containers = new Map<string, FakeContainer>();
  private readonly networks = new Map<string, FakeNetwork>();
  private readonly volumes = new Map<string, VolumeInfo>();
  private readonly images = new Map<string, ImageInfo>();
  private readonly registry: Readonly<Record<string, string>> | undefined;
  private readonly counters = new Map<string, number>();
  private clock = 0;
  private failures: Failure[] = [];
  private readonly onExec: FakeExecHandler;
  private readonly imageLabels = new Map<string, Labels>();
  /** Every event so far, in order. */
  readonly eventLog: RuntimeEvent[] = [];
  /** Every image push, in order. */
  readonly pushed: string[] = [];
  private readonly bus = new EventEmitter();
  private eventClock = 0;

  constructor(options: FakeRuntimeOptions = {}) {
    for (const [ref, id] of Object.entries(options.images ?? {})) this.setImage(ref, id);
    this.registry = options.registry;
    this.onExec = options.onExec ?? defaultFakeExec;
    this.bus.setMaxListeners(0);
  }

  /** Appends a line of output to a container's log (followers see it at once). */
  emitLog(idOrName: string, line: string, stream: 'stdout' | 'stderr' = 'stdout'): void {
    const c = this.container(idOrName);
    c.logs.push({ stream, line, timestamp: new Date(EPOCH + ++this.eventClock * 1000).toISOString() });
    this.bus.emit('change');
  }

  private emitEvent(type: string, action: string, id: string, attributes: Labels): void {
    const ev: RuntimeEvent = { type, action, id, attributes, time: EPOCH + ++this.eventClock * 1000 };
    this.eventLog.push(ev);
    this.bus.emit('event', ev);
    this.bus.emit('change');
  }

  private containerEvent(c: FakeContainer, action: string, extra: Labels = {}): void {
    this.emitEvent('container', action, c.id, { ...c.spec.labels, image: c.spec.image, name: c.name, ...extra });
  }

  /** Puts (or replaces) a local image, as a pull or build would. */
  setImage(ref: string, id: string): void {
    const repo = ref.replace(/:[^/:]*$/, '');
    this.images.set(ref, { id, repoTags: [ref], repoDigests: [`${repo}@${id}`] });
    // a dangling image that gets a name is no longer dangling
    if (ref !== id && this.images.get(id)?.repoTags.length === 0) this.images.delete(id);
  }

  /** Makes the next call of `method` (whose recorded args satisfy `match`) reject with `error`. */
  failNext(method: keyof Runtime & string, error: Error, match?: (args: readonly string[]) => boolean): void {
    this.failures.push({ method, match, error });
  }

  /** Simulates a container exiting on its own. */
  exit(idOrName: string, exitCode = 0): void {
    const c = this.container(idOrName);
    c.status = 'exited';
    c.exitCode = exitCode;
    this.containerEvent(c, 'die', { exitCode: String(exitCode) });
  }

  private nextId(prefix: string): string {
    const n = (this.counters.get(prefix) ?? 0) + 1;
    this.counters.set(prefix, n);
    return pad(prefix, n);
  }

  private async record(method: string, args: readonly string[], options?: CallOptions): Promise<void> {
    options?.signal?.throwIfAborted();
    this.calls.push({ method, args });
    const i = this.failures.findIndex((f) => f.method === method && (!f.match || f.match(args)));
    if (i >= 0) {
      const [f] = this.failures.splice(i, 1);
      throw f!.error;
    }
    await Promise.resolve();
  }

  private find<T>(map: Map<string, T>, ref: string, nameOf: (t: T) => string): T | undefined {
    const byId = map.get(ref);
    if (byId) return byId;
    for (const v of map.values()) if (nameOf(v) === ref) return v;
    if (ref.length >= 12) for (const [id, v] of map) if (id.startsWith(ref)) return v;
    return undefined;
  }

  private container(ref: string): FakeContainer {
    const c = this.find(this.containers, ref, (x) => x.name);
    if (!c) throw new NotFoundError('container', ref);
    return c;
  }

  private network(ref: string): FakeNetwork {
    const n = this.find(this.networks, ref, (x) => x.info.name);
    if (!n) throw new NotFoundError('network', ref);
    return n;
  }

  private toInspect(c: FakeContainer): ContainerInspect {
    const networks: Record<string, EndpointInfo> = {};
    for (const [k, v] of [...c.networks].sort(([a], [b]) => (a < b ? -1 : 1))) networks[k] = v;
    return {
      id: c.id,
      name: c.name,
      image: c.spec.image,
      imageId: c.imageId,
      labels: { ...c.spec.labels },
      status: c.status,
      created: c.created,
      networks,
      mounts: c.mounts.map((m) => ({ ...m })),
      ...(c.status === 'running' || c.status === 'paused' ? { publishedPorts: this.published(c) } : {}),
      exitCode: c.exitCode,
      spec: c.spec,
    };
  }

  /** Spec ports as published: fixed host ports as given (first of a range), ephemeral ones from 49153 on. */
  private published(c: FakeContainer): PublishedPort[] {
    return (c.spec.ports ?? []).map((p, i) => {
      const fixed = p.hostPort === undefined ? undefined : Number(p.hostPort.split('-')[0]);
      return {
        containerPort: p.containerPort,
        protocol: p.protocol,
        hostIp: p.hostIp ?? '0.0.0.0',
        hostPort: fixed !== undefined && Number.isFinite(fixed) ? fixed : 49153 + i,
      };
    });
  }

  async listContainers(options: ListContainersOptions = {}): Promise<ContainerInspect[]> {
    await this.record('listContainers', [], options);
    return [...this.containers.values()]
      .filter((c) => matchesLabels(c.spec.labels, options.labels) && (options.all !== false || c.status === 'running'))
      .sort((a, b) => a.created - b.created)
      .map((c) => this.toInspect(c));
  }

  async inspectContainer(idOrName: string, options?: CallOptions): Promise<ContainerInspect> {
    await this.record('inspectContainer', [idOrName], options);
    return this.toInspect(this.container(idOrName));
  }

  async createContainer(spec: ContainerSpec, options?: CallOptions): Promise<{ id: string }> {
    await this.record('createContainer', [spec.name], options);
    if (this.find(this.containers, spec.name, (x) => x.name)) throw new ConflictError('container', spec.name, 'name already in use');
    const image = this.images.get(spec.image);
    if (!image) throw new NotFoundError('image', spec.image);
    const networks = new Map<string, EndpointInfo>();
    for (const ep of spec.networks ?? []) {
      const net = this.network(ep.network);
      networks.set(net.info.name, { networkId: net.info.id, aliases: [...(ep.aliases ?? [])] });
    }
    const mounts: MountInfo[] = [];
    for (const m of spec.mounts ?? []) {
      let source = m.source ?? '';
      if (m.type === 'volume') {
        if (m.source === undefined) {
          const inherited = spec.inheritVolumesFrom
            ? this.find(this.containers, spec.inheritVolumesFrom, (x) => x.name)?.mounts.find((x) => x.target === m.target && x.type === 'volume')
            : undefined;
          source = inherited?.source ?? this.nextId('a');
          if (!this.volumes.has(source)) this.volumes.set(source, { name: source, driver: 'local', labels: {} });
        } else if (!this.volumes.has(source)) {
          this.volumes.set(source, { name: source, driver: 'local', labels: {} });
        }
      }
      mounts.push({ type: m.type, source, target: m.target, readOnly: m.readOnly ?? false });
    }
    const id = this.nextId('c');
    const c: FakeContainer = { id, name: spec.name, spec, imageId: image.id, status: 'created', exitCode: 0, created: ++this.clock, networks, mounts, logs: [], files: new Map() };
    this.containers.set(id, c);
    this.containerEvent(c, 'create');
    return { id };
  }

  async startContainer(idOrName: string, options?: CallOptions): Promise<void> {
    await this.record('startContainer', [idOrName], options);
    const c = this.container(idOrName);
    if (c.status === 'running') throw new NotModifiedError('container', idOrName, 'already started');
    c.status = 'running';
    c.exitCode = 0;
    this.containerEvent(c, 'start');
  }

  async stopContainer(idOrName: string, options?: CallOptions & { timeoutSeconds?: number | undefined }): Promise<void> {
    await this.record('stopContainer', [idOrName], options);
    const c = this.container(idOrName);
    if (c.status !== 'running' && c.status !== 'paused' && c.status !== 'restarting') throw new NotModifiedError('container', idOrName, 'already stopped');
    c.status = 'exited';
    c.exitCode = 0;
    this.containerEvent(c, 'kill', { signal: '15' });
    this.containerEvent(c, 'die', { exitCode: '0' });
    this.containerEvent(c, 'stop');
  }

  async killContainer(idOrName: string, options?: CallOptions & { killSignal?: string | undefined }): Promise<void> {
    await this.record('killContainer', [idOrName, options?.killSignal ?? 'SIGKILL'], options);
    const c = this.container(idOrName);
    if (c.status !== 'running') throw new ConflictError('container', idOrName, 'is not running');
    c.status = 'exited';
    c.exitCode = 137;
    this.containerEvent(c, 'kill', { signal: options?.killSignal ?? 'SIGKILL' });
    this.containerEvent(c, 'die', { exitCode: '137' });
  }

  async removeContainer(idOrName: string, options?: CallOptions & { force?: boolean | undefined; volumes?: boolean | undefined }): Promise<void> {
    await this.record('removeContainer', [idOrName], options);
    const c = this.container(idOrName);
    if (c.status === 'running' && !options?.force) throw new ConflictError('container', idOrName, 'cannot remove a running container, stop it first');
    if (c.status === 'running' || c.status === 'paused') {
      c.exitCode = 137;
      this.containerEvent(c, 'die', { exitCode: '137' });
    }
    c.status = 'removing';
    this.containers.delete(c.id);
    this.containerEvent(c, 'destroy');
    if (options?.volumes) for (const m of c.mounts) if (m.type === 'volume' && /^a[0-9a-f]{11}0+$/.test(m.source)) this.volumes.delete(m.source);
  }

  async renameContainer(idOrName: string, newName: string, options?: CallOptions): Promise<void> {
    await this.record('renameContainer', [idOrName, newName], options);
    const c = this.container(idOrName);
    const other = this.find(this.containers, newName, (x) => x.name);
    if (other && other !== c) throw new ConflictError('container', newName, 'name already in use');
    const oldName = c.name;
    c.name = newName;
    this.containerEvent(c, 'rename', { oldName: '/' + oldName });
  }

  private networkInfo(n: FakeNetwork): NetworkInfo {
    const containers = [...this.containers.values()].filter((c) => [...c.networks.values()].some((e) => e.networkId === n.info.id)).map((c) => c.id);
    return { ...n.info, labels: { ...n.info.labels }, containers };
  }

  async listNetworks(options: ListOptions = {}): Promise<NetworkInfo[]> {
    await this.record('listNetworks', [], options);
    return [...this.networks.values()].filter((n) => matchesLabels(n.info.labels, options.labels)).map((n) => this.networkInfo(n));
  }

  async inspectNetwork(idOrName: string, options?: CallOptions): Promise<NetworkInfo> {
    await this.record('inspectNetwork', [idOrName], options);
    return this.networkInfo(this.network(idOrName));
  }

  async createNetwork(spec: NetworkSpec, options?: CallOptions): Promise<{ id: string }> {
    await this.record('createNetwork', [spec.name], options);
    if (this.find(this.networks, spec.name, (x) => x.info.name)) throw new ConflictError('network', spec.name, 'already exists');
    const id = this.nextId('n');
    this.networks.set(id, {
      info: { id, name: spec.name, driver: spec.driver ?? 'bridge', labels: { ...spec.labels }, internal: spec.internal ?? false, attachable: spec.attachable ?? false },
    });
    this.emitEvent('network', 'create', id, { ...spec.labels, name: spec.name, type: spec.driver ?? 'bridge' });
    return { id };
  }

  async removeNetwork(idOrName: string, options?: CallOptions): Promise<void> {
    await this.record('removeNetwork', [idOrName], options);
    const n = this.network(idOrName);
    if (this.networkInfo(n).containers.length > 0) throw new ConflictError('network', idOrName, 'has active endpoints');
    this.networks.delete(n.info.id);
    this.emitEvent('network', 'destroy', n.info.id, { ...n.info.labels, name: n.info.name, type: n.info.driver });
  }

  async connectNetwork(network: string, container: string, endpoint?: Omit<EndpointSpec, 'network'>, options?: CallOptions): Promise<void> {
    await this.record('connectNetwork', [network, container], options);
    const n = this.network(network);
    const c = this.container(container);
    if (c.networks.has(n.info.name)) throw new ConflictError('container', container, `already connected to ${n.info.name}`);
    c.networks.set(n.info.name, { networkId: n.info.id, aliases: [...(endpoint?.aliases ?? [])] });
    this.emitEvent('network', 'connect', n.info.id, { ...n.info.labels, name: n.info.name, container: c.id, type: n.info.driver });
  }

  async disconnectNetwork(network: string, container: string, options?: CallOptions & { force?: boolean | undefined }): Promise<void> {
    await this.record('disconnectNetwork', [network, container], options);
    const n = this.network(network);
    const c = this.container(container);
    if (!c.networks.delete(n.info.name)) throw new NotFoundError('network', `${n.info.name} (on ${container})`);
    this.emitEvent('network', 'disconnect', n.info.id, { ...n.info.labels, name: n.info.name, container: c.id, type: n.info.driver });
  }

  async listVolumes(options: ListOptions = {}): Promise<VolumeInfo[]> {
    await this.record('listVolumes', [], options);
    return [...this.volumes.values()].filter((v) => matchesLabels(v.labels, options.labels)).map((v) => ({ ...v }));
  }

  async inspectVolume(name: string, options?: CallOptions): Promise<VolumeInfo> {
    await this.record('inspectVolume', [name], options);
    const v = this.volumes.get(name);
    if (!v) throw new NotFoundError('volume', name);
    return { ...v };
  }

  async createVolume(spec: VolumeSpec, options?: CallOptions): Promise<VolumeInfo> {
    await this.record('createVolume', [spec.name], options);
    const existing = this.volumes.get(spec.name);
    if (existing) return { ...existing }; // Docker's volume create is idempotent
    const v: VolumeInfo = { name: spec.name, driver: spec.driver ?? 'local', labels: { ...spec.labels } };
    this.volumes.set(spec.name, v);
    this.emitEvent('volume', 'create', spec.name, { ...spec.labels, driver: v.driver });
    return { ...v };
  }

  async removeVolume(name: string, options?: CallOptions & { force?: boolean | undefined }): Promise<void> {
    await this.record('removeVolume', [name], options);
    if (!this.volumes.has(name)) throw new NotFoundError('volume', name);
    const used = [...this.containers.values()].some((c) => c.mounts.some((m) => m.type === 'volume' && m.source === name));
    if (used && !options?.force) throw new ConflictError('volume', name, 'volume is in use');
    const v = this.volumes.get(name)!;
    this.volumes.delete(name);
    this.emitEvent('volume', 'destroy', name, { ...v.labels, driver: v.driver });
  }

  async inspectImage(ref: string, options?: CallOptions): Promise<ImageInfo> {
    await this.record('inspectImage', [ref], options);
    const i = this.images.get(ref) ?? [...this.images.values()].find((x) => x.id === ref) ?? this.imageByRef(ref);
    if (!i) throw new NotFoundError('image', ref);
    return i;
  }

  async pullImage(
    ref: string,
    options?: CallOptions & { platform?: string | undefined; onProgress?: ((event: PullProgress) => void) | undefined },
  ): Promise<ImageInfo> {
    await this.record('pullImage', [ref], options);
    const id = this.registry ? this.registry[ref] : (this.images.get(ref)?.id ?? this.nextId('i'));
    if (id === undefined) throw new PullError(ref, 'manifest unknown');
    options?.onProgress?.({ ref, status: 'Pulling from library' });
    options?.onProgress?.({ ref, layer: id.slice(0, 12), status: 'Pull complete', current: 1, total: 1 });
    this.setImage(ref, id);
    return this.images.get(ref)!;
  }

  async removeImage(ref: string, options?: CallOptions & { force?: boolean | undefined }): Promise<void> {
    await this.record('removeImage', [ref], options);
    const i = this.images.get(ref);
    if (!i) {
      const id = this.resolveImageId(ref);
      if (id === undefined) throw new NotFoundError('image', ref);
      const used = [...this.containers.values()].some((c) => c.imageId === id);
      if (this.images.has(`${ref}:latest`)) {
        // a name without its tag
        if (!options?.force && used) throw new ConflictError('image', ref, 'image is being used by a container');
        this.images.delete(`${ref}:latest`);
        return;
      }
      // an image id: every name of the image goes, as in Docker
      const refs = this.refsOf(id);
      const repos = new Set(refs.map((r) => r.replace(/:[^/:]*$/, '')));
      if (repos.size > 1 && !options?.force) throw new ConflictError('image', ref, 'unable to delete (must be forced) - image is referenced in multiple repositories');
      if (!options?.force && used) throw new ConflictError('image', ref, 'image is being used by a container');
      for (const r of refs) this.images.delete(r);
      return;
    }
    if (!options?.force && [...this.containers.values()].some((c) => c.imageId === i.id)) throw new ConflictError('image', ref, 'image is being used by a container');
    this.images.delete(ref);
  }

  /** Resolves once `done()` holds, re-checking on every state change; rejects when the signal aborts. */
  private async until(done: () => boolean, signal?: AbortSignal): Promise<void> {
    while (!done()) {
      signal?.throwIfAborted();
      await once(this.bus, 'change', signal ? { signal } : {});
    }
  }

  async restartContainer(idOrName: string, options?: CallOptions & { timeoutSeconds?: number | undefined }): Promise<void> {
    await this.record('restartContainer', [idOrName], options);
    const c = this.container(idOrName);
    if (c.status === 'running' || c.status === 'paused') {
      c.status = 'exited';
      this.containerEvent(c, 'die', { exitCode: '0' });
    }
    c.status = 'running';
    c.exitCode = 0;
    this.containerEvent(c, 'start');
    this.containerEvent(c, 'restart');
  }

  async pauseContainer(idOrName: string, options?: CallOptions): Promise<void> {
    await this.record('pauseContainer', [idOrName], options);
    const c = this.container(idOrName);
    if (c.status === 'paused') throw new ConflictError('container', idOrName, 'is already paused');
    if (c.status !== 'running') throw new ConflictError('container', idOrName, 'is not running');
    c.status = 'paused';
    this.containerEvent(c, 'pause');
  }

  async unpauseContainer(idOrName: string, options?: CallOptions): Promise<void> {
    await this.record('unpauseContainer', [idOrName], options);
    const c = this.container(idOrName);
    if (c.status !== 'paused') throw new ConflictError('container', idOrName, 'is not paused');
    c.status = 'running';
    this.containerEvent(c, 'unpause');
  }

  async waitContainer(idOrName: string, options?: WaitOptions): Promise<number> {
    await this.record('waitContainer', [idOrName], options);
    const c = this.container(idOrName);
    const condition = options?.condition ?? 'not-running';
    if (condition === 'removed') {
      await this.until(() => !this.containers.has(c.id), options?.signal);
    } else {
      const stopped = (): boolean => c.status !== 'running' && c.status !== 'paused' && c.status !== 'restarting';
      if (condition === 'next-exit' && stopped()) await this.until(() => !stopped(), options?.signal);
      await this.until(stopped, options?.signal);
    }
    return c.exitCode;
  }

  async topContainer(idOrName: string, options?: CallOptions & { psArgs?: string | undefined }): Promise<ProcessList> {
    await this.record('topContainer', [idOrName], options);
    const c = this.container(idOrName);
    if (c.status !== 'running' && c.status !== 'paused') throw new ConflictError('container', idOrName, 'is not running');
    const cmd = [...(c.spec.entrypoint ?? []), ...(c.spec.command ?? [])].join(' ') || 'sh';
    return { titles: ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'], processes: [['root', '1', '0', '0', '00:00', '?', '00:00:00', cmd]] };
  }

  private runExec(idOrName: string, spec: ExecSpec): ExecResult {
    const c = this.container(idOrName);
    if (c.status !== 'running') throw new ConflictError('container', idOrName, c.status === 'paused' ? 'is paused' : 'is not running');
    const r = this.onExec(this.toInspect(c), spec);
    return spec.tty ? { exitCode: r.exitCode, stdout: r.stdout + r.stderr, stderr: '' } : r;
  }

  async exec(idOrName: string, spec: ExecSpec, options?: CallOptions): Promise<ExecResult> {
    await this.record('exec', [idOrName, ...spec.cmd], options);
    return this.runExec(idOrName, spec);
  }

  async execStream(idOrName: string, spec: ExecSpec, options?: CallOptions): Promise<ExecSession> {
    await this.record('execStream', [idOrName, ...spec.cmd], options);
    const r = this.runExec(idOrName, spec);
    const stdout = Readable.from(r.stdout ? [Buffer.from(r.stdout)] : []);
    const stderr = Readable.from(r.stderr ? [Buffer.from(r.stderr)] : []);
    spec.stdin?.resume();
    return { stdout, stderr, wait: () => Promise.resolve(r.exitCode) };
  }

  async *containerLogs(idOrName: string, options: LogsOptions = {}): AsyncIterable<LogLine> {
    await this.record('containerLogs', [idOrName], options);
    const c = this.container(idOrName);
    const toMs = (t: number | string): number => toUnixSeconds(t) * 1000;
    const keep = (l: FakeContainer['logs'][number]): boolean =>
      (options.since === undefined || Date.parse(l.timestamp) >= toMs(options.since)) &&
      (options.until === undefined || Date.parse(l.timestamp) <= toMs(options.until));
    const out = (l: FakeContainer['logs'][number]): LogLine =>
      options.timestamps ? { stream: l.stream, line: l.line, timestamp: l.timestamp } : { stream: l.stream, line: l.line };
    let lines = c.logs.filter(keep);
    if (typeof options.tail === 'number') lines = options.tail > 0 ? lines.slice(-options.tail) : [];
    for (const l of lines) yield out(l);
    if (!options.follow) return;
    let seen = c.logs.length;
    const signal = options.signal;
    while (!signal?.aborted && this.containers.has(c.id) && (c.status === 'running' || c.status === 'paused' || seen < c.logs.length)) {
      while (seen < c.logs.length) {
        const l = c.logs[seen++]!;
        if (keep(l)) yield out(l);
      }
      if (!this.containers.has(c.id) || (c.status !== 'running' && c.status !== 'paused')) break;
      try {
        await once(this.bus, 'change', signal ? { signal } : {});
      } catch {
        return; // aborted
      }
    }
  }

  async *events(options: EventsOptions = {}): AsyncIterable<RuntimeEvent> {
    await this.record('events', [], options);
    const signal = options.signal;
    const wanted = (e: RuntimeEvent): boolean =>
      matchesLabels(e.attributes, options.labels) &&
      (options.types === undefined || options.types.includes(e.type)) &&
      (options.until === undefined || e.time <= options.until * 1000);
    const queue: RuntimeEvent[] = options.since === undefined ? [] : this.eventLog.filter((e) => e.time >= options.since! * 1000 && wanted(e));
    const onEvent = (e: RuntimeEvent): void => {
      if (wanted(e)) queue.push(e);
    };
    this.bus.on('event', onEvent);
    try {
      for (;;) {
        while (queue.length > 0 && !signal?.aborted) yield queue.shift()!;
        if (signal?.aborted) return;
        if (options.until !== undefined && EPOCH + this.eventClock * 1000 >= options.until * 1000) return;
        try {
          await once(this.bus, 'event', signal ? { signal } : {});
        } catch {
          return; // aborted
        }
      }
    } finally {
      this.bus.off('event', onEvent);
    }
  }

  async copyToContainer(idOrName: string, path: string, tar: Readable, options?: CallOptions): Promise<void> {
    await this.record('copyToContainer', [idOrName, path], options);
    const c = this.container(idOrName);
    const chunks: Buffer[] = [];
    for await (const chunk of tar) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
    c.files.set(path, Buffer.concat(chunks));
  }

  /** Returns exactly the bytes last copied to `path` by `copyToContainer`; NotFound for any other path. */
  async copyFromContainer(idOrName: string, path: string, options?: CallOptions): Promise<Readable> {
    await this.record('copyFromContainer', [idOrName, path], options);
    const data = this.container(idOrName).files.get(path);
    if (!data) throw new NotFoundError('container', `${idOrName}:${path}`);
    return Readable.from([data]);
  }

  async listImages(options: ListOptions = {}): Promise<ImageSummary[]> {
    await this.record('listImages', [], options);
    const byId = new Map<string, ImageSummary>();
    for (const i of this.images.values()) {
      const labels = this.imageLabels.get(i.id) ?? {};
      if (!matchesLabels(labels, options.labels)) continue;
      const prev = byId.get(i.id);
      byId.set(i.id, {
        id: i.id,
        repoTags: [...(prev?.repoTags ?? []), ...i.repoTags],
        repoDigests: [...new Set([...(prev?.repoDigests ?? []), ...i.repoDigests])],
        labels: { ...labels },
        created: EPOCH,
        sizeBytes: 1024,
      });
    }
    return [...byId.values()];
  }

  async buildImage(spec: BuildSpec, options?: CallOptions & { onProgress?: ((event: BuildProgress) => void) | undefined }): Promise<{ id: string }> {
    await this.record('buildImage', [spec.tags[0] ?? spec.context], options);
    const ref = spec.tags[0] ?? spec.context;
    options?.onProgress?.({ text: `Step 1/1 : building ${ref}` });
    if (spec.dockerfileInline !== undefined && /^\s*RUN\s+false\s*$/im.test(spec.dockerfileInline)) {
      throw new BuildError(ref, "The command '/bin/sh -c false' returned a non-zero code: 1");
    }
    const id = 'sha256:' + this.nextId('b');
    for (const tag of spec.tags) this.setImage(tag, id);
    this.imageLabels.set(id, { ...(spec.labels ?? {}) });
    options?.onProgress?.({ text: `Successfully built ${id.slice(7, 19)}` });
    return { id };
  }

  async pushImage(ref: string, options?: CallOptions & { onProgress?: ((event: PushProgress) => void) | undefined }): Promise<void> {
    await this.record('pushImage', [ref], options);
    const i = this.images.get(ref);
    if (!i) throw new NotFoundError('image', ref);
    options?.onProgress?.({ ref, layer: i.id.replace(/^sha256:/, '').slice(0, 12), status: 'Pushed' });
    this.pushed.push(ref);
  }

  async tagImage(source: string, target: string, options?: CallOptions): Promise<void> {
    await this.record('tagImage', [source, target], options);
    const i = this.images.get(source) ?? [...this.images.values()].find((x) => x.id === source) ?? this.imageByRef(source);
    if (!i) throw new NotFoundError('image', source);
    this.setImage(target, i.id);
  }

  // -- image tools ----------------------------------------------------------------------------------------------

  /**
   * The image id `ref` names: a ref as stored, `name` for `name:latest`, a full id (with or without `sha256:`) or
   * an id prefix of at least 12 characters.
   */
  private resolveImageId(ref: string): string | undefined {
    const direct = this.images.get(ref) ?? (/[:@]/.test(ref.slice(ref.lastIndexOf('/') + 1)) ? undefined : this.images.get(`${ref}:latest`));
    if (direct) return direct.id;
    const bare = ref.replace(/^sha256:/, '');
    const ids = [...new Set([...this.images.values()].map((i) => i.id))];
    return ids.find((id) => id === ref || id.replace(/^sha256:/, '') === bare) ?? (bare.length >= 12 ? ids.find((id) => id.replace(/^sha256:/, '').startsWith(bare)) : undefined);
  }

  /** The stored image `ref` names as Docker would resolve it (`name` = `name:latest`, short ids). */
  private imageByRef(ref: string): ImageInfo | undefined {
    const id = this.resolveImageId(ref);
    if (id === undefined) return undefined;
    return this.images.get(`${ref}:latest`) ?? this.images.get(this.refsOf(id)[0]!);
  }

  /** Every stored ref of image `id` (an untagged image is stored under its id with no repo tags). */
  private refsOf(id: string): string[] {
    return [...this.images].filter(([, i]) => i.id === id).map(([ref]) => ref);
  }

  /** Points `ref` at `id`; the image it pointed at before, left without a name, becomes dangling (as in Docker). */
  private retag(ref: string, id: string): void {
    const old = this.images.get(ref)?.id;
    this.setImage(ref, id);
    if (old !== undefined && old !== id && this.refsOf(old).length === 0) this.images.set(old, { id: old, repoTags: [], repoDigests: [] });
  }

  /**
   * Reads a docker-archive (or Docker ≥ 25's OCI layout with manifest.json; gzip-compressed or not): each
   * manifest entry becomes an image whose id comes from its config file name, tagged with its RepoTags.
   */
  async loadImage(archive: Readable, options?: CallOptions): Promise<LoadResult> {
    await this.record('loadImage', [], options);
    const parts: Buffer[] = [];
    for await (const c of archive) parts.push(Buffer.isBuffer(c) ? c : Buffer.from(c as string));
    let data = Buffer.concat(parts);
    if (data[0] === 0x1f && data[1] === 0x8b) data = (await import('node:zlib')).gunzipSync(data);
    const files = new Map<string, Buffer>();
    try {
      const { extract } = await import('tar-stream');
      const ex = extract();
      Readable.from([data]).pipe(ex);
      for await (const entry of ex) {
        const body: Buffer[] = [];
        for await (const c of entry) body.push(Buffer.from(c as Uint8Array));
        files.set(entry.header.name.replace(/^\.\//, ''), Buffer.concat(body));
      }
    } catch (e) {
      throw new TsComposeError('TSC_IMAGE_LOAD', `loading images: not a tar archive (${(e as Error).message})`, { cause: e });
    }
    const manifestFile = files.get('manifest.json');
    if (!manifestFile) throw new TsComposeError('TSC_IMAGE_LOAD', 'loading images: no manifest.json in the archive (not a `docker save` archive)');
    let manifest: { Config?: unknown; RepoTags?: unknown }[];
    try {
      manifest = JSON.parse(manifestFile.toString('utf8')) as typeof manifest;
      if (!Array.isArray(manifest)) throw new Error('not a JSON array');
    } catch (e) {
      throw new TsComposeError('TSC_IMAGE_LOAD', `loading images: invalid manifest.json: ${(e as Error).message}`, { cause: e });
    }
    const loaded: string[] = [];
    for (const m of manifest) {
      if (typeof m.Config !== 'string') throw new TsComposeError('TSC_IMAGE_LOAD', 'loading images: manifest.json entry without Config');
      const name = m.Config.replace(/^blobs\/sha256\//, '').replace(/\.json$/, '');
      const id = this.resolveImageId(name) ?? (/^[0-9a-f]{64}$/.test(name) ? `sha256:${name}` : name);
      let labels: Labels = {};
      try {
        const config = JSON.parse(files.get(m.Config)?.toString('utf8') ?? '{}') as { config?: { Labels?: Labels | null } };
        labels = config.config?.Labels ?? {};
      } catch {
        // a config we cannot read: no labels
      }
      if (!this.imageLabels.has(id)) this.imageLabels.set(id, { ...labels });
      const tags = Array.isArray(m.RepoTags) ? m.RepoTags.filter((t): t is string => typeof t === 'string') : [];
      for (const tag of tags) {
        this.retag(tag, id);
        loaded.push(`Loaded image: ${tag}`);
      }
      if (tags.length === 0) {
        if (this.refsOf(id).length === 0) this.images.set(id, { id, repoTags: [], repoDigests: [] });
        loaded.push(`Loaded image ID: ${id}`);
      }
      this.emitEvent('image', 'load', id, { name: tags[0] ?? id });
    }
    return { loaded };
  }

  /**
   * A minimal docker-archive: `manifest.json` (Config `<id>.json`, the refs given as RepoTags, no layers),
   * `repositories` and one config file per image.
   */
  async saveImage(refs: readonly string[], options?: CallOptions): Promise<Readable> {
    await this.record('saveImage', [...refs], options);
    const byId = new Map<string, string[]>();
    for (const ref of refs) {
      const id = this.resolveImageId(ref);
      if (id === undefined) throw new NotFoundError('image', ref);
      const tags = byId.get(id) ?? [];
      const key = this.images.has(ref) ? ref : `${ref}:latest`;
      const tag = this.images.get(key)?.id === id && this.images.get(key)!.repoTags.length > 0 ? key : undefined;
      if (tag !== undefined && !tags.includes(tag)) tags.push(tag);
      byId.set(id, tags);
    }
    const { pack } = await import('tar-stream');
    const p = pack();
    const manifest: { Config: string; RepoTags: string[] | null; Layers: string[] }[] = [];
    const repositories: Record<string, Record<string, string>> = {};
    const mtime = new Date(EPOCH);
    for (const [id, tags] of byId) {
      const bare = id.replace(/^sha256:/, '');
      const config = {
        architecture: 'amd64',
        os: 'linux',
        created: new Date(EPOCH).toISOString(),
        config: { Labels: { ...(this.imageLabels.get(id) ?? {}) } },
        rootfs: { type: 'layers', diff_ids: [] },
      };
      p.entry({ name: `${bare}.json`, mtime }, JSON.stringify(config));
      manifest.push({ Config: `${bare}.json`, RepoTags: tags.length > 0 ? tags : null, Layers: [] });
      for (const t of tags) {
        const colon = t.lastIndexOf(':');
        const [repo, tag] = colon > t.lastIndexOf('/') ? [t.slice(0, colon), t.slice(colon + 1)] : [t, 'latest'];
        (repositories[repo] ??= {})[tag] = bare;
      }
    }
    p.entry({ name: 'manifest.json', mtime }, JSON.stringify(manifest));
    p.entry({ name: 'repositories', mtime }, JSON.stringify(repositories));
    p.finalize();
    return Readable.from(p as unknown as AsyncIterable<Buffer>);
  }

  /** Dangling (untagged) images no container uses; with `all`, every image no container uses. 1024 bytes each. */
  async pruneImages(options?: CallOptions & { readonly all?: boolean | undefined }): Promise<PruneResult> {
    await this.record('pruneImages', [options?.all ? 'all' : 'dangling'], options);
    const used = new Set([...this.containers.values()].map((c) => c.imageId));
    const deleted: string[] = [];
    let reclaimedBytes = 0;
    for (const id of [...new Set([...this.images.values()].map((i) => i.id))]) {
      if (used.has(id)) continue;
      const refs = this.refsOf(id);
      const dangling = refs.every((r) => this.images.get(r)!.repoTags.length === 0);
      if (!dangling && !options?.all) continue;
      for (const r of refs) {
        if (this.images.get(r)!.repoTags.length > 0) deleted.push(r);
        this.images.delete(r);
      }
      deleted.push(id);
      this.imageLabels.delete(id);
      reclaimedBytes += 1024;
      this.emitEvent('image', 'delete', id, { name: id });
    }
    return { deleted, reclaimedBytes };
  }

  async inspectImageDetails(ref: string, options?: CallOptions): Promise<ImageDetails> {
    await this.record('inspectImageDetails', [ref], options);
    const id = this.resolveImageId(ref);
    if (id === undefined) throw new NotFoundError('image', ref);
    const infos = this.refsOf(id).map((r) => this.images.get(r)!);
    return {
      id,
      repoTags: infos.flatMap((i) => i.repoTags),
      repoDigests: [...new Set(infos.flatMap((i) => i.repoDigests))],
      created: new Date(EPOCH).toISOString(),
      architecture: 'amd64',
      os: 'linux',
      sizeBytes: 1024,
      config: { user: '', env: [], workingDir: '', exposedPorts: [], volumes: [], labels: { ...(this.imageLabels.get(id) ?? {}) } },
      layers: [],
    };
  }

  async ping(options?: CallOptions): Promise<boolean> {
    await this.record('ping', [], options);
    return true;
  }
}
