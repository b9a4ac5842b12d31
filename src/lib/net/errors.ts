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

/**
 * A container's static address (compose `ipv4_address` / `ipv6_address`) refused, in Docker Engine's words: not an
 * address of its family, on a network without a subnet of that family from its ipam config, outside the network's
 * subnets, or in use (./static-address.ts).
 */
export class StaticAddressError extends CodedError {
  constructor(message: string, options: CodedErrorOptions = {}) {
    super('TSC_NET_STATIC_ADDRESS', message, options);
  }

  /** Not an address of its family (Docker Engine refuses it when the container is created). */
  static invalid(family: 4 | 6, address: string): StaticAddressError {
    return new StaticAddressError(`invalid IPv${family} address: ${address}`, {
      hint: family === 4 ? 'ipv4_address takes an IPv4 address, e.g. 172.28.0.10' : 'ipv6_address takes an IPv6 address, e.g. 2001:db8::10',
    });
  }

  /** The network has no subnet of the address's family in its ipam config (Docker: no "user configured subnet"). */
  static noSubnet(network: string, family: 4 | 6): StaticAddressError {
    return new StaticAddressError('user specified IP address is supported only when connecting to networks with user configured subnets', {
      hint:
        `network ${network} has no IPv${family} subnet in its ipam config: give it one (ipam.config[].subnet` +
        `${family === 6 ? ', with enable_ipv6: true' : ''}) or drop the service's ipv${family}_address`,
    });
  }

  static outside(address: string, subnets: readonly string[]): StaticAddressError {
    return new StaticAddressError(`Invalid address ${address}: It does not belong to any of this network's subnets`, {
      hint: `the network's subnet${subnets.length === 1 ? ' is' : 's are'} ${subnets.join(', ')}`,
    });
  }

  /** The gateway, the network or broadcast address, a reserved address or another container's. */
  static inUse(address: string, what: string): StaticAddressError {
    return new StaticAddressError('Address already in use', { hint: `${address} is ${what}` });
  }
}

/**
 * A container's compose `interface_name` refused (./endpoint-order.ts): not a Linux interface name, or the same name
 * on two of its networks. Docker Engine refuses both when the container starts (the kernel's error).
 */
export class InterfaceNameError extends CodedError {
  constructor(message: string, options: CodedErrorOptions = {}) {
    super('TSC_NET_INTERFACE_NAME', message, options);
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
