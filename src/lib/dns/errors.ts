/** The errors of the DNS library, each a CodedError (stable code, exit code, hint). */
import { CodedError, type CodedErrorOptions } from '../errors.js';

/** An invalid record set or file entry: a bad gateway, upstream, address or name; a malformed extra_hosts item. */
export class DnsConfigError extends CodedError {
  constructor(message: string, options: CodedErrorOptions = {}) {
    super('TSC_DNS_INVALID', message, options);
  }
}

/** The resolver process is missing, did not start, cannot serve a network (its address), or did not answer in time. */
export class DnsResolverError extends CodedError {
  constructor(message: string, options: CodedErrorOptions = {}) {
    super('TSC_DNS_RESOLVER', message, options);
  }
}
