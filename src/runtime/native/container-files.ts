/**
 * A native container's secrets and configs as host files to bind read-only at their targets. What Docker Engine
 * gives a container under /run/secrets, and what docker compose copies in (pkg/compose/secrets.go): the file holds
 * the content with the reference's `mode` (default 0444), `uid` and `gid` (default 0) — honoured here for every
 * source, where docker compose ignores them for bound files outside swarm.
 *
 * - an inline source (`content:`, or an `environment:` value resolved when the project was loaded) is written to
 *   `<container>/files/<n>`;
 * - a `file:` source with a mode, uid or gid of its own is copied there (a bind shows the host file's own mode and
 *   owner, which are not ours to change); without them the host file is bound as it is (edits show through);
 * - the `files/` directory is the owner's alone (0700) and each file is written 0600 before it takes its final owner
 *   and mode, so a secret is never readable by another user of the host on the way (the state directory around it
 *   is 0700 too, ./state.ts). The container sees the file's own mode and owner through the bind.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { TsComposeError } from '../../errors.js';
import type { FileMountSpec } from '../runtime.js';
import { securePrivateDir } from './state.js';

/** Docker's mode for a secret or config file without one. */
export const DEFAULT_FILE_MODE = 0o444;

/** Whether the reference asks for a mode or owner of its own. */
function hasOwnerOrMode(f: FileMountSpec): boolean {
  return f.mode !== undefined || f.uid !== undefined || f.gid !== undefined;
}

/** Writes `content` to `file` 0600 first, then gives it its owner and mode. */
async function writeOwned(file: string, content: string | Uint8Array, f: FileMountSpec): Promise<void> {
  await fs.rm(file, { force: true }); // a fresh inode: a file left by an earlier attempt may have a wider mode
  await fs.writeFile(file, content, { mode: 0o600, flag: 'wx' });
  await fs.chown(file, f.uid ?? 0, f.gid ?? 0);
  await fs.chmod(file, f.mode ?? DEFAULT_FILE_MODE);
}

/**
 * The host path to bind at `f.target`: the `file:` source itself, or `<filesDir>/<index>` written with the content,
 * mode and owner the container is to see (see the header). TsComposeError `TSC_FILE_MISSING` for a missing source.
 */
export async function fileMountSource(filesDir: string, index: number, f: FileMountSpec): Promise<string> {
  let content: string | Uint8Array;
  if (f.source !== undefined) {
    const st = await fs.stat(f.source).catch(() => undefined);
    if (!st) throw new TsComposeError('TSC_FILE_MISSING', `secret/config file ${f.source} for ${f.target} does not exist`);
    // A directory (a config's `file:` may name one) is bound as it is.
    if (!hasOwnerOrMode(f) || st.isDirectory()) return f.source;
    content = await fs.readFile(f.source);
  } else {
    content = f.content ?? '';
  }
  await securePrivateDir(filesDir);
  const file = path.join(filesDir, String(index));
  await writeOwned(file, content, f);
  return file;
}
