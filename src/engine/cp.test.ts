import { describe, expect, test } from '@jest/globals';
import { parseCpTarget } from './cp.js';

describe('cp targets', () => {
  test('SERVICE:PATH vs local paths', () => {
    expect(parseCpTarget('web:/etc/hosts')).toEqual(['web', '/etc/hosts']);
    expect(parseCpTarget('my-svc_2:rel/path')).toEqual(['my-svc_2', 'rel/path']);
    expect(parseCpTarget('./local.txt')).toBeUndefined();
    expect(parseCpTarget('/abs/path')).toBeUndefined();
    expect(parseCpTarget('web:')).toBeUndefined();
  });
});
