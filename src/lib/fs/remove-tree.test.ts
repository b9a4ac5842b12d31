import { afterAll, describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeTree } from './remove-tree.js';

const dir = mkdtempSync(join(tmpdir(), 'tsc-remove-tree-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
const fresh = (): string => {
  const d = join(dir, `t${n++}`);
  mkdirSync(d);
  return d;
};

describe('removeTree', () => {
  test('deletes a tree of files, empty and nested directories, a FIFO and a 000 directory', async () => {
    const root = join(fresh(), 'ctr');
    mkdirSync(join(root, 'bundle', 'rootfs'), { recursive: true });
    mkdirSync(join(root, 'upper', 'etc', 'deep', 'er'), { recursive: true });
    mkdirSync(join(root, 'work', 'work'), { recursive: true, mode: 0o000 });
    writeFileSync(join(root, 'record.json'), '{}');
    writeFileSync(join(root, 'upper', 'etc', 'deep', 'er', 'f'), 'x');
    execFileSync('mkfifo', [join(root, 'attach')]);
    await removeTree(root);
    expect(existsSync(root)).toBe(false);
  });

  test('a missing path is no error; a file or a link is deleted alone', async () => {
    const d = fresh();
    await expect(removeTree(join(d, 'nothing'))).resolves.toBeUndefined();
    writeFileSync(join(d, 'file'), 'x');
    await removeTree(join(d, 'file'));
    expect(existsSync(join(d, 'file'))).toBe(false);
  });

  test('never follows a symbolic link: the link goes, its target stays', async () => {
    const d = fresh();
    const keep = join(d, 'keep');
    mkdirSync(keep);
    writeFileSync(join(keep, 'data'), 'precious');
    const tree = join(d, 'tree');
    mkdirSync(tree);
    symlinkSync(keep, join(tree, 'to-dir'));
    symlinkSync(join(keep, 'data'), join(tree, 'to-file'));
    await removeTree(tree);
    expect(existsSync(tree)).toBe(false);
    expect(readFileSync(join(keep, 'data'), 'utf8')).toBe('precious');
    // A link given as the target itself is removed, not what it points to.
    symlinkSync(keep, join(d, 'link'));
    await removeTree(join(d, 'link'));
    expect(existsSync(join(d, 'link'))).toBe(false);
    expect(existsSync(join(keep, 'data'))).toBe(true);
  });

  test('a large tree lets the event loop run while it is deleted', async () => {
    const root = join(fresh(), 'big');
    for (let i = 0; i < 40; i++) {
      mkdirSync(join(root, `d${i}`), { recursive: true });
      for (let j = 0; j < 100; j++) writeFileSync(join(root, `d${i}`, `f${j}`), '');
    }
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    try {
      await removeTree(root);
    } finally {
      clearInterval(timer);
    }
    expect(existsSync(root)).toBe(false);
    expect(ticks).toBeGreaterThan(0);
  });

  test('the first failure is thrown, as fs.rm throws it (a mount point cannot be removed)', async () => {
    if (process.getuid?.() !== 0) return; // mounting needs root
    const root = join(fresh(), 'with-mount');
    const mnt = join(root, 'sub', 'mnt');
    mkdirSync(mnt, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', mnt]);
    try {
      writeFileSync(join(mnt, 'inside'), 'x');
      // The tmpfs's own files are deleted through the mount (as fs.rm and rm -rf do); its mount point stays.
      await expect(removeTree(root)).rejects.toMatchObject({ code: 'EBUSY' });
      expect(existsSync(mnt)).toBe(true);
    } finally {
      execFileSync('umount', [mnt]);
    }
    await removeTree(root);
    expect(existsSync(root)).toBe(false);
  });
});
