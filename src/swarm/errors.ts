/**
 * Errors of the compose → swarm mapping (src/swarm): a value a swarm service cannot take, or a secret or config
 * whose content cannot be read. The message names the service (or top-level object) and the compose key.
 */
import { TsComposeError, type TsComposeErrorOptions } from '../errors.js';

/** A compose value that cannot be mapped to a swarm object (`TSC_SWARM_CONVERT`). */
export class SwarmConvertError extends TsComposeError {
  /** The compose service, or undefined for a top-level object (network, secret, config, volume). */
  readonly service: string | undefined;
  /** The compose key, as a path: `deploy.mode`, `ports[1].mode`, `secrets.api_key.file`. */
  readonly key: string;
  constructor(service: string | undefined, key: string, detail: string, options: TsComposeErrorOptions = {}, code = 'TSC_SWARM_CONVERT') {
    super(code, `${service !== undefined ? `service ${JSON.stringify(service)}: ` : ''}${key}: ${detail}`, options);
    this.service = service;
    this.key = key;
  }
}

/** A secret or config whose content cannot be had: file unreadable, environment variable unset, too large (`TSC_SWARM_SOURCE`). */
export class SwarmSourceError extends SwarmConvertError {
  constructor(key: string, detail: string, options: TsComposeErrorOptions = {}) {
    super(undefined, key, detail, options, 'TSC_SWARM_SOURCE');
  }
}
