import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMissing, readJson, withLock, writeFileAtomic, writeJsonAtomic } from './fsutil.js';

let dir: string;
let n = 0;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsc-fsutil-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A fresh empty subdirectory. */
function fresh(): string {
  const d = join(dir, `case-${++n}`);
  mkdirSync(d);
  return d;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The pid of a process that has exited and been reaped. */
function deadPid(): number {
  const r = spawnSync('true');
  expect(r.status).toBe(0);
  return r.pid!;
}

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

describe('isMissing', () => {
  test('ENOENT and ENOTDIR only', () => {
    expect(isMissing(Object.assign(new Error('x'), { code: 'ENOENT' }))).toBe(true);
    expect(isMissing(Object.assign(new Error('x'), { code: 'ENOTDIR' }))).toBe(true);
    expect(isMissing(Object.assign(new Error('x'), { code: 'EACCES' }))).toBe(false);
    expect(isMissing(new Error('x'))).toBe(false);
  });
});

describe('withLock', () => {
  test('returns fn’s value; holds a lock dir with our pid meanwhile; removes it after', async () => {
    const d = fresh();
    const lock = join(d, 'lock');
    const v = await withLock(lock, async () => {
      expect(statSync(lock).isDirectory()).toBe(true);
      expect(readFileSync(join(lock, 'pid'), 'utf8')).toBe(String(process.pid));
      return 42;
    });
    expect(v).toBe(42);
    expect(existsSync(lock)).toBe(false);
  });

  test('creates missing parent directories of the lock', async () => {
    const d = fresh();
    const lock = join(d, 'locks', 'deeper', 'c-1');
    expect(await withLock(lock, async () => existsSync(lock))).toBe(true);
    expect(existsSync(lock)).toBe(false);
    expect(existsSync(join(d, 'locks', 'deeper'))).toBe(true);
  });

  test('serialises concurrent critical sections', async () => {
    const d = fresh();
    const lock = join(d, 'lock');
    const counterFile = join(d, 'counter');
    writeFileSync(counterFile, '0');
    let inside = 0;
    let maxInside = 0;
    const N = 6;
    await Promise.all(
      Array.from({ length: N }, (_, i) =>
        withLock(lock, async () => {
          inside++;
          maxInside = Math.max(maxInside, inside);
          const v = Number(readFileSync(counterFile, 'utf8'));
          await sleep(i % 3); // yield mid-section: an unlocked read-modify-write would lose updates
          await writeFileAtomic(counterFile, String(v + 1));
          inside--;
        }),
      ),
    );
    expect(Number(readFileSync(counterFile, 'utf8'))).toBe(N);
    expect(maxInside).toBe(1);
    expect(existsSync(lock)).toBe(false);
  });

  test('takes over a lock whose holder pid is dead', async () => {
    const d = fresh();
    const lock = join(d, 'lock');
    mkdirSync(lock);
    writeFileSync(join(lock, 'pid'), String(deadPid()));
    const started = Date.now();
    const pidInside = await withLock(lock, async () => readFileSync(join(lock, 'pid'), 'utf8'), 2000);
    expect(pidInside).toBe(String(process.pid));
    expect(Date.now() - started).toBeLessThan(1000);
    expect(existsSync(lock)).toBe(false);
  });

  test('takes over a pid-less lock dir older than 2 s', async () => {
    const d = fresh();
    const lock = join(d, 'lock');
    mkdirSync(lock);
    const old = new Date(Date.now() - 60_000);
    utimesSync(lock, old, old);
    expect(await withLock(lock, async () => 'got it', 2000)).toBe('got it');
    expect(existsSync(lock)).toBe(false);
  });

  test('waits for a live holder and times out, leaving its lock alone', async () => {
    const d = fresh();
    const lock = join(d, 'lock');
    mkdirSync(lock);
    writeFileSync(join(lock, 'pid'), String(process.pid)); // alive
    let ran = false;
    await expect(
      withLock(
        lock,
        async () => {
          ran = true;
        },
        150,
      ),
    ).rejects.toThrow(/timed out waiting for the lock/);
    expect(ran).toBe(false);
    expect(readFileSync(join(lock, 'pid'), 'utf8')).toBe(String(process.pid));
  });

  test('a waiter gets the lock once the live holder releases it', async () => {
    const d = fresh();
    const lock = join(d, 'lock');
    const order: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const first = withLock(lock, async () => {
      order.push('first in');
      await held;
      order.push('first out');
    });
    await sleep(10);
    const second = withLock(lock, async () => {
      order.push('second in');
    });
    await sleep(40);
    expect(order).toEqual(['first in']);
    release();
    await Promise.all([first, second]);
    expect(order).toEqual(['first in', 'first out', 'second in']);
  });

  test('the lock dir is removed after fn throws, and the error comes through', async () => {
    const d = fresh();
    const lock = join(d, 'lock');
    const boom = new Error('boom');
    await expect(
      withLock(lock, async () => {
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(existsSync(lock)).toBe(false);
    expect(await withLock(lock, async () => 'again', 500)).toBe('again');
  });
});

describe('withLock within one process', () => {
  test('callers queue in order, one at a time; a failing holder does not block the next', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tsc-lockq-'));
    try {
      const lock = join(root, 'l');
      const order: string[] = [];
      let inside = 0;
      const hold = (name: string, fail = false) =>
        withLock(lock, async () => {
          inside++;
          expect(inside).toBe(1);
          order.push(name);
          await new Promise((r) => setTimeout(r, 5));
          inside--;
          if (fail) throw new Error(name);
          return name;
        });
      const results = await Promise.allSettled([hold('a'), hold('b', true), hold('c'), hold('d'), hold('e')]);
      expect(order).toEqual(['a', 'b', 'c', 'd', 'e']);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
      expect(existsSync(lock)).toBe(false);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
