/**
 * `volumes [SERVICE…]` (docker compose pkg/compose/volumes.go): the volumes carrying the project's label; with
 * services, only those their running containers mount.
 */
import type { VolumeInfo } from '../runtime/runtime.js';
import { projectContainers } from './containers.js';
import type { EngineContext } from './events.js';
import { projectSelector } from './labels.js';

export async function projectVolumes(ctx: EngineContext, project: string, services: readonly string[] = []): Promise<VolumeInfo[]> {
  const volumes = (await ctx.runtime.listVolumes({ labels: projectSelector(project), signal: ctx.signal })).sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
  if (services.length === 0) return volumes;
  const containers = await projectContainers(ctx.runtime, project, { services, oneoff: true, runningOnly: true, signal: ctx.signal });
  const used = new Set(containers.flatMap((c) => c.mounts.filter((m) => m.type === 'volume').map((m) => m.source)));
  return volumes.filter((v) => used.has(v.name));
}
