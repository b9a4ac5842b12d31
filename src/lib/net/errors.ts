/**
 * The errors of the network library, each a CodedError (stable code, exit code, hint). Messages say what was
 * wrong without the caller's context; an adapter adds that ("cannot attach container web to its networks: …").
 */
import { CodedError, type CodedErrorOptions } from '../errors.js';

/** An invalid value: an address, a CIDR, a MAC, an MTU, an interface or netns name, a port. */
export class NetConfigError extends CodedError {
  constructor(message: string, options: CodedErrorOptions = {}) {
    super('TSC_NET_INVALID', message, options);
  }
}

/** Address management: an overlapping or malformed subnet, an exhausted pool or subnet, an address in use. */
export class IpamError extends CodedError {
  constructor(message: string, options: CodedErrorOptions = {}) {
    super('TSC_NET_IPAM', message, options);
  }
}

/** The network state refuses the request: an unknown network, a host port in use, a network with endpoints. */
export class NetworkError extends CodedError {
  constructor(message: string, options: CodedErrorOptions = {}) {
    super('TSC_NET_NETWORK', message, options);
  }
}

/** A finished command: exit code (128 when killed by a signal) and its output. */
export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A network tool (`ip`, `nft`, `iptables-restore`, `mount`, …) failed; the message carries its stderr. */
export class NetCommandError extends CodedError {
  constructor(
    readonly argv: readonly string[],
    readonly result: RunResult,
    readonly input?: string,
  ) {
    const output = result.stderr.trim() || result.stdout.trim();
    super('TSC_NET_COMMAND', `${argv.join(' ')} failed (exit ${result.code}): ${output}`, {
      hint: /Operation not permitted|Permission denied/i.test(output)
        ? 'bridge networking needs root (CAP_NET_ADMIN)'
        : /command not found/.test(output)
          ? `the ${argv[0]} command is missing: install iproute2 and nftables`
          : undefined,
    });
  }
}
