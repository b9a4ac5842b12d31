/** Builds typed projects for the src/swarm unit tests. */
import type { Project, ServiceConfig } from '../../project/types.js';
import type { SwarmWarning, Warn } from '../convert-names.js';

export function project(services: Record<string, Partial<ServiceConfig>>, rest: Partial<Omit<Project, 'name' | 'services'>> = {}): Project {
  return { name: 'p', services: services as Project['services'], ...rest } as Project;
}

export function collector(): { warn: Warn; warnings: SwarmWarning[] } {
  const warnings: SwarmWarning[] = [];
  return { warnings, warn: (service, key, message) => warnings.push(service === undefined ? { key, message } : { service, key, message }) };
}
