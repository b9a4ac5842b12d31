/**
 * A recursive file watcher that reports debounced batches of changed and removed paths: the file-system half of
 * `tscompose watch` (docker compose's `develop.watch`, whose pkg/watch it follows: editors' temporary files never
 * reported, a batch after a quiet period, a new directory reported as the files under it). It knows nothing of
 * compose; the engine maps the paths onto sync/rebuild rules.
 *
 * One non-recursive `fs.watch` (an inotify watch on Linux) per directory, not `{ recursive: true }` (Node 20's Linux
 * recursive mode is a JavaScript emulation with known gaps). Events are only hints: a hinted path is looked at
 * with lstat when its batch is flushed, and that decides whether it is changed, removed or nothing. A `rename`
 * event (a name created, removed or moved) is also looked at on the spot: a new directory is watched at once and
 * then walked (files written into it before its watch was placed are found by the walk), and a watched directory
 * that was removed, moved away or replaced loses its watches, which follow the old inode.
 * Each root also has an anchor: a watch on its nearest existing parent directory, which sees the root removed,
 * replaced (atomic save of a file root) or created (a root that does not exist yet).
 *
 * lstat is called synchronously (with no exception for a missing path): a few microseconds each on a local file
 * system, where a promise per path costs ten times that in a checkout of thousands of files.
 */
import { type FSWatcher, lstatSync, statSync, watch } from 'node:fs';
import { readdir } from 'node:fs/promises';
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

/** What `p` is now; `follow` looks through a symlink (a root given as a symlink to a directory is a directory root). */
function kindOf(p: string, follow = false): Kind {
  try {
    const st = follow ? statSync(p, { throwIfNoEntry: false }) : lstatSync(p, { throwIfNoEntry: false });
    if (st === undefined) return follow ? kindOf(p) : 'missing'; // followed: a dangling symlink is a file
    return st.isDirectory() ? 'dir' : 'file';
  } catch {
    return 'missing'; // ENOTDIR (a file on the way), EACCES: not there as far as a watch can tell
  }
}

function sorted(s: Set<string>): string[] {
  return [...s].sort();
}

class Watcher implements TreeWatcher {
  readonly #roots: ReadonlySet<string>;
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
  /** Watched directories whose watches were dropped (removed, moved or replaced): the flush looks at what was known under them. */
  readonly #suspects = new Set<string>();

  #hints = new Set<string>();
  #firstHintAt: number | undefined;
  #debounceTimer: NodeJS.Timeout | undefined;
  #maxTimer: NodeJS.Timeout | undefined;
  /** A flush is running (its lstat pass or `onBatch`): hints wait for the next one. */
  #running = false;
  /** Walks and a flush's lstat pass under way, which close() waits for (neither adds a watch once closed). */
  readonly #busy = new Set<Promise<unknown>>();
  #closed = false;
  /** Set while `watchTree` sets the watches up: the first fatal error, thrown instead of reported. */
  #setupError: Error | undefined;
  #settingUp = true;
  #limitReported = false;

  constructor(roots: readonly string[], onBatch: (batch: WatchBatch) => void | Promise<void>, options: TreeWatcherOptions) {
    this.#roots = new Set(roots.map((r) => resolve(r)));
    this.#onBatch = onBatch;
    this.#debounceMs = options.debounceMs ?? 50;
    this.#maxWaitMs = Math.max(options.maxWaitMs ?? 1000, this.#debounceMs);
    const ignore = options.ignore;
    this.#ignore = ignore === undefined ? () => false : ignore;
    this.#onError = options.onError;
  }

  async start(): Promise<void> {
    for (const root of this.#roots) {
      this.#placeAnchor(root);
      const kind = this.#kind(root);
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

  /** What `p` is now: through a symlink for a root, not for a path under one. */
  #kind(p: string): Kind {
    return kindOf(p, this.#roots.has(p));
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
    for (const w of this.#watchers.values()) w.close();
    this.#watchers.clear();
    for (const a of this.#anchors.values()) a.watcher.close();
    this.#anchors.clear();
    this.#hints.clear();
    await Promise.allSettled([...this.#busy]);
  }

  #track<T>(p: Promise<T>): Promise<T> {
    this.#busy.add(p);
    void p.finally(() => this.#busy.delete(p)).catch(() => undefined);
    return p;
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
      } else if (isErrno(e, 'EMFILE')) {
        this.#fail(new WatchError(dir, 'too many open files or inotify instances (ulimit -n, fs.inotify.max_user_instances)', { cause: e }));
      } else if (!isErrno(e, 'EACCES', 'EPERM')) {
        this.#fail(new WatchError(dir, errnoCode(e) ?? String(e), { cause: e }));
      }
      return undefined;
    }
    // The handle broke (an unusual file system): drop it and look at the directory again.
    w.on('error', () => {
      w.close();
      if (this.#watchers.get(dir) === w) this.#watchers.delete(dir);
      this.#hint(dir);
      this.#look(dir);
    });
    return w;
  }

  // ---- walking the tree

  /** Watches `dir` and every directory under it that is not ignored, then calls `onFile` with each file found. */
  #walk(dir: string, onFile: (p: string) => void): Promise<void> {
    return this.#track(this.#walkDir(dir, onFile));
  }

  async #walkDir(dir: string, onFile: (p: string) => void): Promise<void> {
    if (this.#closed || this.#ignore(dir, true)) return;
    if (!this.#watchers.has(dir)) {
      // The watch first, then the listing: a file made in between is both listed and seen.
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
    await Promise.all(subdirs.map((d) => this.#walkDir(d, onFile)));
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
      // No name: the platform could not say what changed. Look at the whole directory again.
      this.#hint(dir);
      this.#look(dir, true);
      return;
    }
    if (isEphemeral(name)) return;
    const p = join(dir, name);
    this.#hint(p);
    // A known file renamed is a file (a directory in its place is found by the flush): no need to look now.
    if (type === 'rename' && !this.#index.isFile(p)) this.#look(p, true);
  }

  /**
   * Looks at `p` after a `rename` event named it (`renamed`): a watched directory by that name was removed, moved
   * away or replaced, so its watches (which follow the old inode) are dropped; a directory there now is watched
   * and walked, its files hinted.
   */
  #look(p: string, renamed = false): void {
    if (renamed && this.#watchers.has(p)) {
      this.#unwatch(p);
      this.#suspects.add(p);
    }
    if (this.#watchers.has(p) || this.#kind(p) !== 'dir' || this.#ignore(p, true)) return;
    if (this.#index.isFile(p)) return; // a file replaced by a directory: the flush reports the file removed and walks it
    void this.#walk(p, (f) => this.#hint(f));
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

  // ---- roots and their anchors

  /**
   * Watches the nearest existing parent directory of `root`, moving its anchor up or down as directories come and
   * go; `renew` watches it anew even where it is (the directory it watched may have been removed and made again).
   * Whether the anchor was placed anew.
   */
  #placeAnchor(root: string, renew = false): boolean {
    let dir = dirname(root);
    if (dir === root) return false; // the file system's root has no parent
    while (kindOf(dir, true) !== 'dir') {
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
    const current = this.#anchors.get(root);
    if ((current?.dir === dir && !renew) || this.#closed) return false;
    current?.watcher.close();
    this.#anchors.delete(root);
    const toward = relative(dir, root).split(sep)[0];
    const w = this.#watch(dir, (type, name) => this.#onAnchorEvent(root, dir, toward, type, name));
    if (w !== undefined) this.#anchors.set(root, { dir, watcher: w });
    return true;
  }

  #onAnchorEvent(root: string, dir: string, toward: string | undefined, type: string, name: string | null): void {
    if (this.#closed) return;
    if (name === basename(root) && dir === dirname(root)) {
      this.#hint(root);
      if (type === 'rename') this.#look(root, true);
    }
    // A directory on the way to the root came or went, or the anchor's own directory went: place it again.
    const self = name === null || name === basename(dir);
    if (!self && (name !== toward || dir === dirname(root))) return;
    if (!this.#placeAnchor(root, self) || this.#closed) return;
    // The anchor moved: the root may have come (made with its parents) or gone (with a parent).
    const kind = this.#kind(root);
    if (kind === 'missing') {
      if (this.#index.has(root)) this.#hint(root);
      return;
    }
    this.#hint(root);
    if (kind === 'dir') this.#look(root);
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
      const batch = await this.#track(this.#settle(hints));
      if (!this.#closed && (batch.changed.length > 0 || batch.removed.length > 0)) await this.#onBatch(batch);
    } catch (e) {
      if (!this.#closed) this.#fail(e instanceof Error ? e : new Error(String(e)));
    } finally {
      this.#running = false;
      this.#arm();
    }
  }

  /** What the hinted paths are now: files changed, paths removed (a removed directory once, as itself). */
  async #settle(hints: Set<string>): Promise<WatchBatch> {
    const work = sorted(hints); // parents before children: a removed directory's paths are skipped unlooked
    const changed = new Set<string>();
    const removed = new Set<string>();
    /** Known paths found missing: nothing under them needs a look. */
    const vanished = new Set<string>();
    const gone = (p: string): boolean => {
      for (let up = dirname(p); up !== p && up !== dirname(up); p = up, up = dirname(up)) if (vanished.has(up)) return true;
      return false;
    };
    for (let i = 0; i < work.length && !this.#closed; i++) {
      const p = work[i]!;
      if (vanished.has(p) || gone(p)) continue;
      const k = this.#kind(p);
      if (k === 'missing') {
        this.#suspects.delete(p);
        if (!this.#index.has(p)) continue; // never known (made and removed within the batch), or reported already
        // Report the topmost known directory that went with it, once.
        let top = p;
        for (let up = dirname(top); up !== top && this.#index.isDir(up) && this.#kind(up) === 'missing'; up = dirname(top)) top = up;
        removed.add(top);
        vanished.add(top);
        this.#unwatch(top);
        this.#index.remove(top);
      } else if (k === 'dir') {
        if (this.#ignore(p, true)) continue;
        if (this.#index.isFile(p)) {
          removed.add(p); // a file replaced by a directory
          this.#index.remove(p);
        }
        if (this.#suspects.delete(p)) {
          // Removed and made again, or moved away and back: what was known under it is looked at again.
          for (const { path } of this.#index.under(p)) if (path !== p) work.push(path);
        }
        if (!this.#watchers.has(p)) await this.#walk(p, (f) => work.push(f));
      } else {
        if (this.#ignore(p, false)) continue;
        if (this.#index.isDir(p)) {
          this.#unwatch(p); // a directory replaced by a file
          this.#index.remove(p);
        }
        changed.add(p);
        this.#index.add(p, false);
      }
    }
    for (const p of removed) if (gone(p) || changed.has(p)) removed.delete(p);
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
