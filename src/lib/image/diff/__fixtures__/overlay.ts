/**
 * Test helpers (root only): overlay mounts that are always undone, and a walk of a tree (paths, types, modes,
 * owners, link targets, content hashes) to compare merged views.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';

export const isRoot = process.getuid?.() === 0;

const mounted: string[] = [];

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.status}`);
}

/** Mounts an overlay at `merged` (made if missing): lower dirs top first; read-only when no upper is given. */
export async function mountOverlay(merged: string, lowers: string[], upper?: { upper: string; work: string }): Promise<void> {
  await mkdir(merged, { recursive: true });
  let opts = `lowerdir=${lowers.join(':')}`;
  if (upper) opts += `,upperdir=${upper.upper},workdir=${upper.work}`;
  run('mount', ['-t', 'overlay', 'overlay', '-o', opts, merged]);
  mounted.push(merged);
}

export function unmount(merged: string): void {
  const i = mounted.indexOf(merged);
  if (i < 0) return;
  mounted.splice(i, 1);
  run('umount', [merged]);
}

/** Unmounts whatever a test left mounted (lazily if busy); call from afterAll/afterEach. */
export function unmountAll(): void {
  for (const m of mounted.splice(0).reverse()) {
    const r = spawnSync('umount', [m]);
    if (r.status !== 0) spawnSync('umount', ['-l', m]);
  }
}

export interface WalkEntry {
  type: 'dir' | 'file' | 'symlink' | 'fifo' | 'char' | 'block' | 'other';
  mode: number;
  uid: number;
  gid: number;
  link?: string;
  sha256?: string;
  ino: number;
}

/** Every path below `root` with what the comparison checks (mtimes not included). */
export async function walkTree(root: string): Promise<Map<string, WalkEntry>> {
  const out = new Map<string, WalkEntry>();
  const walk = async (rel: string): Promise<void> => {
    for (const name of (await readdir(join(root, rel))).sort()) {
      const path = rel ? `${rel}/${name}` : name;
      const abs = join(root, path);
      const st = await lstat(abs);
      const type: WalkEntry['type'] = st.isDirectory()
        ? 'dir'
        : st.isFile()
          ? 'file'
          : st.isSymbolicLink()
            ? 'symlink'
            : st.isFIFO()
              ? 'fifo'
              : st.isCharacterDevice()
                ? 'char'
                : st.isBlockDevice()
                  ? 'block'
                  : 'other';
      const e: WalkEntry = { type, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, ino: st.ino };
      if (type === 'symlink') e.link = await readlink(abs);
      if (type === 'file')
        e.sha256 = createHash('sha256')
          .update(await readFile(abs))
          .digest('hex');
      out.set(path, e);
      if (type === 'dir') await walk(path);
    }
  };
  await walk('');
  return out;
}

/** The walk without inode numbers (they differ between two mounts). */
export function comparable(m: Map<string, WalkEntry>): Record<string, Omit<WalkEntry, 'ino'>> {
  const out: Record<string, Omit<WalkEntry, 'ino'>> = {};
  for (const [k, { ino: _ino, ...rest }] of m) out[k] = rest;
  return out;
}
