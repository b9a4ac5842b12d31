/**
 * Content hashes of what a `COPY`/`ADD` reads, for the build cache (issue 11, "Cache": keyed by the content —
 * bytes, mode, owner — of what the instruction read after `.dockerignore`), and of a whole context.
 *
 * A selection's hash covers, per entry: its source path relative to the context, its destination in the image,
 * its type, mode, owner, symlink target and the sha256 of a file's bytes. Entries are sorted by destination, then
 * source, so the order of the directory walk does not matter; times (mtime, ctime, atime) and inode numbers are not
 * part of it, so touching a file or copying the context elsewhere keeps the hash. Files are read as streams.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstatSync, readFileSync } from 'node:fs';
import { mkdir, readlink, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { DockerIgnore } from './ignore.js';
import type { CopyEntry } from './select.js';
import { walkContext } from './walk.js';

/** `sha256:<hex>` of a file's bytes, read as a stream. */
export async function hashFile(file: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(createReadStream(file), h);
  return `sha256:${h.digest('hex')}`;
}

/**
 * Remembers file digests by path, keyed on what changes when the bytes may have (inode, size, mtime and ctime in
 * nanoseconds), so a second hash of an unchanged context reads no file. Keep one per build session.
 */
export class FileHashCache {
  private readonly byPath = new Map<string, { key: string; digest: string }>();
  private changed = false;

  async digest(file: string): Promise<string> {
    // synchronous: a thread-pool round trip per file cost more than the lstat (most files are hits)
    const st = lstatSync(file, { bigint: true });
    const key = `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
    const hit = this.byPath.get(file);
    if (hit?.key === key) return hit.digest;
    const digest = await hashFile(file);
    this.byPath.delete(file);
    this.byPath.set(file, { key, digest });
    this.changed = true;
    return digest;
  }

  get size(): number {
    return this.byPath.size;
  }

  /** A cache saved by `save` (empty when the file is missing or unreadable): rebuilds then read no unchanged file. */
  static async load(file: string): Promise<FileHashCache> {
    const c = new FileHashCache();
    try {
      const saved = JSON.parse(readFileSync(file, 'utf8')) as [string, string, string][];
      for (const [p, key, digest] of saved) c.byPath.set(p, { key, digest });
    } catch {
      /* none yet */
    }
    return c;
  }

  /** Writes the cache (the `max` most recently hashed files) when it changed. */
  async save(file: string, max = 50_000): Promise<void> {
    if (!this.changed) return;
    const entries = [...this.byPath].slice(-max).map(([p, v]) => [p, v.key, v.digest]);
    const tmp = `${file}.${process.pid}.tmp`;
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    await writeFile(tmp, JSON.stringify(entries));
    await rename(tmp, file);
    this.changed = false;
  }
}

export interface HashOptions {
  /** Reuse digests of unchanged files. */
  readonly cache?: FileHashCache | undefined;
  /** Files hashed at once (default 4). */
  readonly concurrency?: number | undefined;
}

/** Runs `fn` over `items` with at most `limit` at once, keeping the results in order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

interface HashRecord {
  readonly key: string;
  readonly fields: readonly (string | number)[];
}

function digestRecords(kind: string, records: HashRecord[]): string {
  records.sort((a, b) => compare(a.key, b.key));
  const h = createHash('sha256');
  h.update(`tscompose-${kind}-v1\n`);
  for (const r of records) h.update(`${JSON.stringify(r.fields)}\n`);
  return `sha256:${h.digest('hex')}`;
}

/**
 * The cache hash of a selection (select.ts's `selectCopy`) read from `context`: the same for the same paths,
 * types, modes, owners, link targets and bytes, whatever the walk order or the files' times.
 */
export async function hashSelection(context: string, entries: readonly CopyEntry[], options: HashOptions = {}): Promise<string> {
  const root = path.resolve(context);
  const read = (file: string): Promise<string> => (options.cache ? options.cache.digest(file) : hashFile(file));
  const records = await mapLimit(entries, options.concurrency ?? 4, async (e): Promise<HashRecord> => {
    const content = e.type === 'file' ? await read(path.join(root, e.source)) : '';
    return {
      key: `${e.dest}\0${e.source}`,
      fields: [e.dest, e.source, e.type, e.mode, e.uid, e.gid, e.linkTarget ?? '', e.sourceRoot === true ? 1 : 0, content],
    };
  });
  return digestRecords('copy', records);
}

export interface ContextDigest {
  /** `sha256:<hex>` over every path the context sends. */
  readonly digest: string;
  readonly files: number;
  readonly dirs: number;
  readonly symlinks: number;
  /** Bytes of the files. */
  readonly bytes: number;
}

/**
 * The digest of a whole context after `.dockerignore` (walk.ts): each path with its type, mode, owner, link target
 * and content hash. Times are left out, as in `hashSelection`.
 */
export async function hashContext(context: string, ignore: DockerIgnore | undefined, options: HashOptions = {}): Promise<ContextDigest> {
  const root = path.resolve(context);
  const entries = await walkContext(root, ignore);
  const read = (file: string): Promise<string> => (options.cache ? options.cache.digest(file) : hashFile(file));
  let files = 0;
  let dirs = 0;
  let symlinks = 0;
  let bytes = 0;
  const records = await mapLimit(entries, options.concurrency ?? 4, async (e): Promise<HashRecord> => {
    const st = e.stats;
    let type = 'other';
    let content = '';
    let link = '';
    if (st.isFile()) {
      type = 'file';
      files++;
      bytes += st.size;
      content = await read(path.join(root, e.rel));
    } else if (st.isDirectory()) {
      type = 'dir';
      dirs++;
    } else if (st.isSymbolicLink()) {
      type = 'symlink';
      symlinks++;
      link = await readlink(path.join(root, e.rel));
    }
    return { key: e.rel, fields: [e.rel, type, st.mode & 0o7777, st.uid, st.gid, link, content] };
  });
  return { digest: digestRecords('context', records), files, dirs, symlinks, bytes };
}
