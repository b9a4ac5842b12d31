import { describe, expect, test } from '@jest/globals';
import { parseGoDuration, toUnixSeconds } from './time.js';

describe('time arguments', () => {
  test('Go durations', () => {
    expect(parseGoDuration('10m')).toBe(600_000);
    expect(parseGoDuration('1h30m')).toBe(5_400_000);
    expect(parseGoDuration('1.5s')).toBe(1500);
    expect(parseGoDuration('250ms')).toBe(250);
    expect(parseGoDuration('10')).toBeUndefined();
    expect(parseGoDuration('10x')).toBeUndefined();
    expect(parseGoDuration('m')).toBeUndefined();
  });

  test('toUnixSeconds', () => {
    expect(toUnixSeconds(5)).toBe(5);
    expect(toUnixSeconds('1700000000')).toBe(1700000000);
    expect(toUnixSeconds('1970-01-01T00:00:10.5Z')).toBe(10.5);
    expect(toUnixSeconds('10m', 1_000_000)).toBe(400);
    expect(() => toUnixSeconds('yesterday')).toThrow(TypeError);
  });
});
