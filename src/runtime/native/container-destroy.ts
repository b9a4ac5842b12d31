/**
 * Removing a native container for good: its runtime state and cgroups, its network endpoints, its rootfs mount, its
 * run directory, then its directory (renamed to a tombstone first) and its name claim. Idempotent: a rerun after a
 * kill at any point finishes it. A removal's steps that do not depend on each other overlap.
 */
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { TsComposeError } from '../../errors.js';
import { isMissing } from '../../lib/errors.js';
import { processRunning, readPidFile } from '../../lib/fs/proc.js';
import { traced } from '../../util/trace.js';
import { createdCgroupParentDirs } from './cgroup-parent.js';
import type { NativeContext } from './context.js';
import { detachNetworksDeferred, usesBridge } from './netglue.js';
import { detectCgroupMode, hierarchyRoots, removeEmptyCgroupDirs } from './oci/cgroups.js';
import { unmountRootfs } from './rootfs.js';

export async function destroyContainer(ctx: NativeContext, id: string): Promise<void> {
  const conmonPid = readPidFile(path.join(ctx.paths.run, id.slice(0, 12), 'conmon.pid'));
  // The OCI runtime keeps its state in <root>/<id>: no process to spawn when the exit was already recorded.
  if (existsSync(path.join(ctx.oci.root, id))) await traced('native.remove.oci-delete', () => ctx.oci.delete(id, true).catch(() => undefined));
  const rec = await ctx.state.read(id);
  // Released in the network state before anything of the container goes (so a kill from here on leaves no endpoint
  // without its container); the kernel destroys the host veths meanwhile, waited for at the end.
  const detached =
    rec && usesBridge(rec)
      ? traced('native.remove.detach', () => detachNetworksDeferred(ctx.paths, rec).catch(() => ({ linksGone: Promise.resolve() })))
      : Promise.resolve({ linksGone: Promise.resolve() });
  // Meanwhile (the release waits for the other removals' and a lock turn): its monitor lets go (it runs the exit
  // hook, which then finds no record and leaves), and the rootfs is unmounted. Neither removes anything a kill
  // would leave without its container.
  const unmounted = (async () => {
    await traced('native.remove.conmon-wait', async () => {
      for (let i = 0; i < 400 && conmonPid > 0 && processRunning(conmonPid); i++) await sleep(5);
    });
    return traced('native.remove.umount', () => unmountRootfs(ctx, id));
  })();
  const [release, umount] = await Promise.allSettled([detached, unmounted]);
  if (umount.status === 'rejected') throw umount.reason;
  const linksGone = release.status === 'fulfilled' ? release.value.linksGone : Promise.resolve();
  const left = umount.value;
  if (left.length > 0) {
    // Never rm -rf through a mount: that would delete the volume's or the host directory's files.
    throw new TsComposeError('TSC_NATIVE_BUSY', `cannot remove container ${id.slice(0, 12)}: ${left[0]} is still mounted`, {
      hint: `umount it (umount -l ${left[0]}) and retry`,
    });
  }
  await fs.rm(path.join(ctx.paths.run, id.slice(0, 12)), { recursive: true, force: true });
  // conmon links <socket dir>/<id> to the bundle (its attach socket's short path) and never removes it.
  await fs.rm(path.join(ctx.paths.run, 'sock', id), { force: true });
  // Renamed to its tombstone (record and all, atomically), then its name released, then deleted: a kill at any
  // point leaves the container whole or a tombstone the next command finishes (StateStore.scan), never a directory
  // without a record, nor a record whose name is unclaimed.
  const parentDirs = await createdCgroupParentDirs(ctx, id);
  await traced('native.remove.dirs', () => ctx.state.removeContainerDir(id));
  // The shared /tscompose cgroup parents go with the last container (rmdir fails while others use them), and so
  // do the cgroup_parent directories the container's creation made.
  // While another container is in them they are busy in every hierarchy alike: one failing rmdir tells, not ~12.
  const [first, ...rest] = hierarchyRoots(detectCgroupMode());
  const gone =
    first === undefined ||
    (await fs.rmdir(path.join(first, 'tscompose')).then(
      () => true,
      (e: unknown) => isMissing(e),
    ));
  // Gone from the first one, they usually are from all (removed by the container before): a stat each, not an rmdir.
  const others = gone ? rest.map((root) => path.join(root, 'tscompose')).filter((dir) => existsSync(dir)) : [];
  await Promise.all(others.map((dir) => fs.rmdir(dir).catch(() => undefined)));
  removeEmptyCgroupDirs(parentDirs);
  await traced('native.remove.links-gone', () => linksGone.catch(() => undefined));
}
