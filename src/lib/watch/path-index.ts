/**
 * What a tree watcher knows exists under its roots: absolute paths, each a directory (with its known children) or
 * a file (anything else: regular file, symlink, socket, …). A removed directory is dropped with its subtree in time
 * proportional to the subtree, so an `rm -rf` of a small directory costs nothing in a tree of 100,000 files.
 */
import { dirname } from 'node:path';

export class PathIndex {
  /** A directory's children (absolute paths), or null for a file. */
  readonly #nodes = new Map<string, Set<string> | null>();

  get size(): number {
    return this.#nodes.size;
  }

  has(p: string): boolean {
    return this.#nodes.has(p);
  }

  isDir(p: string): boolean {
    return this.#nodes.get(p) instanceof Set;
  }

  isFile(p: string): boolean {
    return this.#nodes.get(p) === null;
  }

  /** Records `p` as a directory or a file; a path known as the other kind first loses its subtree. */
  add(p: string, dir: boolean): void {
    const node = this.#nodes.get(p);
    if (node !== undefined) {
      if (node instanceof Set === dir) return;
      this.remove(p);
    }
    this.#nodes.set(p, dir ? new Set() : null);
    const parent = this.#nodes.get(dirname(p));
    if (parent instanceof Set) parent.add(p);
  }

  /** Forgets `p` and everything under it. */
  remove(p: string): void {
    if (!this.#nodes.has(p)) return;
    for (const q of [...this.under(p)]) this.#nodes.delete(q.path);
    const parent = this.#nodes.get(dirname(p));
    if (parent instanceof Set) parent.delete(p);
  }

  /** `p` (when known) and every known path under it, parents before their children. */
  *under(p: string): Generator<{ path: string; dir: boolean }> {
    const node = this.#nodes.get(p);
    if (node === undefined) return;
    yield { path: p, dir: node !== null };
    if (node === null) return;
    for (const child of node) yield* this.under(child);
  }
}
