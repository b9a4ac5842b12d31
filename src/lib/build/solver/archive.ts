/**
 * ADD of a local tar archive, as BuildKit's file backend does it (solver/llbsolver/file/unpack.go): a regular file
 * whose (decompressed) start is a tar header — plain, gzip, bzip2, xz or zstd, told apart by magic bytes as
 * moby/go-archive `compression.Detect` — is extracted into the destination directory instead of copied. The
 * directory is resolved in the image through symlinks and made like fsutil MkdirAll (0755, owned by the `--chown`
 * user if any). Extraction follows go-archive v0.2.0 `Unpack` run by chrootarchive.Untar, i.e. chrooted into
 * the destination:
 * - every name is joined to `/` and cleaned, so `../../x` lands at `dest/x` and `/abs` at `dest/abs`; symlinks met
 *   on the way (from the image or earlier entries) resolve inside `dest` as in a chroot; hard link targets too;
 * - missing parents are made 0755 root:root; an existing path is removed unless both it and the entry are
 *   directories (then they merge and the entry's metadata wins);
 * - owner: `--chown` if given, else the entry's uid/gid (pax ones included); mode with setuid/setgid/sticky (not
 *   on symlinks); atime/mtime from the entry (directories dated after everything is in); devices and FIFOs via
 *   mknod(1).
 * Not done: xattrs (`SCHILY.xattr.*`: tar-stream decodes pax values as UTF-8, which would corrupt binary ones);
 * names are decoded as UTF-8. bzip2, xz and zstd need the system's `bzip2`/`xz`/`zstd`; gzip is zlib's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { chmod, lchown, link, lstat, lutimes, mkdir, open, rm, symlink, utimes } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract } from 'tar-stream';
import { CodedError } from '../../errors.js';
import type { Owner } from '../context/select.js';
import { ArchiveError } from './fileops-errors.js';
import { lstatOrNone, mkdirAllIn, resolveInRoot } from './fileops-paths.js';

export type ArchiveCompression = 'none' | 'gzip' | 'bzip2' | 'xz' | 'zstd';

const TOOLS: Record<'bzip2' | 'xz' | 'zstd', string> = { bzip2: 'bzip2', xz: 'xz', zstd: 'zstd' };

/** go-archive `compression.Detect`. */
export function detectCompression(head: Buffer): ArchiveCompression {
  const starts = (...bytes: number[]): boolean => head.length >= bytes.length && bytes.every((b, i) => head[i] === b);
  if (starts(0x42, 0x5a, 0x68)) return 'bzip2';
  if (starts(0x1f, 0x8b, 0x08)) return 'gzip';
  if (starts(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00)) return 'xz';
  if (starts(0x28, 0xb5, 0x2f, 0xfd)) return 'zstd';
  if (head.length >= 8 && (head.readUInt32LE(0) & 0xfffffff0) === 0x184d2a50) return 'zstd';
  return 'none';
}

/** A decompressed view of `file`; `done` settles once the decompressor has finished (rejects if it failed). */
interface Opened {
  readonly stream: Readable;
  readonly done: Promise<void>;
  close(): void;
}

function openDecompressed(file: string, kind: ArchiveCompression): Opened {
  if (kind === 'none' || kind === 'gzip') {
    const raw = createReadStream(file);
    if (kind === 'none') return { stream: raw, done: Promise.resolve(), close: () => raw.destroy() };
    const gunzip = createGunzip();
    const done = pipeline(raw, gunzip);
    done.catch(() => undefined);
    return { stream: gunzip, done, close: () => gunzip.destroy() };
  }
  const tool = TOOLS[kind];
  const child: ChildProcess = spawn(tool, ['-d', '-c', file], { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
  let stderr = '';
  let killed = false;
  let ended = false;
  child.stdout!.once('end', () => (ended = true));
  child.stderr!.on('data', (d: Buffer) => void (stderr.length < 4096 && (stderr += d.toString('utf8'))));
  const done = new Promise<void>((resolve, reject) => {
    child.once('error', (e) => {
      const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
      reject(new ArchiveError(file, missing ? `${kind} archives need the ${tool} program` : e.message, { cause: e, missingTool: missing }));
    });
    child.once('close', (code, signal) => {
      // Stopped by close(): not a failure of its own.
      if (code === 0 || (killed && signal === 'SIGKILL')) resolve();
      else reject(new ArchiveError(file, `${tool} failed: ${stderr.trim() || `exit ${code ?? signal}`}`));
    });
  });
  done.catch(() => undefined);
  return {
    stream: child.stdout!,
    done,
    close: () => {
      // Once its output has ended the program is exiting by itself (maybe with the error that cut the output).
      if (child.exitCode === null && child.signalCode === null && !ended) {
        killed = true;
        child.kill('SIGKILL');
      }
    },
  };
}

/** Whether a 512-byte block is a tar header: not all zeros, and its checksum (unsigned or signed, as Go) holds. */
function isTarHeader(block: Buffer): boolean {
  if (block.length < 512 || block.every((b) => b === 0)) return false;
  const field = block.subarray(148, 156).toString('latin1').replace(/\0.*$/s, '').trim();
  if (!/^[0-7]+$/.test(field)) return false;
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < 512; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  const stored = parseInt(field, 8);
  return stored === unsigned || stored === signed;
}

async function readHead(file: string, n: number): Promise<Buffer> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/**
 * go-archive `IsArchivePath` (BuildKit's isArchivePath): `hostFile` is a regular file whose decompressed content
 * starts with a valid tar header. A compression the machine lacks the program for fails with an ArchiveError.
 */
export async function isArchive(hostFile: string): Promise<boolean> {
  const st = await lstat(hostFile);
  if (!st.isFile()) return false;
  const kind = detectCompression(await readHead(hostFile, 8));
  const opened = openDecompressed(hostFile, kind);
  const parts: Buffer[] = [];
  let len = 0;
  try {
    for await (const chunk of opened.stream) {
      parts.push(chunk as Buffer);
      len += (chunk as Buffer).length;
      if (len >= 512) break;
    }
  } catch {
    return false;
  } finally {
    opened.close();
  }
  if (len < 512) {
    // Too short, or the decompressor failed: only a missing program is worth reporting.
    await opened.done.catch((e: unknown) => {
      if (e instanceof ArchiveError && e.missingTool) throw e;
    });
    return false;
  }
  return isTarHeader(Buffer.concat(parts));
}

interface PaxHeaders {
  readonly [key: string]: string | undefined;
}

/** go-archive `boundTime`-like: a time in seconds, never before the epoch. */
function bounded(sec: number): number {
  return Number.isFinite(sec) && sec > 0 ? sec : 0;
}

async function runMknod(file: string, host: string, args: string[]): Promise<void> {
  const child = spawn('mknod', [host, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) throw new ArchiveError(file, `mknod ${host} failed: ${stderr.trim() || `exit ${code}`}`);
}

/** Reads a tar entry to its end. */
async function drain(entry: AsyncIterable<unknown>): Promise<void> {
  for await (const chunk of entry) void chunk;
}

/** Writes a tar entry's bytes into a new file (O_EXCL: the path was just cleared, never write through a link). */
async function writeEntry(entry: AsyncIterable<unknown>, host: string): Promise<void> {
  const fh = await open(host, 'wx', 0o600);
  try {
    for await (const chunk of entry) await fh.write(chunk as Uint8Array);
  } finally {
    await fh.close();
  }
}

/** Extracts the tar stream `input` into `dest` (a host directory) as chrootarchive.Untar does; see the header. */
async function untar(file: string, input: Readable, dest: string, chown: Owner | undefined, signal: AbortSignal | undefined): Promise<void> {
  const ex = extract({ allowUnknownFormat: true } as Parameters<typeof extract>[0]);
  // A decompression error reaches the entries as a bare "destroyed": keep the real one to report.
  let inputError: Error | undefined;
  input.on('error', (e) => {
    inputError = e;
    ex.destroy(e);
  });
  input.pipe(ex as unknown as NodeJS.WritableStream);
  const dirs: { host: string; atime: number; mtime: number }[] = [];
  try {
    for await (const entry of ex) {
      signal?.throwIfAborted();
      const h = entry.header;
      const pax = (h.pax ?? {}) as PaxHeaders;
      const name = path.posix.join('/', h.name);
      const type: string = h.type ?? 'unknown';
      if (name === '/') {
        await drain(entry);
        continue;
      }
      await mkdirAllIn(dest, await resolveInRoot(dest, path.posix.dirname(name)), 0o755, { uid: 0, gid: 0 });
      const host = await resolveInRoot(dest, name, { followLast: false });
      const existing = await lstatOrNone(host);
      if (existing !== undefined && !(existing.isDirectory() && type === 'directory')) await rm(host, { recursive: true, force: true });

      let linkTarget: string | undefined;
      if (type === 'file' || type === 'contiguous-file') {
        await writeEntry(entry, host);
      } else {
        await drain(entry);
        if (type === 'directory') {
          if (existing?.isDirectory() !== true) await mkdir(host, { mode: 0o700 });
        } else if (type === 'symlink') {
          await symlink(h.linkname, host);
        } else if (type === 'link') {
          linkTarget = await resolveInRoot(dest, path.posix.join('/', h.linkname), { followLast: false });
          await link(linkTarget, host);
        } else if (type === 'character-device' || type === 'block-device') {
          await runMknod(file, host, [type === 'character-device' ? 'c' : 'b', String(h.devmajor), String(h.devminor)]);
        } else if (type === 'fifo') {
          await runMknod(file, host, ['p']);
        } else {
          throw new ArchiveError(file, `unhandled tar header type ${type} (${h.name})`);
        }
      }

      const num = (key: string, fallback: number): number =>
        pax[key] !== undefined && Number.isFinite(Number(pax[key])) ? Number(pax[key]) : fallback;
      await lchown(host, chown?.uid ?? num('uid', h.uid), chown?.gid ?? num('gid', h.gid));
      const mtime = bounded(num('mtime', h.mtime.getTime() / 1000));
      const atime = Math.max(mtime, bounded(num('atime', 0)));
      if (type === 'symlink') {
        await lutimes(host, atime, mtime);
      } else if (type !== 'link' || !(await lstat(linkTarget!)).isSymbolicLink()) {
        await chmod(host, h.mode & 0o7777);
        await utimes(host, atime, mtime);
      }
      if (type === 'directory') dirs.push({ host, atime, mtime });
    }
  } catch (e) {
    input.destroy();
    ex.destroy();
    throw inputError ?? e;
  }
  for (const d of dirs) await utimes(d.host, d.atime, d.mtime);
}

/**
 * ADD of a local file: when `hostFile` is a tar archive (see isArchive), extracts it into `destDir` (in the
 * image, resolved in `root`) and returns true; returns false for any other file (the caller copies it).
 * `uid`/`gid` are `--chown` (they own the made destination and every extracted path); without them the
 * archive's owners are kept.
 */
export async function extractIfArchive(
  hostFile: string,
  root: string,
  destDir: string,
  opts: { uid?: number | undefined; gid?: number | undefined; signal?: AbortSignal | undefined } = {},
): Promise<boolean> {
  if (!(await isArchive(hostFile))) return false;
  const chown = opts.uid !== undefined ? { uid: opts.uid, gid: opts.gid ?? opts.uid } : undefined;
  const dest = await resolveInRoot(root, destDir);
  await mkdirAllIn(root, dest, 0o755, chown);
  const opened = openDecompressed(hostFile, detectCompression(await readHead(hostFile, 8)));
  try {
    await untar(hostFile, opened.stream, dest, chown, opts.signal);
    await opened.done;
  } catch (e) {
    opened.close();
    // A decompressor that failed on its own is the cause of whatever the tar reader then saw.
    const failed = await opened.done.then(
      () => undefined,
      (d: unknown) => d,
    );
    if (failed instanceof ArchiveError) throw failed;
    // A tar or decompression error (not a filesystem one, not ours, not an abort): say which file it was.
    const fsError = (e as { syscall?: unknown }).syscall !== undefined;
    if (e instanceof CodedError || fsError || (e instanceof Error && e.name === 'AbortError')) throw e;
    throw new ArchiveError(hostFile, (e as Error).message, { cause: e });
  }
  return true;
}
