/**
 * The build context over the BuildKit session, as the docker CLI and buildx send it (`remote=client-session`):
 * BuildKit's moby.filesync.v1.FileSync/DiffCopy, the sending side of tonistiigi/fsutil's protocol.
 *
 * The engine opens one DiffCopy stream per directory it wants, named by the `dir-name` metadata (`context`, or
 * `dockerfile` for the directory holding the Dockerfile), with `include-patterns`, `exclude-patterns`,
 * `followpaths` and `override-excludes` (values URL-encoded when `<key>-urlencoded` is true). We send a STAT
 * packet for every entry in the walk's order (depth-first, names in byte order, a directory before its contents,
 * with the parents of an included path even when they are themselves excluded), then an empty STAT; the engine
 * asks for the regular files it lacks with REQ packets (the STAT's index as ID), which we answer with DATA
 * packets and an empty DATA; it ends with FIN, answered with FIN.
 *
 * Entries are sent as the docker CLI sends them: Go FileMode bits, uid and gid reset to 0, mtime in nanoseconds.
 * A directory's own exclude patterns (the ignore file as tscompose reads it, `<Dockerfile>.dockerignore` first)
 * replace the frontend's unless it asks to override them. Files given in memory (a rewritten Dockerfile, heredoc
 * bodies) are added to the walk and never excluded; their time is taken from their content.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import { globToRegExp } from '../../lib/build/context/glob.js';
import { cleanPath, DockerIgnore } from '../../lib/build/context/ignore.js';
import { bytesField, readFields, varintField } from './buildkit-proto.js';

/** A directory the session offers: a real one (`dir`), in-memory files, or both. */
export interface SyncedDir {
  readonly dir?: string | undefined;
  /** Ignore patterns applied unless the engine sends `override-excludes: true`. */
  readonly excludes?: readonly string[] | undefined;
  readonly files?: readonly { readonly path: string; readonly content: string | Buffer; readonly mode: number }[] | undefined;
}

export interface FsEntry {
  /** Relative posix path. */
  readonly path: string;
  /** Go os.FileMode bits. */
  readonly mode: number;
  readonly size: number;
  readonly modTime: bigint;
  readonly linkname: string;
  /** Where a regular file's bytes come from. */
  readonly source: string | Buffer | undefined;
}

const MODE_DIR = 2 ** 31;
const MODE_SYMLINK = 2 ** 27;
const PACKET = { STAT: 0, REQ: 1, DATA: 2, FIN: 3, ERR: 4 } as const;
const CHUNK = 32 * 1024;

/** Go's os.FileMode for a unix mode (permissions, setuid/setgid/sticky, directory or symlink). */
export function goFileMode(unixMode: number): number {
  let m = unixMode & 0o777;
  if (unixMode & 0o4000) m |= 1 << 23;
  if (unixMode & 0o2000) m |= 1 << 22;
  if (unixMode & 0o1000) m |= 1 << 20;
  const type = unixMode & 0o170000;
  if (type === 0o040000) m += MODE_DIR;
  else if (type === 0o120000) m += MODE_SYMLINK;
  return m;
}

/**
 * A modification time for an in-memory file that changes with its content: the engine keeps the synced files
 * between builds and asks again only for those whose size or time changed.
 */
function contentTime(data: Buffer): bigint {
  return createHash('sha256').update(data).digest().readBigUInt64BE(0) >> 8n;
}

/** fsutil's walk order: component by component, bytewise, a parent before its contents. */
export function comparePaths(a: string, b: string): number {
  const pa = a.split('/');
  const pb = b.split('/');
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const c = Buffer.compare(Buffer.from(pa[i]!), Buffer.from(pb[i]!));
    if (c !== 0) return c;
  }
  return pa.length - pb.length;
}

/** `include-patterns` (and `followpaths`): which paths they select, and which directories may hold some. */
class Includes {
  private readonly patterns: RegExp[][];
  constructor(patterns: readonly string[]) {
    this.patterns = patterns.map((p) => cleanPath(p).split('/').map(globToRegExp));
  }
  matches(rel: string): boolean {
    const parts = rel.split('/');
    return this.patterns.some((p) => p.length <= parts.length && p.every((re, i) => re.test(parts[i]!)));
  }
  mayMatchBelow(dir: string): boolean {
    const parts = dir.split('/');
    return this.patterns.some((p) => p.length > parts.length && parts.every((c, i) => p[i]!.test(c)));
  }
}

export interface WalkOptions {
  readonly excludes?: readonly string[] | undefined;
  readonly includes?: readonly string[] | undefined;
}

/** The entries DiffCopy sends for `dir`, in order. */
export async function listEntries(dir: SyncedDir, options: WalkOptions = {}): Promise<FsEntry[]> {
  const ignore = options.excludes && options.excludes.length > 0 ? new DockerIgnore(options.excludes) : undefined;
  const includes = options.includes && options.includes.length > 0 ? new Includes(options.includes) : undefined;
  const out: FsEntry[] = [];
  const emitted = new Set<string>();
  const pending = new Map<string, FsEntry>();
  const emit = (e: FsEntry): void => {
    const parts = e.path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join('/');
      const p = pending.get(parent);
      if (p && !emitted.has(parent)) {
        emitted.add(parent);
        out.push(p);
      }
    }
    if (!emitted.has(e.path)) {
      emitted.add(e.path);
      out.push(e);
    }
  };
  const walk = async (rel: string, included: boolean): Promise<void> => {
    const root = dir.dir!;
    const names = (await readdir(path.join(root, rel))).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const name of names) {
      const child = rel ? `${rel}/${name}` : name;
      const abs = path.join(root, child);
      const st = await lstat(abs, { bigint: true });
      const unix = Number(st.mode);
      const excluded = ignore?.ignores(child) ?? false;
      const selected = included || !includes || includes.matches(child);
      const base = { path: child, mode: goFileMode(unix), modTime: st.mtimeNs };
      if (st.isDirectory()) {
        if (excluded && !ignore?.mayIncludeBelow(child)) continue;
        if (!selected && !includes?.mayMatchBelow(child)) continue;
        const entry: FsEntry = { ...base, size: 0, linkname: '', source: undefined };
        if (!excluded && selected) emit(entry);
        else pending.set(child, entry);
        await walk(child, included || (selected && includes !== undefined));
      } else if (!excluded && selected && (st.isFile() || st.isSymbolicLink())) {
        const link = st.isSymbolicLink() ? await readlink(abs) : '';
        emit({ ...base, size: st.isFile() ? Number(st.size) : 0, linkname: link, source: st.isFile() ? abs : undefined });
      }
    }
  };
  if (dir.dir !== undefined) await walk('', false);
  const virtual: FsEntry[] = [];
  for (const f of dir.files ?? []) {
    if (includes && !includes.matches(f.path)) continue;
    const parts = f.path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const d = parts.slice(0, i).join('/');
      if (!emitted.has(d) && !virtual.some((v) => v.path === d)) {
        virtual.push({ path: d, mode: MODE_DIR + 0o755, size: 0, modTime: 0n, linkname: '', source: undefined });
      }
    }
    const data = typeof f.content === 'string' ? Buffer.from(f.content, 'utf8') : f.content;
    virtual.push({ path: f.path, mode: f.mode & 0o777, size: data.length, modTime: contentTime(data), linkname: '', source: data });
  }
  if (virtual.length === 0) return out;
  const byPath = new Map(out.map((e) => [e.path, e]));
  for (const v of virtual) byPath.set(v.path, v); // an in-memory file replaces a real one of the same name
  return [...byPath.values()].sort((a, b) => comparePaths(a.path, b.path));
}

// -- packets --------------------------------------------------------------------------------------------------------

function encodeStat(e: FsEntry): Buffer {
  return Buffer.concat([bytesField(1, e.path), varintField(2, e.mode), varintField(5, e.size), varintField(6, e.modTime), bytesField(7, e.linkname)]);
}

export function encodePacket(type: number, fields: { stat?: FsEntry; id?: number; data?: Buffer } = {}): Buffer {
  return Buffer.concat([
    varintField(1, type),
    fields.stat ? bytesField(2, encodeStat(fields.stat)) : Buffer.alloc(0),
    varintField(3, fields.id ?? 0),
    bytesField(4, fields.data ?? Buffer.alloc(0)),
  ]);
}

export function decodePacket(buf: Buffer): { type: number; id: number; data: Buffer } {
  const p = { type: 0, id: 0, data: Buffer.alloc(0) as Buffer };
  for (const f of readFields(buf)) {
    if (f.no === 1 && 'varint' in f) p.type = Number(f.varint);
    else if (f.no === 3 && 'varint' in f) p.id = Number(f.varint);
    else if (f.no === 4 && 'bytes' in f) p.data = f.bytes;
  }
  return p;
}

// -- the DiffCopy stream --------------------------------------------------------------------------------------------

/** What DiffCopy needs of a bidirectional gRPC stream. */
export interface PacketStream {
  /** The request metadata: each key's values. */
  readonly metadata: Readonly<Record<string, readonly string[]>>;
  readonly incoming: AsyncIterable<Buffer>;
  write(packet: Buffer): Promise<void>;
}

/**
 * The metadata values of `key`: Node's HTTP/2 joins a repeated header's values with `, `, so they are split
 * again; then URL-decoded when `<key>-urlencoded` says so (BuildKit ≥ 0.9, where a value's own commas are escaped).
 */
export function metadataValues(md: Readonly<Record<string, readonly string[]>>, key: string): string[] {
  const values = (md[key] ?? []).flatMap((v) => v.split(', ')).filter((v) => v !== '');
  if (md[`${key}-urlencoded`]?.[0] !== 'true') return values;
  return values.map((v) => decodeURIComponent(v.replace(/\+/g, ' ')));
}

/** Serves one DiffCopy call over `dirs` (by name); resolves when the engine has what it wanted. */
export async function serveDiffCopy(stream: PacketStream, dirs: Readonly<Record<string, SyncedDir>>): Promise<void> {
  const md = stream.metadata;
  const name = metadataValues(md, 'dir-name')[0] ?? '';
  const dir = dirs[name];
  if (!dir) throw Object.assign(new Error(`no access allowed to dir "${name}"`), { code: 3 });
  const override = metadataValues(md, 'override-excludes')[0] === 'true';
  const excludes = dir.excludes && dir.excludes.length > 0 && !override ? dir.excludes : metadataValues(md, 'exclude-patterns');
  const includes = [...metadataValues(md, 'include-patterns'), ...metadataValues(md, 'followpaths')];
  const entries = await listEntries(dir, { excludes, includes });
  for (const e of entries) await stream.write(encodePacket(PACKET.STAT, { stat: e }));
  await stream.write(encodePacket(PACKET.STAT));
  for await (const raw of stream.incoming) {
    const p = decodePacket(raw);
    if (p.type === PACKET.ERR) throw new Error(`error from receiver: ${p.data.toString('utf8')}`);
    if (p.type === PACKET.FIN) {
      await stream.write(encodePacket(PACKET.FIN));
      return;
    }
    if (p.type !== PACKET.REQ) continue;
    const e = entries[p.id];
    if (!e || e.source === undefined) throw new Error(`invalid file request ${p.id}`);
    if (typeof e.source === 'string') {
      for await (const chunk of createReadStream(e.source, { highWaterMark: CHUNK })) {
        await stream.write(encodePacket(PACKET.DATA, { id: p.id, data: chunk as Buffer }));
      }
    } else {
      for (let off = 0; off < e.source.length; off += CHUNK) {
        await stream.write(encodePacket(PACKET.DATA, { id: p.id, data: e.source.subarray(off, off + CHUNK) }));
      }
    }
    await stream.write(encodePacket(PACKET.DATA, { id: p.id }));
  }
}
