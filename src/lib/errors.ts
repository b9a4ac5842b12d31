/**
 * The base of every error a library under src/lib throws: a stable code, an exit code and an optional hint, so
 * the CLI can format any of them without knowing the library. Libraries subclass it with their own classes
 * (src/lib/image/errors.ts, …); they never throw tscompose's own (src/errors.ts) or the runtime port's errors.
 * Adapters map library errors onto the runtime port's typed errors where the engine must tell them apart
 * (an image the store does not have → NotFoundError).
 */
export interface CodedErrorOptions {
  readonly hint?: string | undefined;
  readonly cause?: unknown;
  readonly exitCode?: number | undefined;
}

export class CodedError extends Error {
  readonly code: string;
  readonly exitCode: number;
  readonly hint: string | undefined;

  constructor(code: string, message: string, options: CodedErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.exitCode = options.exitCode ?? 1;
    this.hint = options.hint;
  }

  override get name(): string {
    return this.constructor.name;
  }
}

/** Whether `e` is an error with a code, an exit code and a hint (a library's or tscompose's own). */
export function isCodedError(e: unknown): e is CodedError {
  return e instanceof CodedError;
}

/** A Node system error's `code` (`ENOENT`, `EEXIST`, …), if it has one. */
export function errnoCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Whether `e` is a Node system error with one of `codes`. */
export function isErrno(e: unknown, ...codes: string[]): boolean {
  const code = errnoCode(e);
  return code !== undefined && codes.includes(code);
}

/** Whether `e` says a path does not exist (ENOENT, or ENOTDIR: a file where a directory on the path should be). */
export function isMissing(e: unknown): boolean {
  return isErrno(e, 'ENOENT', 'ENOTDIR');
}
