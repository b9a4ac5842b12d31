/**
 * ADD <url>: the download BuildKit's HTTP source does for the Dockerfile front end (source/http/source.go `save`,
 * dockerfile2llb `dispatchCopy`): a GET following redirects, any status from 200 to 399 taken (others fail with
 * "invalid response status"), the body written to a file named after the URL's path as the front end names it
 * (`path.Base` of the decoded path, `__unnamed__` when there is none, then pathutil.SafeFileName), mode 0600,
 * atime/mtime from Last-Modified (the epoch when absent or unparsable). `--checksum=<algo>:<hex>` (sha256, sha384
 * or sha512, as go-digest) is checked against the bytes ("digest mismatch for <url>: <got> (expected: <want>)").
 * The file is put alone in a new directory under `tmpDir`, so that directory can serve as a copy context for it.
 * Remote archives are not extracted (the caller's business: BuildKit only does it with `--unpack`).
 */
import { createHash, type Hash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, mkdtemp, rm, utimes } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { applyDeferredExtraCa } from '../../../util/extra-ca.js';
import { ChecksumMismatchError, FetchError } from './fileops-errors.js';

export interface FetchedFile {
  /** The downloaded file (host path), alone in its directory. */
  readonly file: string;
  /** Its name (the file's basename): what `ADD <url> /dir/` creates in /dir. */
  readonly name: string;
  /** Last-Modified, or the epoch; the file's atime/mtime are set to it. */
  readonly mtime: Date;
  /** `sha256:<hex>` of the bytes. */
  readonly digest: string;
}

const DIGEST_HEX: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

/** go-digest `Parse` of a --checksum value: `{ algorithm, hex }`. */
export function parseChecksum(url: string, checksum: string): { algorithm: string; digest: string } {
  const m = /^([a-z0-9]+(?:[.+_-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/.exec(checksum);
  if (!m) throw new FetchError(url, `invalid checksum digest format: ${JSON.stringify(checksum)}`);
  const want = DIGEST_HEX[m[1]!];
  if (want === undefined) throw new FetchError(url, `unsupported digest algorithm: ${JSON.stringify(checksum)}`);
  if (!/^[a-f0-9]+$/.test(m[2]!) || m[2]!.length !== want)
    throw new FetchError(url, `invalid checksum digest length or characters: ${JSON.stringify(checksum)}`);
  return { algorithm: m[1]!, digest: checksum };
}

/** pathutil.SafeFileName: the base name, or `download` for an empty, `.`, `..` or control-character name. */
function safeFileName(s: string): string {
  const name = path.posix.basename(s.trim());
  // eslint-disable-next-line no-control-regex
  if (name === '' || name === '.' || name === '..' || /[\u0000-\u001f\u007f-\u009f]/.test(name)) return 'download';
  return name;
}

/** The file name the Dockerfile front end gives a URL source (dispatchCopy, then the HTTP source). */
export function urlFileName(url: string): string {
  let f = '__unnamed__';
  try {
    const base = path.posix.basename(decodeURIComponent(new URL(url).pathname));
    if (base !== '' && base !== '.' && base !== '/') f = base;
  } catch {
    // An unparsable URL (or path escape) keeps the default name, as url.Parse failing does.
  }
  return safeFileName(f);
}

function describe(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  return cause?.message ?? cause?.code ?? (e as Error).message;
}

/** Downloads `url` into a new directory under `opts.tmpDir`; see the module header. */
export async function fetchUrl(
  url: string,
  opts: { checksum?: string | undefined; signal?: AbortSignal | undefined; tmpDir: string },
): Promise<FetchedFile> {
  const pinned = opts.checksum !== undefined && opts.checksum !== '' ? parseChecksum(url, opts.checksum) : undefined;
  applyDeferredExtraCa();
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'follow', headers: { 'user-agent': 'tscompose' }, ...(opts.signal ? { signal: opts.signal } : {}) });
  } catch (e) {
    if (e instanceof Error && e.name === 'AbortError') throw e;
    throw new FetchError(url, describe(e), { cause: e });
  }
  if (res.status < 200 || res.status >= 400) {
    await res.body?.cancel().catch(() => undefined);
    throw new FetchError(url, `invalid response status ${res.status}`, { status: res.status });
  }

  const name = urlFileName(url);
  const dir = await mkdtemp(path.join(opts.tmpDir, 'url-'));
  const file = path.join(dir, name);
  const sha256 = createHash('sha256');
  const other: Hash | undefined = pinned && pinned.algorithm !== 'sha256' ? createHash(pinned.algorithm) : undefined;
  try {
    const body = res.body ? Readable.fromWeb(res.body as WebReadableStream<Uint8Array>) : Readable.from([]);
    const tap = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        sha256.update(chunk);
        other?.update(chunk);
        cb(null, chunk);
      },
    });
    await pipeline(body, tap, createWriteStream(file, { flags: 'wx', mode: 0o600 }), opts.signal ? { signal: opts.signal } : {});
    const digest = `sha256:${sha256.digest('hex')}`;
    if (pinned) {
      const got = other ? `${pinned.algorithm}:${other.digest('hex')}` : digest;
      if (got !== pinned.digest) throw new ChecksumMismatchError(url, pinned.digest, got);
    }
    const modified = Date.parse(res.headers.get('last-modified') ?? '');
    const mtime = new Date(Number.isNaN(modified) ? 0 : modified);
    await chmod(file, 0o600);
    await utimes(file, mtime, mtime);
    return { file, name, mtime, digest };
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    if (e instanceof ChecksumMismatchError || (e instanceof Error && e.name === 'AbortError')) throw e;
    throw new FetchError(url, describe(e), { cause: e });
  }
}
