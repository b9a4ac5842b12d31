import { afterAll, describe, expect, test } from '@jest/globals';
import { chmodSync } from 'node:fs';
import path from 'node:path';
import { globToRegExp, splitWildcards } from './glob.js';
import { DockerIgnore } from './ignore.js';
import { type CopyEntry, type SelectOptions, cleanSource, expandSource, parseChmod, parseChown, resolveInContext, selectCopy } from './select.js';
import { scratch } from './__fixtures__/tree.js';

const area = scratch('tsc-select-');
afterAll(() => area.remove());

const sel = (context: string, sources: string[], dest: string, more: Partial<SelectOptions> = {}): Promise<CopyEntry[]> =>
  selectCopy({ context, sources, dest, ...more });
const pairs = (entries: CopyEntry[]): string[] => entries.map((e) => `${e.source} -> ${e.dest}`);

describe('sources', () => {
  test('cleaned relative to the context; .. cannot leave it', () => {
    expect(cleanSource('./a/b/')).toBe('a/b');
    expect(cleanSource('/a')).toBe('a');
    expect(cleanSource('../../etc/passwd')).toBe('etc/passwd');
    expect(cleanSource('.')).toBe('.');
    expect(cleanSource('a/../..')).toBe('.');
  });
  test('filepath.Match globs: * ? classes escapes, per component', () => {
    expect(splitWildcards('src/*.ts')).toEqual({ base: 'src', pattern: '*.ts' });
    expect(splitWildcards('a/b')).toEqual({ base: 'a/b', pattern: '' });
    expect(splitWildcards('x\\*y')).toEqual({ base: 'x\\*y', pattern: '' });
    const re = globToRegExp('f[a-c]?.t[!x]t');
    expect(re.test('fb1.t!t')).toBe(true);
    expect(re.test('fd1.t!t')).toBe(false);
    expect(globToRegExp('[^a]x').test('bx')).toBe(true);
    expect(globToRegExp('[^a]x').test('ax')).toBe(false);
    expect(globToRegExp('*.js').test('a/b.js')).toBe(false);
    expect(globToRegExp('\\[x').test('[x')).toBe(true);
    for (const bad of ['[', '[a-', 'a\\', '[]a]', '[z-a]']) {
      expect(() => globToRegExp(bad)).toThrow(expect.objectContaining({ code: 'TSC_BUILD_PATTERN' }));
    }
  });
  test('a glob expands in lexical order; matched directories are not searched; .dockerignore applies', async () => {
    const ctx = area.tree({ 'a.txt': '', 'b.txt': '', 'c.md': '', 'd.txt/inner.txt': '', 'sub/e.txt': '', 'secret.txt': '' });
    const ig = new DockerIgnore(['secret.txt']);
    expect(await expandSource(ctx, '*.txt', ig)).toEqual(['a.txt', 'b.txt', 'd.txt']);
    expect(await expandSource(ctx, '*/*.txt', ig)).toEqual(['d.txt/inner.txt', 'sub/e.txt']);
    expect(await expandSource(ctx, 'nomatch*', ig)).toEqual([]);
    await expect(expandSource(ctx, 'missing/*.txt', ig)).rejects.toMatchObject({ code: 'TSC_BUILD_COPY_SOURCE', path: 'missing' });
  });
});

describe('selectCopy', () => {
  test('a file to a file path, into a directory with a trailing slash, into an existing directory', async () => {
    const ctx = area.tree({ 'app.py': 'print(1)' });
    expect(pairs(await sel(ctx, ['app.py'], '/srv/main.py'))).toEqual(['app.py -> /srv/main.py']);
    expect(pairs(await sel(ctx, ['app.py'], '/srv/'))).toEqual(['app.py -> /srv/app.py']);
    expect(pairs(await sel(ctx, ['./app.py'], '/srv', { destIsDir: true }))).toEqual(['app.py -> /srv/app.py']);
    expect(pairs(await sel(ctx, ['app.py'], '/srv/.'))).toEqual(['app.py -> /srv/app.py']);
  });
  test('a directory copies its contents, not itself', async () => {
    const ctx = area.tree({ 'src/a.js': 'a', 'src/lib/b.js': 'b' });
    const out = await sel(ctx, ['src'], '/app');
    expect(pairs(out)).toEqual(['src -> /app', 'src/a.js -> /app/a.js', 'src/lib -> /app/lib', 'src/lib/b.js -> /app/lib/b.js']);
    expect(out[0]).toMatchObject({ type: 'dir', sourceRoot: true });
    expect(out[1]).toMatchObject({ type: 'file', size: 1 });
    expect(pairs(await sel(ctx, ['src/'], '/app/'))).toEqual(pairs(out));
  });
  test('the whole context, with .dockerignore (exceptions re-include below an excluded directory)', async () => {
    const ctx = area.tree({ Dockerfile: 'FROM x', 'a.txt': 'a', 'logs/x.log': 'x', 'logs/keep.log': 'k', '.git/HEAD': 'h' });
    const ignore = new DockerIgnore(['.git', 'logs', '!logs/keep.log']);
    expect(pairs(await sel(ctx, ['.'], '/w/', { ignore }))).toEqual([
      '. -> /w',
      'Dockerfile -> /w/Dockerfile',
      'a.txt -> /w/a.txt',
      'logs -> /w/logs',
      'logs/keep.log -> /w/logs/keep.log',
    ]);
  });
  test('several sources or a multi-match glob need a directory destination', async () => {
    const ctx = area.tree({ 'a.txt': 'a', 'b.txt': 'b', 'only.md': 'o' });
    await expect(sel(ctx, ['a.txt', 'b.txt'], '/x')).rejects.toMatchObject({ code: 'TSC_BUILD_COPY_DEST', dest: '/x' });
    await expect(sel(ctx, ['*.txt'], '/x')).rejects.toMatchObject({ code: 'TSC_BUILD_COPY_DEST' });
    expect(pairs(await sel(ctx, ['*.txt'], '/x/'))).toEqual(['a.txt -> /x/a.txt', 'b.txt -> /x/b.txt']);
    expect(pairs(await sel(ctx, ['a.txt', 'b.txt'], '/x', { destIsDir: true }))).toHaveLength(2);
    // a glob with one match is one source
    expect(pairs(await sel(ctx, ['*.md'], '/x'))).toEqual(['only.md -> /x']);
    // and one with none selects nothing (BuildKit's AllowEmptyWildcard)
    expect(await sel(ctx, ['*.none'], '/x/')).toEqual([]);
  });
  test('a missing or excluded source is a typed error naming the path relative to the context', async () => {
    const ctx = area.tree({ 'a.txt': 'a', 'secret.env': 's' });
    const err = await sel(ctx, ['a.txt', '/sub/../nothere.txt'], '/x/').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'TSC_BUILD_COPY_SOURCE', path: 'nothere.txt' });
    expect((err as Error).message).toContain('"nothere.txt"');
    await expect(sel(ctx, ['secret.env'], '/x/', { ignore: new DockerIgnore(['*.env']) })).rejects.toMatchObject({
      code: 'TSC_BUILD_COPY_SOURCE',
      path: 'secret.env',
    });
    await expect(sel(ctx, ['../../a.txt'], '/x/')).resolves.toHaveLength(1);
  });
  test('symlinks: the source path is followed (inside the context), links below a directory are copied as links', async () => {
    const ctx = area.tree({
      'real/f.txt': 'content',
      'real/rel-link': { link: 'f.txt' },
      dirlink: { link: 'real' },
      filelink: { link: '/real/f.txt' },
      escape: { link: '../../../../real/f.txt' },
      dangling: { link: 'nowhere' },
    });
    expect(await sel(ctx, ['filelink'], '/x/')).toEqual([
      { source: 'real/f.txt', dest: '/x/filelink', type: 'file', mode: expect.any(Number), uid: 0, gid: 0, size: 7 },
    ]);
    expect((await sel(ctx, ['escape'], '/x/'))[0]).toMatchObject({ source: 'real/f.txt', dest: '/x/escape' });
    const dir = await sel(ctx, ['dirlink'], '/d');
    expect(pairs(dir)).toEqual(['real -> /d', 'real/f.txt -> /d/f.txt', 'real/rel-link -> /d/rel-link']);
    expect(dir[2]).toMatchObject({ type: 'symlink', linkTarget: 'f.txt', size: 0 });
    await expect(sel(ctx, ['dangling'], '/x/')).rejects.toMatchObject({ code: 'TSC_BUILD_COPY_SOURCE', path: 'dangling' });
    expect(await resolveInContext(ctx, 'dirlink/f.txt', undefined)).toMatchObject({ rel: 'real/f.txt' });
    expect(await resolveInContext(ctx, 'dirlink', undefined, false)).toMatchObject({ rel: 'dirlink' });
  });
  test('a symlink loop is an error, not a hang', async () => {
    const ctx = area.tree({ a: { link: 'b' }, b: { link: 'a' } });
    await expect(sel(ctx, ['a'], '/x')).rejects.toMatchObject({ code: 'TSC_BUILD_COPY_SOURCE' });
  });
  test('mode from lstat; --chmod on files and directories, not links; owner 0:0, --chown, or preserved', async () => {
    const ctx = area.tree({ 'd/run.sh': '#!/bin/sh', 'd/l': { link: 'run.sh' } });
    chmodSync(path.join(ctx, 'd/run.sh'), 0o4751);
    chmodSync(path.join(ctx, 'd'), 0o700);
    const plain = await sel(ctx, ['d'], '/o');
    expect(plain.map((e) => [e.type, e.mode.toString(8), e.uid, e.gid])).toEqual([
      ['dir', '700', 0, 0],
      ['symlink', '777', 0, 0],
      ['file', '4751', 0, 0],
    ]);
    const changed = await sel(ctx, ['d'], '/o', { chmod: parseChmod('640'), chown: await parseChown('1000:50') });
    expect(changed.map((e) => [e.type, e.mode.toString(8), e.uid, e.gid])).toEqual([
      ['dir', '640', 1000, 50],
      ['symlink', '777', 1000, 50],
      ['file', '640', 1000, 50],
    ]);
    const kept = await sel(ctx, ['d/run.sh'], '/o', { preserveOwner: true });
    expect(kept[0]).toMatchObject({ uid: process.getuid?.(), gid: process.getgid?.() });
  });
  test('parseChown: numbers, a user alone gives its id as the group, names through the resolver', async () => {
    expect(await parseChown('10')).toEqual({ uid: 10, gid: 10 });
    expect(await parseChown('10:20')).toEqual({ uid: 10, gid: 20 });
    const resolve = (user: string, group: string | undefined): { uid: number; gid: number } => ({
      uid: user === 'app' ? 999 : -1,
      gid: group === 'staff' ? 50 : 999,
    });
    expect(await parseChown('app:staff', resolve)).toEqual({ uid: 999, gid: 50 });
    expect(await parseChown('app', resolve)).toEqual({ uid: 999, gid: 999 });
    await expect(parseChown('app')).rejects.toMatchObject({ code: 'TSC_BUILD_PATTERN' });
    await expect(parseChown('a:b:c')).rejects.toMatchObject({ code: 'TSC_BUILD_PATTERN' });
    expect(() => parseChmod('u+x')).toThrow(expect.objectContaining({ code: 'TSC_BUILD_PATTERN' }));
    expect(parseChmod('0755')).toBe(0o755);
  });
});
