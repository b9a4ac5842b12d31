/** Filesystem helpers of the image store: scratch names that carry the owner's pid, recursive sizes. */
import { randomBytes } from 'node:crypto';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** `<pid>-<random>`: temp names carry the owner's pid so leftovers of dead processes can be swept. */
export function tempName(prefix = ''): string {
  return `${prefix}${process.pid}-${randomBytes(6).toString('hex')}`;
}

/** Total bytes of the files below `path` (lstat sizes; directories not counted). */
export async function diskUsage(path: string): Promise<number> {
  let st;
  try {
    st = await lstat(path);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.size;
  let total = 0;
  const stack = [path];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) stack.push(p);
      else {
        try {
          total += (await lstat(p)).size;
        } catch {
          /* raced */
        }
      }
    }
  }
  return total;
}
