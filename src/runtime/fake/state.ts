/**
 * The fake runtime's shared state: the objects (containers, networks, volumes, images), the deterministic id and
 * time counters, the call log with injected failures, and the event bus. The per-resource modules (containers.ts,
 * networks.ts, images.ts, io.ts) read and change it; fake-runtime.ts is the facade over them.
 */
import { EventEmitter, once } from 'node:events';
import { NotFoundError } from '../errors.js';
import type {
  CallOptions,
  ContainerInspect,
  ContainerSpec,
  ContainerStatus,
  EndpointInfo,
  ExecResult,
  ExecSpec,
  ImageInfo,
  Labels,
  MountInfo,
  NetworkInfo,
  PublishedPort,
  RuntimeEvent,
  VolumeInfo,
} from '../runtime.js';

export interface FakeCall {
  readonly method: string;
  /** The main argument(s): a name/id, or the spec's name for creates. */
  readonly args: readonly string[];
}

/** What the fake does for an exec (see FakeRuntimeOptions.onExec). */
export type FakeExecHandler = (container: ContainerInspect, spec: ExecSpec) => ExecResult;

export interface FakeContainer {
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
  /** Set by stop and kill, cleared by start (restart policies `unless-stopped` and `on-failure` leave such a container down). */
  stoppedByUser?: boolean;
  /** Its run was cut off by the machine going down (FakeRuntime.crashAll). */
  interrupted?: boolean;
  /** What attached clients forwarded to its stdin; `closed` once a `stdinOnce` container's stdin ended. */
  stdin?: { data: string; closed: boolean };
}

export interface FakeNetwork {
  info: Omit<NetworkInfo, 'containers'>;
}

type Failure = { method: string; match?: ((args: readonly string[]) => boolean) | undefined; error: Error };

/** Event and log times count one second per event from here (2020-01-01T00:00:00Z). */
export const EPOCH = Date.UTC(2020, 0, 1);

const pad = (prefix: string, n: number): string => (prefix + n.toString(16).padStart(11, '0')).padEnd(64, '0');

export class FakeState {
  readonly calls: FakeCall[] = [];
  readonly containers = new Map<string, FakeContainer>();
  readonly networks = new Map<string, FakeNetwork>();
  readonly volumes = new Map<string, VolumeInfo>();
  /** ref (or, for an untagged image, its id) → image. */
  readonly images = new Map<string, ImageInfo>();
  /** image id → labels. */
  readonly imageLabels = new Map<string, Labels>();
  /** Every event so far, in order. */
  readonly eventLog: RuntimeEvent[] = [];
  /** Every image push, in order. */
  readonly pushed: string[] = [];
  readonly bus = new EventEmitter();
  private readonly counters = new Map<string, number>();
  private clock = 0;
  eventClock = 0;
  private readonly failures: Failure[] = [];

  constructor(
    readonly onExec: FakeExecHandler,
    readonly registry: Readonly<Record<string, string>> | undefined,
  ) {
    this.bus.setMaxListeners(0);
  }

  nextId(prefix: string): string {
    const n = (this.counters.get(prefix) ?? 0) + 1;
    this.counters.set(prefix, n);
    return pad(prefix, n);
  }

  /** The next creation time (a counter: only the order matters). */
  tick(): number {
    return ++this.clock;
  }

  /** The next event time (Unix milliseconds). */
  nextEventTime(): number {
    return EPOCH + ++this.eventClock * 1000;
  }

  failNext(failure: Failure): void {
    this.failures.push(failure);
  }

  /** Records a call; rejects with the failure injected for it, if any. */
  async record(method: string, args: readonly string[], options?: CallOptions): Promise<void> {
    options?.signal?.throwIfAborted();
    this.calls.push({ method, args });
    const i = this.failures.findIndex((f) => f.method === method && (!f.match || f.match(args)));
    if (i >= 0) {
      const [f] = this.failures.splice(i, 1);
      throw f!.error;
    }
    await Promise.resolve();
  }

  emitEvent(type: string, action: string, id: string, attributes: Labels): void {
    const ev: RuntimeEvent = { type, action, id, attributes, time: this.nextEventTime() };
    this.eventLog.push(ev);
    this.bus.emit('event', ev);
    this.bus.emit('change');
  }

  containerEvent(c: FakeContainer, action: string, extra: Labels = {}): void {
    this.emitEvent('container', action, c.id, { ...c.spec.labels, image: c.spec.image, name: c.name, ...extra });
  }

  /** Resolves once `done()` holds, re-checking on every state change; rejects when the signal aborts. */
  async until(done: () => boolean, signal?: AbortSignal): Promise<void> {
    while (!done()) {
      signal?.throwIfAborted();
      await once(this.bus, 'change', signal ? { signal } : {});
    }
  }

  /** By id, name, or an id prefix of at least 12 characters. */
  find<T>(map: Map<string, T>, ref: string, nameOf: (t: T) => string): T | undefined {
    const byId = map.get(ref);
    if (byId) return byId;
    for (const v of map.values()) if (nameOf(v) === ref) return v;
    if (ref.length >= 12) for (const [id, v] of map) if (id.startsWith(ref)) return v;
    return undefined;
  }

  container(ref: string): FakeContainer {
    const c = this.find(this.containers, ref, (x) => x.name);
    if (!c) throw new NotFoundError('container', ref);
    return c;
  }

  network(ref: string): FakeNetwork {
    const n = this.find(this.networks, ref, (x) => x.info.name);
    if (!n) throw new NotFoundError('network', ref);
    return n;
  }

  toInspect(c: FakeContainer): ContainerInspect {
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
      ...(c.status === 'running' || c.status === 'paused' ? { publishedPorts: published(c) } : {}),
      exitCode: c.exitCode,
      // The fake has no image config: the spec's entrypoint and command.
      ...(c.spec.entrypoint?.length || c.spec.command?.length ? { command: [...(c.spec.entrypoint ?? []), ...(c.spec.command ?? [])] } : {}),
    };
  }

  // -- images -----------------------------------------------------------------------------------------------------

  /** Puts (or replaces) a local image, as a pull or build would. */
  setImage(ref: string, id: string): void {
    const repo = ref.replace(/:[^/:]*$/, '');
    this.images.set(ref, { id, repoTags: [ref], repoDigests: [`${repo}@${id}`] });
    // a dangling image that gets a name is no longer dangling
    if (ref !== id && this.images.get(id)?.repoTags.length === 0) this.images.delete(id);
  }

  /**
   * The image id `ref` names: a ref as stored, `name` for `name:latest`, a full id (with or without `sha256:`) or
   * an id prefix of at least 12 characters.
   */
  resolveImageId(ref: string): string | undefined {
    const direct = this.images.get(ref) ?? (/[:@]/.test(ref.slice(ref.lastIndexOf('/') + 1)) ? undefined : this.images.get(`${ref}:latest`));
    if (direct) return direct.id;
    const bare = ref.replace(/^sha256:/, '');
    const ids = [...new Set([...this.images.values()].map((i) => i.id))];
    return (
      ids.find((id) => id === ref || id.replace(/^sha256:/, '') === bare) ??
      (bare.length >= 12 ? ids.find((id) => id.replace(/^sha256:/, '').startsWith(bare)) : undefined)
    );
  }

  /** The stored image `ref` names as Docker would resolve it (`name` = `name:latest`, short ids). */
  imageByRef(ref: string): ImageInfo | undefined {
    const id = this.resolveImageId(ref);
    if (id === undefined) return undefined;
    return this.images.get(`${ref}:latest`) ?? this.images.get(this.refsOf(id)[0]!);
  }

  /** Every stored ref of image `id` (an untagged image is stored under its id with no repo tags). */
  refsOf(id: string): string[] {
    return [...this.images].filter(([, i]) => i.id === id).map(([ref]) => ref);
  }

  /** Points `ref` at `id`; the image it pointed at before, left without a name, becomes dangling (as in Docker). */
  retag(ref: string, id: string): void {
    const old = this.images.get(ref)?.id;
    this.setImage(ref, id);
    if (old !== undefined && old !== id && this.refsOf(old).length === 0) this.images.set(old, { id: old, repoTags: [], repoDigests: [] });
  }
}

/** Spec ports as published: fixed host ports as given, the first port of a range, ephemeral ones from 49153 on. */
function published(c: FakeContainer): PublishedPort[] {
  return (c.spec.ports ?? []).map((p, i) => ({
    containerPort: p.containerPort,
    protocol: p.protocol,
    hostIp: p.hostIp ?? '0.0.0.0',
    hostPort: p.hostPort?.start ?? 49153 + i,
  }));
}
