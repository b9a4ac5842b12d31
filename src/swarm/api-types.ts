/**
 * The subset of the Docker Engine API (swarm mode) that tscompose sends: service, network, secret and config
 * specs. Field names and JSON shapes follow the Engine API (moby's api/types/swarm, mount, container and network
 * packages): Go durations are integer nanoseconds, file modes are integers, `[]byte` is base64 text. Optional
 * fields are left out when unset, as Go's `omitempty` does; newer fields (noted with their API version) are
 * ignored by older engines.
 */

export type StringMap = Record<string, string>;

/** Name and labels of every swarm object (swarm.Annotations). */
export interface Annotations {
  Name: string;
  Labels: StringMap;
}

export interface Driver {
  Name?: string;
  Options?: StringMap;
}

// ---- container ----------------------------------------------------------------------------------------------

/** container.HealthConfig; durations in nanoseconds. Test `["NONE"]` disables the image's healthcheck. */
export interface HealthConfig {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  /** API 1.44 */
  StartInterval?: number;
  Retries?: number;
}

export interface Ulimit {
  Name: string;
  Soft: number;
  Hard: number;
}

export interface DNSConfig {
  Nameservers?: string[];
  Search?: string[];
  Options?: string[];
}

export interface CredentialSpec {
  Config?: string;
  File?: string;
  Registry?: string;
}

export interface SELinuxContext {
  Disable?: boolean;
  User?: string;
  Role?: string;
  Type?: string;
  Level?: string;
}

export interface Privileges {
  CredentialSpec?: CredentialSpec;
  SELinuxContext?: SELinuxContext;
  /** API 1.44 */
  Seccomp?: { Mode: 'default' | 'unconfined' | 'custom'; Profile?: string };
  /** API 1.44 */
  AppArmor?: { Mode: 'default' | 'disabled' };
  /** API 1.46 */
  NoNewPrivileges?: boolean;
}

export type MountType = 'bind' | 'volume' | 'tmpfs' | 'npipe' | 'cluster' | 'image';

/** mount.Mount */
export interface Mount {
  Type: MountType;
  Source?: string;
  Target: string;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: { Propagation?: string; NonRecursive?: boolean; CreateMountpoint?: boolean };
  VolumeOptions?: { NoCopy?: boolean; Labels?: StringMap; Subpath?: string; DriverConfig?: Driver };
  /** API 1.48 */
  ImageOptions?: { Subpath?: string };
  /** Mode is the octal permission bits as an integer (1777 octal = 1023). */
  TmpfsOptions?: { SizeBytes?: number; Mode?: number; Options?: string[][] };
  ClusterOptions?: Record<string, never>;
}

/** Where a secret or config lands in the container; Mode is an integer (0o444 = 292). */
export interface FileTarget {
  Name: string;
  UID: string;
  GID: string;
  Mode: number;
}

/** SecretID is left out here: the engine resolves it by name before sending the spec. */
export interface SecretReference {
  File: FileTarget;
  SecretName: string;
  SecretID?: string;
}

export interface ConfigReference {
  File?: FileTarget;
  Runtime?: Record<string, never>;
  ConfigName: string;
  ConfigID?: string;
}

/** swarm.ContainerSpec */
export interface ContainerSpec {
  Image: string;
  Labels?: StringMap;
  /** The entrypoint. */
  Command?: string[];
  /** The command. */
  Args?: string[];
  Hostname?: string;
  Env?: string[];
  Dir?: string;
  User?: string;
  Groups?: string[];
  Privileges?: Privileges;
  Init?: boolean;
  StopSignal?: string;
  TTY?: boolean;
  OpenStdin?: boolean;
  ReadOnly?: boolean;
  Mounts?: Mount[];
  /** Nanoseconds. */
  StopGracePeriod?: number;
  Healthcheck?: HealthConfig;
  /** `IP hostname` lines (SwarmKit's notation, not compose's `host:ip`). */
  Hosts?: string[];
  DNSConfig?: DNSConfig;
  Secrets?: SecretReference[];
  Configs?: ConfigReference[];
  Isolation?: string;
  Sysctls?: StringMap;
  CapabilityAdd?: string[];
  CapabilityDrop?: string[];
  Ulimits?: Ulimit[];
  /** API 1.46 */
  OomScoreAdj?: number;
}

// ---- task ---------------------------------------------------------------------------------------------------

export interface GenericResource {
  NamedResourceSpec?: { Kind: string; Value: string };
  DiscreteResourceSpec?: { Kind: string; Value: number };
}

export interface ResourceRequirements {
  Limits?: { NanoCPUs?: number; MemoryBytes?: number; Pids?: number };
  Reservations?: { NanoCPUs?: number; MemoryBytes?: number; GenericResources?: GenericResource[] };
}

export type RestartCondition = 'none' | 'on-failure' | 'any';

export interface RestartPolicy {
  Condition?: RestartCondition;
  /** Nanoseconds. */
  Delay?: number;
  MaxAttempts?: number;
  /** Nanoseconds. */
  Window?: number;
}

export interface Platform {
  Architecture?: string;
  OS?: string;
}

export interface Placement {
  Constraints?: string[];
  Preferences?: { Spread: { SpreadDescriptor: string } }[];
  MaxReplicas?: number;
  Platforms?: Platform[];
}

export interface NetworkAttachmentConfig {
  /** A network name or ID. */
  Target: string;
  Aliases?: string[];
  DriverOpts?: StringMap;
}

export interface TaskSpec {
  ContainerSpec: ContainerSpec;
  Resources?: ResourceRequirements;
  RestartPolicy?: RestartPolicy;
  Placement?: Placement;
  Networks?: NetworkAttachmentConfig[];
  LogDriver?: Driver;
  ForceUpdate?: number;
}

// ---- service ------------------------------------------------------------------------------------------------

/** Exactly one member is set. */
export interface ServiceMode {
  Replicated?: { Replicas?: number };
  Global?: Record<string, never>;
  ReplicatedJob?: { MaxConcurrent?: number; TotalCompletions?: number };
  GlobalJob?: Record<string, never>;
}

export interface UpdateConfig {
  Parallelism: number;
  /** Nanoseconds. */
  Delay?: number;
  FailureAction?: 'pause' | 'continue' | 'rollback';
  /** Nanoseconds. */
  Monitor?: number;
  MaxFailureRatio?: number;
  Order?: 'stop-first' | 'start-first';
}

export type PortProtocol = 'tcp' | 'udp' | 'sctp';

export interface PortConfig {
  Name?: string;
  Protocol: PortProtocol;
  TargetPort: number;
  /** Absent: the swarm assigns one (30000-32767). */
  PublishedPort?: number;
  PublishMode: 'ingress' | 'host';
}

export interface EndpointSpec {
  Mode?: 'vip' | 'dnsrr';
  Ports?: PortConfig[];
}

/** swarm.ServiceSpec: the body of POST /services/create (and of /services/{id}/update). */
export interface ServiceSpec extends Annotations {
  TaskTemplate: TaskSpec;
  Mode: ServiceMode;
  UpdateConfig?: UpdateConfig;
  RollbackConfig?: UpdateConfig;
  EndpointSpec?: EndpointSpec;
}

// ---- networks, secrets, configs -----------------------------------------------------------------------------

export interface IPAMConfig {
  Subnet?: string;
  IPRange?: string;
  Gateway?: string;
  AuxiliaryAddresses?: StringMap;
}

/** The body of POST /networks/create. */
export interface NetworkCreateRequest {
  Name: string;
  Driver: string;
  Scope?: 'swarm';
  Internal?: boolean;
  Attachable?: boolean;
  EnableIPv6?: boolean;
  IPAM?: { Driver?: string; Config?: IPAMConfig[]; Options?: StringMap };
  Options?: StringMap;
  Labels: StringMap;
}

/** The body of POST /secrets/create. Data is base64. */
export interface SecretSpec extends Annotations {
  Data?: string;
  Driver?: Driver;
  Templating?: Driver;
}

/** The body of POST /configs/create. Data is base64. */
export interface ConfigSpec extends Annotations {
  Data: string;
  Templating?: Driver;
}
