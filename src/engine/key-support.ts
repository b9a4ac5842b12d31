/**
 * Every compose service key (the `service` definition of schemas/compose-spec.json) and what each runtime does with
 * it: `yes` (honoured as docker compose does), `partial: <what>` (honoured, except what the text says; the
 * unsupported values get a warning), `warn` (not honoured: a warning names key, service and runtime) or `n/a`.
 * The single source of truth of README's key table (scripts/key-table.mjs prints it; key-support.test.ts checks
 * both against the schema), and of the warnings `up`/`create` give (keySupportWarnings).
 */
import type { Project, ServiceConfig } from '../project/types.js';

export type Support = 'yes' | 'warn' | 'n/a' | `partial: ${string}`;
export type KeyRuntime = 'docker' | 'native';

export interface KeyEntry {
  readonly docker: Support;
  readonly native: Support;
  /**
   * The part of a value this runtime does not honour (a short reason), or undefined when it honours all of it. For
   * `partial` keys only a returned reason warns; for `warn` keys, absent = every value warns.
   */
  readonly unsupported?: (value: unknown, runtime: KeyRuntime, svc: ServiceConfig) => string | undefined;
}

const Y = 'yes' as const;
const both = (s: Support): { docker: Support; native: Support } => ({ docker: s, native: s });
const nativeOnly = (reason: string) => (_v: unknown, runtime: KeyRuntime) => (runtime === 'native' ? reason : undefined);
const isJoin = (v: unknown): boolean => typeof v === 'string' && (v.startsWith('service:') || v.startsWith('container:'));

const NATIVE_LOG_DRIVERS = new Set(['json-file', 'local', 'none', 'k8s-file']);
const NATIVE_LOG_OPTIONS = new Set(['max-size', 'max-file']);

export const SERVICE_KEYS: Readonly<Record<string, KeyEntry>> = {
  annotations: both(Y),
  attach: { ...both('warn'), unsupported: (v) => (v === false ? 'the logs of the service are attached anyway' : undefined) },
  blkio_config: {
    ...both('partial: weights only where the kernel has blkio weight files (else dropped, as Docker drops them)'),
  },
  build: both(Y),
  cap_add: both(Y),
  cap_drop: both(Y),
  cgroup: both(Y),
  cgroup_parent: both(Y),
  command: both(Y),
  configs: both(Y),
  container_name: both(Y),
  cpu_count: { ...both('warn'), unsupported: () => 'Windows containers only' },
  cpu_percent: { ...both('warn'), unsupported: () => 'Windows containers only' },
  cpu_period: both(Y),
  cpu_quota: both(Y),
  cpu_rt_period: { docker: 'partial: cgroup v1 hosts with CONFIG_RT_GROUP_SCHED', native: 'partial: cgroup v1 hosts with CONFIG_RT_GROUP_SCHED' },
  cpu_rt_runtime: { docker: 'partial: cgroup v1 hosts with CONFIG_RT_GROUP_SCHED', native: 'partial: cgroup v1 hosts with CONFIG_RT_GROUP_SCHED' },
  cpu_shares: both(Y),
  cpus: both(Y),
  cpuset: both(Y),
  credential_spec: { ...both('warn'), unsupported: () => 'Windows containers only' },
  depends_on: both(Y),
  deploy: {
    docker: 'partial: replicas, resources (limits, reservations, devices); the rest belongs to swarm (`tscompose stack`)',
    native: 'partial: replicas, resources (limits, reservations; not devices); the rest belongs to swarm (`tscompose stack`)',
    unsupported: (v, runtime) => {
      const devices = (v as { resources?: { reservations?: { devices?: unknown[] } } } | null)?.resources?.reservations?.devices;
      return runtime === 'native' && Array.isArray(devices) && devices.length > 0 ? 'device reservations (GPUs) are not given' : undefined;
    },
  },
  develop: both(Y),
  device_cgroup_rules: both(Y),
  devices: both(Y),
  dns: both(Y),
  dns_opt: both(Y),
  dns_search: both(Y),
  domainname: both(Y),
  entrypoint: both(Y),
  env_file: both(Y),
  environment: both(Y),
  expose: both(Y),
  extends: both(Y),
  external_links: { ...both('warn'), unsupported: () => 'links to containers outside the project are not made' },
  extra_hosts: both(Y),
  gpus: { docker: Y, native: 'warn', unsupported: nativeOnly('GPUs are not given to native containers') },
  group_add: both(Y),
  healthcheck: both(Y),
  hostname: both(Y),
  image: both(Y),
  init: both(Y),
  ipc: both(Y),
  isolation: {
    docker: 'partial: passed to the daemon (only `default` on Linux)',
    native: 'partial: `default` only',
    unsupported: (v, r) => (r === 'native' && v !== 'default' ? `isolation ${String(v)} is a Windows setting` : undefined),
  },
  label_file: both(Y),
  labels: both(Y),
  links: {
    docker: 'partial: a link alias other than the service name does not resolve',
    native: Y,
    unsupported: (v, runtime) => {
      if (runtime !== 'docker' || !Array.isArray(v)) return undefined;
      const aliased = (v as string[]).filter((l) => l.includes(':') && l.split(':')[1] !== l.split(':')[0]);
      return aliased.length > 0 ? `the aliases of ${aliased.join(', ')} are not resolvable` : undefined;
    },
  },
  logging: {
    docker: Y,
    native:
      'partial: json-file and local with max-size and max-file (rotated as Docker does), and none; other drivers keep the log in a file, other options are not applied',
    unsupported: (v, runtime) => {
      if (runtime !== 'native' || v === null || typeof v !== 'object') return undefined;
      const l = v as { driver?: string; options?: Record<string, unknown> };
      if (l.driver !== undefined && !NATIVE_LOG_DRIVERS.has(l.driver)) return `log driver ${l.driver} is not available, the log is kept in a file`;
      const opts = Object.keys(l.options ?? {}).filter((o) => !NATIVE_LOG_OPTIONS.has(o));
      return opts.length > 0 ? `log options (${opts.join(', ')}) are not applied` : undefined;
    },
  },

  mac_address: both(Y),
  mem_limit: both(Y),
  mem_reservation: both(Y),
  mem_swappiness: both('partial: cgroup v1 hosts (cgroup v2 has no per-group swappiness)'),
  memswap_limit: both(Y),
  models: { ...both('warn'), unsupported: () => 'there is no model runner' },
  network_mode: both(Y),
  networks: {
    docker: 'partial: `interface_name` needs Engine 28.1+, `gw_priority` API 1.48+',
    native: 'partial: `interface_name` of letters, digits, `_`, `.`, `-` (others refused)',
  },
  oom_kill_disable: { docker: Y, native: 'partial: cgroup v1 hosts' },
  oom_score_adj: both(Y),
  pid: both(Y),
  pids_limit: both(Y),
  platform: both(Y),
  ports: both(Y),
  post_start: both(Y),
  pre_start: { ...both('warn'), unsupported: () => 'pre_start hooks are not run' },
  pre_stop: both(Y),
  privileged: both(Y),
  profiles: both(Y),
  provider: { ...both('warn'), unsupported: () => 'provider services are not run' },
  pull_policy: both(Y),
  pull_refresh_after: { ...both('warn'), unsupported: () => 'images are not refreshed on a schedule' },
  read_only: both(Y),
  restart: both(Y),
  runtime: { docker: Y, native: 'warn', unsupported: nativeOnly('the native runtime picks crun or runc (TSCOMPOSE_OCI_RUNTIME)') },
  scale: both(Y),
  secrets: both(Y),
  security_opt: both(Y),
  shm_size: both(Y),
  stdin_open: both(Y),
  stop_grace_period: both(Y),
  stop_signal: both(Y),
  storage_opt: { docker: Y, native: 'warn', unsupported: nativeOnly('overlay storage options are not applied') },
  sysctls: both(Y),
  tmpfs: both(Y),
  tty: both(Y),
  ulimits: both(Y),
  use_api_socket: { ...both('warn'), unsupported: (v) => (v === true ? 'the engine API socket is not mounted' : undefined) },
  user: both(Y),
  userns_mode: { docker: Y, native: 'partial: `host` only (others are refused)' },
  uts: {
    docker: 'partial: `host`; `service:`/`container:` are ignored by the Docker Engine (a UTS namespace of its own)',
    native: Y,
    unsupported: (v, r) => (r === 'docker' && isJoin(v) ? 'the Docker Engine has no UTS mode joining another container' : undefined),
  },
  volumes: {
    docker: 'partial: not `bind.recursive`',
    native: 'partial: not `bind.selinux`, `bind.recursive`, `image` mounts (refused)',
    unsupported: (v, runtime) => {
      if (!Array.isArray(v)) return undefined;
      const used = new Set<string>();
      for (const m of v as { bind?: { selinux?: string; recursive?: string } }[]) {
        if (m.bind?.recursive !== undefined && m.bind.recursive !== 'enabled') used.add('bind.recursive');
        if (runtime !== 'native') continue;
        if (m.bind?.selinux) used.add('bind.selinux');
      }
      return used.size > 0 ? `${[...used].join(' and ')} not applied` : undefined;
    },
  },
  volumes_from: both(Y),
  working_dir: both(Y),
};

/** The table column for a runtime kind (`fake` behaves as Docker). */
export function keyRuntime(kind: string): KeyRuntime {
  return kind === 'native' ? 'native' : 'docker';
}

/** Why `value` of `key` is not (fully) honoured on `runtime`, or undefined when it is. */
export function unsupportedReason(key: string, value: unknown, runtime: KeyRuntime, svc: ServiceConfig): string | undefined {
  const entry = SERVICE_KEYS[key];
  if (!entry || value === undefined) return undefined;
  const support = entry[runtime];
  if (support === 'yes' || support === 'n/a') return undefined;
  if (entry.unsupported) return entry.unsupported(value, runtime, svc);
  return support === 'warn' ? 'not supported' : undefined;
}

/**
 * The warnings of `services` on a runtime: one per service and key whose value it does not honour,
 * `service "db": gpus "all" is ignored on the native runtime: <why>` (`is not fully honoured` for a partial key).
 */
export function keySupportWarnings(runtimeKind: string, project: Project, services: readonly string[]): string[] {
  const runtime = keyRuntime(runtimeKind);
  const out: string[] = [];
  for (const name of services) {
    const svc = project.services[name];
    if (!svc) continue;
    for (const key of Object.keys(svc).sort()) {
      const reason = unsupportedReason(key, svc[key], runtime, svc);
      const what = SERVICE_KEYS[key]![runtime] === 'warn' ? 'is ignored' : 'is not fully honoured';
      if (reason !== undefined) out.push(`service "${name}": ${key}${shown(svc[key])} ${what} on the ${runtime} runtime: ${reason}`);
    }
  }
  return out;
}

function shown(v: unknown): string {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? ` ${JSON.stringify(v)}` : '';
}

/** The README table: one row per key, `yes`/`partial: …`/`warn` per runtime. */
export function keyTableMarkdown(): string {
  const cell = (s: Support): string => (s === 'yes' ? 'yes' : s === 'warn' ? 'warned, ignored' : s.replace(/\|/g, '\\|'));
  const rows = Object.keys(SERVICE_KEYS)
    .sort()
    .map((k) => `| \`${k}\` | ${cell(SERVICE_KEYS[k]!.docker)} | ${cell(SERVICE_KEYS[k]!.native)} |`);
  return ['| Service key | Docker | Native |', '| --- | --- | --- |', ...rows].join('\n');
}
