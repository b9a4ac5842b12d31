/**
 * A native container's root filesystem: an overlay mount of the image layers (read-only) with the container's own
 * upper and work directories under its state directory, and the unmounting of it and of everything mounted below.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { TsComposeError } from '../../errors.js';
import { coalescing } from '../../lib/coalesce.js';
import { isMounted, mountsUnder } from '../../lib/fs/mounts.js';
import type { NativeContext } from './context.js';

const execFileP = promisify(execFile);

/** Where the container's rootfs is mounted: its bundle's `rootfs`. */
export function rootfsDir(ctx: NativeContext, id: string): string {
  return path.join(ctx.state.containerDir(id), 'bundle', 'rootfs');
}

export { isMounted, mountsUnder } from '../../lib/fs/mounts.js';

/** Mounts the container's overlay rootfs (image layers read-only, its own upper and work dirs) unless mounted. */
export async function mountRootfs(ctx: NativeContext, id: string, lower: { cwd: string; lowerdir: string }): Promise<string> {
  const dir = ctx.state.containerDir(id);
  const target = rootfsDir(ctx, id);
  if (await isMounted(target)) return target;
  await Promise.all([
    fs.mkdir(target, { recursive: true }),
    fs.mkdir(path.join(dir, 'upper'), { recursive: true }),
    fs.mkdir(path.join(dir, 'work'), { recursive: true }),
  ]);
  const opts = `lowerdir=${lower.lowerdir},upperdir=${path.join(dir, 'upper')},workdir=${path.join(dir, 'work')}`;
  try {
    await execFileP('mount', ['-t', 'overlay', 'overlay', '-o', opts, target], { cwd: lower.cwd });
  } catch (e) {
    throw new TsComposeError(
      'TSC_NATIVE_MOUNT',
      `cannot mount the root filesystem of container ${id.slice(0, 12)}: ${String((e as { stderr?: string }).stderr ?? e).trim()}`,
      {
        hint: 'the native runtime needs root and overlayfs; its state directory must not itself be on overlayfs (set TSCOMPOSE_STATE_DIR)',
      },
    );
  }
  return target;
}

/**
 * `umount` of mount points asked for at the same time, as one process (containers stopping together); failures
 * are not reported: the caller checks /proc/self/mountinfo again and retries what is left.
 */
const umountMerged = coalescing<string>(async (points) => {
  await execFileP('umount', points).catch(() => undefined);
});

/** Unmounts the container's rootfs and overlay volumes (everything mounted under its directory). */
export async function unmountRootfs(ctx: NativeContext, id: string): Promise<void> {
  const dir = ctx.state.containerDir(id);
  for (let round = 0; round < 5; round++) {
    const points = await mountsUnder(dir);
    if (points.length === 0) return;
    for (const p of points) {
      if (round < 4) await umountMerged(p);
      else await execFileP('umount', ['-l', p]).catch(() => undefined);
    }
    if (round > 0) await sleep(100);
  }
}
