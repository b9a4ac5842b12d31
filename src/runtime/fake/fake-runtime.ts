/**
 * An in-memory Runtime for unit tests and `--dry-run`. Deterministic: ids come from per-kind counters
 * (`c00000000001…`, `n00000000001…`), timestamps from a counter. Every call is recorded, in order, in `calls`.
 * Behaves like the Docker Engine where it matters to the engine: name conflicts, 304s on start/stop, removing a
 * running container needs `force`, networks and images must exist at create time.
 */
import { ConflictError, NotFoundError, NotModifiedError, PullError } from '../errors.js';
import {
  matchesLabels,
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

  constructor(options: FakeRuntimeOptions = {}) {
    for (const [ref, id] of Object.entries(options.images ?? {})) this.setImage(ref, id);
    this.registry = options.registry;
  }

  /** Puts (or replaces) a local image, as a pull or build would. */
  setImage(ref: string, id: string): void {
    const repo = ref.replace(/:[^/:]*$/, '');
    this.images.set(ref, { id, repoTags: [ref], repoDigests: [`${repo}@${id}`] });
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
      exitCode: c.exitCode,
      spec: c.spec,
    };
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
    this.containers.set(id, { id, name: spec.name, spec, imageId: image.id, status: 'created', exitCode: 0, created: ++this.clock, networks, mounts });
    return { id };
  }

  async startContainer(idOrName: string, options?: CallOptions): Promise<void> {
    await this.record('startContainer', [idOrName], options);
    const c = this.container(idOrName);
    if (c.status === 'running') throw new NotModifiedError('container', idOrName, 'already started');
    c.status = 'running';
    c.exitCode = 0;
  }

  async stopContainer(idOrName: string, options?: CallOptions & { timeoutSeconds?: number | undefined }): Promise<void> {
    await this.record('stopContainer', [idOrName], options);
    const c = this.container(idOrName);
    if (c.status !== 'running' && c.status !== 'paused' && c.status !== 'restarting') throw new NotModifiedError('container', idOrName, 'already stopped');
    c.status = 'exited';
    c.exitCode = 0;
  }

  async killContainer(idOrName: string, options?: CallOptions & { killSignal?: string | undefined }): Promise<void> {
    await this.record('killContainer', [idOrName, options?.killSignal ?? 'SIGKILL'], options);
    const c = this.container(idOrName);
    if (c.status !== 'running') throw new ConflictError('container', idOrName, 'is not running');
    c.status = 'exited';
    c.exitCode = 137;
  }

  async removeContainer(idOrName: string, options?: CallOptions & { force?: boolean | undefined; volumes?: boolean | undefined }): Promise<void> {
    await this.record('removeContainer', [idOrName], options);
    const c = this.container(idOrName);
    if (c.status === 'running' && !options?.force) throw new ConflictError('container', idOrName, 'cannot remove a running container, stop it first');
    this.containers.delete(c.id);
    if (options?.volumes) for (const m of c.mounts) if (m.type === 'volume' && /^a[0-9a-f]{11}0+$/.test(m.source)) this.volumes.delete(m.source);
  }

  async renameContainer(idOrName: string, newName: string, options?: CallOptions): Promise<void> {
    await this.record('renameContainer', [idOrName, newName], options);
    const c = this.container(idOrName);
    const other = this.find(this.containers, newName, (x) => x.name);
    if (other && other !== c) throw new ConflictError('container', newName, 'name already in use');
    c.name = newName;
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
    return { id };
  }

  async removeNetwork(idOrName: string, options?: CallOptions): Promise<void> {
    await this.record('removeNetwork', [idOrName], options);
    const n = this.network(idOrName);
    if (this.networkInfo(n).containers.length > 0) throw new ConflictError('network', idOrName, 'has active endpoints');
    this.networks.delete(n.info.id);
  }

  async connectNetwork(network: string, container: string, endpoint?: Omit<EndpointSpec, 'network'>, options?: CallOptions): Promise<void> {
    await this.record('connectNetwork', [network, container], options);
    const n = this.network(network);
    const c = this.container(container);
    if (c.networks.has(n.info.name)) throw new ConflictError('container', container, `already connected to ${n.info.name}`);
    c.networks.set(n.info.name, { networkId: n.info.id, aliases: [...(endpoint?.aliases ?? [])] });
  }

  async disconnectNetwork(network: string, container: string, options?: CallOptions & { force?: boolean | undefined }): Promise<void> {
    await this.record('disconnectNetwork', [network, container], options);
    const n = this.network(network);
    const c = this.container(container);
    if (!c.networks.delete(n.info.name)) throw new NotFoundError('network', `${n.info.name} (on ${container})`);
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
    return { ...v };
  }

  async removeVolume(name: string, options?: CallOptions & { force?: boolean | undefined }): Promise<void> {
    await this.record('removeVolume', [name], options);
    if (!this.volumes.has(name)) throw new NotFoundError('volume', name);
    const used = [...this.containers.values()].some((c) => c.mounts.some((m) => m.type === 'volume' && m.source === name));
    if (used && !options?.force) throw new ConflictError('volume', name, 'volume is in use');
    this.volumes.delete(name);
  }

  async inspectImage(ref: string, options?: CallOptions): Promise<ImageInfo> {
    await this.record('inspectImage', [ref], options);
    const i = this.images.get(ref) ?? [...this.images.values()].find((x) => x.id === ref);
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
    if (!i) throw new NotFoundError('image', ref);
    if (!options?.force && [...this.containers.values()].some((c) => c.imageId === i.id)) throw new ConflictError('image', ref, 'image is being used by a container');
    this.images.delete(ref);
  }
}
