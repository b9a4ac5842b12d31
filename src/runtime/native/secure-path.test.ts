import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isInside, secureJoin, secureJoinSync } from './secure-path.js';

let root: string;

beforeAll(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), 'tsc-securejoin-')));
  mkdirSync(join(root, 'etc'));
  writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh\n');
  mkdirSync(join(root, 'usr/lib'), { recursive: true });
  mkdirSync(join(root, 'var'));
  symlinkSync('/etc', join(root, 'abs-etc')); // absolute → rooted at the rootfs
  symlinkSync('../../../../../../etc', join(root, 'usr/lib/up')); // climbs far above
  symlinkSync('../usr/lib', join(root, 'var/lib')); // relative, inside
  symlinkSync('/../../../../tmp', join(root, 'escape')); // absolute with ..
  symlinkSync('loop2', join(root, 'loop1'));
  symlinkSync('loop1', join(root, 'loop2'));
  symlinkSync('self', join(root, 'self'));
  symlinkSync('/', join(root, 'rootlink'));
  symlinkSync('passwd', join(root, 'etc/pw')); // relative in the same dir
  symlinkSync('/abs-etc/pw', join(root, 'chain')); // link → link → link
  symlinkSync('/nonexistent/dir', join(root, 'dangling'));
  symlinkSync('/etc/passwd', join(root, 'filelink'));
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

const cases: [string, string][] = [
  ['', ''],
  ['/', ''],
  ['etc/passwd', 'etc/passwd'],
  ['/etc/passwd', 'etc/passwd'],
  ['//etc///passwd', 'etc/passwd'],
  ['./etc/./passwd', 'etc/passwd'],
  ['../../../etc/passwd', 'etc/passwd'],
  ['/etc/../../../../etc/passwd', 'etc/passwd'],
  ['abs-etc/passwd', 'etc/passwd'],
  ['usr/lib/up/passwd', 'etc/passwd'],
  ['var/lib/up/passwd', 'etc/passwd'],
  ['var/lib', 'usr/lib'],
  ['var/lib/../x', 'usr/x'], // `..` applies after the link is expanded, as in runc
  ['escape/x', 'tmp/x'],
  ['rootlink/etc/passwd', 'etc/passwd'],
  ['rootlink/..', ''],
  ['etc/pw', 'etc/passwd'],
  ['chain', 'etc/passwd'],
  ['dangling', 'nonexistent/dir'],
  ['dangling/deeper/file', 'nonexistent/dir/deeper/file'],
  ['missing/a/../b', 'missing/b'],
  ['etc/passwd/not-a-dir', 'etc/passwd/not-a-dir'],
  ['filelink', 'etc/passwd'],
];

describe('secureJoin', () => {
  test.each(cases)('%s → <root>/%s', async (unsafe, expected) => {
    const want = expected === '' ? root : join(root, expected);
    await expect(secureJoin(root, unsafe)).resolves.toBe(want);
    expect(secureJoinSync(root, unsafe)).toBe(want);
  });

  test('results are always inside the root', async () => {
    for (const [unsafe] of cases) expect(isInside(root, await secureJoin(root, unsafe))).toBe(true);
  });

  test('symlink loops fail with too many links', async () => {
    await expect(secureJoin(root, 'loop1')).rejects.toMatchObject({ code: 'TSC_SECURE_JOIN' });
    await expect(secureJoin(root, 'self/x')).rejects.toThrow(/too many levels of symbolic links/);
    expect(() => secureJoinSync(root, 'loop2/a')).toThrow(/too many levels/);
  });

  test('a root with a trailing slash or relative form', async () => {
    await expect(secureJoin(root + '/', 'abs-etc/passwd')).resolves.toBe(join(root, 'etc/passwd'));
  });

  test('isInside', () => {
    expect(isInside('/a/b', '/a/b')).toBe(true);
    expect(isInside('/a/b', '/a/b/c')).toBe(true);
    expect(isInside('/a/b', '/a/b/..c')).toBe(true);
    expect(isInside('/a/b', '/a/bc')).toBe(false);
    expect(isInside('/a/b', '/a')).toBe(false);
  });
});
