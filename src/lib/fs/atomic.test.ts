import { describe, expect, test } from '@jest/globals';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freshDirs } from './__fixtures__/fresh-dirs.js';
import { atomicTempWriter, readJson, staleAtomicTemps, sweepAtomicTemps, writeFileAtomic, writeJsonAtomic } from './atomic.js';
import { pidAlive } from './proc.js';

const fresh = freshDirs('tsc-atomic-');

describe('writeFileAtomic / writeJsonAtomic', () => {
  test('writes a string, replaces it, and leaves no temp file', async () => {
    const d = fresh();
    const file = join(d, 'a.txt');
    await writeFileAtomic(file, 'first');
    expect(readFileSync(file, 'utf8')).toBe('first');
    await writeFileAtomic(file, 'second, longer');
    expect(readFileSync(file, 'utf8')).toBe('second, longer');
    await writeFileAtomic(file, '');
    expect(readFileSync(file, 'utf8')).toBe('');
    expect(readdirSync(d)).toEqual(['a.txt']);
  });

  test('writes bytes as they are', async () => {
    const d = fresh();
    const file = join(d, 'b.bin');
    const bytes = new Uint8Array([0, 255, 10, 13, 128]);
    await writeFileAtomic(file, bytes);
    expect(new Uint8Array(readFileSync(file))).toEqual(bytes);
    expect(readdirSync(d)).toEqual(['b.bin']);
  });

  test('concurrent writers: the file is one of them whole, and no temp files stay', async () => {
    const d = fresh();
    const file = join(d, 'c.json');
    const values = Array.from({ length: 20 }, (_, i) => ({ i, pad: 'x'.repeat(1000 * i) }));
    await Promise.all(values.map((v) => writeJsonAtomic(file, v)));
    const got = await readJson<{ i: number; pad: string }>(file);
    expect(got).toEqual(values[got!.i]);
    expect(readdirSync(d)).toEqual(['c.json']);
  });

  test('into a missing directory: creates it, leaves no temp file', async () => {
    const d = fresh();
    await writeFileAtomic(join(d, 'no', 'such', 'f'), 'x');
    expect(readdirSync(join(d, 'no', 'such'))).toEqual(['f']);
  });

  test('over a directory: rejects and removes its temp file', async () => {
    const d = fresh();
    mkdirSync(join(d, 'target'));
    writeFileSync(join(d, 'target', 'inside'), '');
    await expect(writeFileAtomic(join(d, 'target'), 'x')).rejects.toThrow();
    expect(readdirSync(d)).toEqual(['target']);
  });

  test('writeJsonAtomic writes JSON with a trailing newline that readJson reads back', async () => {
    const d = fresh();
    const file = join(d, 'v.json');
    const value = { a: 1, b: ['x', { c: null }], s: 'é ☃' };
    await writeJsonAtomic(file, value);
    const text = readFileSync(file, 'utf8');
    expect(text.endsWith('}\n')).toBe(true);
    expect(JSON.parse(text)).toEqual(value);
    expect(await readJson(file)).toEqual(value);
    expect(readdirSync(d)).toEqual(['v.json']);
  });
});

describe('readJson', () => {
  test('a missing file → undefined', async () => {
    const dir = fresh();
    expect(await readJson(join(dir, 'does-not-exist.json'))).toBeUndefined();
    expect(await readJson(join(dir, 'no-dir', 'x.json'))).toBeUndefined();
  });

  test('a path under a regular file (ENOTDIR) → undefined', async () => {
    const d = fresh();
    writeFileSync(join(d, 'file'), '{}');
    expect(await readJson(join(d, 'file', 'x.json'))).toBeUndefined();
  });

  test('invalid JSON throws', async () => {
    const d = fresh();
    writeFileSync(join(d, 'bad.json'), '{"a": ');
    await expect(readJson(join(d, 'bad.json'))).rejects.toThrow(SyntaxError);
  });

  test('other errors are not swallowed', async () => {
    const d = fresh();
    await expect(readJson(d)).rejects.toMatchObject({ code: 'EISDIR' });
  });
});

describe('staleAtomicTemps / sweepAtomicTemps', () => {
  /** A pid no process has (as a writer killed by SIGKILL leaves it). */
  function deadPid(): number {
    for (let p = 4_000_000; ; p--) if (!pidAlive(p)) return p;
  }

  test('atomicTempWriter: the pid of writeFileAtomic temp names only', () => {
    expect(atomicTempWriter('.networks.json.tmp-1234-0a1b2c3d')).toBe(1234);
    expect(atomicTempWriter('.a.tmp-1-00000000')).toBe(1);
    for (const other of [
      'networks.json.tmp-1234-0a1b2c3d',
      '.networks.json.tmp-1234-0a1b2c3',
      '.networks.json.tmp-1234-0A1B2C3D',
      '.x.tmp-12a-0a1b2c3d',
      '.x.tmp-1234-0a1b2c3d.bak',
      'networks.json',
      '.tmp-1-00000000',
    ]) {
      expect(atomicTempWriter(other)).toBeUndefined();
    }
  });

  test('a writer killed between open and rename: its temp file is swept; live writers, other files and a missing dir are left', async () => {
    const d = fresh();
    const dead = deadPid();
    await writeJsonAtomic(join(d, 'networks.json'), { version: 1 });
    const stale = `.networks.json.tmp-${dead}-0a1b2c3d`;
    const live = `.networks.json.tmp-${process.pid}-deadbeef`;
    const lookalike = `networks.json.tmp-${dead}-0a1b2c3d`;
    for (const n of [stale, live, lookalike, `.other.tmp-${dead}-xyz`]) writeFileSync(join(d, n), '{"half');
    mkdirSync(join(d, 'sub'));
    writeFileSync(join(d, 'sub', `.deep.tmp-${dead}-0a1b2c3d`), '');
    expect(await staleAtomicTemps(d)).toEqual([join(d, stale)]);
    expect(await sweepAtomicTemps(d)).toEqual([join(d, stale)]);
    expect(readdirSync(d).sort()).toEqual([live, lookalike, `.other.tmp-${dead}-xyz`, 'networks.json', 'sub'].sort());
    expect(readdirSync(join(d, 'sub'))).toEqual([`.deep.tmp-${dead}-0a1b2c3d`]); // not recursive
    expect(await sweepAtomicTemps(d)).toEqual([]);
    expect(await sweepAtomicTemps(join(d, 'missing'))).toEqual([]);
    expect(await sweepAtomicTemps(join(d, 'networks.json'))).toEqual([]);
  });
});
