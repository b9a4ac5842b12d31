/** Ctrl-C: exit 130. */
import { TsComposeError } from '../errors.js';

export class CanceledError extends TsComposeError {
  constructor(message = 'canceled') {
    super('TSC_CANCELED', message, { exitCode: 130 });
  }
}
