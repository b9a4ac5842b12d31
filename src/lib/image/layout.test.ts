import { afterAll, describe, expect, test } from '@jest/globals';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StoreLayout } from './layout.js';

const base = mkdtempSync(join(tmpdir(), 'tsc-layout-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));
const dead = spawnSync('true').pid!; // exited: its pid is free

describe('StoreLayout sweep', () => {
  test('init makes the directories; the scratch and leases of a gone process go, a live one keeps its own', async () => {
    const layout = new StoreLayout(join(base, 'a'));
    await layout.init();
    for (const d of ['blobs/sha256', 'layers', 'l', 'distribution', 'images', 'tmp', 'leases']) expect(existsSync(layout.path(d))).toBe(true);
    mkdirSync(layout.path('tmp', `${dead}-0a1b2c`, 'diff', 'etc'), { recursive: true });
    writeFileSync(layout.path('leases', `${dead}-0a1b2c.json`), '[]');
    mkdirSync(layout.path('tmp', `${process.pid}-0a1b2c`));
    await layout.sweep();
    expect(existsSync(layout.path('tmp', `${dead}-0a1b2c`))).toBe(false);
    expect(existsSync(layout.path('leases', `${dead}-0a1b2c.json`))).toBe(false);
    expect(existsSync(layout.path('tmp', `${process.pid}-0a1b2c`))).toBe(true);
  });

  const rootOnly = process.getuid?.() === 0 ? test : test.skip;
  rootOnly('what cannot be removed yet is left for the next sweep, never an error (a killed pull is no reason to fail the next)', async () => {
    const layout = new StoreLayout(join(base, 'b'));
    await layout.init();
    const mnt = layout.path('tmp', `${dead}-0a1b2c`, 'diff', 'mnt');
    mkdirSync(mnt, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', mnt]);
    try {
      await expect(layout.sweep()).resolves.toBeUndefined();
      expect(existsSync(mnt)).toBe(true);
    } finally {
      execFileSync('umount', [mnt]);
    }
    await layout.sweep();
    expect(existsSync(layout.path('tmp', `${dead}-0a1b2c`))).toBe(false);
  });
});
