/**
 * The runtime port: everything the engine asks of a container backend (Docker Engine, the native runtime, the
 * in-memory fake). Neutral DTOs only — no dockerode type crosses this file. Errors are the typed ones of
 * ./errors.ts.
 *
 * Covers the whole compose command set: containers, networks, volumes, images (pull, build, push, tag, list),
 * exec, logs, wait, pause/unpause, top, events, cp and a liveness ping. Adapters: ./docker/docker-runtime.ts
 * (DockerRuntime), ./fake/fake-runtime.ts (FakeRuntime); pick one with ./select.ts (selectRuntime).
 *
 * Streams (`Readable`) and async iterables are Node's own; nothing engine-specific crosses this file. Errors:
 * NotFoundError, ConflictError, NotModifiedError, PullError, BuildError, PushError, RuntimeUnavailableError.
 */
import type { Readable } from 'node:stream';

export type Labels = Readonly<Record<string, string>>;

/** Label selector: `key: value` must match exactly, `key: true` means the label must be present. */
export type LabelSelector = Readonly<Record<string, string | true>>;

export interface CallOptions {
  readonly signal?: AbortSignal | undefined;
}

export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';
export type HealthStatus = 'starting' | 'healthy' | 'unhealthy';

/** One network endpoint of a container. */
export interface EndpointInfo {
  readonly networkId: string;
  readonly aliases: readonly string[];
  readonly ipAddress?: string;
}

export interface MountInfo {
  readonly type: 'bind' | 'volume' | 'tmpfs' | 'image';
  /** Volume name (volume mounts) or host path (bind mounts). */
  readonly source: string;
  readonly target: string;
  readonly readOnly: boolean;
}

export interface ContainerSummary {
  readonly id: string;
  /** Without the leading slash. */
  readonly name: string;
  /** The image as given at create time. */
  readonly image: string;
  readonly imageId: string;
  readonly labels: Labels;
  readonly status: ContainerStatus;
  /** Unix milliseconds. */
  readonly created: number;
  /** network name → endpoint. */
  readonly networks: Readonly<Record<string, EndpointInfo>>;
  readonly mounts: readonly MountInfo[];
  /** Ports actually published on the host (absent when the backend does not report them). */
  readonly publishedPorts?: readonly PublishedPort[];
}

/** A container port published on the host (what `ps` and `port` show). */
export interface PublishedPort {
  readonly containerPort: number;
  /** `tcp`, `udp`, `sctp`. */
  readonly protocol: string;
  readonly hostIp?: string;
  readonly hostPort?: number;
}

export interface ContainerInspect extends ContainerSummary {
  readonly exitCode: number;
  readonly health?: HealthStatus;
  readonly startedAt?: string;
  readonly finishedAt?: string;
  readonly spec: ContainerSpec;
}

export interface PortBinding {
  readonly containerPort: number;
  readonly protocol: string;
  readonly hostIp?: string;
  /** A port or a range (`8000-8010`); absent = ephemeral. */
  readonly hostPort?: string;
}

export interface MountSpec {
  readonly type: 'bind' | 'volume' | 'tmpfs' | 'image';
  /** Volume name, host path or image; absent for anonymous volumes and tmpfs. */
  readonly source?: string;
  readonly target: string;
  readonly readOnly?: boolean;
  /** Volumes: don't fill an empty volume with the image's content at the target. */
  readonly noCopy?: boolean;
  /** Binds: create a missing host directory (compose's default for the short syntax). */
  readonly createHostPath?: boolean;
  /** Binds: an overlay over the host directory (podman's `:O`): the container writes to its own upper layer. */
  readonly overlay?: boolean;
  readonly tmpfsSizeBytes?: number;
  readonly tmpfsMode?: number;
}

/** A secret or config given to the container as a read-only file. */
export interface FileMountSpec {
  /** Absolute path in the container. */
  readonly target: string;
  /** Host file (a `file:` secret/config). */
  readonly source?: string;
  /** Inline content (`content:` or `environment:` sources). */
  readonly content?: string;
  /** Permission bits (default 0444). */
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
}

export interface EndpointSpec {
  /** Network name (as created). */
  readonly network: string;
  readonly aliases?: readonly string[];
  readonly ipv4Address?: string;
  readonly ipv6Address?: string;
  readonly macAddress?: string;
  readonly priority?: number;
}

export interface HealthcheckSpec {
  readonly test: readonly string[];
  readonly intervalMs?: number;
  readonly timeoutMs?: number;
  readonly startPeriodMs?: number;
  readonly startIntervalMs?: number;
  readonly retries?: number;
}

/** What to create. Fields absent = the backend's/image's default. */
export interface ContainerSpec {
  readonly name: string;
  readonly image: string;
  readonly labels: Labels;
  readonly command?: readonly string[];
  readonly entrypoint?: readonly string[];
  /** `KEY=value` strings. */
  readonly env?: readonly string[];
  readonly workingDir?: string;
  readonly user?: string;
  readonly hostname?: string;
  readonly domainname?: string;
  readonly tty?: boolean;
  readonly openStdin?: boolean;
  readonly init?: boolean;
  readonly privileged?: boolean;
  readonly readOnly?: boolean;
  readonly capAdd?: readonly string[];
  readonly capDrop?: readonly string[];
  readonly extraHosts?: readonly string[];
  readonly dns?: readonly string[];
  readonly dnsSearch?: readonly string[];
  readonly dnsOptions?: readonly string[];
  readonly stopSignal?: string;
  readonly stopTimeoutSeconds?: number;
  /** `no`, `always`, `on-failure[:N]`, `unless-stopped`. */
  readonly restart?: string;
  readonly exposedPorts?: readonly string[];
  readonly ports?: readonly PortBinding[];
  readonly mounts?: readonly MountSpec[];
  /** compose `links` (`service[:alias]`): on user-defined networks the alias resolves to the service. */
  readonly links?: readonly string[];
  /** Containers whose mounts this one shares: `name[:ro|:rw]` (compose `volumes_from`). */
  readonly volumesFrom?: readonly string[];
  /** Secrets (at /run/secrets/…) and configs, as files. */
  readonly files?: readonly FileMountSpec[];
  /** `bridge`, `host`, `none`, `container:<id>`; absent = attach to `networks`. */
  readonly networkMode?: string;
  readonly networks?: readonly EndpointSpec[];
  readonly healthcheck?: HealthcheckSpec | 'none';
  /** Carry the anonymous volumes of this container over (recreate without `-V`). */
  readonly inheritVolumesFrom?: string;
  /** Resource limits (cgroups). Bytes for memory; `cpus` as a fraction of CPUs (0.5 = half a CPU). */
  readonly resources?: ResourceLimits;
  readonly ulimits?: readonly UlimitSpec[];
  readonly sysctls?: Readonly<Record<string, string>>;
  readonly devices?: readonly DeviceSpec[];
  readonly shmSizeBytes?: number;
  readonly securityOpt?: readonly string[];
}

export interface ResourceLimits {
  readonly memoryBytes?: number;
  /** Memory + swap; -1 = unlimited swap. */
  readonly memorySwapBytes?: number;
  readonly memoryReservationBytes?: number;
  readonly cpus?: number;
  readonly cpuShares?: number;
  readonly cpuset?: string;
  readonly pidsLimit?: number;
}

export interface UlimitSpec {
  readonly name: string;
  readonly soft: number;
  readonly hard: number;
}

export interface DeviceSpec {
  readonly source: string;
  readonly target: string;
  /** `rwm` by default. */
  readonly permissions?: string;
}

export interface NetworkInfo {
  readonly id: string;
  readonly name: string;
  readonly driver: string;
  readonly labels: Labels;
  readonly internal: boolean;
  readonly attachable: boolean;
  /** Container ids attached. */
  readonly containers: readonly string[];
}

export interface NetworkSpec {
  readonly name: string;
  readonly labels: Labels;
  readonly driver?: string;
  readonly driverOpts?: Labels;
  readonly internal?: boolean;
  readonly attachable?: boolean;
  readonly enableIpv6?: boolean;
  readonly ipam?: {
    readonly driver?: string;
    readonly config?: readonly { readonly subnet?: string; readonly gateway?: string; readonly ipRange?: string }[];
  };
}

export interface VolumeInfo {
  readonly name: string;
  readonly driver: string;
  readonly labels: Labels;
  readonly mountpoint?: string;
}

export interface VolumeSpec {
  readonly name: string;
  readonly labels: Labels;
  readonly driver?: string;
  readonly driverOpts?: Labels;
}

export interface ImageInfo {
  /** `sha256:…` content id. */
  readonly id: string;
  /** `repo@sha256:…` registry digests. */
  readonly repoDigests: readonly string[];
  readonly repoTags: readonly string[];
}

/** One pull progress event (one per layer update; `layer` absent for image-level messages). */
export interface PullProgress {
  readonly ref: string;
  readonly layer?: string;
  readonly status: string;
  readonly current?: number;
  readonly total?: number;
}

export interface ListOptions extends CallOptions {
  readonly labels?: LabelSelector;
}

export interface ListContainersOptions extends ListOptions {
  /** Include stopped containers (default true: compose always looks at all of them). */
  readonly all?: boolean;
}

/** What to run in a running container (`exec`, `execStream`). */
export interface ExecSpec {
  readonly cmd: readonly string[];
  /** `KEY=value` strings, added to the container's environment. */
  readonly env?: readonly string[] | undefined;
  readonly user?: string | undefined;
  readonly workdir?: string | undefined;
  /** Allocate a pseudo-TTY (output is then not split into stdout/stderr: everything arrives on stdout). */
  readonly tty?: boolean | undefined;
  readonly privileged?: boolean | undefined;
  /** Fed to the process's stdin, which is closed when this stream ends. Absent = no stdin. */
  readonly stdin?: Readable | undefined;
}

/** The outcome of a buffered `exec`. Output is decoded as UTF-8. */
export interface ExecResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A running exec (`execStream`): read its output as it comes, then `wait()` for the exit code. */
export interface ExecSession {
  /** Ends when the process ends. */
  readonly stdout: Readable;
  /** Ends when the process ends; always empty with `tty`. */
  readonly stderr: Readable;
  /** Resolves with the exit code once the process has exited and both streams have ended. */
  wait(): Promise<number>;
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

/** One line of container output, without its trailing newline. */
export interface LogLine {
  readonly stream: 'stdout' | 'stderr';
  readonly line: string;
  /** RFC 3339 with nanoseconds, as the engine reports it; only with `timestamps: true`. */
  readonly timestamp?: string;
}

/** `ps`-style process table of a container (`top`). */
export interface ProcessList {
  readonly titles: readonly string[];
  readonly processes: readonly (readonly string[])[];
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

/** One engine event: `container start`, `network connect`, … */
export interface RuntimeEvent {
  /** `container`, `network`, `volume`, `image`, … */
  readonly type: string;
  /** `create`, `start`, `die`, `stop`, `kill`, `destroy`, `pause`, `unpause`, `rename`, `health_status: healthy`, … */
  readonly action: string;
  /** Container/network id, volume name or image ref. */
  readonly id: string;
  /** Labels of the object plus engine attributes (`name`, `image`, `exitCode`, `container`, …). */
  readonly attributes: Labels;
  /** Unix milliseconds. */
  readonly time: number;
}

/** What to build (compose's `build:` section, resolved to absolute paths). */
export interface BuildSpec {
  /** The build context directory (absolute). */
  readonly context: string;
  /** Dockerfile path relative to the context (default `Dockerfile`). Ignored with `dockerfileInline`. */
  readonly dockerfile?: string | undefined;
  /** The Dockerfile's content (compose `dockerfile_inline`). */
  readonly dockerfileInline?: string | undefined;
  /** Build args; an undefined value is passed through from the builder's environment by the engine. */
  readonly args?: Readonly<Record<string, string>> | undefined;
  readonly target?: string | undefined;
  readonly labels?: Labels | undefined;
  /** Tags given to the result (the first is the service's image name). */
  readonly tags: readonly string[];
  readonly noCache?: boolean | undefined;
  /** Always try to pull newer base images. */
  readonly pull?: boolean | undefined;
  readonly platform?: string | undefined;
  /** Network mode for RUN instructions. */
  readonly network?: string | undefined;
  /** `host:ip` entries. */
  readonly extraHosts?: readonly string[] | undefined;
  readonly cacheFrom?: readonly string[] | undefined;
  readonly shmSizeBytes?: number | undefined;
}

/** One build progress event: usually a line of builder output in `text`. */
export interface BuildProgress {
  readonly text: string;
}

/** One push progress event (one per layer update). */
export interface PushProgress {
  readonly ref: string;
  readonly layer?: string;
  readonly status: string;
  readonly current?: number;
  readonly total?: number;
}

/** A local image as `images` lists it. */
export interface ImageSummary extends ImageInfo {
  readonly labels: Labels;
  /** Unix milliseconds. */
  readonly created: number;
  readonly sizeBytes: number;
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
   * NotModified when not running. `removing`: the caller removes the container right after (down, scale down,
   * orphans), so a backend may leave releasing what the stopped container holds (network endpoints) to the removal.
   */
  stopContainer(idOrName: string, options?: CallOptions & { readonly timeoutSeconds?: number | undefined; readonly removing?: boolean | undefined }): Promise<void>;
  /** Conflict when not running. */
  killContainer(idOrName: string, options?: CallOptions & { readonly killSignal?: string | undefined }): Promise<void>;
  /** Conflict when running and not `force`; `volumes` removes its anonymous volumes too. */
  removeContainer(idOrName: string, options?: CallOptions & { readonly force?: boolean | undefined; readonly volumes?: boolean | undefined }): Promise<void>;
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
  pullImage(ref: string, options?: CallOptions & { readonly platform?: string | undefined; readonly onProgress?: ((event: PullProgress) => void) | undefined }): Promise<ImageInfo>;
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
   * Runs `spec.cmd` in a running container and buffers its output. Conflict when the container is not running.
   * The exit code is the process's (126/127 when it cannot be executed / found, as Docker reports them).
   */
  exec(idOrName: string, spec: ExecSpec, options?: CallOptions): Promise<ExecResult>;
  /** Like `exec`, but streams the output; for interactive use pass `stdin` (and `tty`). */
  execStream(idOrName: string, spec: ExecSpec, options?: CallOptions): Promise<ExecSession>;

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
  buildImage(spec: BuildSpec, options?: CallOptions & { readonly onProgress?: ((event: BuildProgress) => void) | undefined }): Promise<{ readonly id: string }>;
  /** Pushes `ref` (`repo:tag`) to its registry. NotFound when not present locally; PushError on `errorDetail`. */
  pushImage(ref: string, options?: CallOptions & { readonly onProgress?: ((event: PushProgress) => void) | undefined }): Promise<void>;
  /** Gives image `source` (ref or id) the extra name `target` (`repo:tag`). NotFound when `source` is missing. */
  tagImage(source: string, target: string, options?: CallOptions): Promise<void>;

  /** Whether the backend answers (Docker: `GET /_ping`). Never throws. */
  ping(options?: CallOptions): Promise<boolean>;

  // --- `tscompose image …` (image tools for users without a Docker CLI) ---------------------------------------
  /** Loads a `docker save` archive (docker-archive, or Docker ≥ 25's OCI layout + manifest.json) or an OCI-layout tarball. */
  loadImage(archive: Readable, options?: CallOptions): Promise<LoadResult>;
  /** A docker-archive tarball of the images (refs or ids), as `docker save` writes it. NotFound for a missing one. */
  saveImage(refs: readonly string[], options?: CallOptions): Promise<Readable>;
  /** Removes unused images: dangling ones (no tag), or every image no container uses with `all`. */
  pruneImages(options?: CallOptions & { readonly all?: boolean | undefined }): Promise<PruneResult>;
  /** The image's full description (config, layers, …) as a JSON-able object, as `docker image inspect` shows it. NotFound when missing. */
  inspectImageDetails(ref: string, options?: CallOptions): Promise<ImageDetails>;
}

export interface LoadResult {
  /** `Loaded image: repo:tag` / `Loaded image ID: sha256:…` lines, one per image. */
  readonly loaded: readonly string[];
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
