/**
 * `rm -rf` for the small trees a CLI deletes on its hot path (a container's directories, a runtime's state),
 * without the thread pool.
 *
 * Node's recursive `fs.rm` walks a tree with one thread-pool call per step (an lstat of every entry, an rmdir tried
 * before each listing, then the unlink or rmdir): a `down` of 20 containers made ~2,000 of them, and each costs the
 * main thread a hand-off and a callback, several times the system call it carries. Here the system calls are made
 * directly: one listing with types per directory, an unlink per file, an rmdir per directory. A large tree (what a
 * container wrote into its writable layer can be) does not hold the event loop: the walk yields to it every few
 * milliseconds.
 */
import { type Dirent, readdirSync, rmdirSync, unlinkSync } from 'node:fs';
import * as path from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';

/** How long a walk works before it lets the event loop run. */
const SLICE_MS = 4;

const code = (e: unknown): string | undefined => (e as NodeJS.ErrnoException).code;

/**
 * Deletes `target` and everything below it; nothing when it does not exist. Symbolic links are removed, never
 * followed. Throws what the first failing call throws (EBUSY for a mount point, EACCES, …), as `fs.rm` does.
 */
export async function removeTree(target: string): Promise<void> {
  let deadline = performance.now() + SLICE_MS;
  try {
    unlinkSync(target); // a file or a link: done
    return;
  } catch (e) {
    const c = code(e);
    if (c === 'ENOENT') return;
    if (c !== 'EISDIR' && c !== 'EPERM') throw e; // Linux answers EISDIR for a directory (EPERM elsewhere)
  }
  // Depth first, with an explicit stack: each directory is listed once, then removed after its subdirectories.
  const stack: { dir: string; listed: boolean }[] = [{ dir: target, listed: false }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1] as { dir: string; listed: boolean };
    if (top.listed) {
      stack.pop();
      try {
        rmdirSync(top.dir);
      } catch (e) {
        if (code(e) !== 'ENOENT') throw e;
      }
      continue;
    }
    top.listed = true;
    let entries: Dirent[];
    try {
      entries = readdirSync(top.dir, { withFileTypes: true });
    } catch (e) {
      if (code(e) === 'ENOENT') continue;
      throw e;
    }
    for (const entry of entries) {
      const p = path.join(top.dir, entry.name);
      if (entry.isDirectory()) stack.push({ dir: p, listed: false });
      else {
        try {
          unlinkSync(p);
        } catch (e) {
          if (code(e) === 'EISDIR')
            stack.push({ dir: p, listed: false }); // replaced by a directory meanwhile
          else if (code(e) !== 'ENOENT') throw e;
        }
      }
      if (performance.now() >= deadline) {
        await yieldToLoop();
        deadline = performance.now() + SLICE_MS;
      }
    }
  }
}
