/**
 * Secrets and configs of a Docker container: which are bound read-only from the host and which are copied into the
 * container before it starts (a tar extracted at `/`, docker compose's injectSecrets/injectConfigs in
 * pkg/compose/secrets.go). Inline sources (`content:`, an `environment:` value) are always copied; a `file:` source
 * is copied when the reference gives a mode, uid or gid — docker compose binds those and ignores the three outside
 * swarm; we honour them — unless the source is a directory or the container's root filesystem is read-only (the
 * engine refuses a copy into it): then it is bound as it is. Copies carry the reference's mode (default 0444), uid
 * and gid (default 0), kept by the engine (`copyUIDGID`) when an owner is given.
 */
import { promises as fs } from 'node:fs';
import type { Readable } from 'node:stream';
import { TsComposeError } from '../../errors.js';
import type { ContainerSpec, FileMountSpec } from '../runtime.js';

/** Docker's mode for a secret or config file without one. */
const DEFAULT_FILE_MODE = 0o444;

/** A file to copy into the container: where, with which bytes, mode and owner. */
export interface FileCopy {
  readonly target: string;
  readonly content: string | Buffer;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

export interface DockerFiles {
  /** Bound read-only from the host (the create body's binds). */
  readonly bound: readonly FileMountSpec[];
  /** Copied in after create, before start. */
  readonly copied: readonly FileCopy[];
  /** Whether the copy keeps the tar's owners (`copyUIDGID`): some reference gave a uid or gid. */
  readonly keepOwners: boolean;
}

const hasOwnerOrMode = (f: FileMountSpec): boolean => f.mode !== undefined || f.uid !== undefined || f.gid !== undefined;

/** The container's secrets and configs split into binds and copies (see the header); file contents are read here. */
export async function dockerFiles(spec: ContainerSpec): Promise<DockerFiles> {
  const bound: FileMountSpec[] = [];
  const copied: FileCopy[] = [];
  let keepOwners = false;
  for (const f of spec.files ?? []) {
    let content: string | Buffer;
    if (f.source === undefined) content = f.content ?? '';
    else {
      if (!hasOwnerOrMode(f) || spec.readOnly === true) {
        bound.push(f);
        continue;
      }
      const st = await fs.stat(f.source).catch(() => undefined);
      if (!st) throw new TsComposeError('TSC_FILE_MISSING', `secret/config file ${f.source} for ${f.target} does not exist`);
      if (st.isDirectory()) {
        bound.push(f);
        continue;
      }
      content = await fs.readFile(f.source);
    }
    if (f.uid !== undefined || f.gid !== undefined) keepOwners = true;
    copied.push({ target: f.target, content, mode: f.mode ?? DEFAULT_FILE_MODE, uid: f.uid ?? 0, gid: f.gid ?? 0 });
  }
  return { bound, copied, keepOwners };
}

/** The copies as a tar to extract at `/` (undefined when there is none). */
export async function filesTar(copied: readonly FileCopy[]): Promise<Readable | undefined> {
  if (copied.length === 0) return undefined;
  const { pack } = await import('tar-stream');
  const t = pack();
  for (const c of copied) t.entry({ name: c.target.replace(/^\/+/, ''), mode: c.mode, uid: c.uid, gid: c.gid }, c.content);
  t.finalize();
  return t as unknown as Readable;
}
