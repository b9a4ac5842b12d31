/**
 * The Runtime port on Docker Engine, through dockerode. Every engine error goes through mapDockerError; progress
 * streams are checked for `error`/`errorDetail`; log and exec output is demuxed here and the targets ended.
 */
import './lazy-deps.js'; // must precede dockerode: keeps gRPC and ssh2 out of start-up
import Docker from 'dockerode';
import { hostname } from 'node:os';
import { PassThrough, type Readable } from 'node:stream';
import { TsComposeError } from '../../errors.js';
import { readSysctl } from '../../util/sysctl.js';
import { dockerLockDir, projectLocalPath, withProjectLockIn } from '../project-lock.js';
import { NotFoundError } from '../errors.js';
import { dockerFiles, filesTar, type DockerFiles } from './container-files.js';
import * as exported from './container-export.js';
import type {
  ImportOptions,
  ImportResult,
  LoadResult,
  PruneResult,
  ImageDetails,
  BuildCachePruneResult,
  StateCheckReport,
  BuildProgress,
  BuildSpec,
  CallOptions,
  CommitOptions,
  ContainerInspect,
  ContainerSpec,
  ContainerSummary,
  EndpointSpec,
  EventsOptions,
  ExecResult,
  ExecSession,
  ExecSpec,
  ImageInfo,
  AttachOptions,
  AttachSession,
  ImageSummary,
  ListContainersOptions,
  ListOptions,
  LogLine,
  LogsOptions,
  NetworkInfo,
  NetworkSpec,
  ProcessList,
  StatsSample,
  PullProgress,
  PushProgress,
  Runtime,
  RuntimeEvent,
  VolumeInfo,
  VolumeSpec,
  WaitOptions,
} from '../runtime.js';
import { dockerConnection, type Env } from './connection.js';
import * as images from './images.js';
import { invoke, sig, type DockerCall, type ResourceKind } from './call.js';
import {
  endpointSettings,
  labelFilters,
  toContainerInspect,
  toContainerSummary,
  toCreateBody,
  toNetworkCreateBody,
  toNetworkInfo,
  toRuntimeEvent,
  toUnixSeconds,
  toVolumeInfo,
  type RawContainerInspect,
  type RawContainerSummary,
  type RawNetwork,
} from './convert.js';
import { isAbortError, mapDockerError } from './errors.js';
import { Demuxer, LineSplitter, splitTimestamp } from './streams.js';
import { dockerContainerStats } from './stats.js';
import { dockerAttach } from './attach.js';

/** Reads a stream's chunks as Buffers. */
async function* chunks(stream: NodeJS.ReadableStream): AsyncGenerator<Buffer> {
  for await (const c of stream as AsyncIterable<Buffer | string>) yield typeof c === 'string' ? Buffer.from(c) : c;
}

export class DockerRuntime implements Runtime, DockerCall {
  readonly kind = 'docker';
  readonly docker: Docker;

  constructor(options: { env?: Env; docker?: Docker } = {}) {
    this.docker = options.docker ?? new Docker(dockerConnection(options.env ?? process.env));
  }

  async call<T>(kind: ResourceKind, ref: string, fn: () => Promise<T>): Promise<T> {
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
    return (list as unknown as RawContainerSummary[])
      .map((c) => toContainerSummary(c))
      .sort((a, b) => a.created - b.created || (a.name < b.name ? -1 : 1));
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
    // Secrets and configs: bound, or copied in before start with their mode and owner (./container-files.ts).
    const files = await dockerFiles(spec);
    const { body, connectAfter } = toCreateBody({ ...spec, files: files.bound }, inherited);
    // The engine accepts missing networks at create (and connect) time and only fails at start: check them first.
    if (spec.networkMode === undefined) await Promise.all((spec.networks ?? []).map((ep) => this.inspectNetwork(ep.network, options)));
    const container = await this.call('container', spec.name, () => this.docker.createContainer({ ...body, ...sig(options) }));
    try {
      for (const ep of connectAfter) await this.connectNetwork(ep.network, container.id, ep, options);
      await this.copyFiles(container.id, files, options);
    } catch (e) {
      // all or nothing: a half-attached container would look up to date to the next `up`
      await this.removeContainer(container.id, { force: true }).catch(() => undefined);
      throw e;
    }
    return { id: container.id };
  }

  /** Secrets/configs to copy in: a tar of the files, extracted at `/` (owners kept when a reference gives one). */
  private async copyFiles(id: string, files: DockerFiles, options?: CallOptions): Promise<void> {
    const tar = await filesTar(files.copied);
    if (tar === undefined) return;
    await this.call('container', `${id}:/`, () =>
      this.docker.getContainer(id).putArchive(tar, { path: '/', ...(files.keepOwners ? { copyUIDGID: true } : {}), ...sig(options) }),
    );
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
    await this.call('container', idOrName, () =>
      this.docker.getContainer(idOrName).kill({ ...(options?.killSignal ? { signal: options.killSignal } : {}), ...sig(options) }),
    );
  }

  async removeContainer(idOrName: string, options?: CallOptions & { force?: boolean | undefined; volumes?: boolean | undefined }): Promise<void> {
    await this.call('container', idOrName, () =>
      this.docker
        .getContainer(idOrName)
        .remove({ force: options?.force ?? false, v: options?.volumes ?? false, ...sig(options) } as Docker.ContainerRemoveOptions),
    );
  }

  async renameContainer(idOrName: string, newName: string, options?: CallOptions): Promise<void> {
    await this.call('container', idOrName, () => this.docker.getContainer(idOrName).rename({ name: newName, ...sig(options) }));
  }

  async restartContainer(idOrName: string, options?: CallOptions & { timeoutSeconds?: number | undefined }): Promise<void> {
    await this.call('container', idOrName, () =>
      this.docker
        .getContainer(idOrName)
        .restart({ ...(options?.timeoutSeconds !== undefined ? { t: options.timeoutSeconds } : {}), ...sig(options) }),
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

  containerStats(idOrName: string, options?: CallOptions): Promise<StatsSample> {
    return dockerContainerStats(this, idOrName, options);
  }

  attachContainer(idOrName: string, options?: AttachOptions): Promise<AttachSession> {
    return dockerAttach(this, idOrName, options);
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
      exec.start({
        hijack: true,
        stdin: spec.stdin !== undefined,
        Detach: false,
        Tty: spec.tty ?? false,
        ...sig(options),
      } as Docker.ExecStartOptions),
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
        if (spec.stdin) spec.stdin.unpipe(stream); // the process has ended: no more of the input is read
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
      source = Buffer.isBuffer(res)
        ? (async function* () {
            yield res;
          })()
        : chunks(res as NodeJS.ReadableStream);
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

  exportContainer(idOrName: string, options?: CallOptions): Promise<Readable> {
    return exported.exportContainer(this, idOrName, options);
  }

  commitContainer(idOrName: string, options?: CommitOptions): Promise<{ id: string }> {
    return exported.commitContainer(this, idOrName, options);
  }

  // -- networks --------------------------------------------------------------------------------------------------

  async listNetworks(options: ListOptions = {}): Promise<NetworkInfo[]> {
    const filters = labelFilters(options.labels);
    const list = await this.call('network', '*', () =>
      this.docker.listNetworks({ ...(filters ? { filters } : {}), ...sig(options) } as Docker.NetworkListOptions),
    );
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
    await this.call('network', network, () =>
      this.docker.getNetwork(network).disconnect({ Container: container, Force: options?.force ?? false, ...sig(options) }),
    );
  }

  // -- volumes ---------------------------------------------------------------------------------------------------

  async listVolumes(options: ListOptions = {}): Promise<VolumeInfo[]> {
    const filters = labelFilters(options.labels);
    const res = (await this.call('volume', '*', () => this.docker.listVolumes({ ...(filters ? { filters } : {}), ...sig(options) }))) as {
      Volumes?: Parameters<typeof toVolumeInfo>[0][] | null;
    };
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

  // -- images (./images.ts) --------------------------------------------------------------------------------------

  inspectImage(ref: string, options?: CallOptions): Promise<ImageInfo> {
    return images.inspectImage(this, ref, options);
  }

  listImages(options: ListOptions = {}): Promise<ImageSummary[]> {
    return images.listImages(this, options);
  }

  pullImage(
    ref: string,
    options?: CallOptions & { platform?: string | undefined; onProgress?: ((event: PullProgress) => void) | undefined },
  ): Promise<ImageInfo> {
    return images.pullImage(this, ref, options);
  }

  pushImage(ref: string, options?: CallOptions & { onProgress?: ((event: PushProgress) => void) | undefined }): Promise<void> {
    return images.pushImage(this, ref, options);
  }

  tagImage(source: string, target: string, options?: CallOptions): Promise<void> {
    return images.tagImage(this, source, target, options);
  }

  removeImage(ref: string, options?: CallOptions & { force?: boolean | undefined }): Promise<void> {
    return images.removeImage(this, ref, options);
  }

  buildImage(spec: BuildSpec, options?: CallOptions & { onProgress?: ((event: BuildProgress) => void) | undefined }): Promise<{ id: string }> {
    return images.buildImage(this, spec, options);
  }

  loadImage(archive: Readable, options?: CallOptions): Promise<LoadResult> {
    return images.loadImage(this, archive, options);
  }

  importImage(tarball: Readable, options?: ImportOptions): Promise<ImportResult> {
    return images.importImage(this, tarball, options);
  }

  saveImage(refs: readonly string[], options?: CallOptions): Promise<Readable> {
    return images.saveImage(this, refs, options);
  }

  pruneImages(options?: CallOptions & { readonly all?: boolean | undefined }): Promise<PruneResult> {
    return images.pruneImages(this, options);
  }

  inspectImageDetails(ref: string, options?: CallOptions): Promise<ImageDetails> {
    return images.inspectImageDetails(this, ref, options);
  }

  pruneBuildCache(options?: CallOptions & { readonly all?: boolean | undefined }): Promise<BuildCachePruneResult> {
    return images.pruneBuildCache(this, options);
  }

  /**
   * Read from this machine's /proc/sys when the engine runs on this machine: reached through a unix socket and
   * reporting this machine's host name (Docker Desktop's engine, in a VM behind a local socket, reports its own).
   */
  async hostSysctl(name: string, options?: CallOptions): Promise<string | undefined> {
    if (!(this.docker.modem as { socketPath?: string }).socketPath) return undefined;
    try {
      const timeout = AbortSignal.timeout(3000);
      const signal = options?.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
      const info = (await invoke(this.docker, 'info', { abortSignal: signal })) as { Name?: string };
      return info.Name === hostname() ? await readSysctl(name) : undefined;
    } catch {
      return undefined;
    }
  }

  /** On this machine, per engine endpoint (src/runtime/project-lock.ts): CLIs here driving the same engine see it. */
  withProjectLock<T>(project: string, fn: () => Promise<T>, options?: CallOptions): Promise<T> {
    return withProjectLockIn(this.lockDir(), project, fn, options?.signal);
  }

  projectLocalDir(project: string): string {
    return projectLocalPath(this.lockDir(), project);
  }

  private lockDir(): string {
    const m = this.docker.modem as { socketPath?: string; host?: string; port?: string | number };
    return dockerLockDir(m.socketPath ? `unix://${m.socketPath}` : `tcp://${m.host ?? ''}:${String(m.port ?? '')}`);
  }

  /** dockerd brings its containers back itself when it starts (its restart policies): nothing for `resume`. */
  async listResumable(): Promise<string[]> {
    return [];
  }

  /** The engine's store is dockerd's own: nothing of tscompose's to check. */
  async checkState(): Promise<StateCheckReport> {
    return { checked: [], problems: [] };
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
