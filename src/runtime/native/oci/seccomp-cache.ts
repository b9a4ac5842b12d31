/**
 * Compiled seccomp filters kept between containers, for crun.
 *
 * Every container carries Docker's default profile (./seccomp.ts), and the OCI runtime compiles it with libseccomp
 * at each start: ~5–8 ms of CPU per container here, the same every time for the same profile. crun writes the
 * compiled program to its state directory (`<root>/<id>/seccomp.bpf`) and takes a compiled one back through the
 * annotation `run.oci.seccomp_bpf_data` (base64; crun then ignores `linux.seccomp`). So the first container of a
 * profile leaves its program here (`<state>/seccomp/<key>.bpf`), and later ones get the annotation. The key covers
 * the whole `linux.seccomp` section and the crun binary (path, size, mtime): another profile, architecture or
 * crun build compiles afresh. runc has no such annotation: nothing changes for it.
 * TSCOMPOSE_SECCOMP_CACHE=0 turns it off.
 */
import { createHash } from 'node:crypto';
import { existsSync, promises as fs, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../../../lib/fs/atomic.js';
import type { OciSpec } from './spec-types.js';

export const BPF_ANNOTATION = 'run.oci.seccomp_bpf_data';

/** Where a state directory keeps its compiled filters. */
export function seccompCacheDir(ctx: { readonly paths: { readonly root: string } }): string {
  return path.join(ctx.paths.root, 'seccomp');
}

/** The cache key of the spec's filter for this runtime binary, or undefined when there is nothing to cache. */
export function seccompCacheKey(spec: OciSpec, runtimeBinary: string): string | undefined {
  if (!spec.linux?.seccomp || spec.annotations?.[BPF_ANNOTATION]) return undefined;
  let id: string;
  try {
    const st = statSync(runtimeBinary);
    id = `${runtimeBinary}:${st.size}:${st.mtimeMs}`;
  } catch {
    return undefined;
  }
  return createHash('sha256').update(id).update('\0').update(JSON.stringify(spec.linux.seccomp)).digest('hex').slice(0, 32);
}

/** The cached program for `key` as the annotation's value (base64), or undefined. */
export function cachedFilter(cacheDir: string, key: string): string | undefined {
  try {
    const bpf = readFileSync(path.join(cacheDir, `${key}.bpf`));
    // A BPF program is a whole number of 8-byte instructions: anything else is not one (a torn or foreign file).
    return bpf.length > 0 && bpf.length % 8 === 0 ? bpf.toString('base64') : undefined;
  } catch {
    return undefined;
  }
}

/** Keeps the program crun compiled for container `id` (after its start), unless one is kept already. */
export async function rememberFilter(cacheDir: string, key: string, ociRoot: string, id: string): Promise<void> {
  const target = path.join(cacheDir, `${key}.bpf`);
  if (existsSync(target)) return;
  const bpf = await fs.readFile(path.join(ociRoot, id, 'seccomp.bpf')).catch(() => undefined);
  if (!bpf || bpf.length === 0 || bpf.length % 8 !== 0) return;
  await fs.mkdir(cacheDir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(target, bpf, { durable: false });
}
