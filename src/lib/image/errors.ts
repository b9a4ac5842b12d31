/**
 * The image library's errors. Each has a stable code, an exit code and (where it helps) a hint; the runtime
 * adapter that uses the library maps the ones the engine must tell apart (not found, conflict, pull, push) onto
 * the runtime port's errors.
 */
import { CodedError, type CodedErrorOptions } from '../errors.js';

/** No image by that reference or id in the store. */
export class ImageNotFoundError extends CodedError {
  readonly ref: string;
  constructor(ref: string, options: CodedErrorOptions = {}) {
    super('TSC_NOT_FOUND', `no such image: ${ref}`, options);
    this.ref = ref;
  }
}

/** The request conflicts with the store's state (an ambiguous short id, an image still in use, …). */
export class ImageConflictError extends CodedError {
  readonly ref: string;
  readonly detail: string;
  constructor(ref: string, detail: string, options: CodedErrorOptions = {}) {
    super('TSC_CONFLICT', `image ${ref}: ${detail}`, options);
    this.ref = ref;
    this.detail = detail;
  }
}

/** A pull failed: the registry refused, the manifest is unusable, a layer was rejected, …. */
export class ImagePullError extends CodedError {
  readonly ref: string;
  readonly detail: string;
  constructor(ref: string, detail: string, options: CodedErrorOptions = {}) {
    super('TSC_PULL', `pulling ${ref}: ${detail}`, options);
    this.ref = ref;
    this.detail = detail;
  }
}

/** A push failed. */
export class ImagePushError extends CodedError {
  readonly ref: string;
  readonly detail: string;
  constructor(ref: string, detail: string, options: CodedErrorOptions = {}) {
    super('TSC_PUSH', `pushing ${ref}: ${detail}`, options);
    this.ref = ref;
    this.detail = detail;
  }
}

/** An invalid image reference (distribution/reference's grammar). */
export class InvalidReferenceError extends CodedError {
  readonly ref: string;
  readonly detail: string;
  constructor(ref: string, detail: string) {
    super('TSC_INVALID_REFERENCE', `invalid reference format: ${JSON.stringify(ref)}: ${detail}`);
    this.ref = ref;
    this.detail = detail;
  }
}

/** A platform that is not `os/arch[/variant]`. */
export class InvalidPlatformError extends CodedError {
  constructor(spec: string) {
    super('TSC_INVALID_PLATFORM', `invalid platform ${JSON.stringify(spec)}: want os/arch[/variant]`);
  }
}

/** A layer that would write outside its directory (or is not a well-formed tar) was refused. */
export class LayerRejectedError extends CodedError {
  readonly entry: string | undefined;
  readonly detail: string;
  constructor(detail: string, entry?: string) {
    super('TSC_IMAGE_LAYER_REJECTED', entry === undefined ? `layer rejected: ${detail}` : `layer rejected: ${detail}: ${JSON.stringify(entry)}`, {
      hint: 'the image contains a layer tscompose refuses to extract; nothing was written outside the layer directory',
    });
    this.entry = entry;
    this.detail = detail;
  }
}

/** A blob or layer whose content does not have the digest it was announced with. */
export class DigestMismatchError extends CodedError {
  constructor(what: string, expected: string, actual: string) {
    super('TSC_IMAGE_DIGEST_MISMATCH', `${what}: digest mismatch: expected ${expected}, got ${actual}`);
  }
}

/** A layer could not be extracted (tar failed). */
export class LayerExtractError extends CodedError {
  constructor(label: string, detail: string, options: CodedErrorOptions = {}) {
    super('TSC_IMAGE_LAYER_EXTRACT', `extracting ${label}: ${detail}`, options);
  }
}

/** An image archive (`docker save`, OCI layout) that cannot be loaded. */
export class ArchiveError extends CodedError {
  constructor(detail: string, options: CodedErrorOptions = {}) {
    super('TSC_IMAGE_ARCHIVE', `invalid image archive: ${detail}`, options);
  }
}

/** A compression tscompose cannot read (zstd, …). */
export class UnsupportedCompressionError extends CodedError {
  /** `kind`: the compression sniffed (streams.ts `Compression`). */
  constructor(kind: string, what: string) {
    super('TSC_IMAGE_UNSUPPORTED_COMPRESSION', `${what} is ${kind}-compressed, which tscompose cannot decompress`, {
      hint: 'only uncompressed and gzip-compressed layers and archives are supported',
    });
  }
}

/** An image config that is not JSON or has no valid rootfs.diff_ids. */
export class ImageConfigError extends CodedError {
  constructor(what: string, detail: string, options: CodedErrorOptions = {}) {
    super('TSC_IMAGE_CONFIG', `${what}: ${detail}`, options);
  }
}

/** A layer or blob the store should have but has not (TSC_IMAGE_NO_BLOB), or an inconsistent store (TSC_INTERNAL). */
export class ImageStoreError extends CodedError {
  constructor(code: 'TSC_IMAGE_NO_BLOB' | 'TSC_INTERNAL', message: string, options: CodedErrorOptions = {}) {
    super(code, message, options);
  }
}

/** A helper command (gzip, tar, …) failed. */
export class ImageCommandError extends CodedError {
  constructor(message: string) {
    super('TSC_IMAGE_COMMAND', message);
  }
}
