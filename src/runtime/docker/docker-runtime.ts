/**
 * The Runtime port on Docker Engine, through dockerode. Every engine error goes through mapDockerError; progress
 * streams are checked for `error`/`errorDetail`; log and exec output is demuxed and the targets ended.
 *
 * This class is the Runtime port's face only, and the client (DockerCall, ./call.ts) its services share: each method
 * delegates to the module of its resource, functions over that client: containers (./containers.ts), exec
 * (./exec.ts), attach (./attach.ts), logs and events (./logs.ts, ./events.ts), stats (./stats.ts), export and
 * commit (./container-export.ts), networks (./networks.ts), volumes (./volumes.ts) and images (./images.ts).
 */
import './lazy-deps.js'; // must precede dockerode: keeps gRPC and ssh2 out of start-up
import Docker from 'dockerode';
import { hostname } from 'node:os';
import type { Readable } from 'node:stream';
import { readSysctl } from '../../util/sysctl.js';
import { dockerLockDir, projectLocalPath, withProjectLockIn } from '../project-lock.js';
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
import * as containers from './containers.js';
import * as execs from './exec.js';
import * as images from './images.js';
import * as networks from './networks.js';
import * as volumes from './volumes.js';
import { invoke, type DockerCall, type ResourceKind } from './call.js';
import { mapDockerError } from './errors.js';
import * as eventStream from './events.js';
import * as logs from './logs.js';
import { dockerContainerStats } from './stats.js';
import { dockerAttach } from './attach.js';

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

  // -- containers (./containers.ts) ------------------------------------------------------------------------------

  listContainers(options: ListContainersOptions = {}): Promise<ContainerSummary[]> {
    return containers.listContainers(this, options);
  }

  inspectContainer(idOrName: string, options?: CallOptions): Promise<ContainerInspect> {
    return containers.inspectContainer(this, idOrName, options);
  }

  createContainer(spec: ContainerSpec, options?: CallOptions): Promise<{ id: string }> {
    return containers.createContainer(this, spec, options);
  }

  startContainer(idOrName: string, options?: CallOptions): Promise<void> {
    return containers.startContainer(this, idOrName, options);
  }

  stopContainer(idOrName: string, options?: CallOptions & { timeoutSeconds?: number | undefined }): Promise<void> {
    return containers.stopContainer(this, idOrName, options);
  }

  killContainer(idOrName: string, options?: CallOptions & { killSignal?: string | undefined }): Promise<void> {
    return containers.killContainer(this, idOrName, options);
  }

  removeContainer(idOrName: string, options?: CallOptions & { force?: boolean | undefined; volumes?: boolean | undefined }): Promise<void> {
    return containers.removeContainer(this, idOrName, options);
  }

  renameContainer(idOrName: string, newName: string, options?: CallOptions): Promise<void> {
    return containers.renameContainer(this, idOrName, newName, options);
  }

  restartContainer(idOrName: string, options?: CallOptions & { timeoutSeconds?: number | undefined }): Promise<void> {
    return containers.restartContainer(this, idOrName, options);
  }

  pauseContainer(idOrName: string, options?: CallOptions): Promise<void> {
    return containers.pauseContainer(this, idOrName, options);
  }

  unpauseContainer(idOrName: string, options?: CallOptions): Promise<void> {
    return containers.unpauseContainer(this, idOrName, options);
  }

  waitContainer(idOrName: string, options?: WaitOptions): Promise<number> {
    return containers.waitContainer(this, idOrName, options);
  }

  topContainer(idOrName: string, options?: CallOptions & { psArgs?: string | undefined }): Promise<ProcessList> {
    return containers.topContainer(this, idOrName, options);
  }

  containerStats(idOrName: string, options?: CallOptions): Promise<StatsSample> {
    return dockerContainerStats(this, idOrName, options);
  }

  attachContainer(idOrName: string, options?: AttachOptions): Promise<AttachSession> {
    return dockerAttach(this, idOrName, options);
  }

  // -- exec (./exec.ts) ------------------------------------------------------------------------------------------

  execStream(idOrName: string, spec: ExecSpec, options?: CallOptions): Promise<ExecSession> {
    return execs.execStream(this, idOrName, spec, options);
  }

  exec(idOrName: string, spec: ExecSpec, options?: CallOptions): Promise<ExecResult> {
    return execs.exec(this, idOrName, spec, options);
  }

  // -- logs and events (./logs.ts, ./events.ts) ------------------------------------------------------------------

  containerLogs(idOrName: string, options: LogsOptions = {}): AsyncIterable<LogLine> {
    return logs.containerLogs(this, idOrName, options);
  }

  events(options: EventsOptions = {}): AsyncIterable<RuntimeEvent> {
    return eventStream.events(this, options);
  }

  // -- cp, export, commit (./containers.ts, ./container-export.ts) -----------------------------------------------

  copyToContainer(idOrName: string, path: string, tar: Readable, options?: CallOptions): Promise<void> {
    return containers.copyToContainer(this, idOrName, path, tar, options);
  }

  copyFromContainer(idOrName: string, path: string, options?: CallOptions): Promise<Readable> {
    return containers.copyFromContainer(this, idOrName, path, options);
  }

  exportContainer(idOrName: string, options?: CallOptions): Promise<Readable> {
    return exported.exportContainer(this, idOrName, options);
  }

  commitContainer(idOrName: string, options?: CommitOptions): Promise<{ id: string }> {
    return exported.commitContainer(this, idOrName, options);
  }

  // -- networks (./networks.ts) ----------------------------------------------------------------------------------

  listNetworks(options: ListOptions = {}): Promise<NetworkInfo[]> {
    return networks.listNetworks(this, options);
  }

  inspectNetwork(idOrName: string, options?: CallOptions): Promise<NetworkInfo> {
    return networks.inspectNetwork(this, idOrName, options);
  }

  createNetwork(spec: NetworkSpec, options?: CallOptions): Promise<{ id: string }> {
    return networks.createNetwork(this, spec, options);
  }

  removeNetwork(idOrName: string, options?: CallOptions): Promise<void> {
    return networks.removeNetwork(this, idOrName, options);
  }

  connectNetwork(network: string, container: string, endpoint?: Omit<EndpointSpec, 'network'>, options?: CallOptions): Promise<void> {
    return networks.connectNetwork(this, network, container, endpoint, options);
  }

  disconnectNetwork(network: string, container: string, options?: CallOptions & { force?: boolean | undefined }): Promise<void> {
    return networks.disconnectNetwork(this, network, container, options);
  }

  // -- volumes (./volumes.ts) ------------------------------------------------------------------------------------

  listVolumes(options: ListOptions = {}): Promise<VolumeInfo[]> {
    return volumes.listVolumes(this, options);
  }

  inspectVolume(name: string, options?: CallOptions): Promise<VolumeInfo> {
    return volumes.inspectVolume(this, name, options);
  }

  createVolume(spec: VolumeSpec, options?: CallOptions): Promise<VolumeInfo> {
    return volumes.createVolume(this, spec, options);
  }

  removeVolume(name: string, options?: CallOptions & { force?: boolean | undefined }): Promise<void> {
    return volumes.removeVolume(this, name, options);
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
