/**
 * The runtime port: everything the engine asks of a container backend (Docker Engine, the native runtime, the
 * in-memory fake). Neutral DTOs only — no dockerode type crosses this file. Errors are the typed ones of
 * ./errors.ts (NotFoundError, ConflictError, NotModifiedError, PullError).
 *
 * Covers what `up`, `down` and `ps` need. Left for later (not declared yet): exec, logs, events, pause/unpause,
 * wait, top, cp, build.
 */

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
  readonly stopSignal?: string;
  readonly stopTimeoutSeconds?: number;
  /** `no`, `always`, `on-failure[:N]`, `unless-stopped`. */
  readonly restart?: string;
  readonly exposedPorts?: readonly string[];
  readonly ports?: readonly PortBinding[];
  readonly mounts?: readonly MountSpec[];
  /** `bridge`, `host`, `none`, `container:<id>`; absent = attach to `networks`. */
  readonly networkMode?: string;
  readonly networks?: readonly EndpointSpec[];
  readonly healthcheck?: HealthcheckSpec | 'none';
  /** Carry the anonymous volumes of this container over (recreate without `-V`). */
  readonly inheritVolumesFrom?: string;
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

export interface Runtime {
  /** `docker`, `native` or `fake`. */
  readonly kind: string;

  listContainers(options?: ListContainersOptions): Promise<ContainerSummary[]>;
  inspectContainer(idOrName: string, options?: CallOptions): Promise<ContainerInspect>;
  /** Conflict when the name is taken; NotFound when the image or a network is missing. */
  createContainer(spec: ContainerSpec, options?: CallOptions): Promise<{ readonly id: string }>;
  /** NotModified when already running. */
  startContainer(idOrName: string, options?: CallOptions): Promise<void>;
  /** NotModified when not running. */
  stopContainer(idOrName: string, options?: CallOptions & { readonly timeoutSeconds?: number | undefined }): Promise<void>;
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
