import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { sha256 } from './digest.js';
import { DigestMismatchError, LayerRejectedError } from './errors.js';
import { unpackLayer } from './layer.js';
import { gz, makeTar, type TarEntry } from './__fixtures__/images.js';

let dir: string;
let n = 0;
const fresh = (): string => join(dir, `layer-${n++}`);
const src = (b: Buffer): Readable => Readable.from([b.subarray(0, 700), b.subarray(700)].filter((x) => x.length > 0));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsc-layer-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('unpackLayer', () => {
  test('extracts files, dirs, links with owners, modes and the DiffID', async () => {
    const tar = await makeTar([
      { name: 'etc/', type: 'directory' },
      { name: 'etc/hosts', content: '127.0.0.1 localhost\n', mode: 0o600, uid: 1000, gid: 1001 },
      { name: 'bin/sh', content: 'x'.repeat(5000), mode: 0o4755 },
      { name: 'bin/ash', type: 'link', linkname: 'bin/sh' },
      { name: 'usr/bin/env', type: 'symlink', linkname: '/bin/sh' },
      { name: 'usr/lib/rel', type: 'symlink', linkname: '../../etc/hosts' },
      { name: 'dev/null', type: 'character-device' },
    ]);
    const target = fresh();
    const r = await unpackLayer(src(gz(tar)), target);
    expect(r.diffId).toBe(sha256(tar));
    expect(r.compression).toBe('gzip');
    expect(r.size).toBe(20 + 5000);
    expect(r.tarSize).toBe(tar.length);
    const hosts = await stat(join(target, 'etc/hosts'));
    expect(hosts.mode & 0o7777).toBe(0o600);
    expect([hosts.uid, hosts.gid]).toEqual([1000, 1001]);
    expect((await stat(join(target, 'bin/sh'))).mode & 0o7777).toBe(0o4755);
    expect((await stat(join(target, 'bin/ash'))).ino).toBe((await stat(join(target, 'bin/sh'))).ino);
    expect(await readlink(join(target, 'usr/bin/env'))).toBe('/bin/sh');
    expect(await readlink(join(target, 'usr/lib/rel'))).toBe('../../etc/hosts');
    expect((await lstat(join(target, 'dev/null'))).isCharacterDevice()).toBe(true);
  });

  test('uncompressed input and a matching expected DiffID', async () => {
    const tar = await makeTar([{ name: 'a', content: 'a' }]);
    const r = await unpackLayer(src(tar), fresh(), { expectedDiffId: sha256(tar) });
    expect(r.compression).toBe('none');
  });

  test('whiteouts become char devices 0/0 and opaque markers an xattr', async () => {
    const tar = await makeTar([
      { name: 'etc/', type: 'directory' },
      { name: 'etc/.wh.passwd', content: '' },
      { name: 'var/', type: 'directory' },
      { name: 'var/.wh..wh..opq', content: '' },
      { name: 'var/new', content: 'n' },
      { name: '.wh.gone-dir', content: '' },
      { name: 'keep/.wh.kept', content: '' },
      { name: 'keep/kept', content: 'same layer wins' },
    ]);
    const target = fresh();
    await unpackLayer(src(tar), target);
    const wh = await lstat(join(target, 'etc/passwd'));
    expect(wh.isCharacterDevice()).toBe(true);
    expect(wh.rdev).toBe(0);
    expect((await lstat(join(target, 'gone-dir'))).isCharacterDevice()).toBe(true);
    expect(existsSync(join(target, 'etc/.wh.passwd'))).toBe(false);
    expect(existsSync(join(target, 'var/.wh..wh..opq'))).toBe(false);
    expect(await readFile(join(target, 'keep/kept'), 'utf8')).toBe('same layer wins');
    expect(await readdir(join(target, 'keep'))).toEqual(['kept']);
    const attr = spawnSync('getfattr', ['--absolute-names', '-n', 'trusted.overlay.opaque', '--only-values', join(target, 'var')], {
      encoding: 'utf8',
    });
    expect(attr.status).toBe(0);
    expect(attr.stdout).toBe('y');
    expect(spawnSync('getfattr', ['--absolute-names', '-n', 'trusted.overlay.opaque', join(target, 'etc')]).status).not.toBe(0);
  });

  test('GNU and POSIX tars with long names and links (made by GNU tar)', async () => {
    const tree = join(dir, 'tree');
    const long = 'd'.repeat(90) + '/' + 'e'.repeat(120);
    await mkdir(join(tree, long), { recursive: true });
    await writeFile(join(tree, long, 'f'.repeat(150)), 'deep');
    spawnSync('ln', ['-s', '/' + 'x'.repeat(140), join(tree, 'longlink')]);
    spawnSync('ln', [join(tree, long, 'f'.repeat(150)), join(tree, 'hard')]);
    for (const format of ['gnu', 'posix', 'ustar']) {
      const made = spawnSync('tar', ['-C', tree, '-c', `--format=${format}`, '.'], { maxBuffer: 1 << 24 });
      if (format === 'ustar') {
        expect(made.status).not.toBe(0); // names too long for ustar: nothing to test
        continue;
      }
      expect(made.status).toBe(0);
      const target = fresh();
      const r = await unpackLayer(src(made.stdout), target);
      expect(r.diffId).toBe(sha256(made.stdout));
      expect(await readFile(join(target, long, 'f'.repeat(150)), 'utf8')).toBe('deep');
      expect(await readlink(join(target, 'longlink'))).toBe('/' + 'x'.repeat(140));
      expect((await stat(join(target, 'hard'))).nlink).toBe(2);
    }
  });

  describe('malicious layers are rejected and write nothing outside', () => {
    let outside: string;
    beforeAll(async () => {
      outside = await mkdtemp(join(tmpdir(), 'outside-'));
    });
    afterAll(async () => {
      await rm(outside, { recursive: true, force: true });
    });

    const cases: [string, () => TarEntry[], RegExp][] = [
      [
        'symlink escape',
        () => [
          { name: 'a', type: 'symlink', linkname: outside },
          { name: 'a/pwned', content: 'pwned' },
        ],
        /through the symlink "a"/,
      ],
      [
        'relative symlink escape',
        () => [
          { name: 'b', type: 'symlink', linkname: '../../../../../../..' + outside },
          { name: 'b/pwned2', content: 'x' },
        ],
        /symlink "b"/,
      ],
      [
        'nested symlink escape',
        () => [
          { name: 'x/', type: 'directory' },
          { name: 'x/y', type: 'symlink', linkname: outside },
          { name: 'x/y/z/pwned', content: 'x' },
        ],
        /symlink "x\/y"/,
      ],
      [
        'dotdot',
        () => [
          { name: 'ok', content: 'fine' },
          { name: '../dotdot', content: 'x' },
        ],
        /contains '\.\.'/,
      ],
      ['dotdot inside', () => [{ name: 'a/../../dotdot', content: 'x' }], /contains '\.\.'/],
      ['absolute', () => [{ name: outside + '/abs', content: 'x' }], /absolute member name/],
      ['hardlink to /etc/passwd', () => [{ name: 'passwd', type: 'link', linkname: '/etc/passwd' }], /hardlink to an absolute path/],
      ['hardlink with dotdot', () => [{ name: 'p', type: 'link', linkname: '../../../etc/passwd' }], /hardlink target contains '\.\.'/],
      [
        'hardlink through symlink',
        () => [
          { name: 'etc', type: 'symlink', linkname: '/etc' },
          { name: 'p', type: 'link', linkname: 'etc/passwd' },
        ],
        /hardlink target goes through the symlink "etc"/,
      ],
      [
        'hardlink of a symlink, then through it',
        () => [
          { name: 's', type: 'symlink', linkname: outside },
          { name: 'h', type: 'link', linkname: 's' },
          { name: 'h/pwned', content: 'x' },
        ],
        /symlink "h"/,
      ],
      [
        'directory over a symlink',
        () => [
          { name: 'a', type: 'symlink', linkname: outside },
          { name: 'a', type: 'directory', mode: 0o777 },
        ],
        /replaces a symlink/,
      ],
      [
        'pax path with NUL',
        () => [
          { name: 'a', type: 'symlink', linkname: outside, pax: { path: 'a\0x' } },
          { name: 'a/pwned', content: 'x' },
        ],
        /NUL/,
      ],
      ['pax path dotdot', () => [{ name: 'innocent', content: 'x', pax: { path: '../paxdotdot' } }], /contains '\.\.'/],
      [
        'whiteout through symlink',
        () => [
          { name: 'a', type: 'symlink', linkname: outside },
          { name: 'a/.wh.foo', content: '' },
        ],
        /symlink "a"/,
      ],
    ];

    test.each(cases)('%s', async (_name, entries, message) => {
      const target = fresh();
      const tar = await makeTar(entries());
      const err = await unpackLayer(src(gz(tar)), target).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LayerRejectedError);
      expect((err as LayerRejectedError).code).toBe('TSC_IMAGE_LAYER_REJECTED');
      expect((err as Error).message).toMatch(message);
      expect(existsSync(target)).toBe(false);
      expect(await readdir(outside)).toEqual([]);
      expect(existsSync(join(dir, 'dotdot'))).toBe(false);
      expect(existsSync(join(dir, 'paxdotdot'))).toBe(false);
    });

    test('a corrupt header is rejected', async () => {
      const tar = await makeTar([{ name: 'a', content: 'a' }]);
      tar[10] = 0x41; // name byte changed, checksum now wrong
      await expect(unpackLayer(src(tar), fresh())).rejects.toThrow(/checksum/);
    });

    test('truncated stream is rejected', async () => {
      const tar = await makeTar([{ name: 'a', content: 'a'.repeat(2000) }]);
      await expect(unpackLayer(src(tar.subarray(0, 1024)), fresh())).rejects.toThrow(LayerRejectedError);
    });
  });

  test('DiffID mismatch removes the directory', async () => {
    const tar = await makeTar([{ name: 'a', content: 'a' }]);
    const target = fresh();
    await expect(unpackLayer(src(tar), target, { expectedDiffId: sha256('other') })).rejects.toThrow(DigestMismatchError);
    expect(existsSync(target)).toBe(false);
  });

  test('zstd layers get a clear error', async () => {
    const target = fresh();
    const zstd = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0]);
    await expect(unpackLayer(src(zstd), target, { label: 'sha256:abc' })).rejects.toThrow(/sha256:abc is zstd-compressed/);
    expect(existsSync(target)).toBe(false);
  });

  test('the target must not exist', async () => {
    const target = fresh();
    await mkdir(target);
    await expect(unpackLayer(src(await makeTar([])), target)).rejects.toThrow(/EEXIST/);
  });

  test('abort signal stops extraction and removes the directory', async () => {
    const ac = new AbortController();
    const target = fresh();
    async function* slow(): AsyncGenerator<Buffer> {
      yield (await makeTar([{ name: 'a', content: 'a'.repeat(10_000) }])).subarray(0, 2048);
      ac.abort();
      await new Promise((r) => setTimeout(r, 50));
      yield Buffer.alloc(512);
    }
    await expect(unpackLayer(slow(), target, { signal: ac.signal })).rejects.toThrow();
    expect(existsSync(target)).toBe(false);
  });
});
