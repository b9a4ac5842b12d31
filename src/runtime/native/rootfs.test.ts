import { afterAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { onOwnDevice } from '../../lib/fs/mounts.js';
import { sharedSpawner } from '../../lib/proc/spawner.js';
import type { NativeContext } from './context.js';
import { fstabField, mountRootfs, rootfsDir } from './rootfs.js';

describe('fstabField', () => {
  it('escapes whitespace and backslashes as libmount reads them back', () => {
    expect(fstabField('/var/lib/tscompose/containers/abc/bundle/rootfs')).toBe('/var/lib/tscompose/containers/abc/bundle/rootfs');
    expect(fstabField('/tmp/a dir/x\ty\\z\nw')).toBe('/tmp/a\\040dir/x\\011y\\134z\\012w');
    expect(fstabField('/tmp/caf\u00e9\u00a0x')).toBe('/tmp/caf\u00e9\u00a0x'); // only ASCII is escaped: libmount reads bytes
  });
});

const root = process.getuid?.() === 0 && spawnSync('sh', ['-c', 'grep -qw overlay /proc/filesystems']).status === 0;

(root ? describe : describe.skip)('mountRootfs (root, overlayfs)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tsc rootfs-')); // a space: the merged mounts' fstab escapes it
  const ctx = {
    state: { containerDir: (id: string) => path.join(dir, 'containers', id) },
    paths: { run: path.join(dir, 'run') },
    spawner: sharedSpawner(),
  } as unknown as NativeContext;
  mkdirSync(ctx.paths.run, { recursive: true });
  mkdirSync(path.join(dir, 'layers', 'l1'), { recursive: true });
  writeFileSync(path.join(dir, 'layers', 'l1', 'hello'), 'hi\n');
  const ids = ['c1', 'c2', 'c3', 'c4', 'c5'];

  afterAll(() => {
    for (const id of ids) spawnSync('umount', [rootfsDir(ctx, id)]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('mounts made at the same time share mount processes; one that cannot be mounted fails alone, with its error', async () => {
    const results = await Promise.allSettled(
      ids.map((id) => mountRootfs(ctx, id, { cwd: path.join(dir, 'layers'), lowerdir: id === 'c3' ? 'missing' : 'l1' }, { userns: undefined })),
    );
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    const failed = (results[2] as PromiseRejectedResult).reason as { code: string; message: string; hint: string };
    expect(failed).toMatchObject({ code: 'TSC_NATIVE_MOUNT' });
    // the missing lower directory named, and the repair that makes a missing layer link again
    expect(failed.message).toContain(`the image layer ${path.join(dir, 'layers', 'missing')} is missing`);
    expect(failed.hint).toContain('check --repair');
    for (const id of ['c1', 'c2', 'c4', 'c5']) {
      expect(onOwnDevice(rootfsDir(ctx, id))).toBe(true);
      expect(readdirSync(rootfsDir(ctx, id))).toEqual(['hello']);
    }
    expect(onOwnDevice(rootfsDir(ctx, 'c3'))).toBe(false);
    expect(readdirSync(ctx.paths.run)).toEqual([]); // no fstab file left
  });
});
