/**
 * A tar "gate": a Transform that parses the tar headers of a layer as they stream past and forwards an entry
 * (its header, the pax / GNU long-name records before it, and its data) only after the entry has been checked.
 * GNU tar downstream therefore never sees a member that was refused. Refused: absolute names, `..` components,
 * names or hardlink targets that go through a symlink created earlier in the same layer, NUL bytes in names, bad
 * header checksums, header-only entries with data. Everything after the end-of-archive block is hashed but not
 * forwarded. The gate also computes the DiffID (sha256 of the whole uncompressed stream) and collects the
 * whiteout markers to apply after extraction.
 */
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { LayerRejectedError } from './errors.js';

export type MarkerKind = 'whiteout' | 'opaque' | 'meta';
/** A whiteout marker found in the layer: `path` is the marker itself, relative to the layer root. */
export interface Marker {
  kind: MarkerKind;
  /** The marker's normalised path (`dir/.wh.name`). */
  path: string;
  /** The directory holding it (`dir`, `''` for the root). */
  dir: string;
  /** For `whiteout`: the name it hides (`name`). */
  name?: string;
}

const BLOCK = 512;
const MAX_META = 1 << 20;
const ZERO_BLOCK = Buffer.alloc(BLOCK * 2);
/** Types that carry no data. */
const HEADER_ONLY = new Set(['1', '2', '3', '4', '5', '6']);

function cstr(buf: Buffer, start: number, len: number): string {
  const slice = buf.subarray(start, start + len);
  const nul = slice.indexOf(0);
  return (nul >= 0 ? slice.subarray(0, nul) : slice).toString('latin1');
}

function parseNumber(buf: Buffer, start: number, len: number): number {
  const field = buf.subarray(start, start + len);
  if (field[0]! & 0x80) {
    // base-256 (GNU): big-endian two's complement, first byte's high bit is the marker.
    if (field[0] === 0xff) throw new LayerRejectedError('negative base-256 number in tar header');
    let n = field[0]! & 0x7f;
    for (let i = 1; i < field.length; i++) {
      n = n * 256 + field[i]!;
      if (n > Number.MAX_SAFE_INTEGER) throw new LayerRejectedError('number too large in tar header');
    }
    return n;
  }
  const s = field.toString('latin1').replace(/\0.*$/s, '').trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw new LayerRejectedError(`invalid octal number ${JSON.stringify(s)} in tar header`);
  return parseInt(s, 8);
}

function checksumOk(h: Buffer): boolean {
  const stored = parseNumber(h, 148, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 32 : h[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return stored === unsigned || stored === signed;
}

function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 0;
  while (pos < data.length) {
    if (data[pos] === 0) break;
    const sp = data.indexOf(0x20, pos);
    if (sp < 0) throw new LayerRejectedError('malformed pax header');
    const len = Number(data.subarray(pos, sp).toString('latin1'));
    if (!Number.isInteger(len) || len <= sp - pos || pos + len > data.length) throw new LayerRejectedError('malformed pax header');
    const rec = data.subarray(sp + 1, pos + len - 1); // without the trailing \n
    const eq = rec.indexOf(0x3d);
    if (eq < 0) throw new LayerRejectedError('malformed pax header');
    out[rec.subarray(0, eq).toString('latin1')] = rec.subarray(eq + 1).toString('latin1');
    pos += len;
  }
  return out;
}

/** Normalises a member name; refuses absolute names, `..`, NUL. `''` is the root itself. */
export function normalizeMemberPath(name: string, what = 'member name'): string {
  if (name.includes('\0')) throw new LayerRejectedError(`${what} contains a NUL byte`, name);
  if (name.startsWith('/')) throw new LayerRejectedError(`absolute ${what}`, name);
  const parts: string[] = [];
  for (const c of name.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') throw new LayerRejectedError(`${what} contains '..'`, name);
    parts.push(c);
  }
  return parts.join('/');
}

type State = 'header' | 'meta' | 'data' | 'sparse' | 'eof';

export class TarGate extends Transform {
  private readonly hash = createHash('sha256');
  private chunks: Buffer[] = [];
  private buffered = 0;
  private state: State = 'header';
  /** Bytes held back until the next real entry has been checked (pax / long-name records). */
  private pending: Buffer[] = [];
  private pendingSize = 0;
  private dataLeft = 0;
  private meta: { type: string; size: number; padded: number; header: Buffer } | undefined;
  private localPax: Record<string, string> = {};
  private globalPax: Record<string, string> = {};
  private longName: string | undefined;
  private longLink: string | undefined;
  private readonly symlinks = new Set<string>();
  /** Bytes of the uncompressed stream. */
  tarSize = 0;
  /** Sum of the regular files' sizes. */
  contentSize = 0;
  entries = 0;
  readonly markers: Marker[] = [];
  private diffIdValue: string | undefined;

  constructor() {
    super({ highWaterMark: 1 << 16 });
  }

  /** `sha256:<hex>` of everything written; valid after the stream ended. */
  get diffId(): string {
    if (this.diffIdValue === undefined) throw new Error('TarGate: diffId read before the end of the stream');
    return this.diffIdValue;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.tarSize += chunk.length;
    if (this.state === 'eof') return cb();
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    try {
      this.process();
      cb();
    } catch (e) {
      cb(e as Error);
    }
  }

  override _flush(cb: TransformCallback): void {
    this.diffIdValue = 'sha256:' + this.hash.digest('hex');
    if (this.state === 'eof') return cb();
    if (this.state !== 'header' || this.buffered !== 0 || this.pendingSize !== 0) {
      return cb(new LayerRejectedError('truncated tar stream'));
    }
    // No end-of-archive blocks: add them so tar ends cleanly.
    this.push(ZERO_BLOCK);
    this.state = 'eof';
    cb();
  }

  private takeBytes(n: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length >= n) {
      const out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      this.buffered -= n;
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let off = 0;
    while (off < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length, n - off);
      c.copy(out, off, 0, k);
      off += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    this.buffered -= n;
    return out;
  }

  private hold(b: Buffer): void {
    this.pending.push(b);
    this.pendingSize += b.length;
    if (this.pendingSize > 4 * MAX_META) throw new LayerRejectedError('too many extended headers');
  }

  private release(): void {
    for (const b of this.pending) this.push(b);
    this.pending = [];
    this.pendingSize = 0;
  }

  private process(): void {
    for (;;) {
      if (this.state === 'data') {
        if (this.buffered === 0) return;
        const n = Math.min(this.dataLeft, this.buffered);
        this.push(this.takeBytes(n));
        this.dataLeft -= n;
        if (this.dataLeft === 0) this.state = 'header';
        continue;
      }
      if (this.state === 'eof') {
        this.chunks = [];
        this.buffered = 0;
        return;
      }
      if (this.state === 'meta') {
        const m = this.meta!;
        if (this.buffered < m.padded) return;
        const data = this.takeBytes(m.padded);
        this.hold(m.header);
        this.hold(data);
        this.applyMeta(m.type, data.subarray(0, m.size));
        this.meta = undefined;
        this.state = 'header';
        continue;
      }
      if (this.state === 'sparse') {
        if (this.buffered < BLOCK) return;
        const ext = this.takeBytes(BLOCK);
        this.push(ext);
        if (ext[504] === 0) this.state = this.dataLeft > 0 ? 'data' : 'header';
        continue;
      }
      // header
      if (this.buffered < BLOCK) return;
      const h = this.takeBytes(BLOCK);
      if (h.every((b) => b === 0)) {
        if (this.pendingSize !== 0) throw new LayerRejectedError('extended header without a member');
        this.push(ZERO_BLOCK);
        this.state = 'eof';
        continue;
      }
      this.header(h);
    }
  }

  private applyMeta(type: string, data: Buffer): void {
    if (type === 'x') Object.assign(this.localPax, parsePax(data));
    else if (type === 'g') Object.assign(this.globalPax, parsePax(data));
    else if (type === 'L') this.longName = cstr(data, 0, data.length);
    else if (type === 'K') this.longLink = cstr(data, 0, data.length);
  }

  private header(h: Buffer): void {
    if (!checksumOk(h)) throw new LayerRejectedError('invalid tar header checksum');
    const type = String.fromCharCode(h[156]!);
    const pax = { ...this.globalPax, ...this.localPax };
    let size = parseNumber(h, 124, 12);
    if (pax['size'] !== undefined) {
      if (!/^\d+$/.test(pax['size'])) throw new LayerRejectedError('invalid pax size');
      size = Number(pax['size']);
    }
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'x' || type === 'g' || type === 'L' || type === 'K') {
      if (size > MAX_META) throw new LayerRejectedError('extended header too large');
      this.meta = { type, size, padded, header: h };
      this.state = 'meta';
      return;
    }
    if (type === 'M' || type === 'N') throw new LayerRejectedError(`unsupported tar entry type '${type}'`);
    const magic = h.subarray(257, 263).toString('latin1');
    let name = this.longName ?? cstr(h, 0, 100);
    if (this.longName === undefined && magic === 'ustar\0') {
      const prefix = cstr(h, 345, 155);
      if (prefix !== '') name = `${prefix}/${name}`;
    }
    name = pax['GNU.sparse.name'] ?? pax['path'] ?? name;
    const rawLink = pax['linkpath'] ?? this.longLink ?? cstr(h, 157, 100);
    this.localPax = {};
    this.longName = undefined;
    this.longLink = undefined;

    if (type !== 'V') this.check(type, name, rawLink, size, pax);
    this.release();
    this.push(h);
    this.entries++;
    this.dataLeft = padded;
    if (type === 'S' && h[482] !== 0) this.state = 'sparse';
    else this.state = padded > 0 ? 'data' : 'header';
  }

  private throughSymlink(path: string): string | undefined {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const prefix = parts.slice(0, i).join('/');
      if (this.symlinks.has(prefix)) return prefix;
    }
    return undefined;
  }

  private check(type: string, rawName: string, rawLink: string, size: number, pax: Record<string, string>): void {
    const path = normalizeMemberPath(rawName);
    if (HEADER_ONLY.has(type) && size !== 0) throw new LayerRejectedError(`entry of type '${type}' with data`, rawName);
    const via = this.throughSymlink(path);
    if (via !== undefined) throw new LayerRejectedError(`path goes through the symlink ${JSON.stringify(via)}`, rawName);
    if (path === '' && type !== '5') throw new LayerRejectedError('non-directory entry for the layer root', rawName);
    if (this.symlinks.has(path) && type !== '2') throw new LayerRejectedError('entry replaces a symlink of the same layer', rawName);
    if (type === '1') {
      if (rawLink.startsWith('/')) throw new LayerRejectedError('hardlink to an absolute path', rawName);
      const target = normalizeMemberPath(rawLink, 'hardlink target');
      if (target === '') throw new LayerRejectedError('hardlink to the layer root', rawName);
      const tvia = this.throughSymlink(target);
      if (tvia !== undefined) throw new LayerRejectedError(`hardlink target goes through the symlink ${JSON.stringify(tvia)}`, rawName);
      if (this.symlinks.has(target)) this.symlinks.add(path);
    } else if (type === '2') {
      if (rawLink.includes('\0')) throw new LayerRejectedError('symlink target contains a NUL byte', rawName);
      this.symlinks.add(path);
    } else if (type === '0' || type === '\0' || type === '7' || type === 'S' || !/[1-6DV]/.test(type)) {
      const real = pax['GNU.sparse.realsize'];
      this.contentSize += real !== undefined && /^\d+$/.test(real) ? Number(real) : size;
    }
    const slash = path.lastIndexOf('/');
    const base = path.slice(slash + 1);
    const dir = slash >= 0 ? path.slice(0, slash) : '';
    if (base.startsWith('.wh.')) {
      if (base === '.wh..wh..opq') this.markers.push({ kind: 'opaque', path, dir });
      else if (base.startsWith('.wh..wh.')) this.markers.push({ kind: 'meta', path, dir });
      else if (base === '.wh.') throw new LayerRejectedError('invalid whiteout', rawName);
      else this.markers.push({ kind: 'whiteout', path, dir, name: base.slice(4) });
    }
  }
}
