/** The errors of the builder's file operations (fileops.ts, archive.ts, fetch.ts): a stable code and a hint each. */
import { CodedError, type CodedErrorOptions } from '../../errors.js';

/**
 * A COPY/ADD/WORKDIR that cannot be done in the image: a directory where a file goes or the other way round
 * (fsutil's "cannot copy to non-directory" / "cannot replace to directory … with file"), a file on the way to a
 * destination, a symlink loop. `path` is the path in the image.
 */
export class FileOpError extends CodedError {
  readonly path: string;
  constructor(path: string, detail: string, options: CodedErrorOptions = {}) {
    super('TSC_BUILD_FILEOP', `${path}: ${detail}`, options);
    this.path = path;
  }
}

/** An ADD of a local archive that could not be extracted (a corrupt stream, a missing decompressor, …). */
export class ArchiveError extends CodedError {
  readonly file: string;
  /** True when the decompressor program (`bzip2`, `xz`, `zstd`) is not installed. */
  readonly missingTool: boolean;
  constructor(file: string, detail: string, options: CodedErrorOptions & { missingTool?: boolean } = {}) {
    super('TSC_BUILD_ARCHIVE', `extracting ${file}: ${detail}`, {
      ...(options.missingTool === true ? { hint: 'install the program, or ADD the file uncompressed' } : {}),
      ...options,
    });
    this.file = file;
    this.missingTool = options.missingTool === true;
  }
}

/** An ADD of a URL that could not be downloaded (network, HTTP status) or whose --checksum is malformed. */
export class FetchError extends CodedError {
  readonly url: string;
  /** The HTTP status when the server answered with an error, else undefined. */
  readonly status: number | undefined;
  constructor(url: string, detail: string, options: CodedErrorOptions & { status?: number } = {}) {
    super('TSC_BUILD_FETCH', `ADD ${url}: ${detail}`, options);
    this.url = url;
    this.status = options.status;
  }
}

/** A downloaded file whose digest is not the one `ADD --checksum` pinned (BuildKit's "digest mismatch"). */
export class ChecksumMismatchError extends CodedError {
  readonly url: string;
  readonly expected: string;
  readonly actual: string;
  constructor(url: string, expected: string, actual: string) {
    super('TSC_BUILD_CHECKSUM', `digest mismatch for ${url}: ${actual} (expected: ${expected})`, {
      hint: 'the file at the URL changed, or --checksum is wrong',
    });
    this.url = url;
    this.expected = expected;
    this.actual = actual;
  }
}
