/**
 * protectedBinaryPath (./runtime-binary.ts) as root, on a copy of /bin/true in a temporary directory: a read-only bind
 * mount of the binary, made once and found again, refused to writes, runnable; a new version of the binary gets a
 * mount of its own and the old one goes. Skipped when not root (no mount) with the reason.
 */
import { afterAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLONED_BINARY_ENV, forgetProtectedBinaries, protectedBinaryPath } from './runtime-binary.js';

const root = process.getuid?.() === 0;
if (!root) console.log('runtime-binary: skipped (mounts need root)');
const base = mkdtempSync(join(tmpdir(), 'tsc-oci-bin-'));
const dir = join(base, 'oci-bin');
const mounted = (): string[] =>
  readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m.startsWith(dir));

afterAll(() => {
  for (const m of mounted()) spawnSync('umount', ['-l', m]);
  rmSync(base, { recursive: true, force: true });
});

(root ? describe : describe.skip)('protectedBinaryPath', () => {
  test('a read-only bind mount of the binary, made once, runnable; a new version gets its own', () => {
    const bin = join(base, 'crun');
    copyFileSync('/bin/true', bin);
    const st = statSync(bin);
    const p = protectedBinaryPath(bin, dir);
    expect(p).toBe(join(dir, `crun-${st.dev}-${st.ino}`));
    expect(mounted()).toEqual([p]);
    expect(statSync(p).ino).toBe(st.ino);
    expect(() => writeFileSync(p, 'x')).toThrow(/EROFS|read-only/);
    expect(spawnSync(p, [], { env: { ...process.env, ...CLONED_BINARY_ENV } }).status).toBe(0);
    // Found again (another process), not mounted twice.
    forgetProtectedBinaries();
    expect(protectedBinaryPath(bin, dir)).toBe(p);
    expect(mounted()).toEqual([p]);
    // An upgrade replaces the file (a new inode): a mount of the new one, the old one unmounted.
    copyFileSync('/bin/true', `${bin}.new`);
    renameSync(`${bin}.new`, bin);
    forgetProtectedBinaries();
    const q = protectedBinaryPath(bin, dir);
    expect(q).not.toBe(p);
    expect(mounted()).toEqual([q]);
  });

  test('no mount possible: the binary itself', () => {
    forgetProtectedBinaries();
    // A directory under a file cannot be made: the mount is not made, and the binary is launched as it is.
    const blocker = join(base, 'blocker');
    writeFileSync(blocker, '');
    expect(protectedBinaryPath('/bin/true', join(blocker, 'oci-bin'))).toBe('/bin/true');
    expect(protectedBinaryPath('/nonexistent/crun', dir)).toBe('/nonexistent/crun');
  });
});
