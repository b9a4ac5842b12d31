import { afterAll, describe, expect, test } from '@jest/globals';
import { DockerIgnore, cleanPath, loadDockerIgnore, parseDockerignore, readIgnoreFile } from './ignore.js';
import { walkContext } from './walk.js';
import { scratch } from './__fixtures__/tree.js';

const area = scratch('tsc-ignore-');
afterAll(() => area.remove());

const ig = (...patterns: string[]): DockerIgnore => new DockerIgnore(patterns);

describe('parseDockerignore (ignorefile.ReadAll)', () => {
  test('comments, blanks, trimming, cleaning, leading slash and ./ dropped, exceptions kept', () => {
    const text = '\uFEFF# comment\n\n  node_modules  \n/build/\n./dist\n!  /dist/keep.txt\na/../b\n  # not a comment\r\n*.log\n';
    expect(parseDockerignore(text)).toEqual(['node_modules', 'build', 'dist', '!dist/keep.txt', 'b', '# not a comment', '*.log']);
  });
  test('cleanPath is filepath.Clean', () => {
    expect(cleanPath('')).toBe('.');
    expect(cleanPath('a//b/./c/')).toBe('a/b/c');
    expect(cleanPath('/')).toBe('/');
    expect(cleanPath('../x')).toBe('../x');
  });
});

describe('DockerIgnore (patternmatcher)', () => {
  test('a plain name matches at the root only, and everything below it', () => {
    const m = ig('tmp');
    expect(m.ignores('tmp')).toBe(true);
    expect(m.ignores('tmp/a/b')).toBe(true);
    expect(m.ignores('src/tmp')).toBe(false);
    expect(m.ignores('tmpx')).toBe(false);
  });
  test('* and ? stay within a component', () => {
    const m = ig('*.md', 'a?c');
    expect(m.ignores('README.md')).toBe(true);
    expect(m.ignores('docs/x.md')).toBe(false);
    expect(m.ignores('abc')).toBe(true);
    expect(m.ignores('a/c')).toBe(false);
    expect(ig('*/*.md').ignores('docs/x.md')).toBe(true);
  });
  test('** matches any number of components', () => {
    const m = ig('**/*.pyc');
    expect(m.ignores('a.pyc')).toBe(true);
    expect(m.ignores('x/y/z/a.pyc')).toBe(true);
    expect(m.ignores('x/a.py')).toBe(false);
    const all = ig('foo/**');
    expect(all.ignores('foo/bar/baz')).toBe(true);
    expect(all.ignores('foo')).toBe(false);
    expect(ig('a/**/b').ignores('a/b')).toBe(true);
    expect(ig('a/**/b').ignores('a/x/y/b')).toBe(true);
  });
  test('classes and escapes; regular-expression characters are literal; case-sensitive', () => {
    expect(ig('file[0-9].txt').ignores('file7.txt')).toBe(true);
    expect(ig('file[0-9].txt').ignores('filex.txt')).toBe(false);
    expect(ig('\\*star').ignores('*star')).toBe(true);
    expect(ig('\\*star').ignores('xstar')).toBe(false);
    expect(ig('a+b(c)').ignores('a+b(c)')).toBe(true);
    expect(ig('a+b').ignores('aab')).toBe(false);
    expect(ig('Build').ignores('build')).toBe(false);
  });
  test('exceptions: the last matching pattern wins, also inside an excluded directory', () => {
    const m = ig('*.md', '!README.md', 'docs', '!docs/keep');
    expect(m.ignores('CHANGES.md')).toBe(true);
    expect(m.ignores('README.md')).toBe(false);
    expect(m.ignores('docs/a')).toBe(true);
    expect(m.ignores('docs/keep')).toBe(false);
    expect(m.ignores('docs/keep/inner')).toBe(false);
    expect(ig('!README.md', '*.md').ignores('README.md')).toBe(true);
    expect(m.mayIncludeBelow('docs')).toBe(true);
    expect(ig('docs').mayIncludeBelow('docs')).toBe(false);
  });
  test('an exception pattern that is only "!" is an error', () => {
    expect(() => ig('!')).toThrow(expect.objectContaining({ code: 'TSC_BUILD_PATTERN' }));
  });
});

describe('readIgnoreFile', () => {
  test('the context .dockerignore, or none', async () => {
    const ctx = area.tree({ '.dockerignore': 'a\n!b\n' });
    expect(await readIgnoreFile(ctx)).toEqual({ patterns: ['a', '!b'], file: `${ctx}/.dockerignore` });
    expect(await readIgnoreFile(area.tree({}))).toEqual({ patterns: [], file: undefined });
  });
  test('<Dockerfile>.dockerignore next to the Dockerfile wins over the context one', async () => {
    const ctx = area.tree({ '.dockerignore': 'ctx-only', 'build/app.Dockerfile': 'FROM x', 'build/app.Dockerfile.dockerignore': 'df-only' });
    expect((await readIgnoreFile(ctx, 'build/app.Dockerfile')).patterns).toEqual(['df-only']);
    expect((await readIgnoreFile(ctx, `${ctx}/build/app.Dockerfile`)).file).toBe(`${ctx}/build/app.Dockerfile.dockerignore`);
    // a Dockerfile without its own ignore file falls back to the context's
    expect((await readIgnoreFile(ctx, 'Dockerfile')).patterns).toEqual(['ctx-only']);
  });
});

describe('walkContext', () => {
  test('sorted, directories before contents, excluded paths left out, links not followed', async () => {
    const ctx = area.tree({ 'b.txt': 'b', 'a/x': 'x', 'a/y.log': 'y', 'node_modules/m/i.js': 'i', link: { link: 'a' } });
    const m = ig('node_modules', '**/*.log');
    expect((await walkContext(ctx, m)).map((e) => e.rel)).toEqual(['a', 'a/x', 'b.txt', 'link']);
  });
  test('an excluded directory appears only as the parent of a re-included path', async () => {
    const ctx = area.tree({ 'docs/a.md': 'a', 'docs/sub/keep.md': 'k', 'other/z': 'z' });
    const m = await loadDockerIgnore(area.tree({ '.dockerignore': 'docs\nother\n!docs/sub/keep.md\n' }));
    expect((await walkContext(ctx, m)).map((e) => e.rel)).toEqual(['docs', 'docs/sub', 'docs/sub/keep.md']);
  });
  test('maxDepth limits the walk', async () => {
    const ctx = area.tree({ 'a/b/c': 'c' });
    expect((await walkContext(ctx, undefined, '.', 2)).map((e) => e.rel)).toEqual(['a', 'a/b']);
  });
});
