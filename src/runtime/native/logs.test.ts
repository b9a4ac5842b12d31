import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LogLine, LogsOptions } from '../runtime.js';
import { K8sAssembler, parseK8sLine, readContainerLogs, tailJsonLines, timeMs } from './logs.js';

let dir: string;
let n = 0;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsc-logs-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A fresh file in the test directory holding `lines` (each followed by a newline). */
function logFile(lines: readonly string[]): string {
  const file = join(dir, `ctr-${++n}.log`);
  writeFileSync(file, lines.map((l) => `${l}\n`).join(''));
  return file;
}

/** `2024-05-01T10:00:0<s>.000000000+00:00`, conmon's form. */
const ts = (s: number) => `2024-05-01T10:00:${String(s).padStart(2, '0')}.123456789+00:00`;
const tsZ = (s: number) => `2024-05-01T10:00:${String(s).padStart(2, '0')}.123456789Z`;
const unix = (s: number) => Date.parse(`2024-05-01T10:00:${String(s).padStart(2, '0')}Z`) / 1000;

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const inactive = { active: async () => false };
const read = (file: string, options: LogsOptions = {}) => collect(readContainerLogs(file, options, inactive));
const texts = (lines: readonly LogLine[]) => lines.map((l) => l.line);

describe('parseK8sLine', () => {
  test('a full stdout line, +00:00 normalised to Z', () => {
    expect(parseK8sLine('2024-05-01T10:00:00.123456789+00:00 stdout F hello world')).toEqual({
      time: '2024-05-01T10:00:00.123456789Z',
      stream: 'stdout',
      partial: false,
      text: 'hello world',
    });
  });

  test('a partial stderr record', () => {
    expect(parseK8sLine('2024-05-01T10:00:00.1Z stderr P part')).toEqual({
      time: '2024-05-01T10:00:00.1Z',
      stream: 'stderr',
      partial: true,
      text: 'part',
    });
  });

  test('text keeps its own spaces; an empty line has empty text', () => {
    expect(parseK8sLine(`${ts(1)} stdout F   indented  `)?.text).toBe('  indented  ');
    expect(parseK8sLine(`${ts(1)} stdout F a F b`)?.text).toBe('a F b');
    expect(parseK8sLine(`${ts(1)} stdout F `)?.text).toBe('');
  });

  test('other offsets are kept as written', () => {
    expect(parseK8sLine('2024-05-01T12:00:00.5+02:00 stdout F x')?.time).toBe('2024-05-01T12:00:00.5+02:00');
    // only a trailing +00:00 is rewritten
    expect(parseK8sLine('2024-05-01T10:00:00Z stdout F x')?.time).toBe('2024-05-01T10:00:00Z');
  });

  test.each([
    [''],
    ['garbage'],
    [`${ts(1)} stdout`],
    [`${ts(1)} stdin F x`],
    [`${ts(1)} STDOUT F x`],
    [`${ts(1)} stdout X x`],
    [`${ts(1)} stdout f x`],
    [`${ts(1)}  stdout F x`],
  ])('malformed %j → undefined', (line) => {
    expect(parseK8sLine(line)).toBeUndefined();
  });
});

describe('timeMs', () => {
  test('parses nanosecond timestamps to the millisecond', () => {
    expect(timeMs('2024-05-01T10:00:00.123456789Z')).toBe(Date.parse('2024-05-01T10:00:00.123Z'));
    expect(timeMs('2024-05-01T12:00:00.999999999+02:00')).toBe(Date.parse('2024-05-01T10:00:00.999Z'));
    expect(timeMs('2024-05-01T10:00:00Z')).toBe(Date.parse('2024-05-01T10:00:00Z'));
  });
});

describe('K8sAssembler', () => {
  const rec = (stream: 'stdout' | 'stderr', partial: boolean, text: string, s = 0) => ({ time: tsZ(s), stream, partial, text });

  test('a full record is a line at once', () => {
    expect(new K8sAssembler().push(rec('stdout', false, 'hi', 3))).toEqual({ stream: 'stdout', line: 'hi', time: tsZ(3) });
  });

  test('partials are joined up to the full record, with the first record’s time', () => {
    const a = new K8sAssembler();
    expect(a.push(rec('stdout', true, 'ab', 1))).toBeUndefined();
    expect(a.push(rec('stdout', true, 'cd', 2))).toBeUndefined();
    expect(a.push(rec('stdout', false, 'ef', 3))).toEqual({ stream: 'stdout', line: 'abcdef', time: tsZ(1) });
    // and the assembler is clean afterwards
    expect(a.push(rec('stdout', false, 'next', 4))).toEqual({ stream: 'stdout', line: 'next', time: tsZ(4) });
    expect(a.flush()).toEqual([]);
  });

  test('streams are assembled independently', () => {
    const a = new K8sAssembler();
    expect(a.push(rec('stdout', true, 'out-', 1))).toBeUndefined();
    expect(a.push(rec('stderr', true, 'err-', 2))).toBeUndefined();
    expect(a.push(rec('stderr', false, 'end', 3))).toEqual({ stream: 'stderr', line: 'err-end', time: tsZ(2) });
    expect(a.push(rec('stdout', false, 'end', 4))).toEqual({ stream: 'stdout', line: 'out-end', time: tsZ(1) });
  });

  test('flush returns what is pending on both streams, then nothing', () => {
    const a = new K8sAssembler();
    a.push(rec('stderr', true, 'e1', 1));
    a.push(rec('stdout', true, 'o1', 2));
    a.push(rec('stdout', true, 'o2', 3));
    expect(a.flush()).toEqual([
      { stream: 'stdout', line: 'o1o2', time: tsZ(2) },
      { stream: 'stderr', line: 'e1', time: tsZ(1) },
    ]);
    expect(a.flush()).toEqual([]);
  });
});

describe('readContainerLogs (no follow)', () => {
  const LINES = [
    `${ts(0)} stdout F zero`,
    `${ts(1)} stderr F one`,
    `${ts(2)} stdout P tw`,
    `${ts(2)} stdout F o`,
    'not a log line',
    `${ts(3)} stdout F three`,
    `${ts(4)} stderr F four`,
  ];

  test('everything, in order, without timestamps; partials joined, malformed lines ignored', async () => {
    expect(await read(logFile(LINES))).toEqual([
      { stream: 'stdout', line: 'zero' },
      { stream: 'stderr', line: 'one' },
      { stream: 'stdout', line: 'two' },
      { stream: 'stdout', line: 'three' },
      { stream: 'stderr', line: 'four' },
    ]);
  });

  test('timestamps: true fills the (normalised) timestamp', async () => {
    const lines = await read(logFile(LINES), { timestamps: true });
    expect(lines.map((l) => l.timestamp)).toEqual([tsZ(0), tsZ(1), tsZ(2), tsZ(3), tsZ(4)]);
    expect(lines[0]).toEqual({ stream: 'stdout', line: 'zero', timestamp: tsZ(0) });
  });

  test('timestamps: false leaves no timestamp key', async () => {
    for (const l of await read(logFile(LINES), { timestamps: false })) expect('timestamp' in l).toBe(false);
  });

  test('tail N keeps the last N lines; tail 0 none; tail all / larger than the file everything', async () => {
    const file = logFile(LINES);
    expect(texts(await read(file, { tail: 2 }))).toEqual(['three', 'four']);
    expect(texts(await read(file, { tail: 3 }))).toEqual(['two', 'three', 'four']);
    expect(await read(file, { tail: 0 })).toEqual([]);
    expect(texts(await read(file, { tail: 'all' }))).toEqual(['zero', 'one', 'two', 'three', 'four']);
    expect(texts(await read(file, { tail: 100 }))).toEqual(['zero', 'one', 'two', 'three', 'four']);
  });

  test('since / until as RFC 3339 timestamps (inclusive)', async () => {
    const file = logFile(LINES);
    expect(texts(await read(file, { since: '2024-05-01T10:00:02Z' }))).toEqual(['two', 'three', 'four']);
    expect(texts(await read(file, { until: '2024-05-01T10:00:02.5Z' }))).toEqual(['zero', 'one', 'two']);
    expect(texts(await read(file, { since: '2024-05-01T10:00:01Z', until: '2024-05-01T10:00:03.2Z' }))).toEqual(['one', 'two', 'three']);
    // with an offset: 12:00:03+02:00 = 10:00:03Z
    expect(texts(await read(file, { since: '2024-05-01T12:00:03+02:00' }))).toEqual(['three', 'four']);
  });

  test('since / until as unix seconds (number or numeric string)', async () => {
    const file = logFile(LINES);
    expect(texts(await read(file, { since: unix(3) }))).toEqual(['three', 'four']);
    expect(texts(await read(file, { since: String(unix(3)) }))).toEqual(['three', 'four']);
    expect(texts(await read(file, { until: unix(1) + 0.5 }))).toEqual(['zero', 'one']);
    expect(texts(await read(file, { since: `${unix(1)}.5`, until: String(unix(4)) }))).toEqual(['two', 'three']);
  });

  test('since after every line, or until before every line: nothing', async () => {
    const file = logFile(LINES);
    expect(await read(file, { since: '2030-01-01T00:00:00Z' })).toEqual([]);
    expect(await read(file, { until: 0 })).toEqual([]);
  });

  test('a joined line is filtered by the time of its first record', async () => {
    const file = logFile([`${ts(1)} stdout P a`, `${ts(5)} stdout F b`]);
    expect(texts(await read(file, { until: unix(2) }))).toEqual(['ab']);
    expect(await read(file, { since: unix(2) })).toEqual([]);
  });

  test('a missing file yields nothing', async () => {
    expect(await read(join(dir, 'nope.log'))).toEqual([]);
    expect(await read(join(dir, 'nope', 'ctr.log'), { tail: 5 })).toEqual([]);
  });

  test('a last line without its newline is not read yet', async () => {
    const file = logFile([`${ts(0)} stdout F done`]);
    appendFileSync(file, `${ts(1)} stdout F half-writ`);
    expect(texts(await read(file))).toEqual(['done']);
  });
});

describe('readContainerLogs (follow)', () => {
  test('yields what is there, then lines appended while the source is active, and ends when it is not', async () => {
    const file = logFile([`${ts(0)} stdout F before`]);
    let active = true;
    const got: string[] = [];
    const reader = (async () => {
      for await (const l of readContainerLogs(file, { follow: true }, { active: async () => active })) got.push(l.line);
    })();
    await sleep(30);
    appendFileSync(file, `${ts(1)} stdout F one\n${ts(2)} stderr P t`);
    await sleep(30);
    appendFileSync(file, `w\n${ts(2)} stderr F o\n`); // the torn record completed
    appendFileSync(file, `${ts(3)} stdout F last\n`);
    active = false; // the writer is gone right after its last write
    await reader;
    expect(got).toEqual(['before', 'one', 'two', 'last']);
  });

  test('tail applies only to what was there; followed lines all come', async () => {
    const file = logFile([`${ts(0)} stdout F a`, `${ts(1)} stdout F b`, `${ts(2)} stdout F c`]);
    let active = true;
    const it = readContainerLogs(file, { follow: true, tail: 1, timestamps: true }, { active: async () => active });
    const reader = collect(it);
    await sleep(30);
    appendFileSync(file, `${ts(3)} stdout F d\n${ts(4)} stdout F e\n`);
    await sleep(40);
    active = false;
    const got = await reader;
    expect(got).toEqual([
      { stream: 'stdout', line: 'c', timestamp: tsZ(2) },
      { stream: 'stdout', line: 'd', timestamp: tsZ(3) },
      { stream: 'stdout', line: 'e', timestamp: tsZ(4) },
    ]);
  });

  test('tail 0 with follow: only new lines', async () => {
    const file = logFile([`${ts(0)} stdout F old`]);
    let active = true;
    const reader = collect(readContainerLogs(file, { follow: true, tail: 0 }, { active: async () => active }));
    await sleep(30);
    appendFileSync(file, `${ts(1)} stdout F new\n`);
    active = false;
    expect(texts(await reader)).toEqual(['new']);
  });

  test('a partial line left when the writer is gone is flushed at the end', async () => {
    const file = logFile([`${ts(0)} stdout F x`]);
    let active = true;
    const reader = collect(readContainerLogs(file, { follow: true }, { active: async () => active }));
    await sleep(30);
    appendFileSync(file, `${ts(1)} stdout P no-newline\n`);
    active = false;
    expect(texts(await reader)).toEqual(['x', 'no-newline']);
  });

  test('a file that appears only after the follow started', async () => {
    const file = join(dir, `late-${++n}.log`);
    let active = true;
    const reader = collect(readContainerLogs(file, { follow: true }, { active: async () => active }));
    await sleep(30);
    writeFileSync(file, `${ts(0)} stdout F hello\n`);
    active = false;
    expect(texts(await reader)).toEqual(['hello']);
  });

  test('follow with until ends at the first line past until, though the source stays active', async () => {
    const file = logFile([`${ts(0)} stdout F a`]);
    const started = Date.now();
    const reader = collect(readContainerLogs(file, { follow: true, until: unix(2) }, { active: async () => true }));
    await sleep(30);
    appendFileSync(file, `${ts(1)} stdout F b\n${ts(3)} stdout F late\n${ts(4)} stdout F later\n`);
    expect(texts(await reader)).toEqual(['a', 'b']);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  test('an abort signal ends a follow whose source stays active', async () => {
    const file = logFile([`${ts(0)} stdout F a`]);
    const ac = new AbortController();
    const started = Date.now();
    const reader = collect(readContainerLogs(file, { follow: true, signal: ac.signal }, { active: async () => true }));
    await sleep(60);
    ac.abort();
    expect(texts(await reader)).toEqual(['a']);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  test('an already-aborted signal: what is there, then the end', async () => {
    const file = logFile([`${ts(0)} stdout F a`, `${ts(1)} stdout F b`]);
    const ac = new AbortController();
    ac.abort();
    expect(texts(await collect(readContainerLogs(file, { follow: true, signal: ac.signal }, { active: async () => true })))).toEqual(['a', 'b']);
  });

  test('since filters followed lines too', async () => {
    const file = logFile([`${ts(0)} stdout F a`]);
    let active = true;
    const reader = collect(readContainerLogs(file, { follow: true, since: unix(2) }, { active: async () => active }));
    await sleep(30);
    appendFileSync(file, `${ts(1)} stdout F b\n${ts(2)} stdout F c\n`);
    active = false;
    expect(texts(await reader)).toEqual(['c']);
  });
});

describe('tailJsonLines', () => {
  function jsonFile(values: readonly unknown[]): string {
    const file = join(dir, `events-${++n}.jsonl`);
    writeFileSync(file, values.map((v) => `${JSON.stringify(v)}\n`).join(''));
    return file;
  }

  /** Reads until `count` values came (then leaves the loop) or the safety timeout aborts. */
  async function take<T>(it: AsyncIterable<T>, count: number): Promise<T[]> {
    const out: T[] = [];
    if (count === 0) return out;
    for await (const x of it) {
      out.push(x);
      if (out.length >= count) break;
    }
    return out;
  }

  test('from the start: existing lines, then appended ones; blank and torn lines skipped', async () => {
    const file = jsonFile([{ n: 1 }, { n: 2 }]);
    appendFileSync(file, '\n{"torn": \n');
    const ac = new AbortController();
    const safety = setTimeout(() => ac.abort(), 3000);
    const reader = take(tailJsonLines<{ n: number }>(file, { fromStart: true, signal: ac.signal }), 3);
    await sleep(30);
    appendFileSync(file, `${JSON.stringify({ n: 3 })}\n`);
    const got = await reader;
    clearTimeout(safety);
    expect(got).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
  });

  test('from the end: only lines appended after the start', async () => {
    const file = jsonFile([{ n: 1 }, { n: 2 }]);
    const ac = new AbortController();
    const safety = setTimeout(() => ac.abort(), 3000);
    const reader = take(tailJsonLines<{ n: number }>(file, { fromStart: false, signal: ac.signal }), 2);
    await sleep(30);
    appendFileSync(file, `${JSON.stringify({ n: 3 })}\n`);
    await sleep(30);
    appendFileSync(file, `${JSON.stringify({ n: 4 })}\n`);
    const got = await reader;
    clearTimeout(safety);
    expect(got).toEqual([{ n: 3 }, { n: 4 }]);
  });

  test('from the end of a file that does not exist yet: everything it gets', async () => {
    const file = join(dir, `missing-${++n}.jsonl`);
    const ac = new AbortController();
    const safety = setTimeout(() => ac.abort(), 3000);
    const reader = take(tailJsonLines<{ n: number }>(file, { fromStart: false, signal: ac.signal }), 1);
    await sleep(30);
    writeFileSync(file, `${JSON.stringify({ n: 1 })}\n`);
    const got = await reader;
    clearTimeout(safety);
    expect(got).toEqual([{ n: 1 }]);
  });

  test('stop() ends it after the pending lines were yielded', async () => {
    const file = jsonFile([{ n: 1 }, { n: 2 }]);
    expect(await collect(tailJsonLines(file, { fromStart: true, stop: () => true }))).toEqual([{ n: 1 }, { n: 2 }]);
  });

  test('an abort signal ends it', async () => {
    const file = jsonFile([{ n: 1 }]);
    const ac = new AbortController();
    const started = Date.now();
    const reader = collect(tailJsonLines(file, { fromStart: false, signal: ac.signal }));
    await sleep(60);
    ac.abort();
    expect(await reader).toEqual([]);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
