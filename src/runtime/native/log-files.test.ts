import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LogLine } from '../runtime.js';
import { armLogFiles, keepsRotatedFiles, logFiles, logOptionsProblem, logPolicy, parseLogSize } from './log-files.js';
import { readContainerLogs } from './logs.js';
import { keepLogs, reopenThreshold } from './monitor/log-keeper.js';

let dir: string;
let n = 0;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsc-logfiles-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A fresh container directory; returns its ctr.log path (not created). */
function fresh(): string {
  const d = join(dir, `c${++n}`);
  mkdirSync(d);
  return join(d, 'ctr.log');
}

/**
 * conmon 2.1's k8s-file writer with --log-size-max: before a record that would take the file past max, it opens
 * `<file>.tmp` with O_TRUNC|O_CREAT and renames it over the file (ctr_logging.c reopen_k8s_file).
 */
class FakeConmon {
  private fd: number;
  private written: number;
  private clock = 0;
  constructor(
    private readonly file: string,
    private readonly max: number,
  ) {
    this.fd = openSync(file, 'a');
    this.written = statSync(file).size;
  }
  line(text: string, stream: 'stdout' | 'stderr' = 'stdout'): void {
    const s = String(this.clock++);
    const rec = `2024-05-01T10:00:00.${s.padStart(9, '0')}+00:00 ${stream} F ${text}\n`;
    if (this.max > 0 && this.written + rec.length > this.max) this.reopen();
    writeSync(this.fd, rec);
    this.written += rec.length;
  }
  /** reopen_k8s_file: also what conmon does on REOPEN_LOGS_EVENT. */
  reopen(): void {
    closeSync(this.fd);
    this.fd = openSync(`${this.file}.tmp`, 'w');
    renameSync(`${this.file}.tmp`, this.file);
    this.written = 0;
  }
  close(): void {
    closeSync(this.fd);
  }
}

const inactive = { active: async () => false };
async function read(file: string, tail?: number): Promise<string[]> {
  const out: string[] = [];
  for await (const l of readContainerLogs(file, tail === undefined ? {} : { tail }, inactive)) out.push((l as LogLine).line);
  return out;
}
const numberedNames = (file: string) =>
  readdirSync(join(file, '..'))
    .filter((f) => /^ctr\.log\.\d+$/.test(f))
    .sort((a, b) => Number(a.split('.')[2]) - Number(b.split('.')[2]));

describe('parseLogSize (Docker units.RAMInBytes)', () => {
  test.each([
    ['100', 100],
    ['10k', 10240],
    ['10K', 10240],
    ['10kb', 10240],
    ['1m', 1048576],
    ['1MiB', 1048576],
    ['1.5m', 1572864],
    ['2g', 2 * 1024 ** 3],
    ['20 m', 20 * 1048576],
  ])('%s = %d', (v, bytes) => expect(parseLogSize(v)).toBe(bytes));

  test.each([[''], ['abc'], ['10x'], ['-1k'], ['1.2.3k']])('%s is invalid', (v) => expect(parseLogSize(v)).toBeUndefined());
});

describe('logPolicy', () => {
  test('no logging, json-file without options: one unbounded file', () => {
    expect(logPolicy(undefined)).toEqual({ store: 'file', maxFile: 1 });
    expect(logPolicy({ driver: 'json-file' })).toEqual({ store: 'file', maxFile: 1 });
    expect(logPolicy({ options: { 'max-file': '3' } })).toEqual({ store: 'file', maxFile: 1 }); // max-file alone: no rotation
  });

  test('json-file with max-size: max-file defaults to 1', () => {
    expect(logPolicy({ driver: 'json-file', options: { 'max-size': '10k' } })).toEqual({ store: 'file', maxSize: 10240, maxFile: 1 });
    expect(logPolicy({ driver: 'json-file', options: { 'max-size': '10k', 'max-file': '3' } })).toEqual({
      store: 'file',
      maxSize: 10240,
      maxFile: 3,
    });
  });

  test("local: Docker's defaults 20m and 5 files, each overridable", () => {
    expect(logPolicy({ driver: 'local' })).toEqual({ store: 'file', maxSize: 20 * 1048576, maxFile: 5 });
    expect(logPolicy({ driver: 'local', options: { 'max-size': '1m', 'max-file': '2' } })).toEqual({ store: 'file', maxSize: 1048576, maxFile: 2 });
  });

  test('none keeps nothing', () => {
    expect(logPolicy({ driver: 'none' })).toEqual({ store: 'none', maxFile: 1 });
  });

  test('invalid options fall back to the defaults', () => {
    expect(logPolicy({ driver: 'json-file', options: { 'max-size': 'huge', 'max-file': '0' } })).toEqual({ store: 'file', maxFile: 1 });
    expect(logPolicy({ driver: 'local', options: { 'max-file': 'x' } })).toEqual({ store: 'file', maxSize: 20 * 1048576, maxFile: 5 });
  });

  test('keepsRotatedFiles: only with a size and at least two files', () => {
    expect(keepsRotatedFiles(logPolicy({ driver: 'local' }))).toBe(true);
    expect(keepsRotatedFiles(logPolicy({ options: { 'max-size': '1k' } }))).toBe(false);
    expect(keepsRotatedFiles(logPolicy({ driver: 'none' }))).toBe(false);
  });
});

describe('armLogFiles with conmon-style rotation', () => {
  test('without arming, a rotation deletes the full file (max-file 1)', async () => {
    const file = fresh();
    const c = new FakeConmon(file, 200);
    for (let i = 0; i < 10; i++) c.line(`line ${i} ${'x'.repeat(40)}`);
    c.close();
    expect(statSync(file).size).toBeLessThanOrEqual(200);
    expect(numberedNames(file)).toEqual([]);
    const got = await read(file);
    expect(got[got.length - 1]).toBe(`line 9 ${'x'.repeat(40)}`);
    expect(got.length).toBeLessThan(10);
  });

  test('armed after each rotation: every file kept (up to max-file), each within max-size, read oldest first', async () => {
    const file = fresh();
    await armLogFiles(file, 100);
    const c = new FakeConmon(file, 200);
    for (let i = 0; i < 30; i++) {
      c.line(`line ${i} ${'x'.repeat(40)}`);
      if (!existsSync(`${file}.tmp`)) await armLogFiles(file, 100); // what the keeper does on conmon's rename
    }
    c.close();
    const names = numberedNames(file);
    expect(names.length).toBeGreaterThan(5);
    for (const f of names) expect(statSync(join(file, '..', f)).size).toBeLessThanOrEqual(200);
    expect(await read(file)).toEqual(Array.from({ length: 30 }, (_, i) => `line ${i} ${'x'.repeat(40)}`));
    expect(await read(file, 2)).toEqual([`line 28 ${'x'.repeat(40)}`, `line 29 ${'x'.repeat(40)}`]);
  });

  test('keeps only the newest max-file files (the current one counts; the prepared empty one does not)', async () => {
    const file = fresh();
    await armLogFiles(file, 3);
    const c = new FakeConmon(file, 200);
    const all = Array.from({ length: 40 }, (_, i) => `line ${i} ${'y'.repeat(40)}`);
    for (const l of all) {
      c.line(l);
      if (!existsSync(`${file}.tmp`)) await armLogFiles(file, 3);
    }
    c.close();
    await armLogFiles(file, 3);
    expect((await logFiles(file)).length).toBe(3);
    const got = await read(file);
    // the newest lines, in order, without a gap
    expect(got).toEqual(all.slice(all.length - got.length));
    expect(got.length).toBeGreaterThanOrEqual(5); // 3 files of 200 bytes, 2 records each (the current one may hold 1)
  });

  test('a current file without a number (conmon rotated before the keeper ran) gets one and survives the next rotation', async () => {
    const file = fresh();
    await armLogFiles(file, 10);
    const c = new FakeConmon(file, 100);
    c.line('a'.repeat(50)); // file 1
    c.line('b'.repeat(50)); // rotation into the prepared file 2
    c.line('c'.repeat(50)); // rotation: not armed, a fresh unnumbered file
    expect(statSync(file).nlink).toBe(1);
    await armLogFiles(file, 10);
    expect(statSync(file).nlink).toBe(2);
    c.line('d'.repeat(50)); // rotation into the prepared one
    c.close();
    expect(await read(file)).toEqual(['a', 'b', 'c', 'd'].map((x) => x.repeat(50)));
  });
});

describe('reading across rotations', () => {
  test('follow goes on from the renamed file into the new ones: no line lost or repeated', async () => {
    const file = fresh();
    await armLogFiles(file, 50);
    const c = new FakeConmon(file, 300);
    let active = true;
    const got: string[] = [];
    const reader = (async () => {
      for await (const l of readContainerLogs(file, { follow: true }, { active: async () => active })) got.push(l.line);
    })();
    const all: string[] = [];
    for (let i = 0; i < 60; i++) {
      const l = `n${i} ${'z'.repeat(30)}`;
      all.push(l);
      c.line(l);
      if (!existsSync(`${file}.tmp`)) await armLogFiles(file, 50);
      if (i % 7 === 0) await sleep(20); // some rotations between two polls, some not
    }
    c.close();
    await sleep(120);
    active = false;
    await reader;
    expect(got).toEqual(all);
  });

  test('a file newer than the one conmon writes is never listed (the keeper between making it and linking it as .tmp)', async () => {
    const file = fresh();
    await armLogFiles(file, 50);
    const c = new FakeConmon(file, 0);
    c.line('a1');
    c.reopen(); // the prepared file becomes the current one; no .tmp until the keeper runs again
    c.line('b1');
    // The keeper has made its next numbered file but not linked it as ctr.log.tmp yet.
    const last = Number(numberedNames(file).at(-1)?.split('.')[2]);
    closeSync(openSync(`${file}.${last + 1}`, 'wx'));
    expect(existsSync(`${file}.tmp`)).toBe(false);
    let active = true;
    const got: string[] = [];
    const reader = (async () => {
      for await (const l of readContainerLogs(file, { follow: true }, { active: async () => active })) got.push(l.line);
    })();
    try {
      await sleep(120); // the reader has polled: it must still be on the current file
      const files = await logFiles(file);
      expect(files.at(-1)?.ino).toBe(statSync(file).ino);
      c.line('b2'); // conmon still appends to the current file
      c.close();
      await sleep(120);
    } finally {
      active = false;
      await reader;
    }
    expect(got).toEqual(['a1', 'b1', 'b2']);
  });

  test('a followed file deleted (beyond max-file) before it was read: goes on with the next newer one', async () => {
    const file = fresh();
    await armLogFiles(file, 2);
    const c = new FakeConmon(file, 100);
    let active = true;
    const got: string[] = [];
    const reader = (async () => {
      for await (const l of readContainerLogs(file, { follow: true }, { active: async () => active })) got.push(l.line);
    })();
    await sleep(20);
    for (let i = 0; i < 12; i++) {
      c.line(`m${i} ${'q'.repeat(40)}`);
      if (!existsSync(`${file}.tmp`)) await armLogFiles(file, 2);
    }
    c.close();
    await sleep(120);
    active = false;
    await reader;
    // whatever came is in order and ends with the newest line
    const idx = got.map((l) => Number(/^m(\d+)/.exec(l)?.[1]));
    expect(idx).toEqual([...idx].sort((a, b) => a - b));
    expect(got[got.length - 1]).toBe(`m11 ${'q'.repeat(40)}`);
  });
});

describe('keepLogs (the log keeper)', () => {
  test('asks for the reopen an eighth before max-size, at most 64 KiB before', () => {
    expect(reopenThreshold(10240)).toBe(8960);
    expect(reopenThreshold(20 * 1048576)).toBe(20 * 1048576 - 65536);
  });

  test('asks for a reopen once the file reaches max-size, after preparing the next: nothing lost, max-file kept', async () => {
    const file = fresh();
    let alive = true;
    const c = new FakeConmon(file, 0); // conmon without a size limit of its own
    let reopens = 0;
    const keeper = keepLogs({
      file,
      maxSize: 300,
      maxFile: 3,
      reopen: () => {
        reopens++;
        c.reopen();
      },
      alive: () => alive,
      pollMs: 20,
    });
    for (let i = 0; i < 50 && !existsSync(`${file}.tmp`); i++) await sleep(10);
    expect(existsSync(`${file}.tmp`)).toBe(true);
    const all: string[] = [];
    for (let i = 0; i < 40; i++) {
      const l = `k${i} ${'w'.repeat(40)}`;
      all.push(l);
      c.line(l);
      await sleep(5);
    }
    c.close();
    alive = false;
    await keeper;
    expect(reopens).toBeGreaterThan(5);
    const files = await logFiles(file);
    expect(files.length).toBe(3);
    for (const f of files) expect(statSync(f.path).size).toBeLessThan(600); // max-size plus what came before the keeper reacted
    const got = await read(file);
    expect(got).toEqual(all.slice(-got.length));
    expect(got.length).toBeGreaterThanOrEqual(4);
  });

  test('a burst: files grow past max-size but no line is lost', async () => {
    const file = fresh();
    let alive = true;
    const c = new FakeConmon(file, 0); // conmon without a size limit of its own
    const keeper = keepLogs({ file, maxSize: 200, maxFile: 100, reopen: () => c.reopen(), alive: () => alive, pollMs: 20 });
    for (let i = 0; i < 50 && !existsSync(`${file}.tmp`); i++) await sleep(10);
    const all = Array.from({ length: 100 }, (_, i) => `b${i} ${'v'.repeat(40)}`);
    for (const [i, l] of all.entries()) {
      c.line(l);
      if (i % 25 === 0) await sleep(30);
    }
    await sleep(50);
    c.close();
    alive = false;
    await keeper;
    expect(await read(file)).toEqual(all);
  });
});

describe('logOptionsProblem', () => {
  test("invalid max-size and max-file in Docker's words; valid ones, other drivers and none pass", () => {
    expect(logOptionsProblem({ driver: 'json-file', options: { 'max-size': 'huge' } })).toBe("invalid size: 'huge'");
    expect(logOptionsProblem({ driver: 'local', options: { 'max-file': 'x' } })).toBe('strconv.Atoi: parsing "x": invalid syntax');
    expect(logOptionsProblem({ options: { 'max-file': '0' } })).toBe('max-file cannot be less than 1');
    expect(logOptionsProblem({ driver: 'json-file', options: { 'max-size': '10k', 'max-file': '3' } })).toBeUndefined();
    expect(logOptionsProblem({ driver: 'syslog', options: { 'max-size': 'huge' } })).toBeUndefined();
    expect(logOptionsProblem(undefined)).toBeUndefined();
  });
});
