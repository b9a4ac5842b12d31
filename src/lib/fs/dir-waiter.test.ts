import { describe, expect, test } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freshDirs } from './__fixtures__/fresh-dirs.js';
import { DirWaiter } from './dir-waiter.js';

const fresh = freshDirs('tsc-dirwait-');

describe('DirWaiter', () => {
  test('a file written in the directory cuts a wait short; without a change the wait lasts its time', async () => {
    const d = fresh();
    const w = new DirWaiter(d);
    try {
      expect(w.watching).toBe(true);
      let t = Date.now();
      setTimeout(() => writeFileSync(join(d, 'ready'), ''), 20);
      await w.wait(5000);
      expect(Date.now() - t).toBeLessThan(2000);
      t = Date.now();
      await w.wait(60);
      expect(Date.now() - t).toBeGreaterThanOrEqual(50);
    } finally {
      w.close();
    }
  });

  test('a directory that cannot be watched: plain timed waits; close and an aborted signal end a pending wait', async () => {
    const missing = new DirWaiter(join(fresh(), 'no-such-dir'));
    expect(missing.watching).toBe(false);
    const t = Date.now();
    await missing.wait(30);
    expect(Date.now() - t).toBeGreaterThanOrEqual(25);
    const pending = missing.wait(60_000);
    missing.close();
    await pending;
    const ac = new AbortController();
    const w = new DirWaiter(fresh(), ac.signal);
    const aborted = w.wait(60_000);
    ac.abort();
    await aborted;
    w.close();
  });
});
