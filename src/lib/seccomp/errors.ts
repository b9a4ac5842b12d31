/** The errors of the seccomp library, each a CodedError (stable code, exit code, hint). */
import { CodedError, type CodedErrorOptions } from '../errors.js';

/** A seccomp profile that cannot be read or used: not JSON, a field of the wrong type, contradicting fields. */
export class SeccompProfileError extends CodedError {
  constructor(message: string, options: CodedErrorOptions = {}) {
    super('TSC_SECCOMP_PROFILE', message, options);
  }
}

/** An AppArmor profile asked for (`apparmor=NAME`) that the host has not loaded. */
export class AppArmorProfileError extends CodedError {
  constructor(message: string, options: CodedErrorOptions = {}) {
    super('TSC_APPARMOR_PROFILE', message, options);
  }
}
