/**
 * The host directory of a range's remapped containers (./idmap.ts USERNS_RUN_DIR): `/run/tscompose-userns` 0711 (no
 * listing), `<uid>.<gid>.<size>/` root:gid 0710 (searchable by the range's root group, which runc's init has in the
 * user namespace, and by host root; not by other users of the host), as dockerd's `/var/lib/docker/<uid>.<gid>`.
 */
import { promises as fs } from 'node:fs';
import { USERNS_RUN_DIR, usernsRunDir, type IdRange } from './idmap.js';

/** Makes the range's run directory (and its parent) with their owners and modes; returns it. */
export async function ensureUsernsRunDir(range: IdRange): Promise<string> {
  const dir = usernsRunDir(range);
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  await fs.chmod(USERNS_RUN_DIR, 0o711);
  await fs.chown(dir, 0, range.gid);
  await fs.chmod(dir, 0o710);
  return dir;
}
