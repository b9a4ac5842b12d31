/**
 * Directories whose subdirectories are unrelated to each other (one per container, say), marked so for ext4's block
 * allocator: `chattr +T` (FS_TOPDIR_FL, "the top of directory hierarchies"), after which the Orlov allocator puts
 * each new subdirectory, and so the files later made in it, in a block group of its own instead of the parent's.
 *
 * Why: on ext4 without a journal, allocating an inode skips every inode of its block group freed in the last minutes
 * (`recently_deleted`: a block lookup each), from the start of the group, at every allocation. Container directories
 * made and deleted by the thousand in one group made each allocation cost ~0.4-0.6 ms after some `up`/`down` cycles
 * (~25 % of an `up`'s CPU, `perf`), growing as the cycles went on. Spread over block groups, each new directory's
 * group holds few such inodes. Elsewhere (ext4 with a journal, tmpfs, xfs, btrfs) the flag changes nothing or cannot
 * be set; either way once per directory is enough, which a marker file remembers.
 */
import { execFile } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';

/**
 * Marks `dirs` (made when missing) as holding unrelated subdirectories, unless `marker` says it was done; then
 * writes `marker`. Never fails: the mark is only a hint.
 */
export async function markUnrelatedSubdirs(dirs: readonly string[], marker: string): Promise<void> {
  if (existsSync(marker)) return;
  try {
    for (const dir of dirs) await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    await new Promise<void>((resolve) => execFile('chattr', ['+T', '--', ...dirs], { timeout: 10_000 }, () => resolve()));
    await fs.writeFile(marker, '', { mode: 0o600 });
  } catch {
    // a hint only
  }
}
