/**
 * The native runtime: compose projects with no daemon. Each container is an OCI bundle (config.json from
 * ./oci/oci-spec.ts, an overlayfs rootfs over the image layers of lib/image) run by runc or crun under conmon,
 * which outlives the CLI, logs stdout/stderr to a file and records the exit code; conmon's exit hook applies
 * restart policies and a detached health monitor runs healthchecks (./monitor/). Containers are records in the
 * state directory (./state.ts) carrying the same labels as on Docker, so the engine observes both runtimes the
 * same way; bridge networks with DNS and published ports come from lib/net and lib/dns (./netglue.ts).
 *
 * This class is the Runtime port's face only: each method delegates to the service of its resource, all built
 * over one context (./context.ts): containers (./containers.ts, ./container-create.ts, ./container-io.ts),
 * volumes (./volumes.ts), networks (./networks.ts) and images (./images.ts, loaded on first use).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { readSysctl } from '../../util/sysctl.js';
import { nativeAttach } from './attach.js';
import { projectLocalPath, withProjectLockIn } from '../project-lock.js';
import type {
  AttachOptions,
  AttachSession,
  BuildCachePruneResult,
  StateCheckReport,
  BuildProgress,
  BuildSpec,
  CallOptions,
  CommitOptions,
  ContainerInspect,
  ContainerSpec,
  ContainerSummary,
  EventsOptions,
  ExecResult,
  ExecSession,
  ExecSpec,
  ImageDetails,
  ImageInfo,
  ImageSummary,
  ListContainersOptions,
  ListOptions,
  ImportOptions,
  ImportResult,
  LoadResult,
  LogLine,
  LogsOptions,
  NetworkInfo,
  NetworkSpec,
  ProcessList,
  StatsSample,
  PruneResult,
  PullProgress,
  PushProgress,
  Runtime,
  RuntimeEvent,
  VolumeInfo,
  VolumeSpec,
  WaitOptions,
} from '../runtime.js';
import { createContainer } from './container-create.js';
import { ContainerIo } from './container-io.js';
import { ContainerService } from './containers.js';
import { nativeStatsSample } from './stats.js';
import { detectCgroupMode } from './oci/cgroups.js';
import { NativeContext } from './context.js';
import { NetworkService } from './networks.js';
import { VolumeService } from './volumes.js';
import { traced } from '../../util/trace.js';

const execFileP = promisify(execFile);

export class NativeRuntime implements Runtime {
  readonly kind = 'native';
  readonly ctx: NativeContext;
  private readonly volumes: VolumeService;
  private readonly networks: NetworkService;
  private readonly containers: ContainerService;
  private readonly io: ContainerIo;

  constructor(options: { env?: NodeJS.ProcessEnv } = {}) {
    this.ctx = new NativeContext(options.env ?? process.env);
    this.volumes = new VolumeService(this.ctx);
    this.networks = new NetworkService(this.ctx);
    this.containers = new ContainerService(this.ctx, this.volumes, this.networks);
    this.io = new ContainerIo(this.ctx, this.containers);
  }

  // containers

  listContainers(options?: ListContainersOptions): Promise<ContainerSummary[]> {
    return this.containers.list(options);
  }

  inspectContainer(idOrName: string): Promise<ContainerInspect> {
    return this.containers.inspect(idOrName);
  }

  createContainer(spec: ContainerSpec): Promise<{ id: string }> {
    return traced('native.create', () => createContainer(this.ctx, this.containers, this.volumes, spec));
  }

  startContainer(idOrName: string): Promise<void> {
    return traced('native.start', () => this.containers.start(idOrName));
  }

  prepareStart(idOrName: string): Promise<void> {
    return traced('native.prepare-start', () => this.containers.prepareStart(idOrName));
  }

  discardPreparedStarts(): Promise<void> {
    return this.containers.discardPreparedStarts();
  }

  stopContainer(idOrName: string, options?: CallOptions & { timeoutSeconds?: number | undefined; removing?: boolean | undefined }): Promise<void> {
    return traced('native.stop', () => this.containers.stop(idOrName, options));
  }

  killContainer(idOrName: string, options?: CallOptions & { killSignal?: string | undefined }): Promise<void> {
    return this.containers.kill(idOrName, options);
  }

  removeContainer(idOrName: string, options?: CallOptions & { force?: boolean | undefined; volumes?: boolean | undefined }): Promise<void> {
    return traced('native.remove', () => this.containers.remove(idOrName, options));
  }

  renameContainer(idOrName: string, newName: string): Promise<void> {
    return this.containers.rename(idOrName, newName);
  }

  restartContainer(idOrName: string, options?: CallOptions & { timeoutSeconds?: number | undefined }): Promise<void> {
    return this.containers.restart(idOrName, options);
  }

  pauseContainer(idOrName: string): Promise<void> {
    return this.containers.pause(idOrName);
  }

  unpauseContainer(idOrName: string): Promise<void> {
    return this.containers.unpause(idOrName);
  }

  waitContainer(idOrName: string, options?: WaitOptions): Promise<number> {
    return this.containers.wait(idOrName, options);
  }

  topContainer(idOrName: string, options?: CallOptions & { psArgs?: string | undefined }): Promise<ProcessList> {
    return this.containers.top(idOrName, options);
  }

  /** From the container's cgroup and network namespace (./stats.ts). */
  async containerStats(idOrName: string): Promise<StatsSample> {
    const r = await this.containers.record(idOrName);
    const status = await this.containers.status(r);
    return nativeStatsSample(detectCgroupMode(), {
      running: status === 'running' || status === 'paused',
      pid: r.state.pid,
      networkMode: r.spec.networkMode,
      memoryLimitBytes: r.spec.resources?.memoryBytes,
    });
  }

  exec(idOrName: string, spec: ExecSpec, options?: CallOptions): Promise<ExecResult> {
    return this.io.exec(idOrName, spec, options);
  }

  execStream(idOrName: string, spec: ExecSpec, options?: CallOptions): Promise<ExecSession> {
    return this.io.execStream(idOrName, spec, options);
  }

  attachContainer(idOrName: string, options?: AttachOptions): Promise<AttachSession> {
    return nativeAttach(this.ctx, this.containers, idOrName, options);
  }

  containerLogs(idOrName: string, options?: LogsOptions): AsyncIterable<LogLine> {
    return this.io.logs(idOrName, options);
  }

  events(options?: EventsOptions): AsyncIterable<RuntimeEvent> {
    return this.io.events(options);
  }

  copyToContainer(idOrName: string, path: string, tar: Readable): Promise<void> {
    return this.io.copyTo(idOrName, path, tar);
  }

  copyFromContainer(idOrName: string, path: string): Promise<Readable> {
    return this.io.copyFrom(idOrName, path);
  }

  /** The container's overlay rootfs as a tar (./export-commit.ts, loaded on first use). */
  async exportContainer(idOrName: string, options?: CallOptions): Promise<Readable> {
    const { exportContainer } = await import('./export-commit.js');
    return exportContainer(this.ctx, this.containers, idOrName, options);
  }

  /** Its upper directory as a layer on its image's, in the native store (./export-commit.ts). */
  async commitContainer(idOrName: string, options?: CommitOptions): Promise<{ id: string }> {
    const { commitContainer } = await import('./export-commit.js');
    return traced('native.commit', () => commitContainer(this.ctx, this.containers, idOrName, options));
  }

  // networks

  listNetworks(options?: ListOptions): Promise<NetworkInfo[]> {
    return this.networks.list(options);
  }

  inspectNetwork(idOrName: string): Promise<NetworkInfo> {
    return this.networks.inspect(idOrName);
  }

  createNetwork(spec: NetworkSpec): Promise<{ id: string }> {
    return this.networks.create(spec);
  }

  removeNetwork(idOrName: string): Promise<void> {
    return this.networks.remove(idOrName);
  }

  connectNetwork(network: string, container: string): Promise<void> {
    return this.networks.connect(network, container);
  }

  disconnectNetwork(network: string): Promise<void> {
    return this.networks.disconnect(network);
  }

  // volumes

  listVolumes(options?: ListOptions): Promise<VolumeInfo[]> {
    return this.volumes.list(options);
  }

  inspectVolume(name: string): Promise<VolumeInfo> {
    return this.volumes.inspect(name);
  }

  createVolume(spec: VolumeSpec): Promise<VolumeInfo> {
    return this.volumes.create(spec);
  }

  removeVolume(name: string, options?: CallOptions & { force?: boolean | undefined }): Promise<void> {
    return this.volumes.remove(name, options);
  }

  // images (the image service and its store load with the first image operation)

  async inspectImage(ref: string): Promise<ImageInfo> {
    return (await this.ctx.images()).inspectImage(ref);
  }

  async pullImage(
    ref: string,
    options?: CallOptions & { platform?: string | undefined; onProgress?: ((event: PullProgress) => void) | undefined },
  ): Promise<ImageInfo> {
    return (await this.ctx.images()).pullImage(ref, options);
  }

  async removeImage(ref: string, options?: CallOptions & { force?: boolean | undefined }): Promise<void> {
    return (await this.ctx.images()).removeImage(ref, options);
  }

  async listImages(options?: ListOptions): Promise<ImageSummary[]> {
    return (await this.ctx.images()).listImages(options);
  }

  async buildImage(spec: BuildSpec, options?: CallOptions & { onProgress?: ((event: BuildProgress) => void) | undefined }): Promise<{ id: string }> {
    const { buildNative } = await import('./build/native-build.js');
    return buildNative(this.ctx, spec, options);
  }

  async pushImage(ref: string, options?: CallOptions & { onProgress?: ((event: PushProgress) => void) | undefined }): Promise<void> {
    return (await this.ctx.images()).pushImage(ref, options);
  }

  async tagImage(source: string, target: string): Promise<void> {
    return (await this.ctx.images()).tagImage(source, target);
  }

  async loadImage(archive: Readable, options?: CallOptions): Promise<LoadResult> {
    return (await this.ctx.images()).loadImage(archive, options);
  }

  async importImage(tarball: Readable, options?: ImportOptions): Promise<ImportResult> {
    return (await this.ctx.images()).importImage(tarball, options);
  }

  async saveImage(refs: readonly string[]): Promise<Readable> {
    return (await this.ctx.images()).saveImage(refs);
  }

  async pruneImages(options?: CallOptions & { all?: boolean | undefined }): Promise<PruneResult> {
    return (await this.ctx.images()).pruneImages(options);
  }

  async pruneBuildCache(options?: CallOptions & { all?: boolean | undefined }): Promise<BuildCachePruneResult> {
    const { pruneNativeBuildCache } = await import('./build/native-build.js');
    return pruneNativeBuildCache(this.ctx, options?.all === true);
  }

  async inspectImageDetails(ref: string): Promise<ImageDetails> {
    return (await this.ctx.images()).inspectImageDetails(ref);
  }

  // ------------------------------------------------------------------------------------------------------------

  async hostSysctl(name: string): Promise<string | undefined> {
    return readSysctl(name);
  }

  /** In the state directory's locks/: every CLI on this state directory sees it. */
  withProjectLock<T>(project: string, fn: () => Promise<T>, options?: CallOptions): Promise<T> {
    return withProjectLockIn(this.ctx.paths.locks, project, fn, options?.signal);
  }

  projectLocalDir(project: string): string {
    return projectLocalPath(this.ctx.paths.locks, project);
  }

  listResumable(): Promise<string[]> {
    return this.containers.resumable();
  }

  async checkState(options: CallOptions & { readonly repair?: boolean | undefined } = {}): Promise<StateCheckReport> {
    const { checkNativeState } = await import('./check.js');
    return checkNativeState(this.ctx, options);
  }

  async ping(): Promise<boolean> {
    try {
      if (process.getuid?.() !== 0) return false;
      void this.ctx.oci; // throws when no OCI runtime is installed
      return (
        existsSync('/usr/bin/conmon') ||
        (await execFileP('sh', ['-c', 'command -v conmon']).then(
          () => true,
          () => false,
        ))
      );
    } catch {
      return false;
    }
  }
}
