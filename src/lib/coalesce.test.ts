import { describe, expect, test } from '@jest/globals';
import { coalescing } from './coalesce.js';

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

describe('coalescing', () => {
  test('the first call runs alone; calls made meanwhile run as one batch', async () => {
    const batches: number[][] = [];
    const call = coalescing<number>(async (items) => {
      batches.push(items);
      await tick();
    });
    await Promise.all([call(1), call(2), call(3), call(4)]);
    expect(batches).toEqual([[1], [2, 3, 4]]);
    await call(5);
    expect(batches).toEqual([[1], [2, 3, 4], [5]]);
  });

  test('a failing batch rejects its own calls only', async () => {
    const call = coalescing<number>(async (items) => {
      await tick();
      if (items.includes(2)) throw new Error('bad');
    });
    const results = await Promise.allSettled([call(1), call(2), call(3)]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected']);
    await expect(call(4)).resolves.toBeUndefined();
  });
});
