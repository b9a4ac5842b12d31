import { afterAll, describe, expect, test } from '@jest/globals';
import { chmodSync, chownSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { FileHashCache, hashContext, hashFile, hashSelection } from './hash.js';
import { DockerIgnore } from './ignore.js';
import { type SelectOptions, selectCopy } from './select.js';
import { scratch } from './__fixtures__/tree.js';

const area = scratch('tsc-hash-');
afterAll(() => area.remove());

const tree = { 'app/main.py': 'print(1)\n', 'app/lib/util.py': 'x = 1\n', 'app/link': { link: 'main.py' }, 'README.md': 'hi' } as const;

async function hashOf(ctx: string, more: Partial<SelectOptions> = {}): Promise<string> {
  const entries = await selectCopy({ context: ctx, sources: ['app'], dest: '/srv/', ...more });
  return hashSelection(ctx, entries);
}

describe('hashFile', () => {
  test('sha256 of the bytes, streamed (a file larger than a stream chunk)', async () => {
    const ctx = area.tree();
    const big = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
    writeFileSync(path.join(ctx, 'big'), big);
    expect(await hashFile(path.join(ctx, 'big'))).toBe(`sha256:${createHash('sha256').update(big).digest('hex')}`);
  });
});

describe('hashSelection', () => {
  test('stable across runs and copies of the context; mtime does not count', async () => {
    const a = area.tree(tree);
    const b = area.tree(tree);
    const first = await hashOf(a);
    expect(first).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await hashOf(a)).toBe(first);
    expect(await hashOf(b)).toBe(first);
    utimesSync(path.join(a, 'app/main.py'), new Date(2000, 1, 1), new Date(2000, 1, 1));
    expect(await hashOf(a)).toBe(first);
  });
  test('independent of the order of the entries', async () => {
    const ctx = area.tree(tree);
    const entries = await selectCopy({ context: ctx, sources: ['app'], dest: '/srv/' });
    expect(await hashSelection(ctx, [...entries].reverse())).toBe(await hashSelection(ctx, entries));
  });
  test('content, mode, owner, name and link target each change it', async () => {
    const base = await hashOf(area.tree(tree));
    const seen = new Set([base]);
    const changed = async (label: string, fn: (ctx: string) => void, more: Partial<SelectOptions> = {}): Promise<void> => {
      const ctx = area.tree(tree);
      fn(ctx);
      const h = await hashOf(ctx, more);
      expect([label, seen.has(h)]).toEqual([label, false]);
      seen.add(h);
    };
    await changed('content', (c) => writeFileSync(path.join(c, 'app/main.py'), 'print(2)\n'));
    await changed('same size, other bytes', (c) => writeFileSync(path.join(c, 'app/main.py'), 'print(3)\n'));
    await changed('mode', (c) => chmodSync(path.join(c, 'app/main.py'), 0o755));
    await changed('directory mode', (c) => chmodSync(path.join(c, 'app/lib'), 0o700));
    await changed('name', (c) => renameSync(path.join(c, 'app/lib/util.py'), path.join(c, 'app/lib/utils.py')));
    await changed('link target', (c) => {
      rmSync(path.join(c, 'app/link'));
      symlinkSync('lib/util.py', path.join(c, 'app/link'));
    });
    await changed('--chown', () => undefined, { chown: { uid: 1000, gid: 1000 } });
    await changed('--chown group only', () => undefined, { chown: { uid: 0, gid: 1 } });
    await changed('--chmod', () => undefined, { chmod: 0o644 });
  });
  const asRoot = process.getuid?.() === 0 ? test : test.skip;
  asRoot('the source owner counts when it is kept (COPY --from)', async () => {
    const keep = { preserveOwner: true };
    const before = await hashOf(area.tree(tree), keep);
    const ctx = area.tree(tree);
    chownSync(path.join(ctx, 'app/main.py'), 1234, 0);
    expect(await hashOf(ctx, keep)).not.toBe(before);
    expect(await hashOf(ctx)).toBe(await hashOf(area.tree(tree)));
  });
  test('the destination counts, and an ignored file does not', async () => {
    const ctx = area.tree({ ...tree, 'app/junk.tmp': 'junk' });
    const plain = await hashOf(area.tree(tree));
    expect(await hashOf(ctx, { ignore: new DockerIgnore(['**/*.tmp']) })).toBe(plain);
    expect(await hashOf(ctx)).not.toBe(plain);
    expect(await hashOf(area.tree(tree), { dest: '/opt/' })).not.toBe(plain);
  });
  test('a cache reuses digests of unchanged files and notices changed ones', async () => {
    const ctx = area.tree(tree);
    const cache = new FileHashCache();
    const entries = await selectCopy({ context: ctx, sources: ['app'], dest: '/srv/' });
    const first = await hashSelection(ctx, entries, { cache });
    expect(cache.size).toBe(2);
    expect(await hashSelection(ctx, entries, { cache })).toBe(first);
    writeFileSync(path.join(ctx, 'app/main.py'), 'print(9)\n');
    const again = await selectCopy({ context: ctx, sources: ['app'], dest: '/srv/' });
    expect(await hashSelection(ctx, again, { cache })).toBe(await hashSelection(ctx, again));
    expect(await hashSelection(ctx, again, { cache })).not.toBe(first);
  });
  test('a saved cache serves the next build; a missing or broken file is an empty cache', async () => {
    const ctx = area.tree(tree);
    const file = path.join(ctx, '..', `hashes-${Math.random().toString(36).slice(2)}.json`);
    const entries = await selectCopy({ context: ctx, sources: ['app'], dest: '/srv/' });
    const cache = await FileHashCache.load(file);
    expect(cache.size).toBe(0);
    const first = await hashSelection(ctx, entries, { cache });
    await cache.save(file);
    const loaded = await FileHashCache.load(file);
    expect(loaded.size).toBe(2);
    expect(await hashSelection(ctx, entries, { cache: loaded })).toBe(first);
    writeFileSync(file, '{not json');
    expect((await FileHashCache.load(file)).size).toBe(0);
  });
});

describe('hashContext', () => {
  test('counts and a digest that follows .dockerignore, stable, sensitive to content and mode', async () => {
    const ctx = area.tree({ ...tree, 'node_modules/x/index.js': 'x' });
    const ignore = new DockerIgnore(['node_modules']);
    const d = await hashContext(ctx, ignore);
    expect(d).toMatchObject({ files: 3, dirs: 2, symlinks: 1, bytes: 9 + 6 + 2 });
    expect((await hashContext(area.tree(tree), undefined)).digest).toBe(d.digest);
    expect((await hashContext(ctx, undefined)).digest).not.toBe(d.digest);
    writeFileSync(path.join(ctx, 'node_modules/x/index.js'), 'changed');
    expect((await hashContext(ctx, ignore)).digest).toBe(d.digest);
    chmodSync(path.join(ctx, 'README.md'), 0o600);
    expect((await hashContext(ctx, ignore)).digest).not.toBe(d.digest);
  });
});
