/**
 * Typed runtime errors. Adapters map engine answers onto these (Docker: 404 → NotFound, 409 → Conflict,
 * 304 → NotModified), so the engine never looks at HTTP status codes.
 */
import { TsComposeError, type TsComposeErrorOptions } from '../errors.js';

export type RuntimeObjectKind = 'container' | 'network' | 'volume' | 'image';

/** The container, network, volume or image does not exist. */
export class NotFoundError extends TsComposeError {
  readonly kind: RuntimeObjectKind;
  readonly ref: string;
  constructor(kind: RuntimeObjectKind, ref: string, options: TsComposeErrorOptions = {}) {
    super('TSC_NOT_FOUND', `no such ${kind}: ${ref}`, options);
    this.kind = kind;
    this.ref = ref;
  }
}

/** The request conflicts with the current state (name in use, container running, network in use, …). */
export class ConflictError extends TsComposeError {
  readonly kind: RuntimeObjectKind;
  readonly ref: string;
  constructor(kind: RuntimeObjectKind, ref: string, detail: string, options: TsComposeErrorOptions = {}) {
    super('TSC_CONFLICT', `${kind} ${ref}: ${detail}`, options);
    this.kind = kind;
    this.ref = ref;
  }
}

/** Nothing to do: starting a running container, stopping a stopped one (Docker answers 304). */
export class NotModifiedError extends TsComposeError {
  readonly kind: RuntimeObjectKind;
  readonly ref: string;
  constructor(kind: RuntimeObjectKind, ref: string, detail: string, options: TsComposeErrorOptions = {}) {
    super('TSC_NOT_MODIFIED', `${kind} ${ref}: ${detail}`, options);
    this.kind = kind;
    this.ref = ref;
  }
}

/** A pull failed (an `errorDetail` in the progress stream, or the registry refused). */
export class PullError extends TsComposeError {
  readonly ref: string;
  constructor(ref: string, detail: string, options: TsComposeErrorOptions = {}) {
    super('TSC_PULL', `pulling ${ref}: ${detail}`, options);
    this.ref = ref;
  }
}

/** A build failed (an `error`/`errorDetail` in the build stream, or the context could not be read). */
export class BuildError extends TsComposeError {
  /** The first tag of the build (the service image), or the context when untagged. */
  readonly ref: string;
  readonly detail: string;
  constructor(ref: string, detail: string, options: TsComposeErrorOptions = {}) {
    super('TSC_BUILD', `building ${ref}: ${detail}`, options);
    this.ref = ref;
    this.detail = detail;
  }
}

/** A push failed (an `errorDetail` in the progress stream, or the registry refused). */
export class PushError extends TsComposeError {
  readonly ref: string;
  constructor(ref: string, detail: string, options: TsComposeErrorOptions = {}) {
    super('TSC_PUSH', `pushing ${ref}: ${detail}`, options);
    this.ref = ref;
  }
}

/**
 * The backend cannot be used: no Docker socket answering, the native runtime missing a requirement, ….
 * `hint` says what to do.
 */
export class RuntimeUnavailableError extends TsComposeError {
  readonly runtime: string;
  constructor(runtime: string, detail: string, options: TsComposeErrorOptions = {}) {
    super('TSC_RUNTIME_UNAVAILABLE', `${runtime} runtime unavailable: ${detail}`, options);
    this.runtime = runtime;
  }
}

/**
 * The container's logging driver keeps nothing to read (`none`; Docker answers 501 with the same words). `logs`
 * warns about such a container, as docker compose does, instead of failing.
 */
export class LogsNotReadableError extends TsComposeError {
  readonly ref: string;
  constructor(ref: string, options: TsComposeErrorOptions = {}) {
    super('TSC_LOGS_NOT_READABLE', 'configured logging driver does not support reading', options);
    this.ref = ref;
  }
}

export function isNotFound(e: unknown): e is NotFoundError {
  return e instanceof NotFoundError;
}
export function isNotModified(e: unknown): e is NotModifiedError {
  return e instanceof NotModifiedError;
}
export function isConflict(e: unknown): e is ConflictError {
  return e instanceof ConflictError;
}
