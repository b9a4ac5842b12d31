import { describe, expect, test } from '@jest/globals';
import { onParent } from './builder.js';

const layer = (n: string) => ({ diffId: `sha256:d${n}`, chainId: `sha256:c${n}`, size: 1 });

describe('cache hits', () => {
  test('a cached step is taken only on the parent it was made on', () => {
    const parent = [layer('1'), layer('2')];
    expect(onParent({ layers: [...parent, layer('3')], emptyLayer: false }, parent)).toBe(true);
    expect(onParent({ layers: [...parent], emptyLayer: true }, parent)).toBe(true);
    // the same key on another copy of the parent step (a --no-cache run rewrote the entry before it)
    expect(onParent({ layers: [layer('1'), layer('2b'), layer('3')], emptyLayer: false }, parent)).toBe(false);
    expect(onParent({ layers: [layer('1')], emptyLayer: true }, parent)).toBe(false);
    expect(onParent({ layers: [], emptyLayer: false }, [])).toBe(false);
  });
});
