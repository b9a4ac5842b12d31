/**
 * A recursive file watcher that reports debounced batches of changed and removed paths: the file-system half of
 * `tscompose watch` (docker compose's `develop.watch`, whose pkg/watch it follows: editors' temporary files never
 * reported, a batch after a quiet period, a new directory reported as the files under it). It knows nothing of
 * compose; the engine maps the paths onto sync/rebuild rules.
 *
 * One non-recursive `fs.watch` (an inotify watch on Linux) per directory, not `{ recursive: true }` (Node 20's Linux
 * recursive mode is a JavaScript emulation with known gaps). Events are only hints: a hinted path is looked at
 * with lstat when its batch is flushed, and that decides whether it is changed, removed or nothing. A `rename`
 * event (create, delete or move of a name) is also probed at once, so a new directory is watched and then walked
 * (files written into it before its watch was placed are found by the walk) while the batch is still gathering.
 * Each root also has an anchor: a watch on its nearest existing parent directory, which sees the root removed,
 * replaced (atomic save of a file root) or created (a root that does not exist yet).
 */
import { type FSWatcher, watch } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { errnoCode, isErrno } from '../errors.js';
import { isEphemeral } from './ephemeral.js';
import { WatchError, WatchLimitError } from './errors.js';
import { PathIndex } from './path-index.js';

export interface WatchBatch {
  /** Absolute paths of files (regular files and symlinks) that exist at flush time and were created or modified since the last batch. A new directory is reported as all the files under it. Sorted, unique. */
  readonly changed: readonly string[];
  /** Absolute paths that existed (or were reported) and no longer exist at flush time: files, and a removed directory as the directory path itself (not each file under it). Sorted, unique; a path is never in both lists. */
  readonly removed: readonly string[];
}

export interface TreeWatcherOptions {
  /** Quiet period: a batch is flushed when no event came for this long (default 50 ms). */
  readonly debounceMs?: number;
  /** A batch is flushed at the latest this long after its first event, even during a continuous burst (default 1000 ms). */
  readonly maxWaitMs?: number;
  /** Paths never watched nor reported (directories are not descended into). Called with the absolute path and whether it is a directory. Editor temp files are always ignored in addition. */
  readonly ignore?: (absPath: string, isDir: boolean) => boolean;
  /** Called when the watcher hits an error it cannot recover from (the inotify watch limit, …), and when `onBatch` throws. */
  readonly onError?: (e: Error) => void;
}

export interface TreeWatcher {
  close(): Promise<void>;
}

type Kind = 'missing' | 'dir' | 'file';
/** A queued probe: of a path a `rename` event named (with the watch it had then), or of a root whose anchor saw something. */
type Task = { readonly kind: 'path'; readonly watcher: FSWatcher | undefined } | { readonly kind: 'root' };

const ROOT_TASK = '\0root:';
/** How many lstat calls a flush runs at once. */
const STAT_CHUNK = 128;

async function kindOf(p: string): Promise<Kind> {
  try {
    return (await lstat(p)).isDirectory() ? 'dir' : 'file';
  } catch {
    return 'missing';
  }
}

function sorted(s: Set<string>): string[] {
  return [...s].sort();
}

class Watcher implements TreeWatcher {
  readonly #roots: readonly string[];
  readonly #onBatch: (batch: WatchBatch) => void | Promise<void>;
  readonly #debounceMs: number;
  readonly #maxWaitMs: number;
  readonly #ignore: (absPath: string, isDir: boolean) => boolean;
  readonly #onError: ((e: Error) => void) | undefined;

  readonly #index = new PathIndex();
  /** The watch of each directory under the roots. */
  readonly #watchers = new Map<string, FSWatcher>();
  /** Each root's anchor: the watch of its nearest existing parent directory. */
  readonly #anchors = new Map<string, { dir: string; watcher: FSWatcher }>();

  #hints = new Set<string>();
  #firstHintAt: number | undefined;
  #debounceTimer: NodeJS.Timeout | undefined;
  #maxTimer: NodeJS.Timeout | undefined;
  /** A flush is running (its lstat pass or `onBatch`): hints wait for the next one. */
  #running = false;
  #settling: Promise<unknown> | undefined;
  readonly #tasks = new Map<string, Task>();
  #draining: Promise<void> | undefined;
  #closed = false;
  /** Set while `watchTree` sets the watches up: the first fatal error, thrown instead of reported. */
  #setupError: Error | undefined;
  #settingUp = true;
  #limitReported = false;

  constructor(roots: readonly string[], onBatch: (batch: WatchBatch) => void | Promise<void>, options: TreeWatcherOptions) {
    this.#roots = [...new Set(roots.map((r) => resolve(r)))];
    this.#onBatch = onBatch;
    this.#debounceMs = options.debounceMs ?? 50;
    this.#maxWaitMs = Math.max(options.maxWaitMs ?? 1000, this.#debounceMs);
    const ignore = options.ignore;
    this.#ignore = ignore === undefined ? () => false : ignore;
    this.#onError = options.onError;
  }

  async start(): Promise<void> {
    for (const root of this.#roots) {
      await this.#placeAnchor(root);
      const kind = await kindOf(root);
      if (kind === 'dir') await this.#walk(root, (f) => this.#index.add(f, false));
      else if (kind === 'file' && !this.#ignore(root, false)) this.#index.add(root, false);
      if (this.#setupError !== undefined) break;
    }
    this.#settingUp = false;
    if (this.#setupError !== undefined) {
      await this.close();
      throw this.#setupError;
    }
  }

  /** The directories watched now (tests: an ignored directory has no watch). */
  watchedDirectories(): string[] {
    return [...this.#watchers.keys()].sort();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#debounceTimer);
    clearTimeout(this.#maxTimer);
    this.#debounceTimer = this.#maxTimer = undefined;
    this.#tasks.clear();
    for (const w of this.#watchers.values()) w.close();
    this.#watchers.clear();
    for (const a of this.#anchors.values()) a.watcher.close();
    this.#anchors.clear();
    this.#hints.clear();
    // A probe or a flush's lstat pass still under way ends at its next step; neither adds a watch once closed.
    await Promise.allSettled([this.#draining, this.#settling]);
  }

  // ---- errors

  #fail(e: Error): void {
    if (this.#settingUp) {
      this.#setupError ??= e;
      return;
    }
    if (this.#onError !== undefined) this.#onError(e);
    else process.emitWarning(e);
  }

  /** A new watch of `dir`, or undefined when it could not be placed (gone already, permission denied, limit reached). */
  #watch(dir: string, listener: (type: string, name: string | null) => void): FSWatcher | undefined {
    if (this.#closed) return undefined;
    let w: FSWatcher;
    try {
      w = watch(dir, { persistent: true, encoding: 'utf8' }, listener);
    } catch (e) {
      if (isErrno(e, 'ENOENT', 'ENOTDIR')) return undefined;
      if (isErrno(e, 'ENOSPC')) {
        if (!this.#limitReported) this.#fail(new WatchLimitError(dir, { cause: e }));
        this.#limitReported = true;
      } else if (!isErrno(e, 'EACCES', 'EPERM')) {
        this.#fail(new WatchError(dir, errnoCode(e) ?? String(e), { cause: e }));
      }
      return undefined;
    }
    // The watched directory went away under an unusual file system, or the handle broke: look at it again.
    w.on('error', () => {
      w.close();
      if (this.#watchers.get(dir) === w) this.#watchers.delete(dir);
      this.#hint(dir);
      this.#enqueue(dir, { kind: 'path', watcher: undefined });
    });
    return w;
  }

  // ---- walking the tree

  /** Watches `dir` and every directory under it that is not ignored, then calls `onFile` with each file found. */
  async #walk(dir: string, onFile: (p: string) => void): Promise<void> {
    if (this.#closed || this.#ignore(dir, true)) return;
    if (!this.#watchers.has(dir)) {
      const w = this.#watch(dir, (type, name) => this.#onEvent(dir, type, name));
      if (w === undefined) return;
      this.#watchers.set(dir, w);
    }
    this.#index.add(dir, true);
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return; // gone again: its parent's events say so
    }
    const subdirs: string[] = [];
    for (const e of entries) {
      if (this.#closed) return;
      if (isEphemeral(e.name)) continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (!this.#ignore(p, true)) subdirs.push(p);
      } else if (!this.#ignore(p, false)) onFile(p);
    }
    await Promise.all(subdirs.map((d) => this.#walk(d, onFile)));
  }

  /** Stops watching `p` and every directory under it (the index keeps them, so the flush can report them removed). */
  #unwatch(p: string): void {
    for (const { path, dir } of this.#index.under(p)) {
      if (!dir) continue;
      this.#watchers.get(path)?.close();
      this.#watchers.delete(path);
    }
    this.#watchers.get(p)?.close();
    this.#watchers.delete(p);
  }

  // ---- events

  #onEvent(dir: string, type: string, name: string | null): void {
    if (this.#closed) return;
    if (name === null) {
      // No name: the kernel's queue overflowed or the platform could not say. Look at the whole directory again.
      this.#hint(dir);
      this.#enqueue(dir, { kind: 'path', watcher: this.#watchers.get(dir) });
      return;
    }
    if (isEphemeral(name)) return;
    const p = join(dir, name);
    this.#hint(p);
    if (type === 'rename') this.#enqueue(p, { kind: 'path', watcher: this.#watchers.get(p) });
  }

  #hint(p: string): void {
    if (this.#closed) return;
    this.#hints.add(p);
    this.#firstHintAt ??= Date.now();
    this.#arm();
  }

  #arm(): void {
    if (this.#running || this.#closed || this.#firstHintAt === undefined) return;
    clearTimeout(this.#debounceTimer);
    this.#debounceTimer = setTimeout(() => void this.#flush(), this.#debounceMs);
    if (this.#maxTimer === undefined) {
      const left = Math.max(0, this.#firstHintAt + this.#maxWaitMs - Date.now());
      this.#maxTimer = setTimeout(() => void this.#flush(), left);
    }
  }

  // ---- probes: what a rename event or an anchor event means, looked at in order

  #enqueue(key: string, task: Task): void {
    const queued = this.#tasks.get(key);
    // Keep the watch a path had at its first event unless a later event saw one (then that one went stale).
    if (queued === undefined || (task.kind === 'path' && task.watcher !== undefined)) this.#tasks.set(key, task);
    this.#draining ??= this.#drain().finally(() => (this.#draining = undefined));
  }

  async #drain(): Promise<void> {
    while (!this.#closed) {
      const next = this.#tasks.entries().next();
      if (next.done === true) return;
      const [key, task] = next.value;
      this.#tasks.delete(key);
      if (task.kind === 'root') await this.#checkRoot(key.slice(ROOT_TASK.length));
      else await this.#probe(key, task.watcher);
    }
  }

  /** A `rename` event named `p`: it was created, removed, moved in or out, or replaced. `stale` is the watch it had then. */
  async #probe(p: string, stale: FSWatcher | undefined): Promise<void> {
    if (stale !== undefined && this.#watchers.get(p) === stale) {
      // A watched directory was removed, moved away or replaced: its watches follow the old inode, so drop them,
      // and have the flush look at everything known under it (gone → removed; the walk below reports the rest).
      for (const { path } of this.#index.under(p)) this.#hint(path);
      this.#unwatch(p);
    }
    if (this.#watchers.has(p)) return;
    if ((await kindOf(p)) !== 'dir' || this.#closed || this.#ignore(p, true)) return;
    if (this.#index.isFile(p)) {
      this.#hint(p); // a file replaced by a directory: the flush reports the file removed and walks the directory
      return;
    }
    await this.#walk(p, (f) => this.#hint(f));
  }

  // ---- roots and their anchors

  /** Watches the nearest existing parent directory of `root`, moving its anchor up or down as directories come and go. */
  async #placeAnchor(root: string): Promise<void> {
    let dir = dirname(root);
    if (dir === root) return; // the file system's root has no parent
    while ((await kindOf(dir)) !== 'dir') {
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
    const current = this.#anchors.get(root);
    if (current?.dir === dir || this.#closed) return;
    current?.watcher.close();
    this.#anchors.delete(root);
    const toward = relative(dir, root).split(sep)[0];
    const w = this.#watch(dir, (type, name) => this.#onAnchorEvent(root, dir, toward, type, name));
    if (w !== undefined) this.#anchors.set(root, { dir, watcher: w });
  }

  #onAnchorEvent(root: string, dir: string, toward: string | undefined, type: string, name: string | null): void {
    if (this.#closed) return;
    if (name === basename(root) && dir === dirname(root)) {
      this.#hint(root);
      if (type === 'rename') this.#enqueue(root, { kind: 'path', watcher: this.#watchers.get(root) });
    }
    // A directory on the way to the root came or went, or the anchor's own directory went: place it again.
    if (name === null || name === toward || name === basename(dir)) this.#enqueue(ROOT_TASK + root, { kind: 'root' });
  }

  async #checkRoot(root: string): Promise<void> {
    await this.#placeAnchor(root);
    if (this.#closed) return;
    const kind = await kindOf(root);
    if (kind === 'missing') {
      if (this.#index.has(root)) this.#hint(root);
      return;
    }
    this.#hint(root);
    if (kind === 'dir') await this.#probe(root, undefined);
  }

  // ---- flushing

  async #flush(): Promise<void> {
    clearTimeout(this.#debounceTimer);
    clearTimeout(this.#maxTimer);
    this.#debounceTimer = this.#maxTimer = undefined;
    if (this.#running || this.#closed || this.#hints.size === 0) return;
    this.#running = true;
    const hints = this.#hints;
    this.#hints = new Set();
    this.#firstHintAt = undefined;
    try {
      const settling = this.#settle(hints);
      this.#settling = settling;
      const batch = await settling;
      this.#settling = undefined;
      if (!this.#closed && (batch.changed.length > 0 || batch.removed.length > 0)) await this.#onBatch(batch);
    } catch (e) {
      if (!this.#closed) this.#fail(e instanceof Error ? e : new Error(String(e)));
    } finally {
      this.#settling = undefined;
      this.#running = false;
      this.#arm();
    }
  }

  /** What the hinted paths are now: files changed, paths removed (a removed directory once, as itself). */
  async #settle(hints: Set<string>): Promise<WatchBatch> {
    const work = [...hints];
    const kinds = new Map<string, Kind>();
    const kind = async (p: string): Promise<Kind> => {
      let k = kinds.get(p);
      if (k === undefined) kinds.set(p, (k = await kindOf(p)));
      return k;
    };
    const changed = new Set<string>();
    const removed = new Set<string>();
    for (let i = 0; i < work.length && !this.#closed; i++) {
      if (i % STAT_CHUNK === 0) await Promise.all(work.slice(i, i + STAT_CHUNK).map(kind));
      const p = work[i]!;
      const k = await kind(p);
      if (k === 'missing') {
        if (!this.#index.has(p)) continue; // never known (created and removed within the batch), or reported already
        // Report the topmost known directory that is gone with it, once.
        let top = p;
        for (let up = dirname(top); up !== top && this.#index.isDir(up) && (await kind(up)) === 'missing'; up = dirname(top)) top = up;
        removed.add(top);
        this.#unwatch(top);
        this.#index.remove(top);
      } else if (k === 'dir') {
        if (this.#ignore(p, true)) continue;
        if (this.#index.isFile(p)) {
          removed.add(p);
          this.#index.remove(p);
        }
        if (!this.#watchers.has(p)) await this.#walk(p, (f) => work.push(f));
      } else {
        if (this.#ignore(p, false)) continue;
        if (this.#index.isDir(p)) {
          this.#unwatch(p);
          this.#index.remove(p);
        }
        changed.add(p);
        this.#index.add(p, false);
      }
    }
    for (const p of removed) {
      for (let up = dirname(p); up !== dirname(up); up = dirname(up)) {
        if (removed.has(up)) {
          removed.delete(p);
          break;
        }
      }
    }
    for (const p of changed) removed.delete(p);
    return { changed: sorted(changed), removed: sorted(removed) };
  }
}

const handles = new WeakMap<TreeWatcher, Watcher>();

/**
 * Watches `roots` (absolute paths: directories watched recursively, or single files; a root that does not exist yet
 * is watched for from its nearest existing parent and picked up when it appears). Resolves once the watches are in
 * place: a write made after the promise resolved is always reported. Rejects (with a WatchLimitError when the
 * inotify limit is reached) when the watches cannot be set up.
 * `onBatch` calls never overlap: events arriving while a batch is being handled go into the next one.
 */
export async function watchTree(
  roots: readonly string[],
  onBatch: (batch: WatchBatch) => void | Promise<void>,
  options: TreeWatcherOptions = {},
): Promise<TreeWatcher> {
  const w = new Watcher(roots, onBatch, options);
  await w.start();
  const handle: TreeWatcher = { close: () => w.close() };
  handles.set(handle, w);
  return handle;
}

/** The directories a watcher from `watchTree` has a watch on now, sorted (for tests and diagnostics). */
export function watchedDirectories(watcher: TreeWatcher): string[] {
  return handles.get(watcher)?.watchedDirectories() ?? [];
}
