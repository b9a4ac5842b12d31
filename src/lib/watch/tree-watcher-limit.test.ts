import { describe, expect, jest, test } from '@jest/globals';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// fs.watch fails with ENOSPC, as it does when fs.inotify.max_user_watches is reached, once `budget` watches are placed.
let budget = Infinity;
const actual = await import('node:fs');
jest.unstable_mockModule('node:fs', () => ({
  ...actual,
  watch: (...args: Parameters<typeof actual.watch>) => {
    if (budget-- <= 0)
      throw Object.assign(new Error(`ENOSPC: System limit for number of file watchers reached, watch '${String(args[0])}'`), { code: 'ENOSPC' });
    return actual.watch(...args);
  },
}));
const { watchTree } = await import('./tree-watcher.js');
const { WatchLimitError } = await import('./errors.js');

function tree(): string {
  const d = realpathSync(mkdtempSync(join(tmpdir(), 'tsc-watch-limit-')));
  for (const sub of ['a/b', 'c']) mkdirSync(join(d, sub), { recursive: true });
  return d;
}

describe('the inotify watch limit', () => {
  test('reached while setting up: watchTree rejects with a WatchLimitError naming fs.inotify.max_user_watches', async () => {
    const d = tree();
    budget = 2; // the anchor and the root
    try {
      const err = await watchTree([d], () => undefined).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(WatchLimitError);
      expect((err as Error).message).toMatch(/inotify watch limit.*fs\.inotify\.max_user_watches/);
    } finally {
      budget = Infinity;
      rmSync(d, { recursive: true, force: true });
    }
  });

  test('reached later: onError gets it once and the watcher goes on with what it has', async () => {
    const d = tree();
    const errors: Error[] = [];
    const changed: string[] = [];
    const w = await watchTree([d], (b) => void changed.push(...b.changed), { debounceMs: 10, onError: (e) => errors.push(e) });
    try {
      budget = 0;
      mkdirSync(join(d, 'new1'));
      mkdirSync(join(d, 'new2'));
      writeFileSync(join(d, 'top'), '');
      for (let i = 0; i < 100 && !changed.includes(join(d, 'top')); i++) await new Promise((r) => setTimeout(r, 10));
      expect(changed).toContain(join(d, 'top'));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBeInstanceOf(WatchLimitError);
      expect(errors[0]!.message).toContain('fs.inotify.max_user_watches');
    } finally {
      budget = Infinity;
      await w.close();
      rmSync(d, { recursive: true, force: true });
    }
  });
});
