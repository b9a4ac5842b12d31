/**
 * Static container addresses (compose `ipv4_address` / `ipv6_address`) checked as Docker Engine checks them: their
 * syntax when the container is created; when it starts, against each of its networks: a network takes a static
 * address of a family only when its ipam config gives a subnet of that family (Docker's "user configured
 * subnets"; an automatic subnet, or the ULA of `enable_ipv6` without one, does not count), and the address must be
 * in that subnet. An `ipv6_address` on a network with an IPv6 subnet but without `enable_ipv6` is ignored (the
 * container gets no IPv6 address there), as Docker does. An address in use is refused when it is allocated
 * (./ipam.ts allocateAddress, ./ipv6.ts address6), in Docker's words too (./errors.ts StaticAddressError).
 */
import { containsIp, mustCidr, parseIPv4 } from './cidr.js';
import { StaticAddressError } from './errors.js';
import type { IpamConfig } from './ipam.js';
import { contains6, parseCidr6, parseIPv6 } from './ipv6.js';

/** A container's static addresses on one network (an empty string is none, as for Docker). */
export interface StaticAddresses {
  readonly ipv4Address?: string | undefined;
  readonly ipv6Address?: string | undefined;
}

/** Which address families have a subnet from the network's ipam config. */
export interface UserSubnets {
  readonly ipv4: boolean;
  readonly ipv6: boolean;
}

/** What the start-time check needs of a network record. */
export interface StaticAddressNetwork {
  readonly key: string;
  readonly subnet: string;
  /** Its IPv6 subnet when IPv6 is enabled on it. */
  readonly subnet6?: string | undefined;
  /** Absent in records written before it was kept: static addresses are then taken as they were before. */
  readonly userSubnets?: UserSubnets | undefined;
}

export function userSubnetsOf(config: readonly IpamConfig[] | undefined): UserSubnets {
  const subnets = (config ?? []).flatMap((c) => (c.subnet === undefined ? [] : [c.subnet]));
  return { ipv4: subnets.some((s) => !s.includes(':')), ipv6: subnets.some((s) => s.includes(':')) };
}

/** An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is an IPv4 address to Docker, not an IPv6 one. */
function isV4Mapped(v: bigint): boolean {
  return v >> 32n === 0xffffn;
}

/** Docker's create-time check: each given address is one of its family. */
export function checkAddressSyntax(req: StaticAddresses): void {
  if (req.ipv4Address && parseIPv4(req.ipv4Address) === undefined) throw StaticAddressError.invalid(4, req.ipv4Address);
  if (req.ipv6Address) {
    const v = parseIPv6(req.ipv6Address);
    if (v === undefined || isV4Mapped(v)) throw StaticAddressError.invalid(6, req.ipv6Address);
  }
}

/**
 * Docker's start-time check of a container's static addresses on a network, in its order: the syntax, a subnet of
 * each given family from the ipam config (IPv4 first), then each address inside its subnet (IPv4 first; IPv6 only
 * when the network has IPv6, else it is ignored). Whether the address is free is the allocation's business.
 */
export function checkStaticAddresses(net: StaticAddressNetwork, req: StaticAddresses): void {
  checkAddressSyntax(req);
  const v4 = req.ipv4Address || undefined;
  const v6 = req.ipv6Address || undefined;
  if (net.userSubnets) {
    if (v4 !== undefined && !net.userSubnets.ipv4) throw StaticAddressError.noSubnet(net.key, 4);
    if (v6 !== undefined && !net.userSubnets.ipv6) throw StaticAddressError.noSubnet(net.key, 6);
  }
  if (v4 !== undefined && !containsIp(mustCidr(net.subnet), parseIPv4(v4)!)) throw StaticAddressError.outside(v4, [net.subnet]);
  if (v6 !== undefined && net.subnet6 !== undefined) {
    const p = parseCidr6(net.subnet6);
    if (p && !contains6(p, parseIPv6(v6)!)) throw StaticAddressError.outside(v6, [net.subnet6]);
  }
}
