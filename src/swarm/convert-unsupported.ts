/**
 * Service keys a swarm service cannot honour, each warned about by service and key. Starts from docker/cli's
 * lists (cli/compose/types: UnsupportedProperties, "Ignoring unsupported options"; DeprecatedProperties;
 * ForbiddenProperties, which docker stack refuses and tscompose only warns about) and covers the rest of the
 * Compose Specification's service keys that have no field in a swarm ServiceSpec. Keys the mapping uses, and
 * keys that only matter to tscompose itself (depends_on: the engine orders by it; build with an image: the engine
 * builds and pushes; profiles; pull_policy), are not warned about.
 */
import type { ServiceConfig } from '../project/types.js';
import type { Warn } from './convert-names.js';

/** key → why it is ignored. */
export const UNSUPPORTED_SERVICE_KEYS: Readonly<Record<string, string>> = {
  annotations: 'container annotations are not supported by swarm services',
  blkio_config: 'block IO limits are not supported by swarm services',
  cgroup: 'the cgroup namespace mode is not supported by swarm services',
  cgroup_parent: 'a parent cgroup is not supported by swarm services',
  cgroupns_mode: 'the cgroup namespace mode is not supported by swarm services',
  container_name: 'swarm names task containers itself (<stack>_<service>.<slot>.<task id>)',
  cpu_count: 'use deploy.resources.limits.cpus',
  cpu_percent: 'use deploy.resources.limits.cpus',
  cpu_period: 'use deploy.resources.limits.cpus',
  cpu_quota: 'use deploy.resources.limits.cpus',
  cpu_rt_period: 'real-time CPU scheduling is not supported by swarm services',
  cpu_rt_runtime: 'real-time CPU scheduling is not supported by swarm services',
  cpu_shares: 'use deploy.resources.limits.cpus and reservations.cpus',
  cpuset: 'CPU pinning is not supported by swarm services',
  credential_spec: 'credential specs (Windows gMSA) are not supported by tscompose on swarm',
  device_cgroup_rules: 'device cgroup rules are not supported by swarm services',
  devices: 'devices cannot be mapped into swarm services',
  domainname: 'a domain name is not supported by swarm services',
  expose: 'unnecessary: services on the same overlay network reach each other on any port',
  external_links: 'links are not supported by swarm services; use networks',
  gpus: 'GPUs cannot be requested by swarm services; use deploy.resources.reservations.generic_resources',
  ipc: 'the IPC namespace mode is not supported by swarm services',
  links: 'links are not supported by swarm services; services on a shared network reach each other by name',
  mac_address: 'a MAC address cannot be set on swarm tasks',
  mem_swappiness: 'memory swappiness is not supported by swarm services',
  memswap_limit: 'a swap limit is not supported by swarm services',
  models: 'models are not supported on swarm',
  network_mode: 'only host is supported on swarm (the predefined host network); attach the service to networks instead',
  oom_kill_disable: 'not supported by swarm services',
  pid: 'the PID namespace mode is not supported by swarm services',
  post_start: 'lifecycle hooks are not supported on swarm',
  pre_stop: 'lifecycle hooks are not supported on swarm',
  privileged: 'swarm services cannot run privileged; use cap_add for the capabilities they need',
  provider: 'provider services are not supported on swarm',
  runtime: 'an OCI runtime cannot be chosen for swarm services',
  shm_size: 'the size of /dev/shm cannot be set on swarm services; mount a tmpfs at /dev/shm instead',
  storage_opt: 'storage driver options are not supported by swarm services',
  use_api_socket: 'not supported on swarm',
  userns_mode: 'the user namespace mode is not supported by swarm services',
  uts: 'the UTS namespace mode is not supported by swarm services',
  volume_driver: 'define the volume under top-level volumes with its driver',
  volumes_from: 'share a named volume instead: declare it under top-level volumes and mount it in each service',
};

/** Keys of the Compose Specification the mapping uses or that only tscompose itself acts on. */
const HANDLED_KEYS: ReadonlySet<string> = new Set([
  'attach',
  'build',
  'cap_add',
  'cap_drop',
  'command',
  'configs',
  'cpus',
  'depends_on',
  'deploy',
  'develop',
  'dns',
  'dns_opt',
  'dns_search',
  'entrypoint',
  'env_file',
  'environment',
  'extends',
  'extra_hosts',
  'group_add',
  'healthcheck',
  'hostname',
  'image',
  'init',
  'isolation',
  'label_file',
  'labels',
  'logging',
  'mem_limit',
  'mem_reservation',
  'networks',
  'oom_score_adj',
  'pids_limit',
  'platform',
  'ports',
  'profiles',
  'pull_policy',
  'pull_refresh_after',
  'read_only',
  'restart',
  'scale',
  'secrets',
  'security_opt',
  'stdin_open',
  'stop_grace_period',
  'stop_signal',
  'sysctls',
  'tmpfs',
  'tty',
  'ulimits',
  'user',
  'volumes',
  'working_dir',
]);

/** deploy keys the mapping reads. */
const DEPLOY_KEYS: ReadonlySet<string> = new Set([
  'mode',
  'replicas',
  'labels',
  'resources',
  'restart_policy',
  'update_config',
  'rollback_config',
  'placement',
  'endpoint_mode',
]);

/** Warns about every key of `svc` a swarm service cannot honour (`x-*` extensions excepted). */
export function warnUnsupported(service: string, svc: ServiceConfig, warn: Warn): void {
  for (const key of Object.keys(svc).sort()) {
    if (key.startsWith('x-') || HANDLED_KEYS.has(key)) continue;
    const why = UNSUPPORTED_SERVICE_KEYS[key];
    // false/empty values of flags change nothing: no warning for `privileged: false`.
    const value = svc[key];
    if (value === false || value === null || (Array.isArray(value) && value.length === 0)) continue;
    // network_mode: host attaches the service to the swarm's predefined host network (convert-service.ts).
    if (key === 'network_mode' && value === 'host') continue;
    warn(service, key, why ?? 'not supported on swarm; ignored');
  }
  for (const key of Object.keys(svc.deploy ?? {}).sort())
    if (!key.startsWith('x-') && !DEPLOY_KEYS.has(key)) warn(service, `deploy.${key}`, 'not supported on swarm; ignored');
}
