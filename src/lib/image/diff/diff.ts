/**
 * An overlayfs upper directory → an OCI layer tar (image-spec layer.md "Representing Changes"), written with
 * tar-stream, with its DiffID (sha256 of the uncompressed tar) and, gzip-compressed, its blob digest and size.
 *
 * Entries (upper.ts: what is in the layer and in which order):
 * - regular files, directories (`name/`), symlinks, hardlinks within the upper directory (later names of an inode
 *   link to the first), fifos and devices, with their mode (permission, setuid/setgid/sticky bits), numeric
 *   uid/gid (no user names, as BuildKit and Docker), and xattrs per XattrPolicy as `SCHILY.xattr.<name>` pax
 *   records (raw bytes);
 * - a whiteout `name` → an empty regular file `.wh.name` (mode 0600, the whiteout's owner and mtime), an opaque
 *   directory → its entry then an empty regular file `dir/.wh..wh..opq` (the directory's permissions, owner and
 *   mtime) — both as moby's overlayWhiteoutConverter writes them.
 * - mtimes are kept, in whole seconds (ustar; moby truncates likewise). With `sourceDateEpoch` (SOURCE_DATE_EPOCH)
 *   every mtime newer than it is clamped to it — what BuildKit does with `rewrite-timestamp=true` (containerd's
 *   changeWriter with a ModTime upper bound; GNU tar's --clamp-mtime). No atime/ctime are written.
 *
 * Long or non-ASCII names and link targets, ids past ustar's 6 octal digits and xattrs go into one pax header
 * written here byte-exact (tar-stream's own pax writer takes only strings).
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream, type Stats } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, Writable, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import tarStream from 'tar-stream';
import { MT } from '../types.js';
import { LayerDiffError } from './errors.js';
import { devNumbers, scanUpperDir, type ScanOptions, type UpperEntry } from './upper.js';

export interface DiffOptions extends ScanOptions {
  /** Unix seconds (SOURCE_DATE_EPOCH): mtimes newer than this are clamped to it. */
  sourceDateEpoch?: number;
  signal?: AbortSignal;
}

export interface WriteLayerOptions extends DiffOptions {
  /** `'none'` (default: what a local build needs; push gzips on the way) or `'gzip'`. */
  compression?: 'none' | 'gzip';
  /** zlib level for gzip (default 6, zlib's and Go's default). */
  gzipLevel?: number;
}

/** What writeLayer produced. */
export interface LayerDigests {
  /** `sha256:` of the uncompressed tar. */
  diffId: string;
  /** Bytes of the uncompressed tar. */
  tarSize: number;
  /** `sha256:` of the blob as written (the diffId when uncompressed). */
  digest: string;
  /** Bytes of the blob as written. */
  size: number;
  /** The blob's media type (Docker schema2's, as the store's pushes use). */
  mediaType: string;
  /** Tar entries written (0: the step changed nothing; the tar is then just its end blocks). */
  entries: number;
}

const USTAR_MAX_ID = 0o777777;
const MAX_MTIME = 2 ** 31 - 1;

function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

const isAscii = (s: string): boolean => /^[\x20-\x7e]*$/.test(s);

/** Whether tar-stream can put `name` into a ustar header (ASCII, ≤ 100 bytes after a prefix split at a `/`). */
function fitsUstar(name: string): boolean {
  if (!isAscii(name)) return false;
  if (name.length <= 100) return true;
  const i = name.lastIndexOf('/', name.length - 1);
  for (let j = name.indexOf('/'); j >= 0 && j <= i; j = name.indexOf('/', j + 1)) {
    if (j <= 155 && name.length - j - 1 <= 100) return true;
  }
  return false;
}

/** What tar-stream's pack.entry takes. */
type Header = Partial<tarStream.Header> & { name: string };
type Sink = ReturnType<tarStream.Pack['entry']>;

/** The header (and the pax records it needs) of one entry. */
function headerOf(e: UpperEntry, epoch: number | undefined): { header: Header; pax: Buffer[] } {
  const st = e.stat;
  const slash = e.path.lastIndexOf('/');
  const dir = slash >= 0 ? e.path.slice(0, slash + 1) : '';
  const base = e.path.slice(slash + 1);
  let mtime = Math.floor(st.mtimeMs / 1000);
  if (epoch !== undefined && mtime > epoch) mtime = epoch;
  const pax: Buffer[] = [];
  let name = e.kind === 'whiteout' ? `${dir}.wh.${base}` : e.path;
  if (e.kind === 'dir') name += '/';
  // Full st_mode: tar-stream keeps only its low 12 bits, and a 0 mode would become its default.
  const mode = e.kind === 'whiteout' ? 0o100600 : st.mode;
  const header: Header = { name, mode, uid: st.uid, gid: st.gid, mtime: new Date(Math.max(0, Math.min(mtime, MAX_MTIME)) * 1000), type: 'file' };
  if (mtime < 0 || mtime > MAX_MTIME) pax.push(paxRecord('mtime', Buffer.from(String(mtime))));
  if (!fitsUstar(name)) {
    pax.push(paxRecord('path', Buffer.from(name)));
    header.name = `PaxHeaders/${base.replace(/[^\x20-\x7e]/g, '_').slice(0, 80) || 'x'}${e.kind === 'dir' ? '/' : ''}`;
  }
  for (const [key, id] of [
    ['uid', st.uid],
    ['gid', st.gid],
  ] as const) {
    if (id > USTAR_MAX_ID) pax.push(paxRecord(key, Buffer.from(String(id))));
  }
  switch (e.kind) {
    case 'file':
      header.size = st.size;
      break;
    case 'dir':
      header.type = 'directory';
      break;
    case 'symlink':
    case 'hardlink':
      header.type = e.kind === 'symlink' ? 'symlink' : 'link';
      header.linkname = e.link!;
      if (!isAscii(e.link!) || Buffer.byteLength(e.link!) > 100) {
        pax.push(paxRecord('linkpath', Buffer.from(e.link!)));
        header.linkname = 'PaxHeaders/link';
      }
      break;
    case 'fifo':
      header.type = 'fifo';
      break;
    case 'char':
    case 'block': {
      header.type = e.kind === 'char' ? 'character-device' : 'block-device';
      const { major, minor } = devNumbers(st.rdev);
      header.devmajor = major;
      header.devminor = minor;
      break;
    }
    case 'whiteout':
      header.size = 0;
      break;
  }
  for (const [k, v] of e.xattrs) pax.push(paxRecord(`SCHILY.xattr.${k}`, v));
  return { header, pax };
}

/** The opaque marker that follows an opaque directory's entry: an empty file with the directory's permissions, owner, mtime. */
function opaqueMarker(e: UpperEntry): UpperEntry {
  const stat = { ...e.stat, mode: 0o100000 | (e.stat.mode & 0o777), size: 0 } as Stats;
  return { path: `${e.path}/.wh..wh..opq`, kind: 'file', stat, xattrs: [] };
}

/** A ustar header block of type `x` for `size` bytes of pax records. */
function paxHeaderBlock(size: number, mtime: Date): Buffer {
  const h = Buffer.alloc(512);
  const oct = (v: number, len: number): string => v.toString(8).padStart(len - 1, '0') + '\0';
  h.write('PaxHeaders/x', 0, 'latin1');
  h.write(oct(0o644, 8), 100, 'latin1');
  h.write(oct(0, 8), 108, 'latin1');
  h.write(oct(0, 8), 116, 'latin1');
  h.write(oct(size, 12), 124, 'latin1');
  h.write(oct(Math.floor(mtime.getTime() / 1000), 12), 136, 'latin1');
  h.write('        ', 148, 'latin1');
  h.write('x', 156, 'latin1');
  h.write('ustar\0', 257, 'latin1');
  h.write('00', 263, 'latin1');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(oct(sum, 7) + ' ', 148, 'latin1');
  return h;
}

/**
 * Writes a pax extended header (its records byte-exact: xattr values are binary) straight into the pack between
 * two entries: tar-stream's entry() takes no body for non-file types and its own pax writer only strings.
 */
function pushPaxHeader(pack: tarStream.Pack, records: Buffer, mtime: Date): void {
  const pad = (512 - (records.length % 512)) % 512;
  const raw = pack as unknown as { push(b: Buffer): boolean };
  raw.push(paxHeaderBlock(records.length, mtime));
  raw.push(records);
  if (pad > 0) raw.push(Buffer.alloc(pad));
}

function addEntry(pack: tarStream.Pack, header: Header, body?: Buffer): { sink: Sink; done: Promise<void> } {
  let sink!: Sink;
  const done = new Promise<void>((resolve, reject) => {
    const cb = (err?: Error | null): void => (err ? reject(err) : resolve());
    const h = header as tarStream.Header;
    // An empty regular file needs an (empty) body, else its sink waits for data.
    const data = body ?? (header.type === 'file' && !header.size ? Buffer.alloc(0) : undefined);
    sink = data ? pack.entry(h, data, cb) : pack.entry(h, cb);
    sink.on('error', reject);
  });
  return { sink, done };
}

/** Copies a file into an entry's sink (a streamx Writable), honouring its back-pressure. */
async function copyInto(file: string, sink: Sink, signal: AbortSignal | undefined): Promise<void> {
  for await (const chunk of createReadStream(file, signal ? { signal } : {})) {
    if (!sink.write(chunk as Buffer)) await new Promise<void>((resolve) => sink.once('drain', () => resolve()));
  }
  sink.end(undefined);
}

/** Files up to this size are read whole (writeEntry). */
const SMALL_FILE = 1 << 20;

async function writeEntry(pack: tarStream.Pack, file: string, header: Header, pax: Buffer[], signal: AbortSignal | undefined): Promise<void> {
  signal?.throwIfAborted();
  if (pax.length > 0) pushPaxHeader(pack, Buffer.concat(pax), header.mtime!);
  if (header.type === 'file' && (header.size ?? 0) > 0 && (header.size ?? 0) <= SMALL_FILE) {
    // a small file in one read and one entry (a stream per file costs ~1 ms: a layer of many small files crawled)
    const body = await readFile(file);
    if (body.length !== header.size) throw new LayerDiffError(`${file} changed while the layer was written`, file);
    await addEntry(pack, header, body).done;
    return;
  }
  if (header.type === 'file' && (header.size ?? 0) > 0) {
    const { sink, done } = addEntry(pack, header);
    await Promise.all([copyInto(file, sink, signal), done]);
    return;
  }
  await addEntry(pack, header).done;
}

/** The entries of the layer as a stream of the uncompressed tar (`entries` from scanUpperDir when already read). */
export async function layerTarStream(upper: string, opts: DiffOptions = {}, entries?: readonly UpperEntry[]): Promise<Readable> {
  const list = entries ?? (await scanUpperDir(upper, opts));
  const pack = tarStream.pack();
  const produce = async (): Promise<void> => {
    for (const e of list) {
      const { header, pax } = headerOf(e, opts.sourceDateEpoch);
      await writeEntry(pack, join(upper, e.path), header, pax, opts.signal);
      if (e.kind === 'dir' && e.opaque) {
        const marker = headerOf(opaqueMarker(e), opts.sourceDateEpoch);
        await writeEntry(pack, '', marker.header, marker.pax, opts.signal);
      }
    }
    pack.finalize();
  };
  produce().catch((err: unknown) => pack.destroy(err as Error));
  return pack as unknown as Readable;
}

/** A pass-through that hashes and counts. */
class Tap extends Transform {
  readonly hash: Hash = createHash('sha256');
  bytes = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    cb(null, chunk);
  }
}

/** The DiffID and tar size of the layer of `upper`, without writing the tar anywhere. */
export async function digestLayer(
  upper: string,
  opts: DiffOptions = {},
): Promise<{ diffId: string; tarSize: number; size: number; entries: number }> {
  const entries = await scanUpperDir(upper, opts);
  const tar = new Tap();
  const sink = new Writable({ write: (_c: Buffer, _e, cb) => cb() });
  await pipeline([await layerTarStream(upper, opts, entries), tar, sink], opts.signal ? { signal: opts.signal } : {});
  const size = entries.reduce((n, e) => n + (e.kind === 'file' ? e.stat.size : 0), 0);
  return { diffId: `sha256:${tar.hash.digest('hex')}`, tarSize: tar.bytes, size, entries: entries.length };
}

/** Writes the layer of the upper directory `upper` into `file` (created; removed again on failure). */
export async function writeLayer(upper: string, file: string, opts: WriteLayerOptions = {}): Promise<LayerDigests> {
  const entries = await scanUpperDir(upper, opts);
  const gzip = opts.compression === 'gzip';
  const tar = new Tap();
  const blob = new Tap();
  try {
    const stages: (Readable | Transform)[] = [await layerTarStream(upper, opts, entries), tar];
    if (gzip) stages.push(createGzip({ level: opts.gzipLevel ?? 6 }), blob);
    await pipeline([...stages, createWriteStream(file, { mode: 0o644 })], opts.signal ? { signal: opts.signal } : {});
  } catch (e) {
    await rm(file, { force: true });
    throw e;
  }
  const diffId = `sha256:${tar.hash.digest('hex')}`;
  return {
    diffId,
    tarSize: tar.bytes,
    digest: gzip ? `sha256:${blob.hash.digest('hex')}` : diffId,
    size: gzip ? blob.bytes : tar.bytes,
    mediaType: gzip ? MT.dockerLayerGzip : MT.dockerLayer,
    entries: entries.length,
  };
}
