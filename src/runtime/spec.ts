/**
 * What the engine asks a backend to create (part of the runtime port, ./runtime.ts, which re-exports it):
 * containers, networks, volumes, builds, execs. Neutral DTOs; fields absent = the backend's/image's default.
 */
import type { Readable } from 'node:stream';
import type { SeccompProfile } from '../lib/seccomp/index.js';

export type Labels = Readonly<Record<string, string>>;

/** `tcp`, `udp` or `sctp`. */
export type PortProtocol = 'tcp' | 'udp' | 'sctp';

/** Inclusive port range; `start === end` for one port. */
export interface PortRange {
  readonly start: number;
  readonly end: number;
}

/**
 * A container port to publish, with Docker's meaning: `hostPort` absent = an ephemeral host port; `start === end`
 * = that port; a range = ONE free port of the range, picked by the backend when the container starts (a range of
 * container ports is several PortBindings, one per port).
 */
export interface PortBinding {
  readonly containerPort: number;
  readonly protocol: PortProtocol;
  /** Absent = every address of the host. */
  readonly hostIp?: string;
  readonly hostPort?: PortRange;
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
  /** Binds: mount propagation (`rprivate`, `shared`, `rshared`, `slave`, `rslave`, `private`). */
  readonly propagation?: string;
  /** Binds: SELinux relabelling, `z` (shared) or `Z` (private). */
  readonly selinux?: 'z' | 'Z';
  /** Volumes: the sub-directory of the volume to mount (compose `volume.subpath`). */
  readonly subpath?: string;
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
  /** compose `gw_priority`: the endpoint with the highest one gives the default gateway. */
  readonly gwPriority?: number;
  /** compose `interface_name`: the interface's name in the container. */
  readonly interfaceName?: string;
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
  /** Keep the process's stdin open (compose `stdin_open`, `run -i`): what an attach forwards reaches it. */
  readonly openStdin?: boolean;
  /**
   * With `openStdin`: the first attached stdin that ends closes the container's stdin (Docker's `StdinOnce`;
   * `run -i`, so `echo hi | run svc cat` ends). Without it the stdin stays open when an attach ends.
   */
  readonly stdinOnce?: boolean;
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
  /** compose `security_opt`, parsed (seccomp, AppArmor, no-new-privileges, …). */
  readonly security?: SecuritySpec;
  /** Compose `userns_mode`: `host` runs the container in the host's user namespace (no remap). */
  readonly usernsMode?: string;
  /** compose `pid`, `ipc`, `uts`: `host`, `container:<name>` (a `service:` mode resolved by the engine), ipc `shareable`/`private`/`none`. */
  readonly pidMode?: string;
  readonly ipcMode?: string;
  readonly utsMode?: string;
  /** compose `cgroup`: `host` or `private` cgroup namespace. */
  readonly cgroupnsMode?: string;
  readonly cgroupParent?: string;
  /** compose `group_add`: supplementary groups, names (looked up in the image) or ids. */
  readonly groupAdd?: readonly string[];
  readonly oomScoreAdj?: number;
  readonly oomKillDisable?: boolean;
  /** compose `runtime`: the OCI runtime a Docker daemon knows by that name. */
  readonly runtime?: string;
  readonly storageOpt?: Readonly<Record<string, string>>;
  /** compose `logging`. */
  readonly logging?: LoggingSpec;
  /** compose `device_cgroup_rules`: `c 1:3 mr`, `b 8:* rwm`, `a *:* rwm`. */
  readonly deviceCgroupRules?: readonly string[];
  /** compose `gpus` and `deploy.resources.reservations.devices`: Docker's DeviceRequests. */
  readonly deviceRequests?: readonly DeviceRequestSpec[];
  /** compose `annotations`: OCI annotations of the container. */
  readonly annotations?: Readonly<Record<string, string>>;
  /** compose `isolation` (Windows containers; `default` elsewhere). */
  readonly isolation?: string;
}

export interface LoggingSpec {
  /** Absent = the backend's default. */
  readonly driver?: string;
  readonly options?: Readonly<Record<string, string>>;
}

/** A request for devices of a driver (GPUs): `count` -1 = all. */
export interface DeviceRequestSpec {
  readonly driver?: string;
  readonly count?: number;
  readonly deviceIds?: readonly string[];
  readonly capabilities: readonly (readonly string[])[];
  readonly options?: Readonly<Record<string, string>>;
}

/** A block-IO throttle or weight of one device (compose `blkio_config`). */
export interface BlkioDeviceSpec {
  readonly path: string;
  /** weight_device: 10-1000; the throttles: bytes or operations per second. */
  readonly value: number;
}

export interface BlkioSpec {
  readonly weight?: number;
  readonly weightDevice?: readonly BlkioDeviceSpec[];
  readonly deviceReadBps?: readonly BlkioDeviceSpec[];
  readonly deviceWriteBps?: readonly BlkioDeviceSpec[];
  readonly deviceReadIops?: readonly BlkioDeviceSpec[];
  readonly deviceWriteIops?: readonly BlkioDeviceSpec[];
}

/**
 * compose `security_opt`, parsed once by the engine (Docker's keys). Absent fields are the backend's defaults:
 * Docker's default seccomp profile (none when privileged), `docker-default` AppArmor where the host has AppArmor.
 */
export interface SecuritySpec {
  /** `no-new-privileges[:true|false]`. */
  readonly noNewPrivileges?: boolean;
  /** `seccomp=unconfined`, `seccomp=builtin` (= `default`), or `seccomp=FILE` read and parsed. */
  readonly seccomp?: 'default' | 'unconfined' | SeccompProfileSpec;
  /** `apparmor=NAME`; `unconfined`: no profile. */
  readonly apparmor?: string;
  /** SELinux `label=…` values as given (`disable`, `user:U`, `role:R`, `type:T`, `level:L`, `nested`). */
  readonly labels?: readonly string[];
  /** `systempaths=unconfined`: no masked or read-only paths under /proc and /sys. */
  readonly unconfinedSystemPaths?: boolean;
  /** `writable-cgroups=true`. */
  readonly writableCgroups?: boolean;
}

/** A seccomp profile file of `security_opt: seccomp=FILE`, read by the engine (as docker compose does, client-side). */
export interface SeccompProfileSpec {
  /** The file it was read from (absolute), for messages. */
  readonly file: string;
  /** The profile, in Docker's format. */
  readonly profile: SeccompProfile;
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
  /** 0-100; absent = the kernel's. */
  readonly memorySwappiness?: number;
  /** CFS period and quota, microseconds (compose `cpu_period`, `cpu_quota`; `cpus` wins when both are given). */
  readonly cpuPeriod?: number;
  readonly cpuQuota?: number;
  /** Real-time scheduler period and runtime, microseconds (compose `cpu_rt_period`, `cpu_rt_runtime`). */
  readonly cpuRtPeriod?: number;
  readonly cpuRtRuntime?: number;
  readonly blkio?: BlkioSpec;
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

export interface VolumeSpec {
  readonly name: string;
  readonly labels: Labels;
  readonly driver?: string;
  readonly driverOpts?: Labels;
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
  /** compose `build.secrets`: what `RUN --mount=type=secret,id=<id>` reads, a file (absolute) or a value. */
  readonly secrets?: readonly BuildSecretSpec[] | undefined;
  /** compose `build.additional_contexts`: names `COPY --from=`/`FROM` can use, each a directory (absolute). */
  readonly additionalContexts?: Readonly<Record<string, string>> | undefined;
}

/** A build secret: its id (the compose secret's name, or the reference's target) and where its bytes are. */
export interface BuildSecretSpec {
  readonly id: string;
  readonly file?: string | undefined;
  /** The value of an `environment:` source. */
  readonly env?: string | undefined;
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
  /**
   * Fed to the process's stdin, with or without `tty`; its end closes the process's stdin (so `cat` ends), and once
   * the process has ended it is no longer read (the rest stays unread). Absent = the process's stdin is at its end.
   */
  readonly stdin?: Readable | undefined;
  /**
   * Started and left running on its own (`exec -d`): the session's `wait()` resolves with 0 once the process runs,
   * its output is discarded and its stdin is at its end, as Docker's detached exec. A process that cannot be started
   * (a missing command) rejects with a TSC_EXEC_START error in the runtime's words (exit 1, as `docker exec -d`).
   */
  readonly detach?: boolean | undefined;
}

/** `attachContainer` options. */
export interface AttachOptions {
  readonly signal?: AbortSignal | undefined;
  /**
   * Forwarded to the container's stdin when it was created with `openStdin` (ignored otherwise: see
   * `AttachSession.stdin`). Its end closes the container's stdin when it was created with `stdinOnce`.
   */
  readonly stdin?: Readable | undefined;
  /**
   * The keys the user detaches with (`ctrl-p,ctrl-q` syntax). The client matches them in what it forwards; a backend
   * that matches detach keys itself (Docker's engine, with a TTY) is told these, so it does not detach on others.
   */
  readonly detachKeys?: string | undefined;
}
