/**
 * The OCI runtime-spec subset tscompose writes (config.json), and the inputs `buildOciSpec` builds it from: the
 * image's run config, the network, host devices and the service container's own `OciSpecInput`.
 */
import type { OciLinuxSeccomp } from '../../../lib/seccomp/types.js';
import type { ContainerSpec } from '../../runtime.js';

// ---------------------------------------------------------------------------------------------------------------
// OCI runtime-spec subset

export const OCI_VERSION = '1.0.2-dev';

export interface OciUser {
  uid: number;
  gid: number;
  umask?: number;
  additionalGids?: number[];
}

export interface OciCapabilities {
  bounding: string[];
  effective: string[];
  permitted: string[];
  inheritable?: string[];
  ambient?: string[];
}

export interface OciRlimit {
  type: string;
  hard: number;
  soft: number;
}

export interface OciProcess {
  terminal?: boolean;
  consoleSize?: { height: number; width: number };
  user: OciUser;
  args: string[];
  env: string[];
  cwd: string;
  capabilities?: OciCapabilities;
  rlimits?: OciRlimit[];
  noNewPrivileges?: boolean;
  oomScoreAdj?: number;
  apparmorProfile?: string;
  selinuxLabel?: string;
}

export interface OciMount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
}

export interface OciNamespace {
  type: 'pid' | 'network' | 'mount' | 'ipc' | 'uts' | 'user' | 'cgroup';
  path?: string;
}

export interface OciDevice {
  path: string;
  type: 'c' | 'b' | 'u' | 'p';
  major: number;
  minor: number;
  fileMode?: number;
  uid?: number;
  gid?: number;
}

export interface OciDeviceCgroup {
  allow: boolean;
  type?: 'a' | 'c' | 'b';
  major?: number;
  minor?: number;
  access?: string;
}

export interface OciLinuxResources {
  devices?: OciDeviceCgroup[];
  memory?: { limit?: number; reservation?: number; swap?: number; swappiness?: number; disableOOMKiller?: boolean };
  cpu?: { shares?: number; quota?: number; period?: number; realtimeRuntime?: number; realtimePeriod?: number; cpus?: string; mems?: string };
  pids?: { limit: number };
  blockIO?: OciBlockIO;
  unified?: Record<string, string>;
}

/** A block device of `linux.resources.blockIO` (its major:minor): a weight, or a throttle's rate. */
export interface OciBlockDevice {
  major: number;
  minor: number;
  weight?: number;
  rate?: number;
}

export interface OciBlockIO {
  weight?: number;
  weightDevice?: OciBlockDevice[];
  throttleReadBpsDevice?: OciBlockDevice[];
  throttleWriteBpsDevice?: OciBlockDevice[];
  throttleReadIOPSDevice?: OciBlockDevice[];
  throttleWriteIOPSDevice?: OciBlockDevice[];
}

/** The OCI `linux.seccomp` object, as src/lib/seccomp resolves it. */
export type OciSeccomp = OciLinuxSeccomp;

export interface OciLinux {
  namespaces: OciNamespace[];
  resources?: OciLinuxResources;
  cgroupsPath?: string;
  sysctl?: Record<string, string>;
  devices?: OciDevice[];
  maskedPaths?: string[];
  readonlyPaths?: string[];
  rootfsPropagation?: string;
  seccomp?: OciSeccomp;
  uidMappings?: { containerID: number; hostID: number; size: number }[];
  gidMappings?: { containerID: number; hostID: number; size: number }[];
}

export interface OciHook {
  path: string;
  args?: string[];
  env?: string[];
  timeout?: number;
}

export interface OciSpec {
  ociVersion: string;
  process: OciProcess;
  root: { path: string; readonly?: boolean };
  hostname?: string;
  domainname?: string;
  mounts: OciMount[];
  hooks?: Partial<Record<'prestart' | 'createRuntime' | 'createContainer' | 'startContainer' | 'poststart' | 'poststop', OciHook[]>>;
  annotations?: Record<string, string>;
  linux: OciLinux;
}

// ---------------------------------------------------------------------------------------------------------------
// Image config (`config` of an OCI/Docker image config JSON)

export interface ImageRunConfig {
  readonly User?: string;
  readonly ExposedPorts?: Readonly<Record<string, unknown>>;
  readonly Env?: readonly string[] | null;
  readonly Entrypoint?: readonly string[] | null;
  readonly Cmd?: readonly string[] | null;
  readonly Volumes?: Readonly<Record<string, unknown>> | null;
  readonly WorkingDir?: string;
  readonly Labels?: Readonly<Record<string, string>> | null;
  readonly StopSignal?: string;
  readonly Healthcheck?: {
    readonly Test?: readonly string[];
    readonly Interval?: number;
    readonly Timeout?: number;
    readonly StartPeriod?: number;
    readonly StartInterval?: number;
    readonly Retries?: number;
  } | null;
}

export type OciNetwork = 'none' | 'host' | { readonly netnsPath: string };

/** A host device as `hostDevicesFor` reads it. */
export interface HostDevice {
  /** Host path. */
  readonly path: string;
  readonly type: 'c' | 'b';
  readonly major: number;
  readonly minor: number;
  /** Permission bits (mode & 0o7777). */
  readonly fileMode: number;
  readonly uid: number;
  readonly gid: number;
}

/** What the seccomp profile and the AppArmor profile of a container depend on besides the container. */
export interface HostConfinement {
  /** libseccomp's name of the host architecture (`amd64`, `arm64`, …). */
  readonly arch: string;
  /** The kernel release (`os.release()`). */
  readonly kernel: string;
  readonly apparmor: { readonly enabled: boolean; readonly loaded: readonly string[] };
}

export interface OciSpecInput {
  readonly id: string;
  readonly spec: ContainerSpec;
  readonly image: ImageRunConfig;
  readonly rootfsPath: string;
  readonly user: { readonly uid: number; readonly gid: number; readonly additionalGids: readonly number[]; readonly home?: string | undefined };
  /**
   * The container's hostname (`spec.hostname` or the short id). Under `network: 'host'` without `spec.hostname`
   * pass the host's hostname: it only fills `HOSTNAME=`, the UTS namespace keeps the host's name (as Docker does).
   */
  readonly hostname: string;
  /** Host files bind-mounted at /etc/hosts, /etc/hostname, /etc/resolv.conf (rbind, rprivate; ro with read_only). */
  readonly etcFiles?: { readonly hosts?: string; readonly hostname?: string; readonly resolvConf?: string };
  /** Host path of the init (tini-static), mounted read-only at /sbin/docker-init when `spec.init`. */
  readonly initBinary?: string;
  readonly cgroupsPath: string;
  readonly network: OciNetwork;
  /** Caller-computed mounts (volumes, image mounts, secrets, configs), added after the service's binds/tmpfs. */
  readonly extraMounts?: readonly OciMount[];
  /** Reads `spec.devices` sources on the host; default `hostDevicesFor` (fs.statSync). */
  readonly hostDevices?: (source: string) => HostDevice[];
  /** Host devices given to privileged containers (Docker: all of /dev); `listHostDevices()` computes them. */
  readonly privilegedDevices?: readonly HostDevice[];
  /** Extra masked paths, e.g. `thermalThrottlePaths()` (Docker masks each CPU's thermal_throttle). */
  readonly extraMaskedPaths?: readonly string[];
  /** The host's architecture, kernel and AppArmor state for seccomp and AppArmor; default `hostConfinement()` (./seccomp.ts). */
  readonly confinement?: HostConfinement;
  /** What privileged and `cap_add: [ALL]` get: default currentCapabilities() (./process.ts), this process's own. */
  readonly availableCapabilities?: readonly string[];
  /**
   * Whether the host can limit swap (v1 `memory.memsw.*` present, or v2). Docker sets memory+swap to twice the
   * memory limit when only the memory limit is given, unless the kernel cannot limit swap. Default true.
   */
  readonly swapLimitSupported?: boolean;
  /**
   * The user-namespace remap of this container (TSCOMPOSE_USERNS_REMAP, ../userns/): container ids 0..size-1 are host
   * ids uid.. / gid..; absent: the host's user namespace.
   */
  readonly userns?: { readonly uid: number; readonly gid: number; readonly size: number; readonly path?: string } | undefined;
  /**
   * The namespaces of `pid`/`ipc`/`uts: container:X` (compose `service:X` resolved by the engine): the paths of X's
   * init process's namespaces (`/proc/<pid>/ns/<kind>`), resolved by the caller (../container-joins.ts).
   */
  readonly joinedNamespaces?: { readonly pid?: string; readonly ipc?: string; readonly uts?: string };
  /** Host directory bound at /dev/shm: a shareable IPC container's own tmpfs, or its donor's for `ipc: container:X`. */
  readonly shmSource?: string;
  /** A block device's major:minor (blkio_config); default `blockDeviceNumbers` (./blkio.ts, a stat). */
  readonly blockDevice?: (path: string) => { readonly major: number; readonly minor: number };
  /** What block-IO control the host's kernel offers (./blkio.ts `blkioSupport`); default all of it. */
  readonly blkioSupport?: BlkioSupport;
}

/** Docker's sysinfo of block IO: weights need a proportional scheduler's files (CFQ/BFQ), throttles blk-throttle. */
export interface BlkioSupport {
  readonly weight: boolean;
  readonly weightDevice: boolean;
  readonly throttle: boolean;
}
