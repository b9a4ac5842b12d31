/**
 * Dependencies of a service: `depends_on`, plus the implicit ones docker compose adds from `links`,
 * `volumes_from` and `network_mode` / `ipc` / `pid` / `uts` / `cgroup` set to `service:NAME`.
 */
import type { DependsOnCondition, ServiceConfig, ServiceDependency } from './types.js';

export interface Dependency extends ServiceDependency {
  /** Where the dependency comes from, for messages. */
  readonly via: 'depends_on' | 'links' | 'volumes_from' | 'network_mode' | 'ipc' | 'pid' | 'uts' | 'cgroup';
}

const SERVICE_PREFIX = 'service:';

export function serviceDependencies(svc: ServiceConfig): Map<string, Dependency> {
  const deps = new Map<string, Dependency>();
  const add = (name: string, via: Dependency['via'], condition: DependsOnCondition, restart: boolean): void => {
    if (!deps.has(name)) deps.set(name, { condition, required: true, ...(restart ? { restart } : {}), via });
  };
  for (const [name, d] of Object.entries(svc.depends_on ?? {})) deps.set(name, { ...d, via: 'depends_on' });
  for (const link of svc.links ?? []) add(link.split(':')[0]!, 'links', 'service_started', true);
  for (const v of svc.volumes_from ?? []) {
    if (v.startsWith('container:')) continue;
    add(v.split(':')[0]!, 'volumes_from', 'service_started', false);
  }
  for (const key of ['network_mode', 'ipc', 'pid', 'uts', 'cgroup'] as const) {
    const mode = svc[key];
    if (typeof mode === 'string' && mode.startsWith(SERVICE_PREFIX)) add(mode.slice(SERVICE_PREFIX.length), key, 'service_started', true);
  }
  return deps;
}

/** The dependency graph of a project's services (node → the services it depends on). */
export function dependencyGraph(services: Readonly<Record<string, ServiceConfig>>): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const [name, svc] of Object.entries(services)) graph.set(name, new Set(serviceDependencies(svc).keys()));
  return graph;
}
