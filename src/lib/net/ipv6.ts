/**
 * IPv6 of bridge networks with `enable_ipv6`: the network's IPv6 subnet (compose's ipam config entry with an IPv6
 * subnet, else a ULA /64 derived from the network's key, as Docker allocates a ULA prefix by default), its gateway
 * (the subnet's first address unless given) and the containers' addresses. A container's IPv6 address has the
 * same host number as its IPv4 one (10.214.0.5 → <prefix>::5), so it needs no allocation state of its own and
 * never collides; a static `ipv6_address` is checked against the others.
 */
import { createHash } from 'node:crypto';
import { isIPv6 } from '../ip-literal.js';
import { mustCidr, mustIPv4 } from './cidr.js';
import { IpamError, StaticAddressError } from './errors.js';
import type { IpamConfig } from './ipam.js';

const ALL = (1n << 128n) - 1n;

export function parseIPv6(s: string): bigint | undefined {
  if (!isIPv6(s) || s.includes('%')) return undefined;
  let text = s;
  // a trailing dotted IPv4 (::ffff:1.2.3.4)
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const n = mustIPv4(v4[1]!);
    text = `${text.slice(0, -v4[1]!.length)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  if (groups.length !== 8) return undefined;
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/** RFC 5952 text: lower case, the longest run of zero groups (two or more) as `::`. */
export function formatIPv6(v: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number((v >> BigInt(112 - 16 * i)) & 0xffffn));
  let best = { at: -1, len: 0 };
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.len) best = { at: i, len: j - i };
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best.len < 2) return hex.join(':');
  return `${hex.slice(0, best.at).join(':')}::${hex.slice(best.at + best.len).join(':')}`;
}

export interface Prefix6 {
  readonly base: bigint;
  readonly len: number;
}

export function parseCidr6(s: string): Prefix6 | undefined {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const ip = parseIPv6(m[1]!);
  const len = Number(m[2]);
  if (ip === undefined || len > 128) return undefined;
  const mask = len === 0 ? 0n : (ALL << BigInt(128 - len)) & ALL;
  if ((ip & ~mask & ALL) !== 0n) return undefined; // host bits set
  return { base: ip, len };
}

export function formatCidr6(p: Prefix6): string {
  return `${formatIPv6(p.base)}/${p.len}`;
}

export function contains6(p: Prefix6, ip: bigint): boolean {
  const mask = p.len === 0 ? 0n : (ALL << BigInt(128 - p.len)) & ALL;
  return (ip & mask) === p.base;
}

function overlaps6(a: Prefix6, b: Prefix6): boolean {
  return a.len <= b.len ? contains6(a, b.base) : contains6(b, a.base);
}

/** A network's IPv6 side. */
export interface Ipv6Network {
  readonly subnet6: string;
  readonly gateway6: string;
}

/** The ULA /64 of a network without an IPv6 subnet: fdXX:XXXX:XXXX:YYYY::/64 from a hash of its key (RFC 4193). */
export function ulaSubnet(key: string): string {
  const h = createHash('sha256').update(`ula\0${key}`).digest();
  const groups = [0xfd00 | h[0]!, (h[1]! << 8) | h[2]!, (h[3]! << 8) | h[4]!, (h[5]! << 8) | h[6]!];
  return `${groups.map((g) => g.toString(16)).join(':')}::/64`;
}

/**
 * The IPv6 subnet and gateway of a network with `enable_ipv6`: the first ipam config entry with an IPv6 subnet
 * (prefix /48 to /120, host bits zero; gateway inside it, default its first address), else a ULA /64. Refused
 * when it overlaps another of our networks' (`others`).
 */
export function planIpv6(key: string, config: readonly IpamConfig[] | undefined, others: readonly string[]): Ipv6Network {
  const c = (config ?? []).find((x) => x.subnet?.includes(':'));
  const subnetText = c?.subnet ?? ulaSubnet(key);
  const p = parseCidr6(subnetText);
  if (!p) throw new IpamError(`network ${key}: invalid IPv6 subnet ${JSON.stringify(subnetText)} (zero host bits expected)`);
  if (p.len < 48 || p.len > 120) throw new IpamError(`network ${key}: IPv6 subnet ${subnetText} must be /48 to /120`);
  for (const o of others) {
    const q = parseCidr6(o);
    if (q && overlaps6(p, q)) throw new IpamError(`network ${key}: IPv6 subnet ${subnetText} overlaps another network's (${o})`);
  }
  let gw = p.base + 1n;
  if (c?.gateway !== undefined && c.gateway.includes(':')) {
    const g = parseIPv6(c.gateway);
    if (g === undefined || !contains6(p, g) || g === p.base)
      throw new IpamError(`network ${key}: IPv6 gateway ${c.gateway} is not an address of ${subnetText}`);
    gw = g;
  }
  return { subnet6: formatCidr6(p), gateway6: formatIPv6(gw) };
}

/** A container's IPv6 address: the IPv4 address's host number in the IPv6 subnet (or its static `ipv6_address`). */
export function address6(net: Ipv6Network & { subnet: string }, ipv4: string, requested?: string, taken: readonly string[] = []): string {
  const p = parseCidr6(net.subnet6)!;
  if (requested !== undefined) {
    const r = parseIPv6(requested);
    if (r === undefined) throw StaticAddressError.invalid(6, requested);
    if (!contains6(p, r)) throw StaticAddressError.outside(requested, [net.subnet6]);
    const s = formatIPv6(r);
    if (s === net.gateway6) throw StaticAddressError.inUse(requested, "the network's IPv6 gateway");
    if (r === p.base) throw StaticAddressError.inUse(requested, `the subnet's own address (${net.subnet6})`);
    if (taken.includes(s)) throw StaticAddressError.inUse(requested, "another container's address on the network");
    return s;
  }
  const v4 = mustCidr(net.subnet);
  const host = BigInt((mustIPv4(ipv4) - v4.base) >>> 0);
  let a = p.base + host;
  // the gateway's number (a gateway given explicitly may be any address of the subnet): the top of the subnet's
  // own space instead, where IPv4 host numbers never reach
  if (formatIPv6(a) === net.gateway6) a = p.base + (1n << BigInt(Math.min(128 - p.len, 64) - 1)) + host;
  return formatIPv6(a);
}
