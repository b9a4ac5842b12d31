import { describe, expect, test } from '@jest/globals';
import { coalescing, type Gather } from './coalesce.js';

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

/** A coalescer whose batches take `ms` and are recorded in `batches`. */
function recording(ms?: number, gather?: Gather): { batches: number[][]; call: (n: number) => Promise<void> } {
  const batches: number[][] = [];
  const call = coalescing<number>(async (items) => {
    batches.push(items);
    await tick(ms);
  }, gather);
  return { batches, call };
}

describe('coalescing', () => {
  test('the first call runs alone; calls made meanwhile run as one batch', async () => {
    const { batches, call } = recording();
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

describe('coalescing with gather', () => {
  test('calls coming close together make one batch, the first included', async () => {
    const { batches, call } = recording(undefined, { quietMs: 20, maxMs: 200 });
    const calls = [call(1)];
    await tick(2);
    calls.push(call(2));
    await tick(2);
    calls.push(call(3), call(4));
    await Promise.all(calls);
    expect(batches).toEqual([[1, 2, 3, 4]]);
  });

  test('a stream of calls runs at the latest maxMs after the first', async () => {
    const { batches, call } = recording(1, { quietMs: 30, maxMs: 60 });
    const t0 = performance.now();
    const first = call(0);
    const calls = [first];
    let ranAt = 0;
    void first.then(() => (ranAt = performance.now() - t0));
    for (let i = 1; i <= 12; i++) {
      await tick(10);
      calls.push(call(i));
    }
    await Promise.all(calls);
    expect(ranAt).toBeLessThan(110);
    expect(batches.length).toBeGreaterThan(1);
    expect(batches.flat()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  });

  test('calls made while a batch runs wait for it, then run without a new wait', async () => {
    const { batches, call } = recording(20, { quietMs: 5, maxMs: 10 });
    const a = call(1);
    await tick(12);
    const b = call(2);
    await Promise.all([a, b]);
    expect(batches).toEqual([[1], [2]]);
  });
});
