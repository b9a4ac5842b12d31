import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TsComposeError } from '../../errors.js';
import { parseGroup, parsePasswd, resolveUser, resolveUserFrom } from './user.js';

// busybox's files, plus a few test users.
const PASSWD = `root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
# a comment
nobody:x:65534:65534:nobody:/home:/bin/false

www-data:x:33:33:www-data:/var/www:/bin/false
app:x:1000:1000:App,,,:/home/app:/bin/sh
broken:x:notanumber:1:::
dup:x:1001:1001::/first:/bin/sh
dup:x:1002:1002::/second:/bin/sh
`;
const GROUP = `root:x:0:
daemon:x:1:
bin:x:2:
wheel:x:10:root
www-data:x:33:
users:x:100:app, www-data
docker:x:999:app
app:x:1000:
nogroup:x:65534:
`;

let rootfs: string;
let empty: string;
let evil: string;
let outside: string;

beforeAll(() => {
  rootfs = mkdtempSync(join(tmpdir(), 'tsc-user-'));
  mkdirSync(join(rootfs, 'etc'));
  writeFileSync(join(rootfs, 'etc/passwd'), PASSWD);
  writeFileSync(join(rootfs, 'etc/group'), GROUP);
  empty = mkdtempSync(join(tmpdir(), 'tsc-user-empty-'));
  // A rootfs whose /etc is an absolute symlink to a directory holding a hostile passwd: it must be read inside
  // the rootfs, not on the host.
  outside = mkdtempSync(join(tmpdir(), 'tsc-user-outside-'));
  writeFileSync(join(outside, 'passwd'), 'evil:x:4242:4242::/evil:/bin/sh\n');
  evil = mkdtempSync(join(tmpdir(), 'tsc-user-evil-'));
  symlinkSync(outside, join(evil, 'etc'));
});

afterAll(() => {
  for (const d of [rootfs, empty, evil, outside]) rmSync(d, { recursive: true, force: true });
});

describe('parsers', () => {
  test('passwd', () => {
    const users = parsePasswd(PASSWD);
    expect(users.map((u) => u.name)).toEqual(['root', 'daemon', 'bin', 'nobody', 'www-data', 'app', 'dup', 'dup']);
    expect(users[5]).toEqual({ name: 'app', uid: 1000, gid: 1000, home: '/home/app', shell: '/bin/sh' });
  });
  test('group', () => {
    const groups = parseGroup(GROUP);
    expect(groups.find((g) => g.name === 'users')).toEqual({ name: 'users', gid: 100, members: ['app', 'www-data'] });
    expect(groups.find((g) => g.name === 'root')?.members).toEqual([]);
  });
});

describe('resolveUser', () => {
  test.each([
    [undefined, { uid: 0, gid: 0, additionalGids: [10], home: '/root' }],
    ['', { uid: 0, gid: 0, additionalGids: [10], home: '/root' }],
    ['root', { uid: 0, gid: 0, additionalGids: [10], home: '/root' }],
    ['0', { uid: 0, gid: 0, additionalGids: [10], home: '/root' }],
    ['app', { uid: 1000, gid: 1000, additionalGids: [100, 999], home: '/home/app' }],
    ['1000', { uid: 1000, gid: 1000, additionalGids: [100, 999], home: '/home/app' }],
    ['www-data', { uid: 33, gid: 33, additionalGids: [100], home: '/var/www' }],
    // explicit group: primary gid from it, no supplementary groups (Docker)
    ['app:users', { uid: 1000, gid: 100, additionalGids: [], home: '/home/app' }],
    ['app:999', { uid: 1000, gid: 999, additionalGids: [], home: '/home/app' }],
    ['app:4321', { uid: 1000, gid: 4321, additionalGids: [], home: '/home/app' }],
    ['1000:docker', { uid: 1000, gid: 999, additionalGids: [], home: '/home/app' }],
    ['33:33', { uid: 33, gid: 33, additionalGids: [], home: '/var/www' }],
    // numeric ids need no entry
    ['4242', { uid: 4242, gid: 0, additionalGids: [] }],
    ['4242:4343', { uid: 4242, gid: 4343, additionalGids: [] }],
    ['4242:wheel', { uid: 4242, gid: 10, additionalGids: [] }],
    // first match wins
    ['dup', { uid: 1001, gid: 1001, additionalGids: [], home: '/first' }],
    // trailing colon = no group
    ['app:', { uid: 1000, gid: 1000, additionalGids: [100, 999], home: '/home/app' }],
  ] as const)('%p', async (user, expected) => {
    await expect(resolveUser(rootfs, user)).resolves.toEqual(expected);
  });

  test('unknown user name', async () => {
    const err = await resolveUser(rootfs, 'nosuch').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TsComposeError);
    expect(err).toMatchObject({
      code: 'TSC_USER_NOT_FOUND',
      message: 'unable to find user nosuch: no matching entries in passwd file',
    });
  });

  test('unknown group name', async () => {
    await expect(resolveUser(rootfs, 'app:nosuch')).rejects.toMatchObject({
      code: 'TSC_USER_NOT_FOUND',
      message: 'unable to find group nosuch: no matching entries in group file',
    });
    await expect(resolveUser(rootfs, '1000:nosuch')).rejects.toThrow('unable to find group nosuch');
  });

  test('rootfs without /etc/passwd and /etc/group', async () => {
    await expect(resolveUser(empty, undefined)).resolves.toEqual({ uid: 0, gid: 0, additionalGids: [] });
    await expect(resolveUser(empty, '1234')).resolves.toEqual({ uid: 1234, gid: 0, additionalGids: [] });
    await expect(resolveUser(empty, '1234:55')).resolves.toEqual({ uid: 1234, gid: 55, additionalGids: [] });
    await expect(resolveUser(empty, 'root')).rejects.toThrow('unable to find user root: no matching entries in passwd file');
    await expect(resolveUser(empty, '0:wheel')).rejects.toThrow('unable to find group wheel');
  });

  test('out-of-range ids', async () => {
    await expect(resolveUser(empty, '-1')).rejects.toMatchObject({ code: 'TSC_USER_INVALID' });
    await expect(resolveUser(empty, '2147483648')).rejects.toThrow('uids and gids must be in range 0-2147483647');
    await expect(resolveUser(empty, '1:-5')).rejects.toMatchObject({ code: 'TSC_USER_INVALID' });
  });

  test('passwd is read inside the rootfs even through an absolute /etc symlink', async () => {
    await expect(resolveUser(evil, 'evil')).rejects.toMatchObject({ code: 'TSC_USER_NOT_FOUND' });
  });

  test('resolveUserFrom is pure', () => {
    expect(resolveUserFrom('x:y', 'x:x:5:6::/h:/s\n', 'y:x:7:\n')).toEqual({ uid: 5, gid: 7, additionalGids: [], home: '/h' });
  });
});
