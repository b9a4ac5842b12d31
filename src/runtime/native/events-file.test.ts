/**
 * The event log's two generations (./events-file.ts) and their reader (./logs.ts tailJsonLines): an append past the
 * limit renames the file to `.1` (replacing the one before), concurrent appends keep every line whole and rename
 * once, and a reader sees the previous generation first, and follows across a rotation without losing or repeating.
 */
import { afterAll, describe, expect, test } from '@jest/globals';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { appendRotating, previousGeneration } from './events-file.js';
import { tailJsonLines } from './logs.js';

const dir = mkdtempSync(join(tmpdir(), 'tsc-events-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const line = (i: number): string => `${JSON.stringify({ n: i, pad: 'x'.repeat(40) })}\n`;
const numbers = (text: string): number[] =>
  text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => (JSON.parse(l) as { n: number }).n);

describe('appendRotating', () => {
  test('makes the file and its directory; past the limit it becomes .1, replacing the one before', async () => {
    const file = join(dir, `d${++n}`, 'events.jsonl');
    for (let i = 0; i < 10; i++) await appendRotating(file, line(i), 200);
    // ~60 bytes a line: renamed after the 4th (240 bytes), the 8th; 8 and 9 in the new file
    expect(numbers(readFileSync(previousGeneration(file), 'utf8'))).toEqual([4, 5, 6, 7]);
    expect(numbers(readFileSync(file, 'utf8'))).toEqual([8, 9]);
  });

  test('concurrent appends: every line whole, none lost to a double rename', async () => {
    const file = join(dir, `c${++n}.jsonl`);
    await Promise.all(Array.from({ length: 60 }, (_, i) => appendRotating(file, line(i), 1 << 20)));
    expect(numbers(readFileSync(file, 'utf8')).sort((a, b) => a - b)).toEqual(Array.from({ length: 60 }, (_, i) => i));
    expect(existsSync(previousGeneration(file))).toBe(false);
    const small = join(dir, `s${++n}.jsonl`);
    await Promise.all(Array.from({ length: 30 }, (_, i) => appendRotating(small, line(i), 600)));
    const kept = [
      ...numbers(existsSync(previousGeneration(small)) ? readFileSync(previousGeneration(small), 'utf8') : ''),
      ...numbers(existsSync(small) ? readFileSync(small, 'utf8') : ''),
    ];
    for (const i of kept) expect(i).toBeGreaterThanOrEqual(0);
    expect(new Set(kept).size).toBe(kept.length);
  });
});

describe('tailJsonLines across generations', () => {
  test('from the start: the previous generation first, then the current file', async () => {
    const file = join(dir, `t${++n}.jsonl`);
    for (let i = 0; i < 6; i++) await appendRotating(file, line(i), 200);
    const got: number[] = [];
    for await (const e of tailJsonLines<{ n: number }>(file, { fromStart: true, stop: () => true })) got.push(e.n);
    expect(got).toEqual([0, 1, 2, 3, 4, 5]);
  });

  test('following: lines written around a rotation come once each, in order', async () => {
    const file = join(dir, `f${++n}.jsonl`);
    await appendRotating(file, line(0), 200);
    const ac = new AbortController();
    const safety = setTimeout(() => ac.abort(), 5000);
    const got: number[] = [];
    const reader = (async () => {
      for await (const e of tailJsonLines<{ n: number }>(file, { fromStart: false, signal: ac.signal })) {
        got.push(e.n);
        if (e.n === 11) break;
      }
    })();
    await sleep(30);
    // Several rotations, some between two of the reader's polls (every 50 ms).
    for (let i = 1; i <= 11; i++) {
      await appendRotating(file, line(i), 200);
      if (i % 3 === 0) await sleep(70);
    }
    await reader;
    clearTimeout(safety);
    expect(got).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });
});
