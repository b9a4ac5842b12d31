/**
 * The build context library's errors: a stable code, an exit code and a hint each (src/lib/errors.ts).
 */
import { CodedError, type CodedErrorOptions } from '../../errors.js';

/** A `COPY`/`ADD` source that is not in the context (missing, or excluded by `.dockerignore`). */
export class CopySourceError extends CodedError {
  /** The source as cleaned relative to the context (posix, no leading `/`; `.` for the root). */
  readonly path: string;
  constructor(path: string, detail = 'not found in the build context or excluded by .dockerignore', options: CodedErrorOptions = {}) {
    super('TSC_BUILD_COPY_SOURCE', `COPY source ${JSON.stringify(path)}: ${detail}`, {
      hint: 'check the path (it is relative to the build context) and the .dockerignore patterns',
      ...options,
    });
    this.path = path;
  }
}

/** A `COPY`/`ADD` destination that cannot take what the sources select (several sources into a file path). */
export class CopyDestinationError extends CodedError {
  readonly dest: string;
  constructor(dest: string, detail: string, options: CodedErrorOptions = {}) {
    super('TSC_BUILD_COPY_DEST', `COPY destination ${JSON.stringify(dest)}: ${detail}`, {
      hint: 'end the destination with "/" to copy into a directory',
      ...options,
    });
    this.dest = dest;
  }
}

/** A malformed pattern: a `.dockerignore` line, a `COPY` glob, or a `--chown`/`--chmod` value. */
export class ContextPatternError extends CodedError {
  readonly pattern: string;
  constructor(pattern: string, detail: string, options: CodedErrorOptions = {}) {
    super('TSC_BUILD_PATTERN', `invalid pattern ${JSON.stringify(pattern)}: ${detail}`, options);
    this.pattern = pattern;
  }
}
