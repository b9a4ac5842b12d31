/**
 * compose `group_add` on the native runtime: each entry a group name (looked up in the image's /etc/group) or a
 * numeric gid, added to the process's supplementary groups after those of its user, as moby's
 * `daemon/oci_linux.go` (getUser with `c.HostConfig.GroupAdd`) does: an unknown name is an error.
 */
import { readFile } from 'node:fs/promises';
import { TsComposeError } from '../../errors.js';
import { secureJoin } from './secure-path.js';
import { parseGroup, type ResolvedUser } from './user.js';

/** Pure part: the supplementary gids of `user` with `groupAdd` added (group file content undefined = none). */
export function withGroupAddFrom(user: ResolvedUser, groupAdd: readonly string[] | undefined, group: string | undefined): ResolvedUser {
  if (!groupAdd || groupAdd.length === 0) return user;
  const entries = group === undefined ? [] : parseGroup(group);
  const gids = [...user.additionalGids];
  for (const g of groupAdd) {
    const byName = entries.find((e) => e.name === g);
    const gid = byName ? byName.gid : /^\d+$/.test(g) ? Number(g) : undefined;
    if (gid === undefined) throw new TsComposeError('TSC_USER_NOT_FOUND', `Unable to find group ${g}: no matching entries in group file`);
    if (!gids.includes(gid)) gids.push(gid);
  }
  return { ...user, additionalGids: gids };
}

/** `group_add` resolved in the container's rootfs. */
export async function withGroupAdd(rootfs: string, user: ResolvedUser, groupAdd: readonly string[] | undefined): Promise<ResolvedUser> {
  if (!groupAdd || groupAdd.length === 0) return user;
  const group = await readFile(await secureJoin(rootfs, '/etc/group'), 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return undefined;
    throw e;
  });
  return withGroupAddFrom(user, groupAdd, group);
}
