import { afterEach, describe, expect, test } from '@jest/globals';
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type TreeWatcher, type TreeWatcherOptions, type WatchBatch, watchedDirectories, watchTree } from './tree-watcher.js';

const dirs: string[] = [];
const watchers: TreeWatcher[] = [];

afterEach(async () => {
  await Promise.all(watchers.splice(0).map((w) => w.close()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tmp(): string {
  const d = realpathSync(mkdtempSync(join(tmpdir(), 'tsc-watch-')));
  dirs.push(d);
  return d;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts a watcher that records its batches; `settled()` waits until no batch came for `quietMs`. */
async function record(roots: string[], options: TreeWatcherOptions = {}, onBatch?: (b: WatchBatch) => void | Promise<void>) {
  const batches: WatchBatch[] = [];
  let last = Date.now();
  const w = await watchTree(
    roots,
    async (b) => {
      batches.push(b);
      last = Date.now();
      await onBatch?.(b);
    },
    { debounceMs: 25, ...options },
  );
  watchers.push(w);
  return {
    w,
    batches,
    changed: () => [...new Set(batches.flatMap((b) => b.changed))].sort(),
    removed: () => batches.flatMap((b) => b.removed).sort(),
    /** Waits for `pred` to hold, then for a quiet period (no further batch), failing after `timeoutMs`. */
    async until(pred: () => boolean, quietMs = 75, timeoutMs = 5000): Promise<void> {
      const start = Date.now();
      while (!pred()) {
        if (Date.now() - start > timeoutMs) throw new Error(`timed out; batches: ${JSON.stringify(batches)}`);
        await sleep(10);
      }
      while (Date.now() - last < quietMs) await sleep(10);
    },
  };
}

describe('watchTree', () => {
  test('a single write is one batch', async () => {
    const d = tmp();
    const r = await record([d]);
    writeFileSync(join(d, 'a.txt'), 'x');
    await r.until(() => r.batches.length > 0);
    expect(r.batches).toEqual([{ changed: [join(d, 'a.txt')], removed: [] }]);
  });

  // These two use a longer quiet period than the other tests' 25 ms: on a loaded machine (parallel test workers,
  // a busy disk) a burst can pause that long, and the point is that one burst makes one batch, not hundreds.
  test('a burst of 500 writes is one batch (two at most)', async () => {
    const d = tmp();
    const r = await record([d], { debounceMs: 100 });
    const files = Array.from({ length: 500 }, (_, i) => join(d, `f${i}.txt`));
    for (let i = 0; i < files.length; i += 50) await Promise.all(files.slice(i, i + 50).map((f) => writeFile(f, 'x')));
    await r.until(() => r.changed().length === 500);
    expect(r.changed()).toEqual(files.sort());
    expect(r.batches.length).toBeLessThanOrEqual(2);
    expect(r.removed()).toEqual([]);
  });

  test('a git checkout of 2,000 files in new directories is one or two batches, and back is one removal', async () => {
    const d = tmp();
    const git = (args: string[], input?: string) =>
      execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: d, input, encoding: 'utf8' }).trim();
    git(['init', '-q', '-b', 'main']);
    writeFileSync(join(d, 'README'), '');
    git(['add', '.']);
    git(['commit', '-q', '-m', 'base']);
    // The feature branch's 2,000 files go straight into the index, never written here before the checkout.
    const blob = git(['hash-object', '-w', '--stdin'], 'export {};\n');
    const want: string[] = [];
    const entries: string[] = [];
    for (let i = 0; i < 20; i++)
      for (let j = 0; j < 100; j++) {
        entries.push(`100644 ${blob}\tsrc/pkg${i}/lib/m${j}.ts`);
        want.push(join(d, `src/pkg${i}/lib/m${j}.ts`));
      }
    git(['update-index', '--index-info'], entries.join('\n') + '\n');
    const commit = git(['commit-tree', git(['write-tree']), '-p', 'HEAD', '-m', 'many']);
    git(['branch', 'feature', commit]);
    git(['reset', '-q']);
    // A slow disk must not split the checkout by maxWaitMs: this is about the debounce gathering it.
    const r = await record([d], { debounceMs: 100, maxWaitMs: 10_000, ignore: (p, isDir) => isDir && p.endsWith('/.git') });

    await promisify(execFile)('git', ['checkout', '-q', 'feature'], { cwd: d });
    await r.until(() => r.changed().length >= want.length);
    expect(r.changed()).toEqual(want.sort());
    expect(r.removed()).toEqual([]);
    expect(r.batches.length).toBeLessThanOrEqual(2);

    r.batches.length = 0;
    await promisify(execFile)('git', ['checkout', '-q', 'main'], { cwd: d });
    await r.until(() => r.removed().includes(join(d, 'src')));
    expect(r.changed()).toEqual([]);
    expect(r.batches.length).toBeLessThanOrEqual(2);
    // A directory is reported as itself: `src` once all of it is gone; a pkgN directory only if it was gone in an
    // earlier batch, while `src` still existed.
    expect(r.batches.at(-1)!.removed).toEqual([join(d, 'src')]);
    for (const p of r.removed()) expect(p).toMatch(/\/src(\/pkg\d+)?$/);
  });

  test('an atomic save (temp file renamed over) and editor temp files give the file only', async () => {
    const d = tmp();
    const f = join(d, 'main.go');
    writeFileSync(f, 'v1');
    const r = await record([d]);
    writeFileSync(join(d, '.main.go.swp'), 'swap');
    writeFileSync(join(d, 'main.go~'), 'backup');
    writeFileSync(join(d, '4913'), '');
    rmSync(join(d, '4913'));
    writeFileSync(join(d, 'main.go.tmp.123'), 'v2');
    renameSync(join(d, 'main.go.tmp.123'), f);
    await r.until(() => r.batches.length > 0);
    expect(r.batches).toEqual([{ changed: [f], removed: [] }]);
  });

  test('a deleted file is removed', async () => {
    const d = tmp();
    writeFileSync(join(d, 'a'), '');
    writeFileSync(join(d, 'b'), '');
    const r = await record([d]);
    rmSync(join(d, 'a'));
    await r.until(() => r.batches.length > 0);
    expect(r.batches).toEqual([{ changed: [], removed: [join(d, 'a')] }]);
  });

  test('a file created and deleted within a batch is not reported', async () => {
    const d = tmp();
    const r = await record([d]);
    writeFileSync(join(d, 'gone'), '');
    rmSync(join(d, 'gone'));
    writeFileSync(join(d, 'kept'), '');
    await r.until(() => r.batches.length > 0);
    expect(r.batches).toEqual([{ changed: [join(d, 'kept')], removed: [] }]);
  });

  test('rm -rf of a directory is reported once, as the directory', async () => {
    const d = tmp();
    for (const sub of ['x/y/z', 'x/w']) mkdirSync(join(d, sub), { recursive: true });
    for (const f of ['x/1', 'x/y/2', 'x/y/z/3', 'x/w/4']) writeFileSync(join(d, f), '');
    const r = await record([d]);
    rmSync(join(d, 'x'), { recursive: true });
    await r.until(() => r.batches.length > 0);
    expect(r.changed()).toEqual([]);
    expect(r.removed()).toEqual([join(d, 'x')]);
    expect(watchedDirectories(r.w)).toEqual([d]);
  });

  test('a directory removed and made again within a batch: its old files removed, its new ones changed', async () => {
    const d = tmp();
    mkdirSync(join(d, 'a/sub'), { recursive: true });
    writeFileSync(join(d, 'a/old'), '');
    writeFileSync(join(d, 'a/sub/kept'), '');
    const r = await record([d]);
    rmSync(join(d, 'a'), { recursive: true });
    mkdirSync(join(d, 'a/sub'), { recursive: true });
    writeFileSync(join(d, 'a/sub/kept'), '');
    writeFileSync(join(d, 'a/new'), '');
    await r.until(() => r.batches.length > 0);
    expect(r.batches).toEqual([{ changed: [join(d, 'a/new'), join(d, 'a/sub/kept')], removed: [join(d, 'a/old')] }]);
    // The new directories are the ones watched.
    r.batches.length = 0;
    writeFileSync(join(d, 'a/sub/later'), '');
    await r.until(() => r.batches.length > 0);
    expect(r.batches).toEqual([{ changed: [join(d, 'a/sub/later')], removed: [] }]);
  });

  test('a file replaced by a directory, and a directory by a file', async () => {
    const d = tmp();
    writeFileSync(join(d, 'f'), '');
    mkdirSync(join(d, 'dir'));
    writeFileSync(join(d, 'dir/x'), '');
    const r = await record([d]);
    rmSync(join(d, 'f'));
    mkdirSync(join(d, 'f'));
    writeFileSync(join(d, 'f/inside'), '');
    rmSync(join(d, 'dir'), { recursive: true });
    writeFileSync(join(d, 'dir'), '');
    await r.until(() => r.batches.length > 0);
    expect(r.changed()).toEqual([join(d, 'dir'), join(d, 'f/inside')]);
    expect(r.removed()).toEqual([join(d, 'f')]);
    expect(watchedDirectories(r.w)).toEqual([d, join(d, 'f')]);
  });

  test('a new nested directory is reported as the files under it', async () => {
    const d = tmp();
    const r = await record([d]);
    mkdirSync(join(d, 'a/b/c'), { recursive: true });
    writeFileSync(join(d, 'a/b/c/deep'), '');
    writeFileSync(join(d, 'a/top'), '');
    mkdirSync(join(d, 'a/empty'));
    await r.until(() => r.changed().length === 2);
    expect(r.changed()).toEqual([join(d, 'a/b/c/deep'), join(d, 'a/top')]);
    expect(r.removed()).toEqual([]);
    expect(watchedDirectories(r.w)).toEqual([d, join(d, 'a'), join(d, 'a/b'), join(d, 'a/b/c'), join(d, 'a/empty')]);
    // The new directories are watched: a later write in them is seen.
    writeFileSync(join(d, 'a/b/c/later'), '');
    await r.until(() => r.changed().includes(join(d, 'a/b/c/later')));
  });

  test('a directory moved in, then out, then renamed within the tree', async () => {
    const d = tmp();
    const outside = tmp();
    mkdirSync(join(outside, 'pkg/sub'), { recursive: true });
    writeFileSync(join(outside, 'pkg/a'), '');
    writeFileSync(join(outside, 'pkg/sub/b'), '');
    const r = await record([d]);

    renameSync(join(outside, 'pkg'), join(d, 'pkg'));
    await r.until(() => r.changed().length === 2);
    expect(r.batches).toEqual([{ changed: [join(d, 'pkg/a'), join(d, 'pkg/sub/b')], removed: [] }]);

    r.batches.length = 0;
    renameSync(join(d, 'pkg'), join(d, 'lib'));
    await r.until(() => r.batches.length > 0);
    expect(r.batches).toEqual([{ changed: [join(d, 'lib/a'), join(d, 'lib/sub/b')], removed: [join(d, 'pkg')] }]);
    // The renamed directory's watches follow the new name.
    r.batches.length = 0;
    writeFileSync(join(d, 'lib/sub/c'), '');
    await r.until(() => r.batches.length > 0);
    expect(r.batches).toEqual([{ changed: [join(d, 'lib/sub/c')], removed: [] }]);

    r.batches.length = 0;
    renameSync(join(d, 'lib'), join(outside, 'lib'));
    await r.until(() => r.batches.length > 0);
    expect(r.batches).toEqual([{ changed: [], removed: [join(d, 'lib')] }]);
    expect(watchedDirectories(r.w)).toEqual([d]);
    // Writes in the moved-out directory are not reported.
    writeFileSync(join(outside, 'lib/sub/d'), '');
    await sleep(100);
    expect(r.batches.length).toBe(1);
  });

  test('the ignore callback: an ignored directory is not watched nor descended into, an ignored file not reported', async () => {
    const d = tmp();
    mkdirSync(join(d, 'node_modules/dep'), { recursive: true });
    const calls: [string, boolean][] = [];
    const r = await record([d], {
      ignore: (p, isDir) => {
        calls.push([p, isDir]);
        return p.endsWith('/node_modules') || p.endsWith('.log');
      },
    });
    expect(watchedDirectories(r.w)).toEqual([d]);
    expect(calls.some(([p]) => p.includes('node_modules/'))).toBe(false);
    expect(calls).toContainEqual([join(d, 'node_modules'), true]);
    writeFileSync(join(d, 'node_modules/dep/index.js'), '');
    writeFileSync(join(d, 'debug.log'), '');
    mkdirSync(join(d, 'pkg/node_modules'), { recursive: true });
    writeFileSync(join(d, 'pkg/node_modules/x'), '');
    writeFileSync(join(d, 'pkg/kept'), '');
    await r.until(() => r.batches.length > 0);
    expect(r.changed()).toEqual([join(d, 'pkg/kept')]);
    expect(watchedDirectories(r.w)).toEqual([d, join(d, 'pkg')]);
  });

  test('symlinks are reported as files and not followed', async () => {
    const d = tmp();
    const outside = tmp();
    const r = await record([d]);
    symlinkSync(outside, join(d, 'link'));
    await r.until(() => r.batches.length > 0);
    expect(r.batches).toEqual([{ changed: [join(d, 'link')], removed: [] }]);
    expect(watchedDirectories(r.w)).toEqual([d]);
  });

  test('a file root: writes and atomic saves of it are reported, its siblings are not', async () => {
    const d = tmp();
    const f = join(d, 'config.yml');
    writeFileSync(f, 'v1');
    const r = await record([f]);
    writeFileSync(join(d, 'sibling'), '');
    writeFileSync(f, 'v2');
    await r.until(() => r.batches.length > 0);
    expect(r.batches).toEqual([{ changed: [f], removed: [] }]);

    r.batches.length = 0;
    writeFileSync(join(d, '.config.yml.tmp'), 'v3');
    renameSync(join(d, '.config.yml.tmp'), f);
    await r.until(() => r.batches.length > 0);
    expect(r.batches).toEqual([{ changed: [f], removed: [] }]);

    r.batches.length = 0;
    rmSync(f);
    await r.until(() => r.batches.length > 0);
    expect(r.batches).toEqual([{ changed: [], removed: [f] }]);

    r.batches.length = 0;
    writeFileSync(f, 'back');
    await r.until(() => r.batches.length > 0);
    expect(r.batches).toEqual([{ changed: [f], removed: [] }]);
  });

  test('a root that is a symlink to a directory is watched through it', async () => {
    const d = tmp();
    mkdirSync(join(d, 'real/sub'), { recursive: true });
    symlinkSync(join(d, 'real'), join(d, 'link'));
    const r = await record([join(d, 'link')]);
    expect(watchedDirectories(r.w)).toEqual([join(d, 'link'), join(d, 'link/sub')]);
    writeFileSync(join(d, 'real/sub/a'), '');
    await r.until(() => r.batches.length > 0);
    expect(r.batches).toEqual([{ changed: [join(d, 'link/sub/a')], removed: [] }]);
  });

  test('a root that does not exist yet is picked up when it appears, and again after it is removed', async () => {
    const d = tmp();
    const root = join(d, 'not/yet/there');
    const fileRoot = join(d, 'later/file.txt');
    const r = await record([root, fileRoot]);
    expect(watchedDirectories(r.w)).toEqual([]);
    mkdirSync(join(root, 'sub'), { recursive: true });
    writeFileSync(join(root, 'sub/a'), '');
    mkdirSync(join(d, 'later'));
    writeFileSync(fileRoot, '');
    await r.until(() => r.changed().length === 2);
    expect(r.changed()).toEqual([fileRoot, join(root, 'sub/a')]);

    r.batches.length = 0;
    rmSync(join(d, 'not'), { recursive: true });
    await r.until(() => r.batches.length > 0);
    expect(r.batches).toEqual([{ changed: [], removed: [root] }]);
    expect(watchedDirectories(r.w)).toEqual([]);

    r.batches.length = 0;
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, 'b'), '');
    await r.until(() => r.batches.length > 0);
    expect(r.changed()).toEqual([join(root, 'b')]);
  });

  test('a slow onBatch: batches never overlap and nothing is lost', async () => {
    const d = tmp();
    let running = 0;
    let overlapped = false;
    const r = await record([d], { debounceMs: 10 }, async () => {
      overlapped ||= running > 0;
      running++;
      await sleep(100);
      running--;
    });
    const want: string[] = [];
    for (let i = 0; i < 20; i++) {
      const f = join(d, `f${i}`);
      writeFileSync(f, '');
      want.push(f);
      await sleep(12);
    }
    await r.until(() => r.changed().length === want.length && running === 0);
    expect(overlapped).toBe(false);
    expect(r.changed()).toEqual(want.sort());
    expect(r.batches.length).toBeGreaterThan(1);
  });

  test('maxWaitMs flushes during a continuous burst', async () => {
    const d = tmp();
    const r = await record([d], { debounceMs: 60, maxWaitMs: 80 });
    const start = Date.now();
    for (let i = 0; Date.now() - start < 250; i++) {
      writeFileSync(join(d, `f${i}`), '');
      await sleep(20);
    }
    expect(r.batches.length).toBeGreaterThanOrEqual(2);
  });

  test('close releases every watch and timer; nothing is reported after it', async () => {
    const d = tmp();
    mkdirSync(join(d, 'a/b'), { recursive: true });
    const batches: WatchBatch[] = [];
    const w = await watchTree([d, join(d, 'missing/root')], (b) => void batches.push(b), { debounceMs: 10 });
    expect(watchedDirectories(w)).toEqual([d, join(d, 'a'), join(d, 'a/b')]);
    writeFileSync(join(d, 'a/b/pending'), ''); // a batch still gathering when closed
    await w.close();
    expect(watchedDirectories(w)).toEqual([]);
    writeFileSync(join(d, 'a/after'), '');
    await sleep(50);
    expect(batches).toEqual([]);
  });

  test('onBatch errors go to onError and the watcher goes on', async () => {
    const d = tmp();
    const errors: Error[] = [];
    let n = 0;
    const w = await watchTree(
      [d],
      () => {
        if (n++ === 0) throw new Error('boom');
      },
      { debounceMs: 10, onError: (e) => errors.push(e) },
    );
    watchers.push(w);
    writeFileSync(join(d, 'a'), '');
    while (n < 1) await sleep(10);
    writeFileSync(join(d, 'b'), '');
    while (n < 2) await sleep(10);
    expect(errors.map((e) => e.message)).toEqual(['boom']);
  });
});
