/**
 * The builder's scratch space: one directory per build under `<workRoot>/runs/<pid>-<n>` (swept, mounts first, once
 * its process is gone), and in it the root filesystems of steps: an overlay of the parent state's layers with a
 * fresh upper directory (StepRoot; committed into the store as a layer, or dropped when the step changed nothing),
 * and read-only views of other states for `COPY --from` and `RUN --mount=from=` (mountView).
 */
import { readdirSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pidAlive } from '../../fs/proc.js';
import { mountOverlay, unmountAll } from '../../fs/mounts.js';
import { commitLayer } from '../../image/diff/commit.js';
import type { StoredLayer } from '../../image/records.js';
import type { ImageStore } from '../../image/store.js';

let counter = 0;

/** Removes the run directories of builds whose process is gone (their mounts first). */
export async function sweepRuns(workRoot: string): Promise<void> {
  const runs = path.join(workRoot, 'runs');
  let names: string[];
  try {
    names = readdirSync(runs); // synchronous: at every build's start, usually empty
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(/^(\d+)-/.exec(name)?.[1]);
    if (pid === process.pid || pidAlive(pid)) continue;
    const dir = path.join(runs, name);
    await unmountAll(dir).catch(() => undefined);
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

/**
 * A build's own scratch directory, made when a step first needs scratch space: a build whose every step comes from
 * the cache never touches it.
 */
export class RunDir {
  private n = 0;
  private made: Promise<void> | undefined;
  readonly dir: string;

  constructor(workRoot: string) {
    this.dir = path.join(workRoot, 'runs', `${process.pid}-${Date.now().toString(36)}${(counter++).toString(36)}`);
  }

  /** Makes the directory (once). */
  async ready(): Promise<void> {
    this.made ??= mkdir(path.join(this.dir, 'empty'), { recursive: true, mode: 0o700 }).then(() => undefined);
    return this.made;
  }

  /** A fresh subdirectory. */
  async fresh(prefix: string): Promise<string> {
    await this.ready();
    const d = path.join(this.dir, `${prefix}-${(this.n++).toString(36)}`);
    await mkdir(d, { recursive: true, mode: 0o700 });
    return d;
  }

  /** An empty directory (the lower layer of a scratch state). */
  async empty(): Promise<string> {
    await this.ready();
    return path.join(this.dir, 'empty');
  }

  /** Unmounts and removes everything (nothing to do when it was never made). */
  async remove(): Promise<void> {
    if (!this.made) return;
    await this.made.catch(() => undefined);
    await unmountAll(this.dir).catch(() => undefined);
    await rm(this.dir, { recursive: true, force: true });
  }
}

function lowerOf(store: ImageStore, layers: readonly StoredLayer[], empty: string): { lowerdir: string; cwd?: string } {
  if (layers.length === 0) return { lowerdir: empty };
  return store.overlayLowerdir({ layers: [...layers] });
}

/** A step's root filesystem: the parent's layers read-only, a fresh upper directory on top. */
export class StepRoot {
  private mounted = true;
  private constructor(
    private readonly store: ImageStore,
    private readonly dir: string,
    readonly merged: string,
    private readonly parent: readonly StoredLayer[],
  ) {}

  static async open(store: ImageStore, run: RunDir, parent: readonly StoredLayer[]): Promise<StepRoot> {
    const dir = await run.fresh('step');
    const merged = path.join(dir, 'rootfs');
    await mountOverlay(merged, { ...lowerOf(store, parent, await run.empty()), upper: path.join(dir, 'upper'), work: path.join(dir, 'work') });
    return new StepRoot(store, dir, merged, parent);
  }

  private async unmount(): Promise<void> {
    if (!this.mounted) return;
    this.mounted = false;
    await unmountAll(this.merged);
  }

  /** Unmounts and turns the upper directory into a layer on the parent's; undefined when nothing changed. */
  async commit(signal?: AbortSignal): Promise<StoredLayer | undefined> {
    await this.unmount();
    try {
      const upper = path.join(this.dir, 'upper');
      if ((await readdir(upper)).length === 0) return undefined;
      // moved into the store as it is; on another filesystem, as a tar unpacked there
      const parent = this.parent[this.parent.length - 1]?.chainId;
      const adopted = await this.store.adoptLayer(upper, parent, signal ? { signal } : {});
      if (adopted) return adopted;
      const layer = await commitLayer(this.store, upper, this.parent, signal ? { signal } : {});
      return { diffId: layer.diffId, chainId: layer.chainId, size: layer.size };
    } finally {
      await rm(this.dir, { recursive: true, force: true });
    }
  }

  /** Unmounts and throws the changes away. */
  async discard(): Promise<void> {
    await this.unmount().catch(() => undefined);
    await rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * A read-only view of a state's filesystem for reading files from it: the single layer's own directory, or an overlay
 * of several (a scratch state: an empty directory).
 */
export async function mountView(store: ImageStore, run: RunDir, layers: readonly StoredLayer[]): Promise<string> {
  if (layers.length === 0) return run.empty();
  if (layers.length === 1) return store.layerDirs({ layers: [...layers] })[0]!;
  const dir = await run.fresh('view');
  const target = path.join(dir, 'rootfs');
  await mountOverlay(target, lowerOf(store, layers, await run.empty()));
  return target;
}

/** Writes `content` to a fresh file in the run directory (a heredoc script, a secret) with `mode`. */
export async function scratchFile(run: RunDir, name: string, content: string | Buffer, mode: number): Promise<string> {
  const d = await run.fresh('file');
  const f = path.join(d, name);
  await writeFile(f, content, { mode });
  return f;
}
