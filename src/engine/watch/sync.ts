/**
 * Copying watched files into a container and removing deleted ones, through the runtime port only (so both runtimes
 * and the fake do it the same way): one tar archive of the changed files, extracted at `/` (entries named by their
 * container path; the runtime creates missing parent directories), then one `rm -rf --` of the removed paths, as
 * docker compose's tar syncer does (`pkg/compose/watch.go`, `internal/sync/tar.go`). A file that vanished between
 * the batch and the copy is left out (the next batch reports its removal).
 */
import { promises as fs } from 'node:fs';
import type { Readable } from 'node:stream';
import tarStream from 'tar-stream';
import type { Runtime } from '../../runtime/runtime.js';
import type { SyncedFile } from './triggers.js';

/** A tar stream of `files`, each under its container path (relative to `/`). Regular files and symlinks. */
export function syncArchive(files: readonly SyncedFile[]): Readable {
  const pack = tarStream.pack();
  void (async () => {
    try {
      for (const f of files) {
        const st = await fs.lstat(f.host).catch(() => undefined);
        if (!st) continue;
        const name = f.container.replace(/^\/+/, '');
        const base = { name, mode: st.mode & 0o7777, mtime: st.mtime, uid: 0, gid: 0 };
        if (st.isSymbolicLink()) {
          const linkname = await fs.readlink(f.host).catch(() => undefined);
          if (linkname !== undefined) pack.entry({ ...base, type: 'symlink', linkname });
          continue;
        }
        if (!st.isFile()) continue;
        // Read whole (sources, not data sets): a file still being written cannot then disagree with its header.
        const data = await fs.readFile(f.host).catch(() => undefined);
        if (data !== undefined) pack.entry({ ...base, type: 'file', size: data.length }, data);
      }
      pack.finalize();
    } catch (e) {
      pack.destroy(e as Error);
    }
  })();
  return pack as unknown as Readable;
}

export interface SyncOptions {
  readonly signal?: AbortSignal | undefined;
}

/** Copies `files` into the container and removes `remove` (container paths) from it. */
export async function syncToContainer(
  runtime: Runtime,
  container: string,
  files: readonly SyncedFile[],
  remove: readonly string[],
  options: SyncOptions = {},
): Promise<void> {
  if (files.length > 0) await runtime.copyToContainer(container, '/', syncArchive(files), { signal: options.signal });
  if (remove.length > 0) {
    const r = await runtime.exec(container, { cmd: ['rm', '-rf', '--', ...remove] }, { signal: options.signal });
    if (r.exitCode !== 0) throw new Error(`removing ${remove.join(', ')} failed (exit ${r.exitCode}): ${r.stderr.trim()}`);
  }
}
