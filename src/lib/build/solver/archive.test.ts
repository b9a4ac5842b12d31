import { describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { type Header, pack } from 'tar-stream';
import { freshDirs } from '../../fs/__fixtures__/fresh-dirs.js';
import { detectCompression, extractIfArchive, isArchive } from './archive.js';

const fresh = freshDirs('tsc-archive-');

type Item = Partial<Header> & { name: string; body?: string };

async function tarOf(items: Item[]): Promise<Buffer> {
  const p = pack();
  for (const { body, ...h } of items) p.entry({ mtime: new Date('2021-05-06T07:08:09Z'), ...h }, body ?? '');
  p.finalize();
  const parts: Buffer[] = [];
  for await (const c of p) parts.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(parts);
}

const has = (tool: string): boolean => spawnSync(tool, ['--version'], { stdio: 'ignore' }).status === 0;
function compressWith(tool: string, data: Buffer): Buffer {
  const r = spawnSync(tool, ['-c'], { input: data });
  if (r.status !== 0) throw new Error(`${tool} failed`);
  return r.stdout;
}

const sample: Item[] = [
  { name: 'app/', type: 'directory', mode: 0o750, uid: 1000, gid: 1001 },
  { name: 'app/run.sh', body: 'echo hi\n', mode: 0o4755, uid: 1000, gid: 1001 },
  { name: 'app/link', type: 'symlink', linkname: '/etc/passwd' },
  // a hard link's header carries its inode's metadata, as tar writes it
  { name: 'app/hard', type: 'link', linkname: 'app/run.sh', mode: 0o4755, uid: 1000, gid: 1001 },
  { name: 'implied/dir/f.txt', body: 'deep', mode: 0o600, uid: 3, gid: 4 },
];

function setup(archive: Buffer, name = 'a.tar'): { file: string; root: string } {
  const d = fresh();
  const file = path.join(d, name);
  writeFileSync(file, archive);
  const root = path.join(d, 'root');
  mkdirSync(root);
  return { file, root };
}

function checkSample(dest: string): void {
  expect(readFileSync(path.join(dest, 'app/run.sh'), 'utf8')).toBe('echo hi\n');
  expect(lstatSync(path.join(dest, 'app/run.sh')).mode & 0o7777).toBe(0o4755);
  expect(lstatSync(path.join(dest, 'app/run.sh')).uid).toBe(1000);
  expect(statSync(path.join(dest, 'app/run.sh')).mtime).toEqual(new Date('2021-05-06T07:08:09Z'));
  expect(lstatSync(path.join(dest, 'app')).mode & 0o7777).toBe(0o750);
  expect(statSync(path.join(dest, 'app')).mtime).toEqual(new Date('2021-05-06T07:08:09Z'));
  expect(readlinkSync(path.join(dest, 'app/link'))).toBe('/etc/passwd');
  expect(statSync(path.join(dest, 'app/hard')).ino).toBe(statSync(path.join(dest, 'app/run.sh')).ino);
  expect(lstatSync(path.join(dest, 'implied')).mode & 0o7777).toBe(0o755);
  expect(lstatSync(path.join(dest, 'implied/dir')).uid).toBe(0);
  expect(lstatSync(path.join(dest, 'implied/dir/f.txt')).gid).toBe(4);
}

describe('detection', () => {
  test('magic bytes as go-archive Detect', () => {
    expect(detectCompression(Buffer.from([0x1f, 0x8b, 0x08, 0]))).toBe('gzip');
    expect(detectCompression(Buffer.from('BZh91AY'))).toBe('bzip2');
    expect(detectCompression(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))).toBe('xz');
    expect(detectCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))).toBe('zstd');
    expect(detectCompression(Buffer.from('plain text'))).toBe('none');
  });
  test('a text file, an empty file, a gzipped text file and an empty tar are not archives', async () => {
    for (const data of [Buffer.from('hello world\n'.repeat(100)), Buffer.alloc(0), gzipSync('not a tar'.repeat(100)), await tarOf([])]) {
      const { file, root } = setup(data);
      expect(await isArchive(file)).toBe(false);
      expect(await extractIfArchive(file, root, '/dest')).toBe(false);
      expect(existsSync(path.join(root, 'dest'))).toBe(false);
    }
  });
});

describe('extractIfArchive', () => {
  test('a plain tar: owners, modes, times, links, implied directories; the destination made 0755', async () => {
    const { file, root } = setup(await tarOf(sample));
    expect(await extractIfArchive(file, root, '/opt/x')).toBe(true);
    checkSample(path.join(root, 'opt/x'));
    expect(lstatSync(path.join(root, 'opt/x')).mode & 0o7777).toBe(0o755);
  });

  test('gzip, and bzip2 / xz / zstd when their programs are installed', async () => {
    const tar = await tarOf(sample);
    const kinds: [string, Buffer][] = [['gz', gzipSync(tar)]];
    for (const tool of ['bzip2', 'xz', 'zstd']) if (has(tool)) kinds.push([tool, compressWith(tool, tar)]);
    for (const [ext, data] of kinds) {
      const { file, root } = setup(data, `a.tar.${ext}`);
      expect(await extractIfArchive(file, root, '/')).toBe(true);
      checkSample(root);
    }
  });

  test('--chown owns every extracted path and the destination made', async () => {
    const { file, root } = setup(await tarOf(sample));
    await extractIfArchive(file, root, '/d/e', { uid: 42, gid: 43 });
    for (const p of ['d', 'd/e', 'd/e/app', 'd/e/app/run.sh', 'd/e/implied/dir/f.txt'])
      expect(`${lstatSync(path.join(root, p)).uid}:${lstatSync(path.join(root, p)).gid}`).toBe('42:43');
    expect(lstatSync(path.join(root, 'd/e/app/link')).uid).toBe(42);
  });

  test('.. and absolute names, and links that escape, stay inside the destination (chroot semantics)', async () => {
    const d = fresh();
    const outside = path.join(d, 'x');
    const evil = await tarOf([
      { name: '../../x', body: 'dotdot' },
      { name: '/abs', body: 'abs' },
      { name: 'esc', type: 'symlink', linkname: '/' },
      { name: 'esc/etc/y', body: 'through-abs-link' },
      { name: 'up', type: 'symlink', linkname: '../../../../..' },
      { name: 'up/z', body: 'through-rel-link' },
      { name: 'hl', type: 'link', linkname: '../../../x' },
    ]);
    const { file, root } = setup(evil);
    mkdirSync(path.join(root, 'dest'));
    expect(await extractIfArchive(file, root, '/dest')).toBe(true);
    const dest = path.join(root, 'dest');
    expect(readFileSync(path.join(dest, 'x'), 'utf8')).toBe('dotdot');
    expect(readFileSync(path.join(dest, 'abs'), 'utf8')).toBe('abs');
    expect(readFileSync(path.join(dest, 'etc/y'), 'utf8')).toBe('through-abs-link');
    expect(readFileSync(path.join(dest, 'z'), 'utf8')).toBe('through-rel-link');
    expect(statSync(path.join(dest, 'hl')).ino).toBe(statSync(path.join(dest, 'x')).ino);
    expect(existsSync(outside)).toBe(false);
    expect(existsSync(path.join(root, 'x'))).toBe(false);
    expect(existsSync(path.join(root, 'etc'))).toBe(false);
  });

  test('the destination resolves through image symlinks; existing paths are replaced or merged', async () => {
    const tar = await tarOf([
      { name: 'was-file/', type: 'directory', mode: 0o700 },
      { name: 'was-dir', body: 'now a file' },
      { name: 'merged/', type: 'directory', mode: 0o711 },
      { name: 'merged/new', body: 'n' },
    ]);
    const { file, root } = setup(tar);
    mkdirSync(path.join(root, 'real/was-dir/sub'), { recursive: true });
    mkdirSync(path.join(root, 'real/merged'));
    writeFileSync(path.join(root, 'real/merged/old'), 'o');
    writeFileSync(path.join(root, 'real/was-file'), 'f');
    symlinkSync('/real', path.join(root, 'link'));
    expect(await extractIfArchive(file, root, '/link')).toBe(true);
    expect(lstatSync(path.join(root, 'real/was-file')).isDirectory()).toBe(true);
    expect(readFileSync(path.join(root, 'real/was-dir'), 'utf8')).toBe('now a file');
    expect(readFileSync(path.join(root, 'real/merged/old'), 'utf8')).toBe('o');
    expect(readFileSync(path.join(root, 'real/merged/new'), 'utf8')).toBe('n');
    expect(lstatSync(path.join(root, 'real/merged')).mode & 0o7777).toBe(0o711);
  });

  test('a truncated archive fails with an ArchiveError', async () => {
    const gz = gzipSync(await tarOf([{ name: 'big', body: randomBytes(20000).toString('hex') }]));
    const { file, root } = setup(gz.subarray(0, Math.floor(gz.length * 0.6)));
    await expect(extractIfArchive(file, root, '/t')).rejects.toMatchObject({ code: 'TSC_BUILD_ARCHIVE' });
  });

  test('a truncated xz archive fails with the error of xz; a missing program is reported', async () => {
    const tar = await tarOf([{ name: 'big', body: randomBytes(20000).toString('hex') }]);
    if (has('xz')) {
      const xz = compressWith('xz', tar);
      const { file, root } = setup(xz.subarray(0, Math.floor(xz.length * 0.6)), 'a.tar.xz');
      await expect(extractIfArchive(file, root, '/t')).rejects.toMatchObject({
        code: 'TSC_BUILD_ARCHIVE',
        message: expect.stringContaining('xz failed'),
      });
    }
    const { file, root } = setup(Buffer.concat([Buffer.from('BZh91AY&SY'), randomBytes(600)]), 'a.tar.bz2');
    const saved = process.env['PATH'];
    process.env['PATH'] = '/nonexistent';
    try {
      await expect(extractIfArchive(file, root, '/t')).rejects.toMatchObject({ code: 'TSC_BUILD_ARCHIVE', missingTool: true });
    } finally {
      process.env['PATH'] = saved;
    }
  });
});
