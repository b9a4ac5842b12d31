/**
 * Pure IPv4 address and CIDR arithmetic for the native network code (IPAM, overlap checks, nft rule text).
 * Addresses are unsigned 32-bit numbers; a prefix is {base, len} with the host bits of base cleared.
 */
import { NetConfigError } from './errors.js';

export interface Prefix {
  /** Network address as an unsigned 32-bit integer (host bits zero). */
  readonly base: number;
  /** Prefix length 0..32. */
  readonly len: number;
}

const IPV4_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** Parses a dotted quad; undefined when it is not one (no leading zeros beyond "0", each octet ≤ 255). */
export function parseIPv4(s: string): number | undefined {
  const m = IPV4_RE.exec(s.trim());
  if (!m) return undefined;
  let v = 0;
  for (let i = 1; i <= 4; i++) {
    const part = m[i]!;
    if (part.length > 1 && part.startsWith('0')) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    v = v * 256 + n;
  }
  return v;
}

export function mustIPv4(s: string): number {
  const v = parseIPv4(s);
  if (v === undefined) throw new NetConfigError(`invalid IPv4 address: ${JSON.stringify(s)}`);
  return v;
}

export function formatIPv4(v: number): string {
  return [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join('.');
}

/** Netmask of a prefix length as an unsigned integer. */
export function maskOf(len: number): number {
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}

/**
 * Parses `a.b.c.d/len` (or a bare address = /32). With `strict`, host bits must be zero (Docker rejects
 * `10.0.0.1/24` as a subnet); otherwise they are cleared.
 */
export function parseCidr(s: string, strict = false): Prefix | undefined {
  const [addr, lenText, ...rest] = s.trim().split('/');
  if (rest.length || addr === undefined) return undefined;
  const ip = parseIPv4(addr);
  if (ip === undefined) return undefined;
  let len = 32;
  if (lenText !== undefined) {
    if (!/^\d{1,2}$/.test(lenText)) return undefined;
    len = Number(lenText);
    if (len > 32) return undefined;
  }
  const base = (ip & maskOf(len)) >>> 0;
  if (strict && base !== ip) return undefined;
  return { base, len };
}

export function mustCidr(s: string, strict = false): Prefix {
  const p = parseCidr(s, strict);
  if (!p) throw new NetConfigError(`invalid IPv4 CIDR${strict ? ' (host bits must be zero)' : ''}: ${JSON.stringify(s)}`);
  return p;
}

export function formatCidr(p: Prefix): string {
  return `${formatIPv4(p.base)}/${p.len}`;
}

/** Number of addresses in the prefix. */
export function sizeOf(p: Prefix): number {
  return 2 ** (32 - p.len);
}

/** Last address (broadcast) of the prefix. */
export function lastOf(p: Prefix): number {
  return p.base + sizeOf(p) - 1;
}

export function containsIp(p: Prefix, ip: number): boolean {
  return (ip & maskOf(p.len)) >>> 0 === p.base;
}

/** `inner` lies entirely inside `outer`. */
export function containsPrefix(outer: Prefix, inner: Prefix): boolean {
  return inner.len >= outer.len && containsIp(outer, inner.base);
}

/** Two prefixes share at least one address (one contains the other, since prefixes nest or are disjoint). */
export function overlaps(a: Prefix, b: Prefix): boolean {
  const len = Math.min(a.len, b.len);
  const m = maskOf(len);
  return (a.base & m) >>> 0 === (b.base & m) >>> 0;
}

/** Splits `pool` into consecutive subnets of length `len` (in address order). */
export function* splitPrefix(pool: Prefix, len: number): Generator<Prefix> {
  if (len < pool.len) {
    yield pool;
    return;
  }
  const step = 2 ** (32 - len);
  for (let b = pool.base; b <= lastOf(pool); b += step) yield { base: b, len };
}

/** First usable host address (network + 1), or the base for /31 and /32. */
export function firstHost(p: Prefix): number {
  return p.len >= 31 ? p.base : p.base + 1;
}

/** Last usable host address (broadcast - 1), or the last for /31 and /32. */
export function lastHost(p: Prefix): number {
  return p.len >= 31 ? lastOf(p) : lastOf(p) - 1;
}

/** Well-known special ranges that are never auto-picked (loopback, link-local, multicast, reserved, 0/8). */
export const SPECIAL_PREFIXES: readonly Prefix[] = ['0.0.0.0/8', '127.0.0.0/8', '169.254.0.0/16', '224.0.0.0/4', '240.0.0.0/4'].map((s) =>
  mustCidr(s),
);
