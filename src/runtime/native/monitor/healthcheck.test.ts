import { describe, expect, test } from '@jest/globals';
import type { ImageRunConfig } from '../oci/spec-types.js';
import { healthcheckOf } from './healthcheck.js';

describe('healthcheckOf', () => {
  const img: ImageRunConfig = { Healthcheck: { Test: ['CMD-SHELL', 'true'], Interval: 5e9, Retries: 2 } };
  test('image only, compose none, NONE', () => {
    expect(healthcheckOf({}, img)).toEqual({ test: ['CMD-SHELL', 'true'], intervalMs: 5000, retries: 2 });
    expect(healthcheckOf({ healthcheck: 'none' }, img)).toBeUndefined();
    expect(healthcheckOf({ healthcheck: { test: ['NONE'] } }, img)).toBeUndefined();
    expect(healthcheckOf({}, {})).toBeUndefined();
  });
  test('compose fields override, the rest from the image', () => {
    expect(healthcheckOf({ healthcheck: { test: [], timeoutMs: 1000, retries: 5 } }, img)).toEqual({
      test: ['CMD-SHELL', 'true'],
      intervalMs: 5000,
      timeoutMs: 1000,
      retries: 5,
    });
    expect(healthcheckOf({ healthcheck: { test: ['CMD', 'x'] } }, {})).toEqual({ test: ['CMD', 'x'] });
  });
});
