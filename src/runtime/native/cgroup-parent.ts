/**
 * The cgroup_parent directories a container's creation made (./container-create.ts writes the list), removed with
 * the container (./containers.ts).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { NativeContext } from './context.js';

/** Where a container with a `cgroup_parent` lists the parent's directories its creation made (removed with it). */
export const CGROUP_PARENT_FILE = 'cgroup-parent.json';

/** The cgroup_parent directories container `id`'s creation made (see missingCgroupDirs), to remove with it. */
export async function createdCgroupParentDirs(ctx: NativeContext, id: string): Promise<string[]> {
  const text = await fs.readFile(path.join(ctx.state.containerDir(id), CGROUP_PARENT_FILE), 'utf8').catch(() => '[]');
  try {
    const dirs = JSON.parse(text) as unknown;
    return Array.isArray(dirs) ? dirs.filter((d): d is string => typeof d === 'string') : [];
  } catch {
    return [];
  }
}
