import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTracer } from './trace.js';

describe('createTracer (TSCOMPOSE_TRACE)', () => {
  it('appends one JSON line per step when flushed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsc-trace-'));
    try {
      const file = join(dir, 'trace.jsonl');
      const t = createTracer(file);
      expect(await t.traced('a.b', async () => 7)).toBe(7);
      await expect(t.traced('fails', async () => Promise.reject(new Error('x')))).rejects.toThrow('x');
      t.span('c', 2.5);
      t.flush();
      t.flush(); // nothing twice
      const lines = readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { span: string; ms: number; pid: number; at: number });
      expect(lines.map((l) => l.span)).toEqual(['a.b', 'fails', 'c']);
      expect(lines[2]).toMatchObject({ pid: process.pid, span: 'c', ms: 2.5 });
      // when each began, in ms since the process started: in order, the measured span before its end
      expect(lines[0]!.at).toBeLessThanOrEqual(lines[1]!.at);
      expect(lines[2]!.at).toBeCloseTo(performance.now() - 2.5, -3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('records nothing without a file', async () => {
    const t = createTracer(undefined);
    expect(await t.traced('a', async () => 1)).toBe(1);
    t.span('b', 1);
    t.flush();
  });
});
