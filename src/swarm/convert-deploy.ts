/**
 * A service's `deploy:` (and the compose keys that mean the same) → the swarm service's mode, resources, restart
 * policy, update and rollback config, placement and endpoint. Follows docker/cli's cli/compose/convert/service.go
 * (`docker stack deploy`), with these differences:
 * - `restart: "no"` becomes restart condition `none` (docker stack leaves the swarm default `any`, which
 *   restarts a one-shot service for ever); `restart:` is otherwise the fallback of `deploy.restart_policy`;
 * - `cpus`, `mem_limit`, `mem_reservation`, `pids_limit` and `scale` are the fallbacks of their `deploy:`
 *   equivalents (docker stack refuses the first two);
 * - `platform:` becomes a placement platform; update/rollback config on a job is dropped with a warning (swarm
 *   refuses it); a host IP on a published port is dropped with a warning (as docker/cli does for `-p`).
 */
import type { DeployConfig, ServiceConfig, ServicePortConfig } from '../project/types.js';
import type {
  EndpointSpec,
  GenericResource,
  Placement,
  PortConfig,
  PortProtocol,
  ResourceRequirements,
  RestartPolicy,
  ServiceMode,
  UpdateConfig,
} from './api-types.js';
import { bytesOf, durationNs, isPlainObject, nanoCpus, uintOf, type Warn } from './convert-names.js';
import { SwarmConvertError } from './errors.js';

export type ModeName = 'replicated' | 'global' | 'replicated-job' | 'global-job';

export function modeName(service: string, deploy: DeployConfig | undefined): ModeName {
  const mode = deploy?.mode ?? 'replicated';
  if (mode === 'replicated' || mode === 'global' || mode === 'replicated-job' || mode === 'global-job') return mode;
  throw new SwarmConvertError(service, 'deploy.mode', `unknown mode ${JSON.stringify(mode)} (replicated, global, replicated-job or global-job)`);
}

/** `deploy.mode` and the number of replicas (`scaleOverride`, else `deploy.replicas`, else `scale`). */
export function convertMode(service: string, svc: ServiceConfig, scaleOverride: number | undefined): ServiceMode {
  const mode = modeName(service, svc.deploy);
  const raw = scaleOverride ?? svc.deploy?.replicas ?? svc.scale;
  const replicas = raw === undefined ? undefined : uintOf(raw, service, svc.deploy?.replicas !== undefined ? 'deploy.replicas' : 'scale');
  if ((mode === 'global' || mode === 'global-job') && replicas !== undefined)
    throw new SwarmConvertError(service, 'deploy.replicas', `replicas can only be used with replicated or replicated-job mode, not ${mode}`);
  switch (mode) {
    case 'global':
      return { Global: {} };
    case 'global-job':
      return { GlobalJob: {} };
    case 'replicated-job':
      return { ReplicatedJob: replicas === undefined ? {} : { MaxConcurrent: replicas, TotalCompletions: replicas } };
    default:
      return { Replicated: replicas === undefined ? {} : { Replicas: replicas } };
  }
}

function genericResources(service: string, value: unknown): GenericResource[] {
  if (!Array.isArray(value)) throw new SwarmConvertError(service, 'deploy.resources.reservations.generic_resources', 'expected a list');
  return value.map((g: unknown, i) => {
    const key = `deploy.resources.reservations.generic_resources[${i}]`;
    const d = isPlainObject(g) ? g.discrete_resource_spec : undefined;
    if (!isPlainObject(d) || typeof d.kind !== 'string')
      throw new SwarmConvertError(service, key, 'expected discrete_resource_spec with kind and value');
    return { DiscreteResourceSpec: { Kind: d.kind, Value: uintOf(d.value, service, `${key}.discrete_resource_spec.value`) } };
  });
}

/** deploy.resources, with `cpus`/`mem_limit`/`pids_limit`/`mem_reservation` as fallbacks; undefined when empty. */
export function convertResources(service: string, svc: ServiceConfig, warn: Warn): ResourceRequirements | undefined {
  const limits = svc.deploy?.resources?.limits;
  const reservations = svc.deploy?.resources?.reservations;
  const pick = (deployValue: unknown, deployKey: string, legacy: unknown, legacyKey: string): [unknown, string] => {
    if (deployValue !== undefined && legacy !== undefined && String(deployValue) !== String(legacy))
      warn(service, legacyKey, `differs from ${deployKey}, which is used`);
    return deployValue !== undefined ? [deployValue, deployKey] : [legacy, legacyKey];
  };
  const out: ResourceRequirements = {};
  const lim: NonNullable<ResourceRequirements['Limits']> = {};
  const [cpus, cpusKey] = pick(limits?.cpus, 'deploy.resources.limits.cpus', svc.cpus, 'cpus');
  if (cpus !== undefined) lim.NanoCPUs = nanoCpus(cpus, service, cpusKey);
  const [mem, memKey] = pick(limits?.memory, 'deploy.resources.limits.memory', svc.mem_limit, 'mem_limit');
  if (mem !== undefined) lim.MemoryBytes = bytesOf(mem, service, memKey);
  const [pids, pidsKey] = pick(limits?.pids, 'deploy.resources.limits.pids', svc.pids_limit, 'pids_limit');
  if (pids !== undefined) lim.Pids = uintOf(pids, service, pidsKey);
  if (Object.keys(lim).length > 0) out.Limits = lim;
  const res: NonNullable<ResourceRequirements['Reservations']> = {};
  if (reservations?.cpus !== undefined) res.NanoCPUs = nanoCpus(reservations.cpus, service, 'deploy.resources.reservations.cpus');
  const [rmem, rmemKey] = pick(reservations?.memory, 'deploy.resources.reservations.memory', svc.mem_reservation, 'mem_reservation');
  if (rmem !== undefined) res.MemoryBytes = bytesOf(rmem, service, rmemKey);
  if (reservations?.generic_resources !== undefined) res.GenericResources = genericResources(service, reservations.generic_resources);
  if (reservations?.devices !== undefined)
    warn(service, 'deploy.resources.reservations.devices', 'device reservations (GPUs) are not supported by swarm services; use generic_resources');
  if (Object.keys(res).length > 0) out.Reservations = res;
  return Object.keys(out).length > 0 ? out : undefined;
}

const CONDITIONS = ['none', 'on-failure', 'any'];

/** deploy.restart_policy, else `restart:` (no → none, always/unless-stopped → any, on-failure[:N]). */
export function convertRestartPolicy(service: string, svc: ServiceConfig): RestartPolicy | undefined {
  const rp = svc.deploy?.restart_policy;
  if (rp) {
    const out: RestartPolicy = {};
    if (rp.condition !== undefined) {
      if (!CONDITIONS.includes(rp.condition))
        throw new SwarmConvertError(
          service,
          'deploy.restart_policy.condition',
          `unknown condition ${JSON.stringify(rp.condition)} (none, on-failure or any)`,
        );
      out.Condition = rp.condition as RestartPolicy['Condition'] & string;
    }
    if (rp.delay !== undefined) out.Delay = durationNs(rp.delay, service, 'deploy.restart_policy.delay');
    if (rp.max_attempts !== undefined) out.MaxAttempts = uintOf(rp.max_attempts, service, 'deploy.restart_policy.max_attempts');
    if (rp.window !== undefined) out.Window = durationNs(rp.window, service, 'deploy.restart_policy.window');
    return out;
  }
  const restart = svc.restart;
  if (restart === undefined || restart === '') return undefined;
  const [name, count] = restart.split(':', 2) as [string, string | undefined];
  switch (name) {
    case 'no':
      return { Condition: 'none' };
    case 'always':
    case 'unless-stopped':
      return { Condition: 'any' };
    case 'on-failure': {
      const n = count === undefined ? 0 : uintOf(count, service, 'restart');
      return n > 0 ? { Condition: 'on-failure', MaxAttempts: n } : { Condition: 'on-failure' };
    }
    default:
      throw new SwarmConvertError(
        service,
        'restart',
        `unknown restart policy ${JSON.stringify(restart)} (no, always, on-failure[:N] or unless-stopped)`,
      );
  }
}

/** deploy.update_config / rollback_config; Parallelism defaults to 1 as in docker stack. */
export function convertUpdateConfig(service: string, value: unknown, key: string): UpdateConfig | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isPlainObject(value)) throw new SwarmConvertError(service, key, 'expected a mapping');
  const out: UpdateConfig = { Parallelism: value.parallelism === undefined ? 1 : uintOf(value.parallelism, service, `${key}.parallelism`) };
  if (value.delay !== undefined) out.Delay = durationNs(value.delay, service, `${key}.delay`);
  if (value.failure_action !== undefined) {
    const a = value.failure_action;
    if (a !== 'pause' && a !== 'continue' && a !== 'rollback')
      throw new SwarmConvertError(service, `${key}.failure_action`, `unknown action ${JSON.stringify(a)} (pause, continue or rollback)`);
    out.FailureAction = a;
  }
  if (value.monitor !== undefined) out.Monitor = durationNs(value.monitor, service, `${key}.monitor`);
  if (value.max_failure_ratio !== undefined) {
    const r = Number(value.max_failure_ratio);
    if (!Number.isFinite(r) || r < 0 || r > 1)
      throw new SwarmConvertError(
        service,
        `${key}.max_failure_ratio`,
        `expected a number from 0 to 1, got ${JSON.stringify(value.max_failure_ratio)}`,
      );
    out.MaxFailureRatio = r;
  }
  if (value.order !== undefined) {
    const o = value.order;
    if (o !== 'stop-first' && o !== 'start-first')
      throw new SwarmConvertError(service, `${key}.order`, `unknown order ${JSON.stringify(o)} (stop-first or start-first)`);
    out.Order = o;
  }
  return out;
}

/** deploy.placement (constraints, spread preferences, max_replicas_per_node) and `platform:`; undefined when empty. */
export function convertPlacement(service: string, svc: ServiceConfig, warn: Warn): Placement | undefined {
  const p = svc.deploy?.placement;
  const out: Placement = {};
  if (p !== undefined && !isPlainObject(p)) throw new SwarmConvertError(service, 'deploy.placement', 'expected a mapping');
  if (Array.isArray(p?.constraints) && p.constraints.length > 0) out.Constraints = p.constraints.map(String);
  if (Array.isArray(p?.preferences) && p.preferences.length > 0)
    out.Preferences = p.preferences.map((pref: unknown, i) => {
      const spread = isPlainObject(pref) ? pref.spread : undefined;
      if (typeof spread !== 'string' || spread === '')
        throw new SwarmConvertError(service, `deploy.placement.preferences[${i}]`, 'expected {spread: <node attribute or label>}');
      return { Spread: { SpreadDescriptor: spread } };
    });
  if (p?.max_replicas_per_node !== undefined) {
    const mode = modeName(service, svc.deploy);
    if (mode === 'global' || mode === 'global-job')
      warn(service, 'deploy.placement.max_replicas_per_node', `has no meaning in ${mode} mode; ignored`);
    else out.MaxReplicas = uintOf(p.max_replicas_per_node, service, 'deploy.placement.max_replicas_per_node');
  }
  if (svc.platform !== undefined) {
    const [os, arch] = svc.platform.split('/');
    if (!os) throw new SwarmConvertError(service, 'platform', `invalid platform ${JSON.stringify(svc.platform)} (os[/arch[/variant]])`);
    out.Platforms = [{ ...(arch ? { Architecture: arch } : {}), OS: os }];
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

const PROTOCOLS: readonly string[] = ['tcp', 'udp', 'sctp'];

/** Compose ports → swarm PortConfigs: a published range becomes one entry per port; sorted as moby's PortConfig.Compare. */
export function convertPorts(service: string, ports: readonly ServicePortConfig[], warn: Warn): PortConfig[] {
  const out: PortConfig[] = [];
  ports.forEach((p, i) => {
    const key = `ports[${i}]`;
    const protocol = (p.protocol || 'tcp').toLowerCase();
    if (!PROTOCOLS.includes(protocol))
      throw new SwarmConvertError(service, `${key}.protocol`, `unknown protocol ${JSON.stringify(p.protocol)} (tcp, udp or sctp)`);
    const mode = p.mode || 'ingress';
    if (mode !== 'ingress' && mode !== 'host')
      throw new SwarmConvertError(service, `${key}.mode`, `unknown mode ${JSON.stringify(p.mode)} (ingress or host)`);
    if (!Number.isInteger(p.target) || p.target < 1 || p.target > 65535)
      throw new SwarmConvertError(service, `${key}.target`, `invalid port ${String(p.target)}`);
    if (p.host_ip !== undefined && p.host_ip !== '' && p.host_ip !== '0.0.0.0' && p.host_ip !== '::')
      warn(service, `${key}.host_ip`, `a swarm publishes on every address of the node; ${p.host_ip} is ignored`);
    const base = { ...(p.name !== undefined ? { Name: p.name } : {}), Protocol: protocol as PortProtocol, TargetPort: p.target };
    const published = p.published === undefined ? '' : String(p.published);
    if (published === '' || published === '0') {
      out.push({ ...base, PublishMode: mode });
      return;
    }
    const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(published);
    const start = Number(m?.[1]);
    const end = m?.[2] === undefined ? start : Number(m[2]);
    if (!m || end < start || end > 65535)
      throw new SwarmConvertError(service, `${key}.published`, `invalid published port ${JSON.stringify(published)}`);
    for (let port = start; port <= end; port++) out.push({ ...base, PublishedPort: port, PublishMode: mode });
  });
  const cmp = (a: string | number, b: string | number): number => (a < b ? -1 : a > b ? 1 : 0);
  return out.sort(
    (a, b) =>
      cmp(a.PublishedPort ?? 0, b.PublishedPort ?? 0) ||
      cmp(a.TargetPort, b.TargetPort) ||
      cmp(a.Protocol, b.Protocol) ||
      cmp(a.PublishMode, b.PublishMode),
  );
}

/** deploy.endpoint_mode and ports; always present, as docker stack sends it. */
export function convertEndpoint(service: string, svc: ServiceConfig, warn: Warn): EndpointSpec {
  const out: EndpointSpec = {};
  const raw = svc.deploy?.endpoint_mode;
  if (raw !== undefined) {
    const mode = String(raw).toLowerCase();
    if (mode !== 'vip' && mode !== 'dnsrr')
      throw new SwarmConvertError(service, 'deploy.endpoint_mode', `unknown endpoint mode ${JSON.stringify(raw)} (vip or dnsrr)`);
    out.Mode = mode;
  }
  const ports = convertPorts(service, svc.ports ?? [], warn);
  if (out.Mode === 'dnsrr' && ports.some((p) => p.PublishMode === 'ingress'))
    throw new SwarmConvertError(service, 'deploy.endpoint_mode', 'dnsrr cannot publish ports through the ingress routing mesh', {
      hint: 'publish them with `mode: host`, or use endpoint_mode vip',
    });
  if (ports.length > 0) out.Ports = ports;
  return out;
}
