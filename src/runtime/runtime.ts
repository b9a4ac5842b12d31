/**
 * The runtime port: everything the engine asks of a container backend (Docker Engine, the native runtime, the
 * in-memory fake). Neutral DTOs only — no dockerode type crosses this file: what to create is in ./spec.ts, what
 * backends report in ./info.ts, both re-exported here (import them from this file). Errors are the typed ones of
 * ./errors.ts.
 *
 * Covers the whole compose command set: containers, networks, volumes, images (pull, build, push, tag, list),
 * exec, attach, logs, wait, pause/unpause, top, events, cp, export and commit, and a liveness ping. Adapters: ./docker/docker-runtime.ts
 * (DockerRuntime), ./native/native-runtime.ts (NativeRuntime), ./fake/fake-runtime.ts (FakeRuntime); pick one with
 * ./select.ts (selectRuntime).
 *
 * Options marked "hint" tell a backend something it may use to do less work; a backend may ignore them and must
 * still be correct.
 *
 * Streams (`Readable`) and async iterables are Node's own; nothing engine-specific crosses this file. Errors:
 * NotFoundError, ConflictError, NotModifiedError, PullError, BuildError, PushError, RuntimeUnavailableError.
 */
import type { Readable } from 'node:stream';
import type {
  AttachSession,
  ContainerInspect,
  ContainerSummary,
  ExecResult,
  ExecSession,
  ImageInfo,
  ImageSummary,
  LogLine,
  NetworkInfo,
  ProcessList,
  PullProgress,
  PushProgress,
  BuildProgress,
  RuntimeEvent,
  StatsSample,
  VolumeInfo,
} from './info.js';
import type { AttachOptions, BuildSpec, ContainerSpec, EndpointSpec, ExecSpec, HealthcheckSpec, Labels, NetworkSpec, VolumeSpec } from './spec.js';

export type * from './info.js';
export type * from './spec.js';

/** Label selector: `key: value` must match exactly, `key: true` means the label must be present. */
export type LabelSelector = Readonly<Record<string, string | true>>;

export interface CallOptions {
  readonly signal?: AbortSignal | undefined;
}

export interface ListOptions extends CallOptions {
  readonly labels?: LabelSelector;
}

export interface ListContainersOptions extends ListOptions {
  /** Include stopped containers (default true: compose always looks at all of them). */
  readonly all?: boolean;
}

export interface LogsOptions extends CallOptions {
  /** Keep streaming until the container stops (or the signal aborts). Default false. */
  readonly follow?: boolean | undefined;
  /** Only the last N lines of what is already there; absent or `all` = everything. */
  readonly tail?: number | 'all' | undefined;
  /** Unix seconds, an RFC 3339 timestamp, or a duration before now (`10m`, `1h30m`); only lines from then on. */
  readonly since?: number | string | undefined;
  /** Same forms as `since`; only lines up to then. */
  readonly until?: number | string | undefined;
  /** Fill `LogLine.timestamp`. Default false. */
  readonly timestamps?: boolean | undefined;
}

export interface EventsOptions extends CallOptions {
  /** Only events of objects whose attributes (labels included) match. */
  readonly labels?: LabelSelector | undefined;
  /** Only these object types (`container`, `network`, `volume`, `image`). */
  readonly types?: readonly string[] | undefined;
  /** Unix seconds: replay events from then on (the default is from now on). */
  readonly since?: number | undefined;
  /** Unix seconds: stop at then (the iteration ends). */
  readonly until?: number | undefined;
}

export interface WaitOptions extends CallOptions {
  /**
   * `not-running` (default): resolve at once if the container is not running, else when it stops.
   * `next-exit`: the next time it stops. `removed`: when it has been removed.
   */
  readonly condition?: 'not-running' | 'next-exit' | 'removed' | undefined;
}

export interface Runtime {
  /** `docker`, `native` or `fake`. */
  readonly kind: string;

  listContainers(options?: ListContainersOptions): Promise<ContainerSummary[]>;
  inspectContainer(idOrName: string, options?: CallOptions): Promise<ContainerInspect>;
  /** Conflict when the name is taken; NotFound when the image or a network is missing. */
  createContainer(spec: ContainerSpec, options?: CallOptions): Promise<{ readonly id: string }>;
  /** NotModified when already running. */
  startContainer(idOrName: string, options?: CallOptions): Promise<void>;
  /**
   * Optional: does ahead of `startContainer` what a start needs nothing of the container's dependencies for (the
   * native runtime: its network endpoints, its monitor and the OCI runtime's create, leaving only the OCI `start`),
   * so that the start, once they are up, is quick. The container stays `created` until then. Never fails: whatever
   * went wrong, the start does again and reports. A prepared start that does not come is undone by
   * `discardPreparedStarts`, else by the container's next start or removal.
   */
  prepareStart?(idOrName: string, options?: CallOptions): Promise<void>;
  /** Undoes the prepares (`prepareStart`) of this runtime object whose start did not come. */
  discardPreparedStarts?(): Promise<void>;
  /**
   * NotModified when not running. `removing` (a hint): the caller removes the container right after (down, scale
   * down, orphans), so a backend may leave releasing what the stopped container holds (network endpoints) to the
   * removal; a backend may ignore it.
   */
  stopContainer(
    idOrName: string,
    options?: CallOptions & { readonly timeoutSeconds?: number | undefined; readonly removing?: boolean | undefined },
  ): Promise<void>;
  /** Conflict when not running. */
  killContainer(idOrName: string, options?: CallOptions & { readonly killSignal?: string | undefined }): Promise<void>;
  /** Conflict when running and not `force`; `volumes` removes its anonymous volumes too. */
  removeContainer(
    idOrName: string,
    options?: CallOptions & { readonly force?: boolean | undefined; readonly volumes?: boolean | undefined },
  ): Promise<void>;
  /** Conflict when `newName` is taken. */
  renameContainer(idOrName: string, newName: string, options?: CallOptions): Promise<void>;

  listNetworks(options?: ListOptions): Promise<NetworkInfo[]>;
  inspectNetwork(idOrName: string, options?: CallOptions): Promise<NetworkInfo>;
  createNetwork(spec: NetworkSpec, options?: CallOptions): Promise<{ readonly id: string }>;
  /** Conflict while containers are attached. */
  removeNetwork(idOrName: string, options?: CallOptions): Promise<void>;
  connectNetwork(network: string, container: string, endpoint?: Omit<EndpointSpec, 'network'>, options?: CallOptions): Promise<void>;
  disconnectNetwork(network: string, container: string, options?: CallOptions & { readonly force?: boolean | undefined }): Promise<void>;

  listVolumes(options?: ListOptions): Promise<VolumeInfo[]>;
  inspectVolume(name: string, options?: CallOptions): Promise<VolumeInfo>;
  createVolume(spec: VolumeSpec, options?: CallOptions): Promise<VolumeInfo>;
  /** Conflict while in use. */
  removeVolume(name: string, options?: CallOptions & { readonly force?: boolean | undefined }): Promise<void>;

  /** NotFound when the image is not present locally. */
  inspectImage(ref: string, options?: CallOptions): Promise<ImageInfo>;
  /** Rejects with PullError on an `errorDetail` in the stream. */
  pullImage(
    ref: string,
    options?: CallOptions & { readonly platform?: string | undefined; readonly onProgress?: ((event: PullProgress) => void) | undefined },
  ): Promise<ImageInfo>;
  removeImage(ref: string, options?: CallOptions & { readonly force?: boolean | undefined }): Promise<void>;

  /** Restarts (stop with `timeoutSeconds`, then start); starts a stopped container. */
  restartContainer(idOrName: string, options?: CallOptions & { readonly timeoutSeconds?: number | undefined }): Promise<void>;
  /** Conflict when not running or already paused. */
  pauseContainer(idOrName: string, options?: CallOptions): Promise<void>;
  /** Conflict when not paused. */
  unpauseContainer(idOrName: string, options?: CallOptions): Promise<void>;
  /** Resolves with the container's exit code once `condition` holds (see WaitOptions). */
  waitContainer(idOrName: string, options?: WaitOptions): Promise<number>;
  /** The container's processes. Conflict when not running. `psArgs` default `-ef`. */
  topContainer(idOrName: string, options?: CallOptions & { readonly psArgs?: string | undefined }): Promise<ProcessList>;
  /**
   * One reading of the container's resource usage (`stats`): Docker's stats endpoint (one shot), native its cgroup
   * and network namespace. A container that is not running reads as zeros (its limit too, as Docker); NotFound when missing.
   */
  containerStats(idOrName: string, options?: CallOptions): Promise<StatsSample>;

  /**
   * Runs `spec.cmd` in a running container and buffers its output. Conflict when the container is not running.
   * The exit code is the process's (126/127 when it cannot be executed / found, as Docker reports them).
   */
  exec(idOrName: string, spec: ExecSpec, options?: CallOptions): Promise<ExecResult>;
  /** Like `exec`, but streams the output; for interactive use pass `stdin` (and `tty`). */
  execStream(idOrName: string, spec: ExecSpec, options?: CallOptions): Promise<ExecSession>;
  /**
   * Attaches to the container's main process (`docker attach`, `run` without `-d`): its output from now on, and
   * `options.stdin` forwarded to its stdin. A created container may be attached before it starts: the output then
   * begins with the start's, and the session ends when that run ends. Without `stdinOnce`, the end of `stdin` leaves
   * the container's stdin open and may end the session (Docker's engine does). NotFound when the container is missing.
   */
  attachContainer(idOrName: string, options?: AttachOptions): Promise<AttachSession>;

  /**
   * The container's output, line by line, stdout and stderr interleaved in arrival order (TTY containers:
   * everything on `stdout`). Without `follow` the iteration ends after what is there; with it, when the container
   * stops or the signal aborts (then the iteration just ends, it does not throw). NotFound on the first `next()`
   * when the container does not exist.
   */
  containerLogs(idOrName: string, options?: LogsOptions): AsyncIterable<LogLine>;

  /**
   * Engine events from now on (or `since`), filtered by labels/types, until the signal aborts (the iteration then
   * ends) or `until` passes.
   */
  events(options?: EventsOptions): AsyncIterable<RuntimeEvent>;

  /**
   * The container's root filesystem as a tar (`docker export`): the image's files with the container's changes,
   * without what is mounted on it (volumes, binds, tmpfs). NotFound when the container is missing.
   */
  exportContainer(idOrName: string, options?: CallOptions): Promise<Readable>;
  /**
   * A new image from the container's changes on top of its image (`docker commit`): its config is the container's,
   * with `changes` applied. NotFound when the container is missing.
   */
  commitContainer(idOrName: string, options?: CommitOptions): Promise<{ readonly id: string }>;

  /** Copies a tar archive into the container, extracted at `path` (a directory). NotFound for a missing path. */
  copyToContainer(idOrName: string, path: string, tar: Readable, options?: CallOptions): Promise<void>;
  /** A tar archive of `path` in the container (its basename at the archive root). NotFound for a missing path. */
  copyFromContainer(idOrName: string, path: string, options?: CallOptions): Promise<Readable>;

  /** Images present locally, optionally filtered by labels. */
  listImages(options?: ListOptions): Promise<ImageSummary[]>;
  /**
   * Builds `spec.context` and tags the result with every `spec.tags`. Rejects with BuildError carrying the
   * builder's message when a step fails (an `error`/`errorDetail` in the stream).
   */
  buildImage(
    spec: BuildSpec,
    options?: CallOptions & { readonly onProgress?: ((event: BuildProgress) => void) | undefined },
  ): Promise<{ readonly id: string }>;
  /** Pushes `ref` (`repo:tag`) to its registry. NotFound when not present locally; PushError on `errorDetail`. */
  pushImage(ref: string, options?: CallOptions & { readonly onProgress?: ((event: PushProgress) => void) | undefined }): Promise<void>;
  /** Gives image `source` (ref or id) the extra name `target` (`repo:tag`). NotFound when `source` is missing. */
  tagImage(source: string, target: string, options?: CallOptions): Promise<void>;

  /** Whether the backend answers (Docker: `GET /_ping`). Never throws. */
  ping(options?: CallOptions): Promise<boolean>;
  /**
   * A kernel setting (`vm.max_map_count`) of the machine the containers run on, when the backend can tell (Docker:
   * only an engine on this machine); undefined otherwise. Never throws.
   */
  hostSysctl(name: string, options?: CallOptions): Promise<string | undefined>;
  /**
   * Runs `fn` holding the project's lock on this backend: commands that change a project (`up`, `down`) take it, so
   * two of them on one project run one after the other while other projects proceed. Held across processes (a
   * killed holder's lock is taken over); scoped to what the backend manages (native: its state directory; Docker:
   * the engine's endpoint on this machine).
   */
  withProjectLock<T>(project: string, fn: () => Promise<T>, options?: CallOptions): Promise<T>;
  /**
   * A directory on this machine for the CLI's own files about `project` on this backend (the detached watcher's
   * record and log), beside the project's lock and with the same scope. Not created here.
   */
  projectLocalDir(project: string): string;
  /**
   * The containers the backend's restart policies want running once the machine (or the backend) came back, that are
   * not running now: `always`; `unless-stopped` not stopped by a user; `on-failure` whose run was cut off (the machine
   * went down while it ran, or it was waiting to be restarted). `resume` starts them in dependency order. Docker: none
   * (dockerd brings its containers back itself when it starts).
   */
  listResumable(options?: CallOptions): Promise<string[]>;
  /**
   * Checks the backend's own store and state (native: image store blobs and layers, container records, names,
   * networks, volumes, build scratch; Docker: nothing of its own), repairing with `repair` what can be repaired
   * without losing user data. What was found is in the report; problems left unrepaired make `tscompose check` fail.
   */
  checkState(options?: CallOptions & { readonly repair?: boolean | undefined }): Promise<StateCheckReport>;

  // --- `tscompose image …` (image tools for users without a Docker CLI) ---------------------------------------
  /** Loads a `docker save` archive (docker-archive, or Docker ≥ 25's OCI layout + manifest.json) or an OCI-layout tarball. */
  loadImage(archive: Readable, options?: CallOptions): Promise<LoadResult>;
  /**
   * Imports a root filesystem tarball (plain, gzip, xz, bzip2 or zstd) as a one-layer image, as `docker import`:
   * `changes` set its config, `message` its history comment, `tag` names it. The engine checks `changes` and
   * `platform` first (the host's only); a backend refuses what is not a tar or has entries escaping the root.
   */
  importImage(tarball: Readable, options?: ImportOptions): Promise<ImportResult>;
  /** A docker-archive tarball of the images (refs or ids), as `docker save` writes it. NotFound for a missing one. */
  saveImage(refs: readonly string[], options?: CallOptions): Promise<Readable>;
  /** Removes unused images: dangling ones (no tag), or every image no container uses with `all`. */
  pruneImages(options?: CallOptions & { readonly all?: boolean | undefined }): Promise<PruneResult>;
  /** The image's full description (config, layers, …) as a JSON-able object, as `docker image inspect` shows it. NotFound when missing. */
  inspectImageDetails(ref: string, options?: CallOptions): Promise<ImageDetails>;
  /** Removes the build cache (`docker builder prune`): its entries, and with `all` the cache mounts' contents too. */
  pruneBuildCache(options?: CallOptions & { readonly all?: boolean | undefined }): Promise<BuildCachePruneResult>;
}

/** What `checkState` looked at and found. */
export interface StateCheckReport {
  /** Per area (`images`, `containers`, `networks`, `volumes`, `build`): how many objects were checked. */
  readonly checked: readonly { readonly area: string; readonly count: number }[];
  readonly problems: readonly StateProblem[];
}

export interface StateProblem {
  readonly area: string;
  /** The object: a digest, a container name, a network, a path. */
  readonly subject: string;
  readonly problem: string;
  /** Repaired by this call (`repair`), or what repairing it would do. */
  readonly repair?: string | undefined;
  readonly repaired: boolean;
}

export interface BuildCachePruneResult {
  /** Cache entries removed. */
  readonly deleted: number;
  readonly reclaimedBytes: number;
}

export interface LoadResult {
  /** `Loaded image: repo:tag` / `Loaded image ID: sha256:…` lines, one per image. */
  readonly loaded: readonly string[];
}

/** `docker commit` options. */
export interface CommitOptions extends CallOptions {
  /** `repository[:tag]` to give the image; none: untagged. */
  readonly reference?: string | undefined;
  readonly author?: string | undefined;
  /** The history comment. */
  readonly message?: string | undefined;
  /** Dockerfile instructions (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL), one each. */
  readonly changes?: readonly string[] | undefined;
  /** Pause the container while committing (default true). */
  readonly pause?: boolean | undefined;
}

/** `docker import` options. */
export interface ImportOptions extends CallOptions {
  /** Dockerfile instructions (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL), one each. */
  readonly changes?: readonly string[] | undefined;
  /** The history comment (default `Imported from -`). */
  readonly message?: string | undefined;
  /** `repository[:tag]` to give the image. */
  readonly tag?: string | undefined;
  /** `os/arch[/variant]`; the host's only. */
  readonly platform?: string | undefined;
  /** What the tarball is called in errors (its file name, `-` for stdin). */
  readonly source?: string | undefined;
}

export interface ImportResult {
  /** `sha256:<hex of the config>`. */
  readonly id: string;
}

export interface PruneResult {
  /** Image ids (and untagged refs) removed. */
  readonly deleted: readonly string[];
  readonly reclaimedBytes: number;
}

/** An image's full description (`image inspect`; the CLI prints it in `docker image inspect`'s JSON shape). */
export interface ImageDetails {
  /** `sha256:<hex of the config>`. */
  readonly id: string;
  readonly repoTags: readonly string[];
  readonly repoDigests: readonly string[];
  /** RFC 3339 as the image records it; '' when unknown. */
  readonly created: string;
  readonly architecture: string;
  readonly os: string;
  readonly variant?: string;
  readonly sizeBytes: number;
  readonly author?: string;
  readonly config: ImageConfigDetails;
  /** The layers' DiffIDs, bottom to top. */
  readonly layers: readonly string[];
}

/** What an image sets for the containers run from it ('' / empty when it sets nothing). */
export interface ImageConfigDetails {
  readonly user: string;
  readonly env: readonly string[];
  readonly entrypoint?: readonly string[];
  readonly cmd?: readonly string[];
  readonly workingDir: string;
  /** `80/tcp`, `53/udp`. */
  readonly exposedPorts: readonly string[];
  /** Container paths. */
  readonly volumes: readonly string[];
  readonly labels: Labels;
  readonly stopSignal?: string;
  readonly healthcheck?: HealthcheckSpec;
}

/** Whether `labels` satisfy `selector`. Shared by adapters that filter themselves (fake, native). */
export function matchesLabels(labels: Labels, selector: LabelSelector | undefined): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector)) {
    const actual = labels[k];
    if (actual === undefined) return false;
    if (v !== true && actual !== v) return false;
  }
  return true;
}
