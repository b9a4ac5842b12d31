import { describe, expect, test } from '@jest/globals';
import {
  chmodSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { freshDirs } from '../../fs/__fixtures__/fresh-dirs.js';
import { type CopyEntry, type SelectOptions, selectCopy } from '../context/select.js';
import { applyCopy, makeWorkdir, resolveInRoot, writeInlineFiles } from './fileops.js';

const fresh = freshDirs('tsc-fileops-');

/** A context dir and an empty root. */
function setup(files: Record<string, string> = {}): { ctx: string; root: string } {
  const d = fresh();
  const ctx = path.join(d, 'ctx');
  const root = path.join(d, 'root');
  mkdirSync(ctx);
  mkdirSync(root);
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(ctx, rel)), { recursive: true });
    writeFileSync(path.join(ctx, rel), content);
  }
  return { ctx, root };
}

const select = (ctx: string, sources: string[], dest: string, more: Partial<SelectOptions> = {}): Promise<CopyEntry[]> =>
  selectCopy({ context: ctx, sources, dest, ...more });
const mode = (p: string): number => lstatSync(p).mode & 0o7777;
const owner = (p: string): string => `${lstatSync(p).uid}:${lstatSync(p).gid}`;
const T = new Date('2020-01-02T03:04:05Z');

describe('resolveInRoot', () => {
  test('symlinks resolve inside root: absolute, relative, .. clamped at root, the last one optionally', async () => {
    const { root } = setup();
    mkdirSync(path.join(root, 'etc'));
    mkdirSync(path.join(root, 'usr/lib'), { recursive: true });
    symlinkSync('/../../etc', path.join(root, 'app'));
    symlinkSync('../../../../usr/lib', path.join(root, 'usr/rel'));
    symlinkSync('lib', path.join(root, 'usr/sib'));
    symlinkSync('/etc/conf', path.join(root, 'dangling'));
    expect(await resolveInRoot(root, '/app/x')).toBe(path.join(root, 'etc/x'));
    expect(await resolveInRoot(root, 'usr/rel/y')).toBe(path.join(root, 'usr/lib/y'));
    expect(await resolveInRoot(root, '/usr/sib/z/../w')).toBe(path.join(root, 'usr/lib/w'));
    expect(await resolveInRoot(root, '/../../../app')).toBe(path.join(root, 'etc'));
    expect(await resolveInRoot(root, '/app', { followLast: false })).toBe(path.join(root, 'app'));
    expect(await resolveInRoot(root, '/dangling')).toBe(path.join(root, 'etc/conf'));
    expect(await resolveInRoot(root, '/')).toBe(root);
  });
  test('a loop and a file on the way fail with FileOpError', async () => {
    const { root } = setup();
    symlinkSync('/b', path.join(root, 'a'));
    symlinkSync('/a', path.join(root, 'b'));
    writeFileSync(path.join(root, 'f'), '');
    await expect(resolveInRoot(root, '/a/x')).rejects.toMatchObject({
      code: 'TSC_BUILD_FILEOP',
      message: expect.stringContaining('too many levels'),
    });
    await expect(resolveInRoot(root, '/f/x/y')).rejects.toMatchObject({
      code: 'TSC_BUILD_FILEOP',
      message: expect.stringContaining('not a directory: /f'),
    });
  });
});

describe('applyCopy', () => {
  test('files, directories and symlinks with modes, owners and times; the destination made 0755 root', async () => {
    const { ctx, root } = setup({ 'run.sh': '#!/bin/sh\n', 'lib/a.txt': 'a', 'lib/deep/b.txt': 'b' });
    chmodSync(path.join(ctx, 'run.sh'), 0o4755);
    chmodSync(path.join(ctx, 'lib/deep'), 0o750);
    symlinkSync('../run.sh', path.join(ctx, 'lib/link'));
    utimesSync(path.join(ctx, 'lib/a.txt'), T, T);
    utimesSync(path.join(ctx, 'lib/deep'), T, T);
    utimesSync(path.join(ctx, 'lib'), T, T);
    await applyCopy(root, ctx, await select(ctx, ['run.sh', 'lib'], '/opt/app/'));
    const at = (p: string): string => path.join(root, 'opt/app', p);
    expect(readFileSync(at('run.sh'), 'utf8')).toBe('#!/bin/sh\n');
    expect(mode(at('run.sh'))).toBe(0o4755);
    expect(readFileSync(at('a.txt'), 'utf8')).toBe('a');
    expect(statSync(at('a.txt')).mtime).toEqual(T);
    expect(mode(at('deep'))).toBe(0o750);
    expect(statSync(at('deep')).mtime).toEqual(T);
    expect(readlinkSync(at('link'))).toBe('../run.sh');
    // the destination directory: made by MkdirAll (0755, 0:0), dated like the last directory source
    expect(mode(path.join(root, 'opt'))).toBe(0o755);
    expect(mode(at(''))).toBe(0o755);
    expect(statSync(at('')).mtime).toEqual(T);
    for (const p of ['run.sh', 'a.txt', 'deep', 'link', '']) expect(owner(at(p))).toBe('0:0');
  });

  test('--chown owns copied paths and the directories made on the way; --chmod is their mode', async () => {
    const { ctx, root } = setup({ 'f.txt': 'x', 'd/g.txt': 'y' });
    mkdirSync(path.join(root, 'srv'), { mode: 0o700 });
    const chown = { uid: 1234, gid: 5678 };
    await applyCopy(root, ctx, await select(ctx, ['.'], '/srv/a/b/', { chown, chmod: 0o750 }), { chown, chmod: 0o750 });
    expect(owner(path.join(root, 'srv'))).toBe('0:0');
    expect(mode(path.join(root, 'srv'))).toBe(0o700);
    for (const p of ['srv/a', 'srv/a/b', 'srv/a/b/f.txt', 'srv/a/b/d', 'srv/a/b/d/g.txt']) {
      expect(owner(path.join(root, p))).toBe('1234:5678');
      expect(mode(path.join(root, p))).toBe(0o750);
    }
  });

  test('an existing destination directory keeps its owner and mode; directories below take the source metadata', async () => {
    const { ctx, root } = setup({ 'sub/f': 'new' });
    chmodSync(path.join(ctx, 'sub'), 0o711);
    mkdirSync(path.join(root, 'app/sub'), { recursive: true, mode: 0o700 });
    chmodSync(path.join(root, 'app'), 0o700);
    chmodSync(path.join(root, 'app/sub'), 0o700);
    writeFileSync(path.join(root, 'app/sub/f'), 'old');
    writeFileSync(path.join(root, 'app/keep'), 'kept');
    await applyCopy(root, ctx, await select(ctx, ['.'], '/app', { chown: { uid: 7, gid: 7 } }));
    expect(mode(path.join(root, 'app'))).toBe(0o700);
    expect(owner(path.join(root, 'app'))).toBe('0:0');
    expect(mode(path.join(root, 'app/sub'))).toBe(0o711);
    expect(owner(path.join(root, 'app/sub'))).toBe('7:7');
    expect(readFileSync(path.join(root, 'app/sub/f'), 'utf8')).toBe('new');
    expect(readFileSync(path.join(root, 'app/keep'), 'utf8')).toBe('kept');
  });

  test('an existing file or symlink is replaced; a symlink below a copied directory is not followed', async () => {
    const { ctx, root } = setup({ 'd/conf': 'new', top: 'top' });
    mkdirSync(path.join(root, 'etc'));
    writeFileSync(path.join(root, 'etc/passwd'), 'root');
    mkdirSync(path.join(root, 'x'));
    symlinkSync('/etc/passwd', path.join(root, 'x/conf'));
    writeFileSync(path.join(root, 'x/top'), 'old');
    chmodSync(path.join(root, 'x/top'), 0o600);
    await applyCopy(root, ctx, [...(await select(ctx, ['d'], '/x')), ...(await select(ctx, ['top'], '/x/top'))]);
    expect(lstatSync(path.join(root, 'x/conf')).isFile()).toBe(true);
    expect(readFileSync(path.join(root, 'etc/passwd'), 'utf8')).toBe('root');
    expect(readFileSync(path.join(root, 'x/top'), 'utf8')).toBe('top');
    expect(mode(path.join(root, 'x/top'))).toBe(0o644);
  });

  test('a destination through an escaping symlink lands inside root', async () => {
    const { ctx, root } = setup({ x: 'payload' });
    mkdirSync(path.join(root, 'etc'));
    symlinkSync('/../../etc', path.join(root, 'app'));
    await applyCopy(root, ctx, await select(ctx, ['x'], '/app/x'));
    expect(readFileSync(path.join(root, 'etc/x'), 'utf8')).toBe('payload');
    expect(lstatSync(path.join(root, 'app')).isSymbolicLink()).toBe(true);
  });

  test('a directory onto a file and a file onto a directory fail like fsutil, or replace with replaceExisting', async () => {
    const { ctx, root } = setup({ 'd/f': 'in-d', plain: 'p' });
    writeFileSync(path.join(root, 'd'), 'a file');
    mkdirSync(path.join(root, 'plain'));
    const dirEntries = await select(ctx, ['d'], '/d');
    const fileEntries = await select(ctx, ['plain'], '/plain');
    await expect(applyCopy(root, ctx, dirEntries)).rejects.toMatchObject({ code: 'TSC_BUILD_FILEOP', path: '/d' });
    await expect(applyCopy(root, ctx, fileEntries)).rejects.toMatchObject({
      code: 'TSC_BUILD_FILEOP',
      message: expect.stringContaining('directory'),
    });
    await applyCopy(root, ctx, [...dirEntries, ...fileEntries], { replaceExisting: true });
    expect(readFileSync(path.join(root, 'd/f'), 'utf8')).toBe('in-d');
    expect(readFileSync(path.join(root, 'plain'), 'utf8')).toBe('p');
    // below a copied directory too
    const { ctx: ctx2, root: root2 } = setup({ 'src/sub/f': 'x' });
    mkdirSync(path.join(root2, 'out'));
    writeFileSync(path.join(root2, 'out/sub'), 'file');
    const entries = await select(ctx2, ['src'], '/out');
    await expect(applyCopy(root2, ctx2, entries)).rejects.toMatchObject({ path: '/out/sub' });
    await applyCopy(root2, ctx2, entries, { replaceExisting: true });
    expect(readFileSync(path.join(root2, 'out/sub/f'), 'utf8')).toBe('x');
  });

  test('hard links between copied files stay hard links', async () => {
    const { ctx, root } = setup({ a: 'same' });
    linkSync(path.join(ctx, 'a'), path.join(ctx, 'b'));
    await applyCopy(root, ctx, await select(ctx, ['.'], '/h/'));
    expect(statSync(path.join(root, 'h/a')).ino).toBe(statSync(path.join(root, 'h/b')).ino);
  });

  test('an aborted signal stops the copy', async () => {
    const { ctx, root } = setup({ a: '' });
    const ac = new AbortController();
    ac.abort();
    await expect(applyCopy(root, ctx, await select(ctx, ['a'], '/a'), { signal: ac.signal })).rejects.toMatchObject({ name: 'AbortError' });
    expect(existsSync(path.join(root, 'a'))).toBe(false);
  });
});

describe('writeInlineFiles', () => {
  test('into a directory (trailing slash, or existing), at a file path, with owner and mode', async () => {
    const { root } = setup();
    await writeInlineFiles(root, '/etc/app/', [{ path: 'conf', content: 'a=1\n' }], { uid: 0, gid: 0 });
    expect(readFileSync(path.join(root, 'etc/app/conf'), 'utf8')).toBe('a=1\n');
    expect(mode(path.join(root, 'etc/app/conf'))).toBe(0o644);
    expect(mode(path.join(root, 'etc/app'))).toBe(0o755);
    await writeInlineFiles(root, '/etc/app', [{ path: 'two', content: '2' }], { uid: 33, gid: 44, mode: 0o755 });
    expect(owner(path.join(root, 'etc/app/two'))).toBe('33:44');
    expect(mode(path.join(root, 'etc/app/two'))).toBe(0o755);
    await writeInlineFiles(root, '/usr/local/bin/run', [{ path: 'EOF', content: 'echo' }], { uid: 5, gid: 6, mode: 0o700 });
    expect(readFileSync(path.join(root, 'usr/local/bin/run'), 'utf8')).toBe('echo');
    expect(owner(path.join(root, 'usr/local'))).toBe('5:6');
    expect(mode(path.join(root, 'usr/local/bin'))).toBe(0o700);
    // an existing file is replaced
    await writeInlineFiles(root, '/usr/local/bin/run', [{ path: 'EOF', content: 'again' }], { uid: 0, gid: 0 });
    expect(readFileSync(path.join(root, 'usr/local/bin/run'), 'utf8')).toBe('again');
    expect(mode(path.join(root, 'usr/local/bin/run'))).toBe(0o644);
  });
});

describe('makeWorkdir', () => {
  test('mkdir -p owned by the user on what it makes; idempotent; through symlinks inside root', async () => {
    const { root } = setup();
    mkdirSync(path.join(root, 'home'), { mode: 0o700 });
    chmodSync(path.join(root, 'home'), 0o700);
    expect(await makeWorkdir(root, '/home/u/src', { uid: 1000, gid: 1000 })).toBe(true);
    expect(owner(path.join(root, 'home'))).toBe('0:0');
    expect(mode(path.join(root, 'home'))).toBe(0o700);
    expect(owner(path.join(root, 'home/u'))).toBe('1000:1000');
    expect(mode(path.join(root, 'home/u/src'))).toBe(0o755);
    expect(await makeWorkdir(root, '/home/u/src', { uid: 0, gid: 0 })).toBe(false);
    expect(owner(path.join(root, 'home/u/src'))).toBe('1000:1000');
    symlinkSync('../../../w', path.join(root, 'wl'));
    expect(await makeWorkdir(root, '/wl/x', { uid: 0, gid: 0 }, { time: T })).toBe(true);
    expect(statSync(path.join(root, 'w/x')).mtime).toEqual(T);
    expect(statSync(path.join(root, 'w')).mtime).toEqual(T);
    writeFileSync(path.join(root, 'file'), '');
    await expect(makeWorkdir(root, '/file/sub', { uid: 0, gid: 0 })).rejects.toMatchObject({ code: 'TSC_BUILD_FILEOP' });
    expect(await makeWorkdir(root, '/', { uid: 0, gid: 0 })).toBe(false);
  });
});
