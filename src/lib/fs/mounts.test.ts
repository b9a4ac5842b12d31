/**
 * isMounted and mountsUnder (./mounts.ts) as root, on tmpfs mounts in a temporary directory: nested mounts deepest
 * first, a sibling whose name only starts like the directory left out, a path with a space (escaped as \040 in
 * mountinfo) found, and a path the table never names answered without a mount; onOwnDevice true for a mount's
 * root only. Skipped when not root.
 */
import { afterAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMounted, mountsUnder, onOwnDevice } from './mounts.js';

const root = process.getuid?.() === 0;
if (!root) console.log('mounts: skipped (mounts need root)');
const base = mkdtempSync(join(tmpdir(), 'tsc-mounts-'));
const made: string[] = [];

function tmpfs(dir: string): void {
  mkdirSync(dir, { recursive: true });
  expect(spawnSync('mount', ['-t', 'tmpfs', 'tmpfs', dir]).status).toBe(0);
  made.unshift(dir);
}

afterAll(() => {
  for (const m of made) spawnSync('umount', ['-l', m]);
  rmSync(base, { recursive: true, force: true });
});

(root ? describe : describe.skip)('mounts', () => {
  test('nested mounts under a directory, deepest first; a sibling with the same prefix is not under it', async () => {
    const a = join(base, 'a');
    tmpfs(a);
    tmpfs(join(a, 'x', 'y'));
    tmpfs(join(base, 'ab'));
    expect(await mountsUnder(a)).toEqual([join(a, 'x', 'y'), a]);
    expect(await isMounted(a)).toBe(true);
    expect(await isMounted(join(a, 'x'))).toBe(false);
    expect(await mountsUnder(join(base, 'ab'))).toEqual([join(base, 'ab')]);
  });

  test('a path with a space, written escaped in the table', async () => {
    const spaced = join(base, 'with space');
    tmpfs(spaced);
    expect(await isMounted(spaced)).toBe(true);
    expect(await mountsUnder(spaced)).toEqual([spaced]);
  });

  test('a path the table does not name: nothing', async () => {
    expect(await mountsUnder(join(base, 'none'))).toEqual([]);
    expect(await isMounted(join(base, 'none'))).toBe(false);
  });

  test('onOwnDevice: the root of a tmpfs, not a plain directory nor a missing path', () => {
    const t = join(base, 'dev');
    tmpfs(t);
    mkdirSync(join(t, 'inner'));
    mkdirSync(join(base, 'plain'));
    expect(onOwnDevice(t)).toBe(true);
    expect(onOwnDevice(join(t, 'inner'))).toBe(false);
    expect(onOwnDevice(join(base, 'plain'))).toBe(false);
    expect(onOwnDevice(join(base, 'missing'))).toBe(false);
  });
});
