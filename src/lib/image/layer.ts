/**
 * Unpacking one layer into its own empty directory with GNU tar, behind the TarGate (tar-scan.ts), then turning
 * OCI whiteouts into overlayfs ones: `.wh.<name>` → char device 0/0 `<name>`, `.wh..wh..opq` → xattr
 * `trusted.overlay.opaque=y` on the directory (native-runtime.md §6.1).
 */
import { spawn } from 'node:child_process';
import { lstat, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type { Readable, Transform } from 'node:stream';
import { CodedError } from '../errors.js';
import { DigestMismatchError, LayerExtractError, LayerRejectedError, UnsupportedCompressionError } from './errors.js';
import { TarGate, type Marker } from './tar-scan.js';
import { childSink, mapLimit, peek, run, sniffCompression, waitChild } from './streams.js';

export interface UnpackOptions {
  signal?: AbortSignal;
  /** When given, the DiffID must match, else the directory is removed and a DiffIdMismatchError thrown. */
  expectedDiffId?: string;
  /** What the layer is called in messages (its digest). */
  label?: string;
}

export interface UnpackResult {
  diffId: string;
  /** Sum of the regular files' sizes. */
  size: number;
  /** Bytes of the uncompressed tar. */
  tarSize: number;
  compression: 'none' | 'gzip';
}

export const TAR_EXTRACT_ARGS = [
  '-x',
  '-f',
  '-',
  '--numeric-owner',
  '--same-owner',
  '-p',
  '--xattrs',
  '--xattrs-include=*',
  '--xattrs-exclude=trusted.overlay.*',
  '--xattrs-exclude=security.selinux',
  '--warning=no-timestamp',
  '--warning=no-unknown-keyword',
];

/**
 * Extracts a layer (uncompressed or gzip tar) into `dir`, which must not exist yet; it is created empty. On any
 * failure `dir` is removed. Returns the DiffID and sizes.
 */
export async function unpackLayer(input: AsyncIterable<Buffer | Uint8Array | string>, dir: string, opts: UnpackOptions = {}): Promise<UnpackResult> {
  const label = opts.label ?? 'layer';
  await mkdir(dir, { mode: 0o755 });
  let tar: ReturnType<typeof spawn> | undefined;
  try {
    const { head, stream } = await peek(input, 6);
    const kind = sniffCompression(head);
    if (kind !== 'none' && kind !== 'gzip') {
      stream.destroy();
      throw new UnsupportedCompressionError(kind, label);
    }
    tar = spawn('tar', [...TAR_EXTRACT_ARGS, '-C', dir], { stdio: ['pipe', 'ignore', 'pipe'] });
    const exited = waitChild(tar);
    const gate = new TarGate();
    let tarFailed: Error | undefined;
    void exited.then(
      (r) => {
        if (r.code !== 0) {
          tarFailed = new LayerExtractError(label, `tar failed: ${r.stderr || `exit ${r.code ?? r.signal}`}`);
          gate.destroy(tarFailed);
        }
      },
      () => undefined,
    );
    const stages: (Readable | Transform)[] = [stream];
    if (kind === 'gzip') stages.push(createGunzip());
    stages.push(gate);
    try {
      await pipeline([...stages, childSink(tar)], opts.signal ? { signal: opts.signal } : {});
    } catch (e) {
      if (tarFailed && !(e instanceof LayerRejectedError)) throw tarFailed;
      throw e;
    }
    const r = await exited;
    if (r.code !== 0) {
      throw new LayerExtractError(label, `tar failed: ${r.stderr || `exit ${r.code ?? r.signal}`}`);
    }
    tar = undefined;
    if (opts.expectedDiffId !== undefined && gate.diffId !== opts.expectedDiffId) {
      throw new DigestMismatchError(`${label} (uncompressed)`, opts.expectedDiffId, gate.diffId);
    }
    await applyMarkers(dir, gate.markers);
    return { diffId: gate.diffId, size: gate.contentSize, tarSize: gate.tarSize, compression: kind };
  } catch (e) {
    if (tar !== undefined && tar.exitCode === null) {
      tar.kill('SIGKILL');
      await new Promise((r) => tar!.once('close', r));
    }
    await rm(dir, { recursive: true, force: true });
    if (e instanceof Error && e.name === 'AbortError') throw e;
    if (e instanceof CodedError) throw e;
    throw new LayerExtractError(label, (e as Error).message, { cause: e });
  }
}

/** Checks that every directory on the way to `rel` (inside root, not including it) is a real directory. */
async function assertRealDirs(root: string, rel: string, includeLast: boolean): Promise<void> {
  const parts = rel === '' ? [] : rel.split('/');
  const n = includeLast ? parts.length : parts.length - 1;
  let p = root;
  for (let i = 0; i < n; i++) {
    p = join(p, parts[i]!);
    const st = await lstat(p);
    if (!st.isDirectory()) throw new LayerRejectedError('whiteout below a non-directory', rel);
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch {
    return false;
  }
}

/** Turns the OCI whiteout markers of an extracted layer into overlayfs whiteouts and opaque directories. */
export async function applyMarkers(root: string, markers: readonly Marker[]): Promise<void> {
  // Opaque markers first, then whiteouts; remove all markers.
  const opaque = markers.filter((m) => m.kind === 'opaque');
  const whiteouts = markers.filter((m) => m.kind === 'whiteout');
  for (const m of markers) {
    await assertRealDirs(root, m.path, false);
    await rm(join(root, m.path), { recursive: true, force: true });
  }
  for (const m of opaque) {
    await assertRealDirs(root, m.dir, true);
    await run('setfattr', ['-h', '-n', 'trusted.overlay.opaque', '-v', 'y', join(root, m.dir) || root]);
  }
  await mapLimit(whiteouts, 8, async (m) => {
    const target = join(root, m.dir, m.name!);
    // An entry of the same layer with that name already hides the lower one.
    if (await exists(target)) return;
    await run('mknod', [target, 'c', '0', '0']);
  });
}
