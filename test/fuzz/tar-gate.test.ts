/**
 * Seeded fuzz test of the layer tar gate (src/lib/image/tar-scan.ts) and of unpacking through it
 * (src/lib/image/layer.ts), with tar-stream as the oracle. Archives are generated with tar-stream (files,
 * directories, symlinks to anywhere, hard links, long names, whiteouts, pax records), then some get hostile entries
 * (`..`, absolute names, writes through a symlink made earlier, hard links out of the layer or through a symlink)
 * and some are corrupted at the byte level (flipped header bytes, truncation, garbage after the end).
 *
 * Properties:
 * - the gate never throws anything but a CodedError, and never hangs;
 * - what the gate lets through parses (tar-stream) into entries whose names and hard-link targets stay inside the
 *   layer and never pass through a symlink of the same layer;
 * - an unmutated archive of safe entries passes whole: tar-stream reads the same entries from the gate's output
 *   as from its input;
 * - unpacking (GNU tar behind the gate, then whiteouts) writes nothing outside the layer directory, whatever the
 *   input, and fails only with a CodedError.
 *
 * Reproduce: FUZZ_SEED=<seed> [FUZZ_COUNT=<n>] npm run jest -- test/fuzz/tar-gate.test.ts (input i uses seed + i).
 */
import { afterAll, describe, expect, test } from '@jest/globals';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract, pack, type Header } from 'tar-stream';
import { isCodedError } from '../../src/lib/errors.js';
import { unpackLayer } from '../../src/lib/image/layer.js';
import { TarGate } from '../../src/lib/image/tar-scan.js';
import { chance, fuzzRun, int, mulberry32, pick, type Rng } from './rng.js';

const { seed: SEED, count: COUNT } = fuzzRun(400);
const UNPACKS = Math.max(1, Math.floor(COUNT / 8));

interface Entry {
  readonly name: string;
  readonly type: 'file' | 'directory' | 'symlink' | 'link';
  readonly linkname?: string;
  readonly content?: string;
}

const DIRS = ['a', 'b', 'a/c', 'a/c/d', 'usr/lib'];
const BASES = ['f', 'g.txt', 'lib.so', '.wh.f', '.wh..wh..opq', 'x'.repeat(120), 'ü-name', 'sp ace'];
const LINK_TARGETS = ['f', '../f', '../../../../etc', '/etc/passwd', '.', '..', 'a/c', '/'];
const HOSTILE_NAMES = ['../escape', '/abs', 'a/../../escape', './../escape', 'a/./../../../escape', '.wh...', 'a/.wh...'];

/** A random archive of entries that stay inside the layer; `hostile` adds entries the gate must refuse. */
function entries(r: Rng, hostile: boolean): Entry[] {
  const out: Entry[] = [];
  const files: string[] = [];
  const symlinks: string[] = [];
  const n = 1 + int(r, 12);
  for (let i = 0; i < n; i++) {
    const dir = chance(r, 0.3) ? '' : `${pick(r, DIRS)}/`;
    const name = `${dir}${pick(r, BASES)}${chance(r, 0.2) ? i : ''}`;
    const k = int(r, 10);
    if (k < 5) {
      out.push({ name, type: 'file', content: 'x'.repeat(int(r, 1500)) });
      files.push(name);
    } else if (k < 7) out.push({ name: `${dir}${pick(r, DIRS).replaceAll('/', '-')}${i}`, type: 'directory' });
    else if (k < 9) {
      const s = `${dir}lnk${i}`;
      out.push({ name: s, type: 'symlink', linkname: pick(r, LINK_TARGETS) });
      symlinks.push(s);
    } else if (files.length > 0) out.push({ name: `${dir}hard${i}`, type: 'link', linkname: pick(r, files) });
  }
  if (hostile) {
    const at = int(r, out.length + 1);
    const bad: Entry[] = [];
    switch (int(r, 4)) {
      case 0:
        bad.push({ name: pick(r, HOSTILE_NAMES), type: 'file', content: 'pwned' });
        break;
      case 1: {
        const s = `via${int(r, 100)}`;
        bad.push({ name: s, type: 'symlink', linkname: pick(r, ['../victim', '/tmp', '..', '../../..']) });
        bad.push({ name: `${s}/pwned`, type: 'file', content: 'pwned' });
        break;
      }
      case 2:
        bad.push({ name: `hl${int(r, 100)}`, type: 'link', linkname: pick(r, ['../outside.txt', '/etc/passwd', 'a/../../outside.txt']) });
        break;
      default: {
        const s = symlinks.length > 0 ? pick(r, symlinks) : 'lnk';
        if (symlinks.length === 0) bad.push({ name: s, type: 'symlink', linkname: '..' });
        bad.push({ name: `h${int(r, 100)}`, type: 'link', linkname: `${s}/outside.txt` });
      }
    }
    out.splice(at, 0, ...bad);
  }
  return out;
}

async function tarOf(list: readonly Entry[]): Promise<Buffer> {
  const p = pack();
  const done = (async () => {
    const chunks: Buffer[] = [];
    for await (const c of p) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  })();
  for (const e of list) {
    const h = {
      name: e.name,
      type: e.type,
      mode: e.type === 'directory' ? 0o755 : 0o644,
      mtime: new Date(0),
      ...(e.linkname !== undefined ? { linkname: e.linkname } : {}),
    };
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error | null): void => (err ? reject(err) : resolve());
      if (e.type === 'file') p.entry(h, e.content ?? '', done);
      else p.entry(h, done);
    });
  }
  p.finalize();
  return done;
}

/** Byte-level damage: flipped header bytes, truncation, garbage after the end. */
function corrupt(r: Rng, buf: Buffer): Buffer {
  const b = Buffer.from(buf);
  const rounds = 1 + int(r, 3);
  let out = b;
  for (let i = 0; i < rounds; i++) {
    switch (int(r, 4)) {
      case 0: {
        const block = int(r, Math.max(1, Math.floor(out.length / 512)));
        const at = block * 512 + int(r, 512);
        if (at < out.length) out[at] = int(r, 256);
        break;
      }
      case 1:
        out = out.subarray(0, int(r, out.length));
        break;
      case 2:
        out = Buffer.concat([out, Buffer.from(Array.from({ length: int(r, 2048) }, () => int(r, 256)))]);
        break;
      default: {
        // a size field rewritten (octal digits), checksum left stale or not
        const block = int(r, Math.max(1, Math.floor(out.length / 512)));
        const at = block * 512 + 124;
        if (at + 12 <= out.length) out.write(int(r, 0o7777777).toString(8).padStart(11, '0'), at, 'latin1');
      }
    }
  }
  return out;
}

/** Random chunk sizes, as a network read would give them. */
function chunked(r: Rng, buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length;) {
    const n = 1 + int(r, 3000);
    out.push(buf.subarray(i, i + n));
    i += n;
  }
  return out;
}

async function throughGate(r: Rng, bytes: Buffer): Promise<{ out: Buffer } | { error: unknown }> {
  const gate = new TarGate();
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(c: Buffer, _e, cb) {
      chunks.push(c);
      cb();
    },
  });
  try {
    await pipeline(Readable.from(chunked(r, bytes)), gate, sink);
    return { out: Buffer.concat(chunks) };
  } catch (e) {
    return { error: e };
  }
}

async function parse(bytes: Buffer): Promise<Header[] | undefined> {
  const ex = extract();
  const heads: Header[] = [];
  try {
    const src = new PassThrough();
    src.end(bytes);
    const run = (async () => {
      for await (const entry of ex) {
        heads.push(entry.header);
        entry.resume();
      }
    })();
    src.pipe(ex);
    await run;
    return heads;
  } catch {
    return undefined;
  }
}

const clean = (p: string): string[] => p.split('/').filter((c) => c !== '' && c !== '.');

/** Whether `name` stays inside the root and no proper prefix of it is one of `symlinks`. */
function confined(name: string, symlinks: ReadonlySet<string>): boolean {
  if (name.startsWith('/')) return false;
  const parts = clean(name);
  if (parts.includes('..')) return false;
  for (let i = 1; i < parts.length; i++) if (symlinks.has(parts.slice(0, i).join('/'))) return false;
  return true;
}

function checkOutput(heads: readonly Header[]): void {
  const symlinks = new Set<string>();
  for (const h of heads) {
    expect([h.name, confined(h.name, symlinks)]).toEqual([h.name, true]);
    if (h.type === 'link') expect([h.linkname, confined(h.linkname ?? '', symlinks)]).toEqual([h.linkname, true]);
    if (h.type === 'symlink') symlinks.add(clean(h.name).join('/'));
  }
}

const summary = (hs: readonly Header[]): string[] => hs.map((h) => `${h.type} ${h.name} ${h.size ?? 0} ${h.linkname ?? ''}`);

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Every path under `dir` with its content (files) or `/` (directories), for before/after comparison. */
function tree(dir: string, skip: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (p === skip) continue;
      if (e.isDirectory()) {
        out.push(`${p}/`);
        walk(join(d, e.name), p);
      } else out.push(`${p} ${e.isFile() ? readFileSync(join(d, e.name), 'latin1') : ''}`);
    }
  };
  walk(dir, '');
  return out.sort();
}

describe(`tar gate fuzz (seed ${SEED}, ${COUNT} inputs, ${UNPACKS} unpacked)`, () => {
  test('typed errors only; what passes stays inside the layer; safe archives pass whole', async () => {
    let passed = 0;
    let refused = 0;
    for (let i = 0; i < COUNT; i++) {
      const r = mulberry32(SEED + i);
      const hostile = chance(r, 0.35);
      const damaged = chance(r, 0.3);
      const input = await tarOf(entries(r, hostile));
      const bytes = damaged ? corrupt(r, input) : input;
      const res = await throughGate(r, bytes);
      try {
        if ('error' in res) {
          expect(isCodedError(res.error) ? 'coded' : String(res.error)).toBe('coded');
          refused++;
          continue;
        }
        passed++;
        const out = await parse(res.out);
        if (out) checkOutput(out);
        if (!hostile && !damaged) expect(summary(out ?? [])).toEqual(summary((await parse(input)) ?? []));
      } catch (e) {
        throw new Error(`input ${i} (FUZZ_SEED=${SEED + i} FUZZ_COUNT=1, hostile ${hostile}, damaged ${damaged}): ${(e as Error).message}`);
      }
    }
    // the generator must exercise both sides
    expect(passed).toBeGreaterThan(COUNT / 5);
    expect(refused).toBeGreaterThan(COUNT / 10);
  }, 120_000);

  test('unpacking writes nothing outside the layer directory', async () => {
    const sandbox = mkdtempSync(join(tmpdir(), 'tsc-fuzz-tar-'));
    dirs.push(sandbox);
    mkdirSync(join(sandbox, 'victim'));
    writeFileSync(join(sandbox, 'outside.txt'), 'untouched');
    const before = tree(sandbox, 'layers');
    mkdirSync(join(sandbox, 'layers'));
    for (let i = 0; i < UNPACKS; i++) {
      const r = mulberry32(SEED + 1_000_000 + i);
      const hostile = chance(r, 0.6);
      const input = await tarOf(entries(r, hostile));
      const bytes = chance(r, 0.3) ? corrupt(r, input) : input;
      const dir = join(sandbox, 'layers', String(i));
      try {
        await unpackLayer(Readable.from(chunked(r, bytes)), dir, { label: `fuzz ${i}` });
      } catch (e) {
        if (!isCodedError(e)) throw new Error(`input ${i} (seed ${SEED + 1_000_000 + i}): ${String(e)}`);
      }
      expect(tree(sandbox, 'layers')).toEqual(before);
    }
  }, 300_000);
});
