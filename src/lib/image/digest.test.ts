import { describe, expect, test } from '@jest/globals';
import { chainIds, hexOf, sha256, shortLinkName } from './digest.js';

describe('digests', () => {
  test('sha256 and chain ids', () => {
    expect(sha256('')).toBe('sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(hexOf('sha256:abc')).toBe('abc');
    const a = sha256('a');
    const b = sha256('b');
    const c = sha256('c');
    const ids = chainIds([a, b, c]);
    expect(ids[0]).toBe(a);
    expect(ids[1]).toBe(sha256(`${a} ${b}`));
    expect(ids[2]).toBe(sha256(`${ids[1]} ${c}`));
    expect(chainIds([])).toEqual([]);
  });

  test('short link names', () => {
    const n = shortLinkName(sha256('x'));
    expect(n).toMatch(/^[A-Z2-7]{10}$/);
    expect(shortLinkName(sha256('x'))).toBe(n);
    expect(shortLinkName(sha256('y'))).not.toBe(n);
  });
});
