import { describe, expect, test } from '@jest/globals';
import type { LogLine } from '../runtime/runtime.js';
import { LogResume, timeKey } from './log-resume.js';

const l = (timestamp: string, line: string): LogLine => ({ stream: 'stdout', line, timestamp });

describe('timeKey', () => {
  test('orders by time whatever the fraction digits and offset', () => {
    const keys = [
      '2024-05-01T10:00:00Z',
      '2024-05-01T10:00:00.1Z',
      '2024-05-01T10:00:00.100000001Z',
      '2024-05-01T12:00:00.2+02:00',
      '2024-05-01T10:00:01.000000000Z',
    ].map((t) => timeKey(t)!);
    expect([...keys].sort()).toEqual(keys);
    expect(timeKey('2024-05-01T10:00:00.1Z')).toBe(timeKey('2024-05-01T10:00:00.100000000+00:00'));
  });

  test('undefined for what does not parse', () => {
    expect(timeKey('yesterday')).toBeUndefined();
    expect(timeKey('')).toBeUndefined();
  });
});

describe('LogResume', () => {
  const T = (s: number, frac = '000000000') => `2024-05-01T10:00:0${s}.${frac}Z`;

  test('a second stream of a container skips what the first gave, then gives the rest', () => {
    const r = new LogResume();
    const first = r.stream('a');
    expect([l(T(1), 'one'), l(T(2), 'two')].filter(first).map((x) => x.line)).toEqual(['one', 'two']);
    const second = r.stream('a'); // re-attached from an earlier point (the run's start)
    expect([l(T(1), 'one'), l(T(2), 'two'), l(T(3), 'three')].filter(second).map((x) => x.line)).toEqual(['three']);
  });

  test('lines sharing the last timestamp: only as many are skipped as were given', () => {
    const r = new LogResume();
    const first = r.stream('a');
    expect([l(T(1), 'x'), l(T(1), 'y')].filter(first).map((x) => x.line)).toEqual(['x', 'y']);
    const second = r.stream('a');
    expect([l(T(1), 'x'), l(T(1), 'y'), l(T(1), 'z'), l(T(2), 'w')].filter(second).map((x) => x.line)).toEqual(['z', 'w']);
    const third = r.stream('a');
    expect([l(T(1), 'x'), l(T(1), 'y'), l(T(1), 'z'), l(T(2), 'w')].filter(third)).toEqual([]);
  });

  test('containers are apart; lines without a timestamp always pass', () => {
    const r = new LogResume();
    [l(T(5), 'a5')].filter(r.stream('a'));
    expect([l(T(1), 'b1')].filter(r.stream('b')).map((x) => x.line)).toEqual(['b1']);
    expect([{ stream: 'stdout', line: 'plain' } as LogLine].filter(r.stream('a')).map((x) => x.line)).toEqual(['plain']);
  });
});
