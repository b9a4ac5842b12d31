/** Engine errors (dockerode/docker-modem rejections) → the runtime's typed errors. */
import { TsComposeError } from '../../errors.js';
import { ConflictError, LogsNotReadableError, NotFoundError, NotModifiedError, RuntimeUnavailableError, type RuntimeObjectKind } from '../errors.js';

export const DOCKER_HINT = 'is dockerd running? try `npm run engine:setup` (or set DOCKER_HOST)';

interface ModemError {
  statusCode?: number;
  reason?: string;
  json?: unknown;
  code?: string;
  message?: string;
  name?: string;
}

/** The engine's own message: `json.message` when there is one, else the error text without the `(HTTP code N)` prefix. */
export function engineMessage(e: unknown): string {
  const err = (e ?? {}) as ModemError;
  let json = err.json;
  if (Buffer.isBuffer(json)) json = json.toString('utf8');
  if (typeof json === 'string') {
    const text = json;
    try {
      json = JSON.parse(text) as unknown;
    } catch {
      if (text.trim()) return text.trim();
    }
  }
  if (json && typeof json === 'object' && typeof (json as { message?: unknown }).message === 'string')
    return (json as { message: string }).message.trim();
  // dockerode's own words when the body was not JSON: `(HTTP code 500) unexpected - <the engine's message>`.
  return (err.message ?? String(e)).replace(/^\(HTTP code \d+\)\s*(?:[a-z][a-z ]* - )?/, '').trim();
}

export function isAbortError(e: unknown): boolean {
  const err = e as ModemError | undefined;
  return err?.name === 'AbortError' || err?.code === 'ABORT_ERR';
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOENT', 'EACCES', 'ECONNRESET', 'EHOSTUNREACH', 'ETIMEDOUT', 'EPIPE']);

/**
 * The engine's `Cannot restart container REF: ` before the reason a restart failed: the message names the container
 * already (`container NAME: reason`), as a failed start's does and as the native runtime's restart does.
 */
function withoutRestartPreamble(kind: RuntimeObjectKind, msg: string): string {
  return kind === 'container' ? msg.replace(/^Cannot restart container [^\s:]+: /, '') : msg;
}

/**
 * Maps an engine error onto a typed one: 404 → NotFound (the image or network named in the message, else `kind`),
 * 409 and 403 (and a pause/unpause in the wrong state) → Conflict, 304 → NotModified, socket errors → RuntimeUnavailable. Aborts pass through unchanged;
 * anything else becomes a TsComposeError `TSC_DOCKER` with the engine's message.
 */
export function mapDockerError(e: unknown, kind: RuntimeObjectKind, ref: string): Error {
  if (e instanceof TsComposeError) return e;
  if (isAbortError(e)) return e as Error;
  const err = (e ?? {}) as ModemError;
  const msg = withoutRestartPreamble(kind, engineMessage(e));
  switch (err.statusCode) {
    case 404: {
      const image = /no such image:\s*(\S+)/i.exec(msg) ?? /pull access denied for ([^,\s]+)/i.exec(msg);
      if (image) return new NotFoundError('image', image[1]!, { cause: e });
      const net = /network (\S+) not found/i.exec(msg);
      if (net && kind !== 'network') return new NotFoundError('network', net[1]!, { cause: e });
      return new NotFoundError(kind, ref, { cause: e });
    }
    case 403:
    case 409:
      return new ConflictError(kind, ref, msg, { cause: e });
    case 304:
      return new NotModifiedError(kind, ref, msg || 'not modified', { cause: e });
    case 501:
      // `logs` of a container whose logging driver keeps nothing (none, syslog, …)
      if (/does not support reading/i.test(msg)) return new LogsNotReadableError(ref, { cause: e });
      break;
    default:
      // Pause/unpause in the wrong state: the engine answers 500, the port promises Conflict.
      if (/is not paused|is already paused|is paused|is not running/i.test(msg) && err.statusCode !== undefined)
        return new ConflictError(kind, ref, msg, { cause: e });
      break;
  }
  if (err.code && UNREACHABLE.has(err.code) && err.statusCode === undefined) {
    return new RuntimeUnavailableError('docker', `cannot reach the Docker Engine (${err.code}: ${err.message ?? ''})`, {
      hint: DOCKER_HINT,
      cause: e,
    });
  }
  return new TsComposeError('TSC_DOCKER', `${kind} ${ref}: ${msg}`, { cause: e });
}
