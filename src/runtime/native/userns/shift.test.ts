import { afterAll, describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  lchownSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pruneRemappedLayers, remappedLowerdir } from './layers.js';
import { capabilityForRange, shiftedCopy } from './shift.js';

const range = { uid: 100000, gid: 200000, size: 65536 };
const dir = mkdtempSync(join(tmpdir(), 'tsc-userns-shift-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// cap_net_raw+ep as a v2 security.capability (magic 0x02000001, permitted bit 13).
const V2_NET_RAW = '0x0100000200200000000000000000000000000000';

describe('capabilityForRange', () => {
  test('a v2 capability becomes v3 with the range root as its root id', () => {
    expect(capabilityForRange(V2_NET_RAW, range)).toBe('0x0100000300200000000000000000000000000000a0860100');
  });
  test('a v3 capability has its root id shifted; others are kept', () => {
    expect(capabilityForRange('0x010000030020000000000000000000000000000005000000', range)).toBe(
      '0x0100000300200000000000000000000000000000a5860100',
    );
    expect(capabilityForRange('0x0100000100200000', range)).toBe('0x0100000100200000');
  });
});

const root = process.getuid?.() === 0;
const has = (cmd: string): boolean => {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`]);
    return true;
  } catch {
    return false;
  }
};

/** A layer directory as the image store unpacks one, with every kind of entry a chowned copy must keep. */
function makeLayer(src: string): void {
  mkdirSync(join(src, 'etc'), { recursive: true });
  chmodSync(src, 0o755);
  writeFileSync(join(src, 'etc', 'shadow'), 'secret');
  chownSync(join(src, 'etc', 'shadow'), 0, 42);
  chmodSync(join(src, 'etc', 'shadow'), 0o640);
  mkdirSync(join(src, 'home', 'u'), { recursive: true });
  chownSync(join(src, 'home', 'u'), 1000, 1000);
  chmodSync(join(src, 'home', 'u'), 0o750);
  mkdirSync(join(src, 'bin'));
  writeFileSync(join(src, 'bin', 'su'), '#!/bin/sh\n');
  chmodSync(join(src, 'bin', 'su'), 0o4755);
  writeFileSync(join(src, 'bin', 'wall'), '#!/bin/sh\n');
  chownSync(join(src, 'bin', 'wall'), 0, 5);
  chmodSync(join(src, 'bin', 'wall'), 0o2755);
  mkdirSync(join(src, 'shared'));
  chownSync(join(src, 'shared'), 0, 50);
  chmodSync(join(src, 'shared'), 0o3775);
  writeFileSync(join(src, 'bin', 'h1'), 'linked');
  chownSync(join(src, 'bin', 'h1'), 5, 6);
  linkSync(join(src, 'bin', 'h1'), join(src, 'bin', 'h2'));
  symlinkSync('su', join(src, 'bin', 'sudo'));
  lchownSync(join(src, 'bin', 'sudo'), 7, 8);
  execFileSync('mknod', [join(src, 'etc', 'gone'), 'c', '0', '0']); // an overlay whiteout
  execFileSync('mkfifo', [join(src, 'fifo')]);
  mkdirSync(join(src, 'opaque'));
  execFileSync('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', join(src, 'opaque')]);
  writeFileSync(join(src, 'bin', 'ping'), 'ping');
  chmodSync(join(src, 'bin', 'ping'), 0o755);
  execFileSync('setfattr', ['-n', 'security.capability', '-v', V2_NET_RAW, join(src, 'bin', 'ping')]);
}

const getfattr = (file: string, name: string): string =>
  execFileSync('getfattr', ['-h', '--absolute-names', '-e', 'hex', '-n', name, file], { encoding: 'utf8' }).split('\n')[1] ?? '';

(root && has('setfattr') && has('getfattr') ? describe : describe.skip)('shiftedCopy (root)', () => {
  const src = join(dir, 'src');
  const dest = join(dir, 'out', 'copy');
  test('owners shifted, modes (setuid, setgid, sticky), hardlinks, symlinks, whiteouts, fifos and xattrs kept', async () => {
    makeLayer(src);
    await shiftedCopy(src, dest, range);
    const st = (p: string): { uid: number; gid: number; mode: number } => {
      const s = lstatSync(join(dest, p));
      return { uid: s.uid, gid: s.gid, mode: s.mode & 0o7777 };
    };
    expect(st('.')).toEqual({ uid: 100000, gid: 200000, mode: 0o755 });
    expect(st('etc/shadow')).toEqual({ uid: 100000, gid: 200042, mode: 0o640 });
    expect(st('home/u')).toEqual({ uid: 101000, gid: 201000, mode: 0o750 });
    expect(st('bin/su')).toEqual({ uid: 100000, gid: 200000, mode: 0o4755 });
    expect(st('bin/wall')).toEqual({ uid: 100000, gid: 200005, mode: 0o2755 });
    expect(st('shared')).toEqual({ uid: 100000, gid: 200050, mode: 0o3775 });
    expect(st('bin/h1')).toEqual({ uid: 100005, gid: 200006, mode: 0o644 });
    expect(lstatSync(join(dest, 'bin', 'h1')).ino).toBe(lstatSync(join(dest, 'bin', 'h2')).ino);
    expect(lstatSync(join(dest, 'bin', 'h1')).nlink).toBe(2);
    expect(lstatSync(join(dest, 'bin', 'sudo')).isSymbolicLink()).toBe(true);
    expect(st('bin/sudo')).toMatchObject({ uid: 100007, gid: 200008 });
    const wh = lstatSync(join(dest, 'etc', 'gone'));
    expect(wh.isCharacterDevice() && wh.rdev === 0).toBe(true);
    expect(lstatSync(join(dest, 'fifo')).isFIFO()).toBe(true);
    expect(getfattr(join(dest, 'opaque'), 'trusted.overlay.opaque')).toBe('trusted.overlay.opaque=0x79');
    expect(getfattr(join(dest, 'bin', 'ping'), 'security.capability')).toBe('security.capability=0x0100000300200000000000000000000000000000a0860100');
    expect(readFileSync(join(dest, 'bin', 'h2'), 'utf8')).toBe('linked');
    // The source is untouched.
    expect(statSync(join(src, 'home', 'u')).uid).toBe(1000);
    expect(getfattr(join(src, 'bin', 'ping'), 'security.capability')).toBe(`security.capability=${V2_NET_RAW}`);
  });

  test('an id outside the range is an error and leaves nothing', async () => {
    const s = join(dir, 'wide');
    mkdirSync(s);
    writeFileSync(join(s, 'f'), '');
    chownSync(join(s, 'f'), 70000, 0);
    await expect(shiftedCopy(s, join(dir, 'wide-out', 'c'), range)).rejects.toMatchObject({ code: 'TSC_USERNS_ID_OUT_OF_RANGE' });
    expect(() => lstatSync(join(dir, 'wide-out', 'c'))).toThrow();
  });

  test('remappedLowerdir: copies each layer of a lowerdir once, under the same relative names', async () => {
    const store = join(dir, 'store');
    for (const [link, layer] of [
      ['AAA', 'one'],
      ['BBB', 'two'],
    ] as const) {
      mkdirSync(join(store, 'layers', layer, 'diff', 'x'), { recursive: true });
      mkdirSync(join(store, 'l'), { recursive: true });
      symlinkSync(`../layers/${layer}/diff`, join(store, 'l', link));
    }
    const cache = join(dir, 'cache');
    const first = await remappedLowerdir({ cwd: store, lowerdir: 'l/BBB:l/AAA' }, cache, range);
    expect(first).toEqual({ cwd: join(cache, '100000.200000.65536'), lowerdir: 'l/BBB:l/AAA', copied: 2 });
    expect(statSync(join(first.cwd, 'l', 'AAA', 'x')).uid).toBe(100000);
    expect(lstatSync(join(first.cwd, 'l', 'AAA')).isDirectory()).toBe(true);
    expect((await remappedLowerdir({ cwd: store, lowerdir: 'l/BBB:l/AAA' }, cache, range)).copied).toBe(0);
    rmSync(join(store, 'l', 'BBB'));
    expect(await pruneRemappedLayers(cache, store)).toBe(1);
    expect(() => lstatSync(join(first.cwd, 'l', 'BBB'))).toThrow();
  });
});
