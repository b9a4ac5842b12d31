/**
 * The canonical project: what every later stage (engine, runtimes, `config`) consumes.
 *
 * Long syntax only, paths absolute, durations as Go duration strings (`1m30s`), byte sizes as decimal strings,
 * maps for environment/labels/args. The shape follows `docker compose config --format json` (compose-go's
 * types), so `config` output is this object serialised. Raw input types are not modelled: the schema
 * (schemas/compose-spec.json) describes input.
 */

/** `x-*` keys are kept where the specification allows them. */
export type Extensions = { readonly [key: `x-${string}`]: unknown };

export type Mapping = Readonly<Record<string, string>>;
/** environment / build.args: a key without a value is null (inherit or unset). */
export type MappingWithEquals = Readonly<Record<string, string | null>>;

export interface Project extends Extensions {
  readonly name: string;
  readonly services: Readonly<Record<string, ServiceConfig>>;
  readonly networks?: Readonly<Record<string, NetworkConfig>>;
  readonly volumes?: Readonly<Record<string, VolumeConfig>>;
  readonly secrets?: Readonly<Record<string, FileObjectConfig>>;
  readonly configs?: Readonly<Record<string, FileObjectConfig>>;
  readonly models?: Readonly<Record<string, ModelConfig>>;
}

/** Load metadata kept beside the project (not part of `config` output). */
export interface ProjectMeta {
  readonly workingDir: string;
  readonly configFiles: readonly string[];
  readonly environment: Readonly<Record<string, string>>;
  readonly envFiles: readonly string[];
  /** Services present in the files but disabled by profiles. */
  readonly disabledServices: Readonly<Record<string, ServiceConfig>>;
  readonly profiles: readonly string[];
  readonly warnings: readonly string[];
}

export interface LoadedProject {
  readonly project: Project;
  readonly meta: ProjectMeta;
}

export type DependsOnCondition = 'service_started' | 'service_healthy' | 'service_completed_successfully';

export interface ServiceDependency {
  readonly condition: DependsOnCondition;
  readonly required: boolean;
  readonly restart?: boolean;
}

/**
 * A port in compose's long form, as `config` prints it (`published` a port or a range, `protocol` as written).
 * The short syntax becomes this in src/project/ports.ts (parsePortSpec), whose portMapping turns it into the typed
 * value the runtime port carries (PortBinding: protocol tcp/udp/sctp, host port range as numbers).
 */
export interface ServicePortConfig {
  readonly name?: string;
  readonly mode: string;
  readonly host_ip?: string;
  readonly target: number;
  readonly published?: string;
  readonly protocol: string;
  readonly app_protocol?: string;
}

export interface ServiceVolumeConfig {
  readonly type: 'bind' | 'volume' | 'tmpfs' | 'npipe' | 'image' | 'cluster';
  readonly source?: string;
  readonly target: string;
  readonly read_only?: boolean;
  readonly consistency?: string;
  readonly bind?: { readonly propagation?: string; readonly create_host_path?: boolean; readonly selinux?: string; readonly recursive?: string };
  readonly volume?: { readonly nocopy?: boolean; readonly subpath?: string; readonly labels?: Mapping };
  readonly tmpfs?: { readonly size?: string; readonly mode?: number };
  readonly image?: { readonly subpath?: string };
}

export interface FileReference {
  readonly source: string;
  readonly target?: string;
  readonly uid?: string;
  readonly gid?: string;
  /** Octal text such as "0440". */
  readonly mode?: string;
}

export interface HealthCheckConfig {
  readonly test?: readonly string[];
  readonly interval?: string;
  readonly timeout?: string;
  readonly start_period?: string;
  readonly start_interval?: string;
  readonly retries?: number;
  readonly disable?: boolean;
}

export interface EnvFile {
  readonly path: string;
  /** Omitted when true (the default). */
  readonly required?: false;
  readonly format?: string;
}

export interface BuildConfig extends Extensions {
  readonly context: string;
  readonly dockerfile?: string;
  readonly dockerfile_inline?: string;
  readonly args?: MappingWithEquals;
  readonly ssh?: readonly string[];
  readonly labels?: Mapping;
  readonly cache_from?: readonly string[];
  readonly cache_to?: readonly string[];
  readonly no_cache?: boolean;
  readonly additional_contexts?: Mapping;
  readonly network?: string;
  readonly pull?: boolean;
  readonly target?: string;
  readonly shm_size?: string;
  readonly extra_hosts?: readonly string[];
  readonly isolation?: string;
  readonly privileged?: boolean;
  readonly secrets?: readonly FileReference[];
  readonly tags?: readonly string[];
  readonly platforms?: readonly string[];
  readonly ulimits?: Readonly<Record<string, UlimitConfig>>;
}

export type UlimitConfig = number | { readonly soft?: number; readonly hard?: number };

export interface ServiceNetworkConfig {
  readonly aliases?: readonly string[];
  readonly ipv4_address?: string;
  readonly ipv6_address?: string;
  readonly link_local_ips?: readonly string[];
  readonly mac_address?: string;
  readonly driver_opts?: Mapping;
  readonly priority?: number;
  readonly gw_priority?: number;
  readonly interface_name?: string;
}

/** A command run in a service's container: `develop.watch[].exec`, and the `post_start`/`pre_stop` hooks. */
export interface ServiceHook {
  readonly command: readonly string[];
  readonly user?: string;
  readonly privileged?: boolean;
  readonly working_dir?: string;
  readonly environment?: MappingWithEquals;
}

/** One `develop.watch` trigger (compose-go `types.Trigger`); `path` is absolute once loaded. */
export interface WatchTrigger {
  readonly path: string;
  readonly action: 'sync' | 'rebuild' | 'restart' | 'sync+restart' | 'sync+exec';
  readonly target?: string;
  readonly exec?: ServiceHook;
  readonly ignore?: readonly string[];
  readonly include?: readonly string[];
  readonly initial_sync?: boolean;
}

export interface DevelopConfig {
  readonly watch?: readonly WatchTrigger[];
}

export interface ServiceConfig extends Extensions {
  readonly image?: string;
  readonly build?: BuildConfig;
  readonly command?: readonly string[] | null;
  readonly entrypoint?: readonly string[] | null;
  readonly environment?: MappingWithEquals;
  readonly env_file?: readonly EnvFile[];
  readonly labels?: Mapping;
  readonly label_file?: readonly string[];
  readonly annotations?: Mapping;
  readonly depends_on?: Readonly<Record<string, ServiceDependency>>;
  readonly ports?: readonly ServicePortConfig[];
  readonly expose?: readonly string[];
  readonly volumes?: readonly ServiceVolumeConfig[];
  readonly volumes_from?: readonly string[];
  readonly networks?: Readonly<Record<string, ServiceNetworkConfig | null>>;
  readonly network_mode?: string;
  readonly links?: readonly string[];
  readonly external_links?: readonly string[];
  readonly extra_hosts?: readonly string[];
  readonly dns?: readonly string[];
  readonly dns_opt?: readonly string[];
  readonly dns_search?: readonly string[];
  readonly secrets?: readonly FileReference[];
  readonly configs?: readonly FileReference[];
  readonly healthcheck?: HealthCheckConfig;
  readonly restart?: string;
  readonly scale?: number;
  readonly profiles?: readonly string[];
  readonly container_name?: string;
  readonly hostname?: string;
  readonly domainname?: string;
  readonly user?: string;
  readonly working_dir?: string;
  readonly stop_signal?: string;
  readonly stop_grace_period?: string;
  readonly init?: boolean;
  readonly tty?: boolean;
  readonly stdin_open?: boolean;
  readonly privileged?: boolean;
  readonly read_only?: boolean;
  readonly cap_add?: readonly string[];
  readonly cap_drop?: readonly string[];
  readonly tmpfs?: readonly string[];
  readonly ulimits?: Readonly<Record<string, UlimitConfig>>;
  readonly sysctls?: Mapping;
  readonly devices?: readonly { readonly source: string; readonly target?: string; readonly permissions?: string }[];
  readonly pull_policy?: string;
  readonly platform?: string;
  readonly mem_limit?: string;
  readonly mem_reservation?: string;
  readonly memswap_limit?: string;
  readonly shm_size?: string;
  readonly cpus?: number;
  readonly cpu_shares?: number;
  readonly cpuset?: string;
  readonly pids_limit?: number;
  readonly ipc?: string;
  readonly pid?: string;
  readonly uts?: string;
  readonly security_opt?: readonly string[];
  readonly logging?: { readonly driver?: string; readonly options?: Readonly<Record<string, string | null>> };
  readonly deploy?: DeployConfig;
  readonly develop?: DevelopConfig;
  /** Commands exec'd in each container right after it starts, in order (compose-spec lifecycle hooks). */
  readonly post_start?: readonly ServiceHook[];
  /** Commands exec'd in each container before it is stopped, in order. */
  readonly pre_stop?: readonly ServiceHook[];
  readonly [key: string]: unknown;
}

export interface DeployConfig {
  readonly mode?: string;
  readonly replicas?: number;
  readonly labels?: Mapping;
  readonly resources?: {
    readonly limits?: ResourceSpec;
    readonly reservations?: ResourceSpec;
  };
  readonly restart_policy?: { readonly condition?: string; readonly delay?: string; readonly max_attempts?: number; readonly window?: string };
  readonly [key: string]: unknown;
}

export interface ResourceSpec {
  readonly cpus?: number;
  readonly memory?: string;
  readonly pids?: number;
  readonly [key: string]: unknown;
}

export interface NetworkConfig extends Extensions {
  readonly name?: string;
  readonly driver?: string;
  readonly driver_opts?: Mapping;
  readonly ipam: {
    readonly driver?: string;
    readonly config?: readonly IpamPool[];
    readonly options?: Mapping;
  };
  readonly external?: boolean;
  readonly internal?: boolean;
  readonly attachable?: boolean;
  readonly enable_ipv4?: boolean;
  readonly enable_ipv6?: boolean;
  readonly labels?: Mapping;
}

export interface IpamPool {
  readonly subnet?: string;
  readonly gateway?: string;
  readonly ip_range?: string;
  readonly aux_addresses?: Mapping;
}

export interface VolumeConfig extends Extensions {
  readonly name?: string;
  readonly driver?: string;
  readonly driver_opts?: Mapping;
  readonly external?: boolean;
  readonly labels?: Mapping;
}

export interface FileObjectConfig extends Extensions {
  readonly name?: string;
  readonly file?: string;
  readonly environment?: string;
  readonly content?: string;
  readonly external?: boolean;
  readonly labels?: Mapping;
  readonly driver?: string;
  readonly driver_opts?: Mapping;
  readonly template_driver?: string;
  /**
   * An `environment:` source's value, taken from the project's environment when the project is loaded
   * (./file-sources.ts); absent when the variable is not set. Not enumerable: `config` prints `environment: NAME`,
   * never the value, and JSON or spreads of the project leave it out.
   */
  readonly environmentValue?: string;
}

export interface ModelConfig extends Extensions {
  readonly name?: string;
  readonly model: string;
  readonly context_size?: number;
  readonly runtime_flags?: readonly string[];
}
