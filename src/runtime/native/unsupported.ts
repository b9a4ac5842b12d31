import { TsComposeError } from '../../errors.js';

/** A compose feature the native runtime does not have (yet): TSC_NATIVE_UNSUPPORTED, with what to do instead. */
export function unsupported(what: string, hint = 'use --runtime docker for this project'): TsComposeError {
  return new TsComposeError('TSC_NATIVE_UNSUPPORTED', `${what} is not yet supported on the native runtime`, { hint });
}
