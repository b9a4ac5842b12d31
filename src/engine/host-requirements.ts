/**
 * Known host requirements of well-known images, checked before `up` starts anything: a warning names the service,
 * the kernel setting, what it is and what it must be, and the command that fixes it. Nothing is refused (the
 * image may be a stand-in, or configured not to need it), and a setting the runtime cannot read is not guessed.
 *
 * Today one: Elasticsearch (and OpenSearch) memory-map their indices and need `vm.max_map_count` ≥ 262144; with
 * less they refuse to start in production mode and can fail under load in development mode ("max virtual memory
 * areas vm.max_map_count [65530] is too low"). Elastic's documented alternative, `node.store.allow_mmap: false`
 * in the service's environment, removes the need.
 */
import type { Project, ServiceConfig } from '../project/types.js';
import type { Runtime } from '../runtime/runtime.js';

export interface HostRequirement {
  /** The sysctl name. */
  readonly sysctl: string;
  /** The smallest value that works. */
  readonly min: number;
  /** Who needs it (`Elasticsearch`) when the service does, else undefined. */
  readonly neededBy: (name: string, service: ServiceConfig) => string | undefined;
}

/** The repository's last path component without tag or digest (`docker.elastic.co/elasticsearch/elasticsearch:8.15.0` → `elasticsearch`). */
function imageBaseName(image: string | undefined): string | undefined {
  if (!image) return undefined;
  const path = image.split('@')[0]!;
  const last = path.slice(path.lastIndexOf('/') + 1);
  return last.split(':')[0];
}

export const HOST_REQUIREMENTS: readonly HostRequirement[] = [
  {
    sysctl: 'vm.max_map_count',
    min: 262144,
    neededBy: (name, service) => {
      const env = service.environment ?? {};
      if (String(env['node.store.allow_mmap'] ?? '').toLowerCase() === 'false') return undefined;
      const who = { elasticsearch: 'Elasticsearch', opensearch: 'OpenSearch' } as Record<string, string>;
      return who[imageBaseName(service.image) ?? ''] ?? who[name];
    },
  },
];

/** The warnings for `services` of `project` on the runtime's host, one per unmet requirement. Never throws. */
export async function hostRequirementWarnings(
  runtime: Runtime,
  project: Project,
  services: readonly string[],
  options: { readonly signal?: AbortSignal | undefined; readonly requirements?: readonly HostRequirement[] } = {},
): Promise<string[]> {
  const warnings: string[] = [];
  for (const req of options.requirements ?? HOST_REQUIREMENTS) {
    const needy = services.flatMap((s) => {
      const who = project.services[s] ? req.neededBy(s, project.services[s]) : undefined;
      return who ? [{ service: s, who }] : [];
    });
    if (needy.length === 0) continue;
    let value: string | undefined;
    try {
      value = await runtime.hostSysctl(req.sysctl, { signal: options.signal });
    } catch {
      value = undefined;
    }
    const n = value === undefined ? NaN : Number(value);
    if (!Number.isFinite(n) || n >= req.min) continue;
    for (const { service, who } of needy)
      warnings.push(
        `service "${service}": ${who} needs ${req.sysctl} >= ${req.min}, this host has ${value} (raise it: sysctl -w ${req.sysctl}=${req.min})`,
      );
  }
  return warnings;
}
