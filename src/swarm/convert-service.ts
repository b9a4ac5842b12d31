/**
 * One compose service → one swarm ServiceSpec, as `docker stack deploy` builds it (docker/cli
 * cli/compose/convert/service.go: Service): `<project>_<service>`, deploy.labels plus the stack and image labels on
 * the service, the service's labels plus the stack label on its containers, entrypoint → Command and command →
 * Args, networks sorted by target with the service's name as an alias on each user-defined one, secret and config
 * references sorted by name (mode 0444, uid/gid 0 unless set). The parts live in convert-deploy.ts (mode,
 * resources, policies, placement, ports), convert-container.ts and convert-mounts.ts.
 */
import type { Project, ServiceConfig } from '../project/types.js';
import type { ConfigReference, ContainerSpec, FileTarget, NetworkAttachmentConfig, SecretReference, ServiceSpec, TaskSpec } from './api-types.js';
import {
  convertCaps,
  convertDns,
  convertEnvironment,
  convertExtraHosts,
  convertHealthcheck,
  convertLogging,
  convertSecurityOpt,
  convertUlimits,
} from './convert-container.js';
import {
  convertEndpoint,
  convertMode,
  convertPlacement,
  convertResources,
  convertRestartPolicy,
  convertUpdateConfig,
  modeName,
} from './convert-deploy.js';
import { convertMounts } from './convert-mounts.js';
import { durationNs, LABEL_IMAGE, scoped, sortedMap, stackLabels, type Warn } from './convert-names.js';
import { DEFAULT_NETWORK, networkName } from './convert-objects.js';
import { SwarmConvertError } from './errors.js';

export interface ServiceContext {
  readonly project: Project;
  /** Compose key → swarm name of the secrets and configs the stack uses (content-hashed or external). */
  readonly secretNames: ReadonlyMap<string, string>;
  readonly configNames: ReadonlyMap<string, string>;
  readonly pinnedImages?: Readonly<Record<string, string>> | undefined;
  readonly scale?: Readonly<Record<string, number>> | undefined;
  readonly warn: Warn;
}

/** The image the compose file names, or compose's default name for a built image without one. */
export function composeImage(project: Project, service: string, svc: ServiceConfig, warn: Warn): string {
  if (svc.image !== undefined && svc.image !== '') return svc.image;
  if (svc.build) {
    const local = `${project.name}-${service}`;
    warn(
      service,
      'build',
      `no image: the built image is named ${local} and exists only on the node that built it; set image: to a registry name so every node can pull it`,
    );
    return local;
  }
  throw new SwarmConvertError(service, 'image', 'no image: a swarm service runs an image its nodes pull from a registry');
}

/**
 * `name` → `name:latest` when the reference has neither tag nor digest, as the docker CLI sends it (its
 * reference.TagNameOnly), so a spec made here equals one `docker stack deploy` made.
 */
export function withDefaultTag(image: string): string {
  if (image.includes('@')) return image;
  const last = image.slice(image.lastIndexOf('/') + 1);
  return last.includes(':') ? image : `${image}:latest`;
}

/** docker's NetworkMode.IsUserDefined: not bridge, host, none, default or container:… */
function isUserDefined(target: string): boolean {
  return !['bridge', 'host', 'none', 'default'].includes(target) && !target.startsWith('container:');
}

const ATTACHMENT_UNSUPPORTED = [
  'ipv4_address',
  'ipv6_address',
  'link_local_ips',
  'mac_address',
  'priority',
  'gw_priority',
  'interface_name',
] as const;

export function convertServiceNetworks(ctx: ServiceContext, service: string, svc: ServiceConfig): NetworkAttachmentConfig[] {
  if (svc.network_mode !== undefined) return svc.network_mode === 'host' ? [{ Target: 'host' }] : [];
  const nets = svc.networks && Object.keys(svc.networks).length > 0 ? svc.networks : { [DEFAULT_NETWORK]: null };
  const out = Object.entries(nets).map(([key, cfg]): NetworkAttachmentConfig => {
    if (key !== DEFAULT_NETWORK && !ctx.project.networks?.[key])
      throw new SwarmConvertError(service, `networks.${key}`, `undefined network ${JSON.stringify(key)}`);
    const target = networkName(ctx.project, key);
    const a: NetworkAttachmentConfig = { Target: target };
    const aliases = [...(cfg?.aliases ?? [])];
    if (isUserDefined(target)) aliases.push(service);
    if (aliases.length > 0) a.Aliases = aliases;
    if (cfg?.driver_opts && Object.keys(cfg.driver_opts).length > 0) a.DriverOpts = sortedMap(cfg.driver_opts);
    for (const k of ATTACHMENT_UNSUPPORTED)
      if (cfg?.[k] !== undefined) ctx.warn(service, `networks.${key}.${k}`, 'swarm allocates task addresses itself; ignored');
    return a;
  });
  return out.sort((a, b) => (a.Target < b.Target ? -1 : a.Target > b.Target ? 1 : 0));
}

function fileTarget(
  service: string,
  kind: 'secrets' | 'configs',
  i: number,
  ref: { source: string; target?: string; uid?: string; gid?: string; mode?: string },
): FileTarget {
  let mode = 0o444;
  if (ref.mode !== undefined) {
    const m = String(ref.mode);
    if (!/^[0-7]{1,4}$/.test(m))
      throw new SwarmConvertError(service, `${kind}[${i}].mode`, `invalid file mode ${JSON.stringify(ref.mode)} (octal, e.g. 0440)`);
    mode = parseInt(m, 8);
  }
  return { Name: ref.target ?? ref.source, UID: ref.uid ?? '0', GID: ref.gid ?? '0', Mode: mode };
}

function objectName(names: ReadonlyMap<string, string>, service: string, kind: 'secrets' | 'configs', i: number, source: string): string {
  const name = names.get(source);
  if (name === undefined) throw new SwarmConvertError(service, `${kind}[${i}]`, `undefined ${kind.slice(0, -1)} ${JSON.stringify(source)}`);
  return name;
}

export function convertSecretRefs(ctx: ServiceContext, service: string, svc: ServiceConfig): SecretReference[] {
  return (svc.secrets ?? [])
    .map((ref, i) => ({ File: fileTarget(service, 'secrets', i, ref), SecretName: objectName(ctx.secretNames, service, 'secrets', i, ref.source) }))
    .sort((a, b) => (a.SecretName < b.SecretName ? -1 : a.SecretName > b.SecretName ? 1 : 0));
}

export function convertConfigRefs(ctx: ServiceContext, service: string, svc: ServiceConfig): ConfigReference[] {
  return (svc.configs ?? [])
    .map((ref, i) => ({ File: fileTarget(service, 'configs', i, ref), ConfigName: objectName(ctx.configNames, service, 'configs', i, ref.source) }))
    .sort((a, b) => (a.ConfigName < b.ConfigName ? -1 : a.ConfigName > b.ConfigName ? 1 : 0));
}

/** Sets `obj[key]` unless the value is undefined or an empty list. */
function put<T extends object, K extends keyof T>(obj: T, key: K, value: T[K] | undefined): void {
  if (value === undefined || (Array.isArray(value) && value.length === 0)) return;
  obj[key] = value;
}

function containerSpec(ctx: ServiceContext, service: string, svc: ServiceConfig, image: string): ContainerSpec {
  const { warn } = ctx;
  const c: ContainerSpec = { Image: ctx.pinnedImages?.[service] ?? withDefaultTag(image) };
  put(c, 'Labels', stackLabels(ctx.project.name, svc.labels));
  if (svc.entrypoint?.length === 0)
    warn(service, 'entrypoint', "an empty entrypoint cannot clear the image's on swarm; the image's entrypoint is kept");
  put(c, 'Command', svc.entrypoint ? [...svc.entrypoint] : undefined);
  put(c, 'Args', svc.command ? [...svc.command] : undefined);
  put(c, 'Hostname', svc.hostname);
  put(c, 'Env', convertEnvironment(svc.environment));
  put(c, 'Dir', svc.working_dir);
  put(c, 'User', svc.user);
  const groups = svc.group_add;
  put(c, 'Groups', Array.isArray(groups) ? groups.map(String) : undefined);
  put(c, 'Privileges', convertSecurityOpt(service, svc.security_opt, warn));
  put(c, 'Init', svc.init);
  put(c, 'StopSignal', svc.stop_signal);
  if (svc.tty) c.TTY = true;
  if (svc.stdin_open) c.OpenStdin = true;
  if (svc.read_only) c.ReadOnly = true;
  put(c, 'Mounts', convertMounts(ctx.project, service, svc, warn));
  if (svc.stop_grace_period !== undefined) c.StopGracePeriod = durationNs(svc.stop_grace_period, service, 'stop_grace_period');
  put(c, 'Healthcheck', convertHealthcheck(service, svc.healthcheck));
  put(c, 'Hosts', convertExtraHosts(service, svc.extra_hosts));
  put(c, 'DNSConfig', convertDns(svc));
  put(c, 'Secrets', convertSecretRefs(ctx, service, svc));
  put(c, 'Configs', convertConfigRefs(ctx, service, svc));
  if (typeof svc.isolation === 'string') c.Isolation = svc.isolation;
  if (svc.sysctls && Object.keys(svc.sysctls).length > 0) c.Sysctls = sortedMap(svc.sysctls);
  const caps = convertCaps(svc.cap_add, svc.cap_drop);
  put(c, 'CapabilityAdd', caps.add);
  put(c, 'CapabilityDrop', caps.drop);
  put(c, 'Ulimits', convertUlimits(service, svc.ulimits));
  if (typeof svc.oom_score_adj === 'number' && svc.oom_score_adj !== 0) c.OomScoreAdj = svc.oom_score_adj;
  return c;
}

export function convertService(ctx: ServiceContext, service: string, svc: ServiceConfig): ServiceSpec {
  const { project, warn } = ctx;
  const image = composeImage(project, service, svc, warn);
  const task: TaskSpec = { ContainerSpec: containerSpec(ctx, service, svc, image) };
  put(task, 'Resources', convertResources(service, svc, warn));
  put(task, 'RestartPolicy', convertRestartPolicy(service, svc));
  put(task, 'Placement', convertPlacement(service, svc, warn));
  put(task, 'Networks', convertServiceNetworks(ctx, service, svc));
  put(task, 'LogDriver', convertLogging(svc));
  const spec: ServiceSpec = {
    Name: scoped(project.name, service),
    Labels: stackLabels(project.name, svc.deploy?.labels, { [LABEL_IMAGE]: image }),
    TaskTemplate: task,
    Mode: convertMode(service, svc, ctx.scale?.[service]),
  };
  const mode = modeName(service, svc.deploy);
  const isJob = mode === 'replicated-job' || mode === 'global-job';
  for (const [key, field] of [
    ['update_config', 'UpdateConfig'],
    ['rollback_config', 'RollbackConfig'],
  ] as const) {
    const cfg = convertUpdateConfig(service, svc.deploy?.[key], `deploy.${key}`);
    if (cfg && isJob) warn(service, `deploy.${key}`, `a ${mode} service is not updated in place; ignored`);
    else put(spec, field, cfg);
  }
  spec.EndpointSpec = convertEndpoint(service, svc, warn);
  return spec;
}
