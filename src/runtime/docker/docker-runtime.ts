/**
 * The Runtime port on Docker Engine, through dockerode. Every engine error goes through mapDockerError; progress
 * streams are checked for `error`/`errorDetail`; log and exec output is demuxed here and the targets ended.
 */
import './lazy-deps.js'; // must precede dockerode: keeps gRPC and ssh2 out of start-up
import Docker from 'dockerode';
import { PassThrough, type Readable } from 'node:stream';
import { TsComposeError } from '../../errors.js';
import { BuildError, NotFoundError, PullError, PushError, RuntimeUnavailableError } from '../errors.js';
import type {
  LoadResult,
  PruneResult,
  ImageDetails,
  BuildProgress,
  BuildSpec,
  CallOptions,
  ContainerInspect,
  ContainerSpec,
  ContainerSummary,
  EndpointSpec,
  EventsOptions,
  ExecResult,
  ExecSession,
  ExecSpec,
  ImageInfo,
  ImageSummary,
  ListContainersOptions,
  ListOptions,
  LogLine,
  LogsOptions,
  NetworkInfo,
  NetworkSpec,
  ProcessList,
  PullProgress,
  PushProgress,
  Runtime,
  RuntimeEvent,
  VolumeInfo,
  VolumeSpec,
  WaitOptions,
} from '../runtime.js';
import type { packContext } from './build-context.js';
import { dockerConnection, type Env } from './connection.js';
import { imageDetailsOf } from './image-details.js';
import {
  endpointSettings,
  labelFilters,
  toContainerInspect,
  toContainerSummary,
  toCreateBody,
  toImageInfo,
  toImageSummary,
  toNetworkCreateBody,
  toNetworkInfo,
  toRuntimeEvent,
  toUnixSeconds,
  toVolumeInfo,
  type RawContainerInspect,
  type RawContainerSummary,
  type RawNetwork,
} from './convert.js';
import { engineMessage, isAbortError, mapDockerError } from './errors.js';
import { Demuxer, LineSplitter, readProgress, splitTimestamp, type ProgressMessage } from './streams.js';

type Sig = { abortSignal?: AbortSignal };
const sig = (options?: CallOptions): Sig => (options?.signal ? { abortSignal: options.signal } : {});

/** Calls a dockerode method whose typings lag behind it (options with `abortSignal` everywhere). */
function invoke(target: object, method: string, opts: object): Promise<unknown> {
  return (target as Record<string, (o: object) => Promise<unknown>>)[method]!(opts);
}

/** Reads a stream's chunks as Buffers. */
async function* chunks(stream: NodeJS.ReadableStream): AsyncGenerator<Buffer> {
  for await (const c of stream as AsyncIterable<Buffer | string>) yield typeof c === 'string' ? Buffer.from(c) : c;
}

export class DockerRuntime implements Runtime {
  readonly kind = 'docker';
  readonly docker: Docker;

  constructor(options: { env?: Env; docker?: Docker } = {}) {
    this.docker = options.docker ?? new Docker(dockerConnection(options.env ?? process.env));
  }

  private async call<T>(kind: 'container' | 'network' | 'volume' | 'image', ref: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw mapDockerError(e, kind, ref);
    }
  }

  // -- containers ------------------------------------------------------------------------------------------------

  async listContainers(options: ListContainersOptions = {}): Promise<ContainerSummary[]> {
    const filters = labelFilters(options.labels);
    const list = await this.call('container', '*', () =>
      this.docker.listContainers({ all: options.all !== false, ...(filters ? { filters } : {}), ...sig(options) } as Docker.ContainerListOptions),
    );
    return (list as unknown as RawContainerSummary[]).map((c) => toContainerSummary(c)).sort((a, b) => a.created - b.created || (a.name < b.name ? -1 : 1));
  }

  async inspectContainer(idOrName: string, options?: CallOptions): Promise<ContainerInspect> {
    const raw = await this.call('container', idOrName, () => this.docker.getContainer(idOrName).inspect(sig(options)));
    return toContainerInspect(raw as unknown as RawContainerInspect);
  }

  async createContainer(spec: ContainerSpec, options?: CallOptions): Promise<{ id: string }> {
    const inherited = new Map<string, string>();
    if (spec.inheritVolumesFrom !== undefined) {
      try {
        const old = await this.inspectContainer(spec.inheritVolumesFrom, options);
        for (const m of old.mounts) if (m.type === 'volume' && m.source) inherited.set(m.target, m.source);
      } catch (e) {
        if (!(e instanceof NotFoundError)) throw e;
      }
    }
    const { body, connectAfter } = toCreateBody(spec, inherited);
    // The engine accepts missing networks at create (and connect) time and only fails at start: check them first.
    if (spec.networkMode === undefined) await Promise.all((spec.networks ?? []).map((ep) => this.inspectNetwork(ep.network, options)));
    const container = await this.call('container', spec.name, () => this.docker.createContainer({ ...body, ...sig(options) }));
    try {
      for (const ep of connectAfter) await this.connectNetwork(ep.network, container.id, ep, options);
      await this.copyInlineFiles(container.id, spec, options);
    } catch (e) {
      // all or nothing: a half-attached container would look up to date to the next `up`
      await this.removeContainer(container.id, { force: true }).catch(() => undefined);
      throw e;
    }
    return { id: container.id };
  }

  /** Inline secrets/configs (content or environment sources): a tar of the files, extracted at `/`. */
  private async copyInlineFiles(id: string, spec: ContainerSpec, options?: CallOptions): Promise<void> {
    const inline = (spec.files ?? []).filter((f) => f.content !== undefined);
    if (inline.length === 0) return;
    const { pack } = await import('tar-stream');
    const t = pack();
    for (const f of inline) {
      t.entry({ name: f.target.replace(/^\/+/, ''), mode: f.mode ?? 0o444, uid: f.uid ?? 0, gid: f.gid ?? 0 }, f.content ?? '');
    }
    t.finalize();
    await this.copyToContainer(id, '/', t as unknown as Readable, options);
  }

  async startContainer(idOrName: string, options?: CallOptions): Promise<void> {
    await this.call('container', idOrName, () => this.docker.getContainer(idOrName).start(sig(options)));
  }

  async stopContainer(idOrName: string, options?: CallOptions & { timeoutSeconds?: number | undefined }): Promise<void> {
    await this.call('container', idOrName, () =>
      this.docker.getContainer(idOrName).stop({ ...(options?.timeoutSeconds !== undefined ? { t: options.timeoutSeconds } : {}), ...sig(options) }),
    );
  }

  async killContainer(idOrName: string, options?: CallOptions & { killSignal?: string | undefined }): Promise<void> {
    await this.call('container', idOrName, () => this.docker.getContainer(idOrName).kill({ ...(options?.killSignal ? { signal: options.killSignal } : {}), ...sig(options) }));
  }

  async removeContainer(idOrName: string, options?: CallOptions & { force?: boolean | undefined; volumes?: boolean | undefined }): Promise<void> {
    await this.call('container', idOrName, () =>
      this.docker.getContainer(idOrName).remove({ force: options?.force ?? false, v: options?.volumes ?? false, ...sig(options) } as Docker.ContainerRemoveOptions),
    );
  }

  async renameContainer(idOrName: string, newName: string, options?: CallOptions): Promise<void> {
    await this.call('container', idOrName, () => this.docker.getContainer(idOrName).rename({ name: newName, ...sig(options) }));
  }

  async restartContainer(idOrName: string, options?: CallOptions & { timeoutSeconds?: number | undefined }): Promise<void> {
    await this.call('container', idOrName, () =>
      this.docker.getContainer(idOrName).restart({ ...(options?.timeoutSeconds !== undefined ? { t: options.timeoutSeconds } : {}), ...sig(options) }),
    );
  }

  async pauseContainer(idOrName: string, options?: CallOptions): Promise<void> {
    await this.call('container', idOrName, () => this.docker.getContainer(idOrName).pause(sig(options)));
  }

  async unpauseContainer(idOrName: string, options?: CallOptions): Promise<void> {
    await this.call('container', idOrName, () => this.docker.getContainer(idOrName).unpause(sig(options)));
  }

  async waitContainer(idOrName: string, options?: WaitOptions): Promise<number> {
    const res = (await this.call('container', idOrName, () =>
      this.docker.getContainer(idOrName).wait({ condition: options?.condition ?? 'not-running', ...sig(options) } as Docker.ContainerWaitOptions),
    )) as { StatusCode?: number; Error?: { Message?: string } | null };
    if (res.Error?.Message) throw new TsComposeError('TSC_DOCKER', `waiting for container ${idOrName}: ${res.Error.Message}`);
    return res.StatusCode ?? 0;
  }

  async topContainer(idOrName: string, options?: CallOptions & { psArgs?: string | undefined }): Promise<ProcessList> {
    const res = (await this.call('container', idOrName, () =>
      this.docker.getContainer(idOrName).top({ ...(options?.psArgs ? { ps_args: options.psArgs } : {}), ...sig(options) }),
    )) as { Titles?: string[] | null; Processes?: string[][] | null };
    return { titles: res.Titles ?? [], processes: res.Processes ?? [] };
  }

  // -- exec ------------------------------------------------------------------------------------------------------

  async execStream(idOrName: string, spec: ExecSpec, options?: CallOptions): Promise<ExecSession> {
    const create: Docker.ExecCreateOptions = {
      Cmd: [...spec.cmd],
      AttachStdout: true,
      AttachStderr: true,
      AttachStdin: spec.stdin !== undefined,
      Tty: spec.tty ?? false,
      ...(spec.env ? { Env: [...spec.env] } : {}),
      ...(spec.user !== undefined ? { User: spec.user } : {}),
      ...(spec.workdir !== undefined ? { WorkingDir: spec.workdir } : {}),
      ...(spec.privileged !== undefined ? { Privileged: spec.privileged } : {}),
      ...sig(options),
    } as Docker.ExecCreateOptions;
    const exec = await this.call('container', idOrName, () => this.docker.getContainer(idOrName).exec(create));
    const stream = await this.call('container', idOrName, () =>
      exec.start({ hijack: true, stdin: spec.stdin !== undefined, Detach: false, Tty: spec.tty ?? false, ...sig(options) } as Docker.ExecStartOptions),
    );
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const demux = new Demuxer((s, payload) => (s === 'stderr' ? stderr : stdout).write(payload), spec.tty ?? false);
    const ended = new Promise<void>((resolve) => {
      let done = false;
      const finish = (err?: Error): void => {
        if (done) return;
        done = true;
        demux.end();
        if (err && !isAbortError(err)) stdout.destroy(err);
        else stdout.end();
        stderr.end();
        resolve();
      };
      stream.on('data', (c: Buffer) => demux.push(c));
      stream.on('end', () => finish());
      stream.on('close', () => finish());
      stream.on('error', (e: Error) => finish(e));
    });
    // piping ends (half-closes) the hijacked connection when stdin ends, which closes the process's stdin
    if (spec.stdin) spec.stdin.pipe(stream);
    const wait = async (): Promise<number> => {
      await ended;
      for (let i = 0; ; i++) {
        const info = (await this.call('container', idOrName, () => exec.inspect(sig(options)))) as { Running?: boolean; ExitCode?: number | null };
        if (!info.Running && info.ExitCode !== null && info.ExitCode !== undefined) return info.ExitCode;
        await new Promise((r) => setTimeout(r, Math.min(10 * (i + 1), 200)));
      }
    };
    return { stdout, stderr, wait };
  }

  async exec(idOrName: string, spec: ExecSpec, options?: CallOptions): Promise<ExecResult> {
    const session = await this.execStream(idOrName, spec, options);
    const collect = async (r: Readable): Promise<string> => {
      const parts: Buffer[] = [];
      for await (const c of chunks(r)) parts.push(c);
      return Buffer.concat(parts).toString('utf8');
    };
    const [stdout, stderr] = await Promise.all([collect(session.stdout), collect(session.stderr)]);
    return { exitCode: await session.wait(), stdout, stderr };
  }

  // -- logs and events -------------------------------------------------------------------------------------------

  async *containerLogs(idOrName: string, options: LogsOptions = {}): AsyncIterable<LogLine> {
    const container = this.docker.getContainer(idOrName);
    const raw = (await this.call('container', idOrName, () => container.inspect(sig(options)))) as unknown as RawContainerInspect;
    const tty = raw.Config?.Tty ?? false;
    const query: Record<string, unknown> = {
      stdout: true,
      stderr: true,
      follow: options.follow ?? false,
      timestamps: options.timestamps ?? false,
      tail: options.tail === undefined ? 'all' : String(options.tail),
      ...sig(options),
    };
    if (options.since !== undefined) query['since'] = toUnixSeconds(options.since);
    if (options.until !== undefined) query['until'] = toUnixSeconds(options.until);
    let source: AsyncIterable<Buffer>;
    try {
      const res = (await this.call('container', idOrName, () => invoke(container, 'logs', query))) as unknown;
      source = Buffer.isBuffer(res) ? (async function* () { yield res; })() : chunks(res as NodeJS.ReadableStream);
    } catch (e) {
      if (isAbortError(e)) return;
      throw e;
    }
    const queue: LogLine[] = [];
    const splitter = new LineSplitter();
    const emit = (stream: 'stdout' | 'stderr', line: string): void => {
      if (options.timestamps) {
        const t = splitTimestamp(line);
        queue.push(t.timestamp !== undefined ? { stream, line: t.line, timestamp: t.timestamp } : { stream, line: t.line });
      } else {
        queue.push({ stream, line });
      }
    };
    const demux = new Demuxer((stream, payload) => {
      for (const line of splitter.push(stream, payload)) emit(stream, line);
    }, tty);
    try {
      for await (const chunk of source) {
        demux.push(chunk);
        while (queue.length > 0) yield queue.shift()!;
      }
    } catch (e) {
      if (!isAbortError(e) && !options.signal?.aborted) throw mapDockerError(e, 'container', idOrName);
    }
    demux.end();
    for (const { stream, line } of splitter.flush()) emit(stream, line);
    while (queue.length > 0) yield queue.shift()!;
  }

  async *events(options: EventsOptions = {}): AsyncIterable<RuntimeEvent> {
    const filters: Record<string, string[]> = { ...(labelFilters(options.labels) ?? {}) };
    if (options.types) filters['type'] = [...options.types];
    const query: Record<string, unknown> = { filters, ...sig(options) };
    if (options.since !== undefined) query['since'] = options.since;
    if (options.until !== undefined) query['until'] = options.until;
    let stream: NodeJS.ReadableStream;
    try {
      stream = await this.call('container', 'events', () => this.docker.getEvents(query as Docker.GetEventsOptions));
    } catch (e) {
      if (isAbortError(e)) return;
      throw e;
    }
    let buf = '';
    try {
      for await (const chunk of chunks(stream)) {
        buf += chunk.toString('utf8');
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i).trim();
          buf = buf.slice(i + 1);
          if (line) yield toRuntimeEvent(JSON.parse(line) as Parameters<typeof toRuntimeEvent>[0]);
        }
      }
    } catch (e) {
      if (isAbortError(e) || options.signal?.aborted) return;
      throw mapDockerError(e, 'container', 'events');
    }
  }

  // -- cp --------------------------------------------------------------------------------------------------------

  async copyToContainer(idOrName: string, path: string, tar: Readable, options?: CallOptions): Promise<void> {
    await this.call('container', `${idOrName}:${path}`, () => this.docker.getContainer(idOrName).putArchive(tar, { path, ...sig(options) }));
  }

  async copyFromContainer(idOrName: string, path: string, options?: CallOptions): Promise<Readable> {
    const s = await this.call('container', `${idOrName}:${path}`, () => this.docker.getContainer(idOrName).getArchive({ path, ...sig(options) }));
    return s as unknown as Readable;
  }

  // -- networks --------------------------------------------------------------------------------------------------

  async listNetworks(options: ListOptions = {}): Promise<NetworkInfo[]> {
    const filters = labelFilters(options.labels);
    const list = await this.call('network', '*', () => this.docker.listNetworks({ ...(filters ? { filters } : {}), ...sig(options) } as Docker.NetworkListOptions));
    // The list endpoint leaves Containers empty: inspect each for attachments.
    return Promise.all((list as unknown as RawNetwork[]).map((n) => this.inspectNetwork(n.Id, options)));
  }

  async inspectNetwork(idOrName: string, options?: CallOptions): Promise<NetworkInfo> {
    const raw = await this.call('network', idOrName, () => invoke(this.docker.getNetwork(idOrName), 'inspect', sig(options)));
    return toNetworkInfo(raw as unknown as RawNetwork);
  }

  async createNetwork(spec: NetworkSpec, options?: CallOptions): Promise<{ id: string }> {
    const n = await this.call('network', spec.name, () => this.docker.createNetwork({ ...toNetworkCreateBody(spec), ...sig(options) }));
    return { id: n.id };
  }

  async removeNetwork(idOrName: string, options?: CallOptions): Promise<void> {
    await this.call('network', idOrName, () => this.docker.getNetwork(idOrName).remove(sig(options)));
  }

  async connectNetwork(network: string, container: string, endpoint?: Omit<EndpointSpec, 'network'>, options?: CallOptions): Promise<void> {
    await this.call('network', network, () =>
      this.docker.getNetwork(network).connect({ Container: container, EndpointConfig: endpointSettings(endpoint ?? {}), ...sig(options) }),
    );
  }

  async disconnectNetwork(network: string, container: string, options?: CallOptions & { force?: boolean | undefined }): Promise<void> {
    await this.call('network', network, () => this.docker.getNetwork(network).disconnect({ Container: container, Force: options?.force ?? false, ...sig(options) }));
  }

  // -- volumes ---------------------------------------------------------------------------------------------------

  async listVolumes(options: ListOptions = {}): Promise<VolumeInfo[]> {
    const filters = labelFilters(options.labels);
    const res = (await this.call('volume', '*', () => this.docker.listVolumes({ ...(filters ? { filters } : {}), ...sig(options) }))) as { Volumes?: Parameters<typeof toVolumeInfo>[0][] | null };
    return (res.Volumes ?? []).map(toVolumeInfo).sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  async inspectVolume(name: string, options?: CallOptions): Promise<VolumeInfo> {
    const raw = await this.call('volume', name, () => this.docker.getVolume(name).inspect(sig(options)));
    return toVolumeInfo(raw as unknown as Parameters<typeof toVolumeInfo>[0]);
  }

  async createVolume(spec: VolumeSpec, options?: CallOptions): Promise<VolumeInfo> {
    const body: Record<string, unknown> = { Name: spec.name, Labels: { ...spec.labels }, ...sig(options) };
    if (spec.driver !== undefined) body['Driver'] = spec.driver;
    if (spec.driverOpts) body['DriverOpts'] = { ...spec.driverOpts };
    await this.call('volume', spec.name, () => this.docker.createVolume(body as Docker.VolumeCreateOptions));
    return this.inspectVolume(spec.name, options);
  }

  async removeVolume(name: string, options?: CallOptions & { force?: boolean | undefined }): Promise<void> {
    await this.call('volume', name, () => this.docker.getVolume(name).remove({ force: options?.force ?? false, ...sig(options) }));
  }

  // -- images ----------------------------------------------------------------------------------------------------

  async inspectImage(ref: string, options?: CallOptions): Promise<ImageInfo> {
    const raw = await this.call('image', ref, () => invoke(this.docker.getImage(ref), 'inspect', sig(options)));
    return toImageInfo(raw as unknown as Parameters<typeof toImageInfo>[0]);
  }

  async listImages(options: ListOptions = {}): Promise<ImageSummary[]> {
    const filters = labelFilters(options.labels);
    const list = await this.call('image', '*', () => this.docker.listImages({ ...(filters ? { filters } : {}), ...sig(options) } as Docker.ListImagesOptions));
    return (list as unknown as Parameters<typeof toImageSummary>[0][]).map(toImageSummary);
  }

  async pullImage(ref: string, options?: CallOptions & { platform?: string | undefined; onProgress?: ((event: PullProgress) => void) | undefined }): Promise<ImageInfo> {
    let failure: string | undefined;
    try {
      const stream = (await this.docker.pull(ref, { ...(options?.platform ? { platform: options.platform } : {}), ...sig(options) })) as Readable;
      failure = await readProgress(stream, (m) => options?.onProgress?.(toPullProgress(ref, m)));
    } catch (e) {
      if (isAbortError(e)) throw e;
      throw new PullError(ref, engineMessage(e), { cause: e });
    }
    if (failure !== undefined) throw new PullError(ref, failure);
    return this.inspectImage(ref, options);
  }

  async pushImage(ref: string, options?: CallOptions & { onProgress?: ((event: PushProgress) => void) | undefined }): Promise<void> {
    await this.inspectImage(ref, options); // NotFound when not present locally (the engine would stream an error)
    const { repo, tag } = splitRef(ref);
    const image = this.docker.getImage(repo);
    let failure: string | undefined;
    try {
      // The engine refuses a push without an X-Registry-Auth header, even an empty one (no credentials).
      const stream = (await image.push({ authconfig: {}, tag, ...sig(options) } as Docker.ImagePushOptions)) as unknown as Readable;
      failure = await readProgress(stream, (m) => options?.onProgress?.(toPullProgress(ref, m)));
    } catch (e) {
      if (isAbortError(e)) throw e;
      const mapped = mapDockerError(e, 'image', ref);
      if (mapped instanceof NotFoundError) throw mapped;
      throw new PushError(ref, engineMessage(e), { cause: e });
    }
    if (failure !== undefined) throw new PushError(ref, failure);
  }

  async tagImage(source: string, target: string, options?: CallOptions): Promise<void> {
    const { repo, tag } = splitRef(target);
    await this.call('image', source, () => this.docker.getImage(source).tag({ repo, tag, ...sig(options) }));
  }

  async removeImage(ref: string, options?: CallOptions & { force?: boolean | undefined }): Promise<void> {
    await this.call('image', ref, () => this.docker.getImage(ref).remove({ force: options?.force ?? false, ...sig(options) }));
  }

  async buildImage(spec: BuildSpec, options?: CallOptions & { onProgress?: ((event: BuildProgress) => void) | undefined }): Promise<{ id: string }> {
    const ref = spec.tags[0] ?? spec.context;
    let packed: Awaited<ReturnType<typeof packContext>>;
    try {
      // tar-fs and the .dockerignore matcher are only needed for builds: not loaded at start-up.
      const { packContext: pack } = await import('./build-context.js');
      packed = await pack(spec.context, spec.dockerfile, spec.dockerfileInline);
    } catch (e) {
      throw new BuildError(ref, `reading the build context ${spec.context}: ${(e as Error).message}`, { cause: e });
    }
    const query: Record<string, unknown> = { dockerfile: packed.dockerfile, t: [...spec.tags], rm: true, forcerm: true, ...sig(options) };
    if (spec.args && Object.keys(spec.args).length > 0) query['buildargs'] = { ...spec.args };
    if (spec.labels && Object.keys(spec.labels).length > 0) query['labels'] = { ...spec.labels };
    if (spec.target !== undefined) query['target'] = spec.target;
    if (spec.noCache) query['nocache'] = true;
    if (spec.pull) query['pull'] = true;
    if (spec.platform !== undefined) query['platform'] = spec.platform;
    if (spec.network !== undefined) query['networkmode'] = spec.network;
    if (spec.extraHosts && spec.extraHosts.length > 0) query['extrahosts'] = spec.extraHosts.join(',');
    if (spec.cacheFrom && spec.cacheFrom.length > 0) query['cachefrom'] = [...spec.cacheFrom];
    if (spec.shmSizeBytes !== undefined) query['shmsize'] = spec.shmSizeBytes;
    let failure: string | undefined;
    let id: string | undefined;
    try {
      const stream = (await this.docker.buildImage(packed.tar as unknown as NodeJS.ReadableStream, query as Docker.ImageBuildOptions)) as unknown as Readable;
      failure = await readProgress(stream, (m: ProgressMessage) => {
        if (m.aux?.ID) id = m.aux.ID;
        const text = m.stream ?? m.status ?? (m.error ? m.error + '\n' : undefined);
        if (text !== undefined && text !== '') options?.onProgress?.({ text });
        if (id === undefined && m.stream) {
          const built = /Successfully built ([0-9a-f]{12,})/.exec(m.stream);
          if (built) id = built[1];
        }
      });
    } catch (e) {
      if (isAbortError(e)) throw e;
      throw new BuildError(ref, engineMessage(e), { cause: e });
    }
    if (failure !== undefined) throw new BuildError(ref, failure);
    if (id === undefined || !id.startsWith('sha256:')) id = (await this.inspectImage(id ?? ref, options)).id;
    return { id };
  }

  // -- image tools (`tscompose image …`) ---------------------------------------------------------------------------

  async loadImage(archive: Readable, options?: CallOptions): Promise<LoadResult> {
    const loaded: string[] = [];
    let failure: string | undefined;
    try {
      const stream = (await this.docker.loadImage(archive, { quiet: true, ...sig(options) })) as unknown as Readable;
      failure = await readProgress(stream, (m) => loaded.push(...loadedLines(m)));
    } catch (e) {
      if (isAbortError(e)) throw e;
      const mapped = mapDockerError(e, 'image', 'archive');
      if (mapped instanceof RuntimeUnavailableError) throw mapped;
      throw new TsComposeError('TSC_IMAGE_LOAD', `loading images: ${engineMessage(e)}`, { cause: e });
    }
    if (failure !== undefined) throw new TsComposeError('TSC_IMAGE_LOAD', `loading images: ${failure}`);
    return { loaded };
  }

  async saveImage(refs: readonly string[], options?: CallOptions): Promise<Readable> {
    // The engine only reports a missing image once the (empty) archive has started: check each first.
    for (const ref of refs) await this.inspectImage(ref, options).catch((e: unknown) => Promise.reject(asGivenRef(e, ref)));
    const s = await this.call('image', refs.join(' '), () => invoke(this.docker, 'getImages', { names: [...refs], ...sig(options) }));
    return s as unknown as Readable;
  }

  async pruneImages(options?: CallOptions & { readonly all?: boolean | undefined }): Promise<PruneResult> {
    const res = (await this.call('image', '*', () =>
      this.docker.pruneImages({ filters: { dangling: [options?.all ? 'false' : 'true'] }, ...sig(options) }),
    )) as { ImagesDeleted?: { Untagged?: string; Deleted?: string }[] | null; SpaceReclaimed?: number };
    return toPruneResult(res);
  }

  async inspectImageDetails(ref: string, options?: CallOptions): Promise<ImageDetails> {
    const raw = await this.call('image', ref, () => invoke(this.docker.getImage(ref), 'inspect', sig(options))).catch((e: unknown) => Promise.reject(asGivenRef(e, ref)));
    return imageDetailsOf(raw);
  }

  async ping(options?: CallOptions): Promise<boolean> {
    try {
      const timeout = AbortSignal.timeout(3000);
      const signal = options?.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
      await invoke(this.docker, 'ping', { abortSignal: signal });
      return true;
    } catch {
      return false;
    }
  }
}

/** `repo:tag` / `host:5000/repo:tag` / `repo` → repo and tag (default `latest`). */
export function splitRef(ref: string): { repo: string; tag: string } {
  const at = ref.indexOf('@');
  if (at >= 0) return { repo: ref.slice(0, at), tag: ref.slice(at + 1) };
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash) return { repo: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { repo: ref, tag: 'latest' };
}

/** NotFound under the ref asked for (engine 20.10 words it `no such image: x: No such image: x`). */
function asGivenRef(e: unknown, ref: string): unknown {
  return e instanceof NotFoundError && e.kind === 'image' && e.ref !== ref ? new NotFoundError('image', ref, { cause: e }) : e;
}

/** The `Loaded image: …` / `Loaded image ID: …` lines of one message of a load stream. */
export function loadedLines(m: ProgressMessage): string[] {
  const text = m.stream ?? m.status ?? '';
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^Loaded image( ID)?: /.test(l));
}

/** The engine's prune answer → PruneResult (untagged refs and deleted ids, in the engine's order). */
export function toPruneResult(res: { ImagesDeleted?: readonly { Untagged?: string; Deleted?: string }[] | null; SpaceReclaimed?: number } | null | undefined): PruneResult {
  const deleted: string[] = [];
  for (const d of res?.ImagesDeleted ?? []) {
    if (d.Untagged) deleted.push(d.Untagged);
    if (d.Deleted) deleted.push(d.Deleted);
  }
  return { deleted, reclaimedBytes: res?.SpaceReclaimed ?? 0 };
}

function toPullProgress(ref: string, m: ProgressMessage): PullProgress {
  const p: { -readonly [K in keyof PullProgress]: PullProgress[K] } = { ref, status: m.status ?? m.error ?? m.stream?.trim() ?? '' };
  if (m.id !== undefined) p.layer = m.id;
  if (m.progressDetail?.current !== undefined) p.current = m.progressDetail.current;
  if (m.progressDetail?.total !== undefined) p.total = m.progressDetail.total;
  return p;
}
