/**
 * An in-memory Runtime for unit tests and `--dry-run`. Deterministic: ids come from per-kind counters
 * (`c00000000001…`, `n00000000001…`), timestamps from a counter. Every call is recorded, in order, in `calls`.
 * Behaves like the Docker Engine where it matters to the engine: name conflicts, 304s on start/stop, removing a
 * running container needs `force`, networks and images must exist at create time.
 *
 * Beyond the engine: `exit()` makes a container exit, `emitLog()` gives it output, `onExec` decides what an exec
 * does (default: `echo …` prints, `false` exits 1, `exit N` exits N, anything else exits 0 silently), `onStart` what a
 * started container's command does (default: nothing, it runs until stopped), and every
 * state change is an event (`create`, `start`, `die`, `stop`, `kill`, `destroy`, `pause`, `unpause`, `rename`, and
 * network/volume `create`/`destroy`/`connect`/`disconnect`) with deterministic times (one second per event from
 * 2020-01-01T00:00:00Z). A build fails with BuildError when the inline Dockerfile contains `RUN false`.
 *
 * This class is the facade: it records each call (and throws an injected failure), then hands over to the module of
 * the resource: ./containers.ts, ./networks.ts (and volumes), ./images.ts, ./io.ts (exec, logs, events, cp), all
 * sharing one ./state.ts.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
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
  EndpointSpec,
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
import * as containers from './containers.js';
import * as images from './images.js';
import * as exported from './export.js';
import * as io from './io.js';
import * as stats from './stats.js';
import * as networks from './networks.js';
import { FakeState, type FakeCall, type FakeExecHandler } from './state.js';
import { projectLocalPath } from '../project-lock.js';

export type { FakeCall, FakeExecHandler } from './state.js';
export { defaultFakeExec } from './io.js';

export interface FakeRuntimeOptions {
  /** Images present from the start: ref → image id (repo digests are derived from it). */
  readonly images?: Readonly<Record<string, string>>;
  /** Images `pullImage` can fetch (ref → id); a ref not listed fails with PullError. Default: any ref. */
  readonly registry?: Readonly<Record<string, string>>;
  /** What execs do; default `defaultFakeExec`. */
  readonly onExec?: FakeExecHandler;
  /** What a started container does (its output, and its exit code if it exits at once); default: nothing, it runs. */
  readonly onStart?: FakeStartHandler;
  /** Kernel settings of the simulated host (`hostSysctl`): name → value; others are unknown. */
  readonly sysctls?: Readonly<Record<string, string>>;
  /** Where `projectLocalDir` puts a project's directory (default: a directory per process under the temp directory). */
  readonly localDir?: string;
}

/** The simulated run of a container's command: output lines, and an exit code when it exits right away. */
export type FakeStartHandler = (
  container: ContainerInspect,
  spec: ContainerSpec,
) => { readonly output?: readonly { readonly stream: 'stdout' | 'stderr'; readonly line: string }[]; readonly exitCode?: number } | undefined;

export class FakeRuntime implements Runtime {
  readonly kind = 'fake';
  private readonly s: FakeState;
  private readonly onStart: FakeStartHandler | undefined;
  private readonly sysctls: Readonly<Record<string, string>>;
  private readonly projectLocks = new Map<string, Promise<unknown>>();
  private readonly localDir: string;
  /** How many withProjectLock calls found their project locked. */
  lockWaits = 0;
  /** Every call so far, in order. */
  readonly calls: FakeCall[];
  /** Every event so far, in order. */
  readonly eventLog: RuntimeEvent[];
  /** Every image push, in order. */
  readonly pushed: string[];

  constructor(options: FakeRuntimeOptions = {}) {
    this.s = new FakeState(options.onExec ?? io.defaultFakeExec, options.registry);
    this.calls = this.s.calls;
    this.eventLog = this.s.eventLog;
    this.pushed = this.s.pushed;
    this.onStart = options.onStart;
    this.sysctls = options.sysctls ?? {};
    this.localDir = options.localDir ?? join(tmpdir(), `tscompose-fake-${process.pid}`);
    for (const [ref, id] of Object.entries(options.images ?? {})) this.s.setImage(ref, id);
  }

  // -- test controls ----------------------------------------------------------------------------------------------

  /** Appends a line of output to a container's log (followers see it at once). */
  emitLog(idOrName: string, line: string, stream: 'stdout' | 'stderr' = 'stdout'): void {
    io.emitLog(this.s, idOrName, line, stream);
  }

  /** Puts (or replaces) a local image, as a pull or build would. */
  setImage(ref: string, id: string): void {
    this.s.setImage(ref, id);
  }

  /** Makes the next call of `method` (whose recorded args satisfy `match`) reject with `error`. */
  failNext(method: keyof Runtime & string, error: Error, match?: (args: readonly string[]) => boolean): void {
    this.s.failNext({ method, match, error });
  }

  /** The spec a container was created with, as given (test inspection; the runtime port does not report it). */
  specOf(idOrName: string): ContainerSpec {
    return this.s.container(idOrName).spec;
  }

  /** Simulates the machine going down (a reboot): every run ends without an exit of its own. */
  crashAll(): void {
    containers.crashAll(this.s);
  }

  /** Simulates a container exiting on its own. */
  exit(idOrName: string, exitCode = 0): void {
    containers.exitContainer(this.s, idOrName, exitCode);
  }

  // -- containers -------------------------------------------------------------------------------------------------

  async listContainers(options: ListContainersOptions = {}): Promise<ContainerInspect[]> {
    await this.s.record('listContainers', [], options);
    return containers.listContainers(this.s, options);
  }

  async inspectContainer(idOrName: string, options?: CallOptions): Promise<ContainerInspect> {
    await this.s.record('inspectContainer', [idOrName], options);
    return this.s.toInspect(this.s.container(idOrName));
  }

  async createContainer(spec: ContainerSpec, options?: CallOptions): Promise<{ id: string }> {
    await this.s.record('createContainer', [spec.name], options);
    return containers.createContainer(this.s, spec);
  }

  async startContainer(idOrName: string, options?: CallOptions): Promise<void> {
    await this.s.record('startContainer', [idOrName], options);
    containers.startContainer(this.s, idOrName);
    const c = this.s.container(idOrName);
    const run = this.onStart?.(this.s.toInspect(c), c.spec);
    for (const o of run?.output ?? []) io.emitLog(this.s, idOrName, o.line, o.stream);
    if (run?.exitCode !== undefined) containers.exitContainer(this.s, idOrName, run.exitCode);
  }

  async stopContainer(idOrName: string, options?: CallOptions & { timeoutSeconds?: number | undefined }): Promise<void> {
    await this.s.record('stopContainer', [idOrName], options);
    containers.stopContainer(this.s, idOrName);
  }

  async killContainer(idOrName: string, options?: CallOptions & { killSignal?: string | undefined }): Promise<void> {
    await this.s.record('killContainer', [idOrName, options?.killSignal ?? 'SIGKILL'], options);
    containers.killContainer(this.s, idOrName, options?.killSignal ?? 'SIGKILL');
  }

  async removeContainer(idOrName: string, options?: CallOptions & { force?: boolean | undefined; volumes?: boolean | undefined }): Promise<void> {
    await this.s.record('removeContainer', [idOrName], options);
    containers.removeContainer(this.s, idOrName, options);
  }

  async renameContainer(idOrName: string, newName: string, options?: CallOptions): Promise<void> {
    await this.s.record('renameContainer', [idOrName, newName], options);
    containers.renameContainer(this.s, idOrName, newName);
  }

  async restartContainer(idOrName: string, options?: CallOptions & { timeoutSeconds?: number | undefined }): Promise<void> {
    await this.s.record('restartContainer', [idOrName], options);
    containers.restartContainer(this.s, idOrName);
  }

  async pauseContainer(idOrName: string, options?: CallOptions): Promise<void> {
    await this.s.record('pauseContainer', [idOrName], options);
    containers.pauseContainer(this.s, idOrName);
  }

  async unpauseContainer(idOrName: string, options?: CallOptions): Promise<void> {
    await this.s.record('unpauseContainer', [idOrName], options);
    containers.unpauseContainer(this.s, idOrName);
  }

  async waitContainer(idOrName: string, options?: WaitOptions): Promise<number> {
    await this.s.record('waitContainer', [idOrName], options);
    return containers.waitContainer(this.s, idOrName, options);
  }

  async topContainer(idOrName: string, options?: CallOptions & { psArgs?: string | undefined }): Promise<ProcessList> {
    await this.s.record('topContainer', [idOrName], options);
    return containers.topContainer(this.s, idOrName);
  }

  async containerStats(idOrName: string, options?: CallOptions): Promise<StatsSample> {
    await this.s.record('containerStats', [idOrName], options);
    return stats.containerStats(this.s, idOrName);
  }

  // -- exec, logs, events, cp -------------------------------------------------------------------------------------

  async exec(idOrName: string, spec: ExecSpec, options?: CallOptions): Promise<ExecResult> {
    await this.s.record('exec', [idOrName, ...spec.cmd], options);
    return io.exec(this.s, idOrName, spec);
  }

  async execStream(idOrName: string, spec: ExecSpec, options?: CallOptions): Promise<ExecSession> {
    await this.s.record('execStream', [idOrName, ...spec.cmd], options);
    return io.execStream(this.s, idOrName, spec);
  }

  async attachContainer(idOrName: string, options: AttachOptions = {}): Promise<AttachSession> {
    await this.s.record('attachContainer', [idOrName], options);
    return io.attach(this.s, idOrName, options);
  }

  /** What attached clients forwarded to the container's stdin (the fake runs no process that reads it). */
  stdinOf(idOrName: string): { readonly data: string; readonly closed: boolean } {
    return this.s.container(idOrName).stdin ?? { data: '', closed: false };
  }

  async *containerLogs(idOrName: string, options: LogsOptions = {}): AsyncIterable<LogLine> {
    await this.s.record('containerLogs', [idOrName], options);
    yield* io.containerLogs(this.s, idOrName, options);
  }

  async *events(options: EventsOptions = {}): AsyncIterable<RuntimeEvent> {
    await this.s.record('events', [], options);
    yield* io.events(this.s, options);
  }

  async copyToContainer(idOrName: string, path: string, tar: Readable, options?: CallOptions): Promise<void> {
    await this.s.record('copyToContainer', [idOrName, path], options);
    await io.copyToContainer(this.s, idOrName, path, tar);
  }

  /** Returns exactly the bytes last copied to `path` by `copyToContainer`; NotFound for any other path. */
  async copyFromContainer(idOrName: string, path: string, options?: CallOptions): Promise<Readable> {
    await this.s.record('copyFromContainer', [idOrName, path], options);
    return io.copyFromContainer(this.s, idOrName, path);
  }

  /** A tar of what `copyToContainer` put into the container, under the directories it went to (./export.ts). */
  async exportContainer(idOrName: string, options?: CallOptions): Promise<Readable> {
    await this.s.record('exportContainer', [idOrName], options);
    return exported.exportContainer(this.s, idOrName);
  }

  async commitContainer(idOrName: string, options?: CommitOptions): Promise<{ id: string }> {
    await this.s.record('commitContainer', options?.reference ? [idOrName, options.reference] : [idOrName], options);
    return exported.commitContainer(this.s, idOrName, options);
  }

  // -- networks and volumes ---------------------------------------------------------------------------------------

  async listNetworks(options: ListOptions = {}): Promise<NetworkInfo[]> {
    await this.s.record('listNetworks', [], options);
    return networks.listNetworks(this.s, options);
  }

  async inspectNetwork(idOrName: string, options?: CallOptions): Promise<NetworkInfo> {
    await this.s.record('inspectNetwork', [idOrName], options);
    return networks.networkInfo(this.s, this.s.network(idOrName));
  }

  async createNetwork(spec: NetworkSpec, options?: CallOptions): Promise<{ id: string }> {
    await this.s.record('createNetwork', [spec.name], options);
    return networks.createNetwork(this.s, spec);
  }

  async removeNetwork(idOrName: string, options?: CallOptions): Promise<void> {
    await this.s.record('removeNetwork', [idOrName], options);
    networks.removeNetwork(this.s, idOrName);
  }

  async connectNetwork(network: string, container: string, endpoint?: Omit<EndpointSpec, 'network'>, options?: CallOptions): Promise<void> {
    await this.s.record('connectNetwork', [network, container], options);
    networks.connectNetwork(this.s, network, container, endpoint);
  }

  async disconnectNetwork(network: string, container: string, options?: CallOptions & { force?: boolean | undefined }): Promise<void> {
    await this.s.record('disconnectNetwork', [network, container], options);
    networks.disconnectNetwork(this.s, network, container);
  }

  async listVolumes(options: ListOptions = {}): Promise<VolumeInfo[]> {
    await this.s.record('listVolumes', [], options);
    return networks.listVolumes(this.s, options);
  }

  async inspectVolume(name: string, options?: CallOptions): Promise<VolumeInfo> {
    await this.s.record('inspectVolume', [name], options);
    return networks.inspectVolume(this.s, name);
  }

  async createVolume(spec: VolumeSpec, options?: CallOptions): Promise<VolumeInfo> {
    await this.s.record('createVolume', [spec.name], options);
    return networks.createVolume(this.s, spec);
  }

  async removeVolume(name: string, options?: CallOptions & { force?: boolean | undefined }): Promise<void> {
    await this.s.record('removeVolume', [name], options);
    networks.removeVolume(this.s, name, options?.force ?? false);
  }

  // -- images -----------------------------------------------------------------------------------------------------

  async inspectImage(ref: string, options?: CallOptions): Promise<ImageInfo> {
    await this.s.record('inspectImage', [ref], options);
    return images.inspectImage(this.s, ref);
  }

  async pullImage(
    ref: string,
    options?: CallOptions & { platform?: string | undefined; onProgress?: ((event: PullProgress) => void) | undefined },
  ): Promise<ImageInfo> {
    await this.s.record('pullImage', [ref], options);
    return images.pullImage(this.s, ref, options);
  }

  async removeImage(ref: string, options?: CallOptions & { force?: boolean | undefined }): Promise<void> {
    await this.s.record('removeImage', [ref], options);
    images.removeImage(this.s, ref, options);
  }

  async listImages(options: ListOptions = {}): Promise<ImageSummary[]> {
    await this.s.record('listImages', [], options);
    return images.listImages(this.s, options);
  }

  async buildImage(spec: BuildSpec, options?: CallOptions & { onProgress?: ((event: BuildProgress) => void) | undefined }): Promise<{ id: string }> {
    await this.s.record('buildImage', [spec.tags[0] ?? spec.context], options);
    return images.buildImage(this.s, spec, options);
  }

  async pushImage(ref: string, options?: CallOptions & { onProgress?: ((event: PushProgress) => void) | undefined }): Promise<void> {
    await this.s.record('pushImage', [ref], options);
    images.pushImage(this.s, ref, options);
  }

  async tagImage(source: string, target: string, options?: CallOptions): Promise<void> {
    await this.s.record('tagImage', [source, target], options);
    images.tagImage(this.s, source, target);
  }

  async loadImage(archive: Readable, options?: CallOptions): Promise<LoadResult> {
    await this.s.record('loadImage', [], options);
    return images.loadImage(this.s, archive);
  }

  async importImage(tarball: Readable, options?: ImportOptions): Promise<ImportResult> {
    await this.s.record('importImage', options?.tag === undefined ? [] : [options.tag], options);
    return images.importImage(this.s, tarball, options);
  }

  async saveImage(refs: readonly string[], options?: CallOptions): Promise<Readable> {
    await this.s.record('saveImage', [...refs], options);
    return images.saveImage(this.s, refs);
  }

  async pruneImages(options?: CallOptions & { readonly all?: boolean | undefined }): Promise<PruneResult> {
    await this.s.record('pruneImages', [options?.all ? 'all' : 'dangling'], options);
    return images.pruneImages(this.s, options?.all ?? false);
  }

  async pruneBuildCache(options?: CallOptions & { readonly all?: boolean | undefined }): Promise<BuildCachePruneResult> {
    await this.s.record('pruneBuildCache', [options?.all ? 'all' : 'unused'], options);
    return { deleted: 0, reclaimedBytes: 0 };
  }

  async inspectImageDetails(ref: string, options?: CallOptions): Promise<ImageDetails> {
    await this.s.record('inspectImageDetails', [ref], options);
    return images.inspectImageDetails(this.s, ref);
  }

  async listResumable(options?: CallOptions): Promise<string[]> {
    await this.s.record('listResumable', [], options);
    return containers.listResumable(this.s);
  }

  /** The fake keeps nothing on disk: nothing to check. */
  async checkState(options?: CallOptions & { readonly repair?: boolean | undefined }): Promise<StateCheckReport> {
    await this.s.record('checkState', [], options);
    return { checked: [], problems: [] };
  }

  async ping(options?: CallOptions): Promise<boolean> {
    await this.s.record('ping', [], options);
    return true;
  }

  /** On disk, as the real backends (the detached watcher is a real process even for the fake): under `localDir`. */
  projectLocalDir(project: string): string {
    return projectLocalPath(this.localDir, project);
  }

  /** In memory: calls on one project queue behind each other (`lockWaits` counts those that had to wait). */
  async withProjectLock<T>(project: string, fn: () => Promise<T>, options?: CallOptions): Promise<T> {
    await this.s.record('withProjectLock', [project], options);
    const previous = this.projectLocks.get(project);
    if (previous) this.lockWaits++;
    const mine = (previous ?? Promise.resolve()).then(fn);
    const tail = mine.then(
      () => undefined,
      () => undefined,
    );
    this.projectLocks.set(project, tail);
    try {
      return await mine;
    } finally {
      if (this.projectLocks.get(project) === tail) this.projectLocks.delete(project);
    }
  }

  /** Kernel settings the test gave (`new FakeRuntime({ sysctls })`); undefined for others. */
  async hostSysctl(name: string, options?: CallOptions): Promise<string | undefined> {
    await this.s.record('hostSysctl', [name], options);
    return this.sysctls[name];
  }
}
