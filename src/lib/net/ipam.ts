/**
 * IPv4 address management for native compose networks.
 *
 * Pure part: which prefixes the host already uses (routes of every table, addresses, resolvers), choosing a free
 * subnet from candidate pools, validating explicit `ipam.config` entries, and allocating container addresses.
 * Impure part: `readHostUsage()` (one `ip -j` call per kind, in parallel, plus /etc/resolv.conf) and `IpamStore`,
 * the JSON state file updated atomically under an inter-process lock.
 *
 * Allocation is *serial* (Docker's `bitseq` behaviour): the next address after the last one handed out, wrapping,
 * skipping used ones. A released address is therefore not reused at once, so neighbours' stale ARP entries for a
 * stopped container do not black-hole its successor.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { readJson, writeJsonAtomic } from '../fs/atomic.js';
import { withLock } from '../fs/lock.js';
import {
  SPECIAL_PREFIXES,
  containsIp,
  containsPrefix,
  firstHost,
  formatCidr,
  formatIPv4,
  lastHost,
  lastOf,
  mustCidr,
  overlaps,
  parseCidr,
  parseIPv4,
  splitPrefix,
  type Prefix,
} from './cidr.js';
import { IpamError, StaticAddressError } from './errors.js';
import { runStep } from './run.js';

/** A prefix in use, and by what (for error messages). */
export interface UsedPrefix {
  readonly prefix: Prefix;
  readonly source: string;
}

export interface Pool {
  /** The pool, e.g. `10.214.0.0/16`. */
  readonly base: string;
  /** Length of the subnets cut from it, e.g. 24. */
  readonly size: number;
}

/** Default candidates: Docker uses 172.17-31/16 and 192.168/20; we stay out of its default pools where we can. */
export const DEFAULT_POOLS: readonly Pool[] = [
  { base: '10.214.0.0/16', size: 24 },
  { base: '172.30.0.0/16', size: 24 },
  { base: '172.31.0.0/16', size: 24 },
  { base: '192.168.224.0/19', size: 24 },
];

// ---------------------------------------------------------------------------------------------------------------
// Host usage (pure parsers)

interface IpRouteJson {
  dst?: string;
  type?: string;
  dev?: string;
  table?: string;
}

/**
 * Prefixes of `ip -j -4 route show table all`. Skips the default route (it "overlaps" everything) and the
 * loopback/special ranges (never candidates anyway). Docker's bridges appear here as `dev br-…`/`docker0` routes.
 */
export function prefixesFromRoutes(json: string): UsedPrefix[] {
  const routes = JSON.parse(json || '[]') as IpRouteJson[];
  const out: UsedPrefix[] = [];
  for (const r of routes) {
    if (!r.dst || r.dst === 'default') continue;
    const p = parseCidr(r.dst);
    if (!p || p.len === 0) continue;
    if (r.type === 'multicast' || r.type === 'broadcast') continue;
    out.push({ prefix: p, source: `route ${r.dst}${r.dev ? ` dev ${r.dev}` : ''}${r.table ? ` table ${r.table}` : ''}` });
  }
  return out;
}

interface IpAddrJson {
  ifname?: string;
  addr_info?: { family?: string; local?: string; prefixlen?: number }[];
}

/** Prefixes (address/prefixlen, i.e. the connected subnet) of `ip -j -4 addr`. */
export function prefixesFromAddrs(json: string): UsedPrefix[] {
  const links = JSON.parse(json || '[]') as IpAddrJson[];
  const out: UsedPrefix[] = [];
  for (const l of links) {
    for (const a of l.addr_info ?? []) {
      if (a.family && a.family !== 'inet') continue;
      if (!a.local) continue;
      const p = parseCidr(`${a.local}/${a.prefixlen ?? 32}`);
      if (!p || p.len === 0) continue;
      out.push({ prefix: p, source: `address ${a.local}/${a.prefixlen ?? 32} on ${l.ifname ?? '?'}` });
      // The address itself too, in case the prefix was /32 already (cheap, and errors name the address).
    }
  }
  return out;
}

/** IPv4 nameservers of a resolv.conf text (each as a /32). */
export function nameserversFromResolvConf(text: string): UsedPrefix[] {
  const out: UsedPrefix[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (!m) continue;
    const ip = parseIPv4(m[1]!);
    if (ip !== undefined) out.push({ prefix: { base: ip, len: 32 }, source: `resolver ${m[1]!}` });
  }
  return out;
}

/** Reads what the host uses: routes of all tables, addresses, resolvers. Three reads in parallel (~5 ms). */
export async function readHostUsage(resolvConf = '/etc/resolv.conf'): Promise<UsedPrefix[]> {
  const [routes, addrs, resolv] = await Promise.all([
    runStep({ argv: ['ip', '-j', '-4', 'route', 'show', 'table', 'all'] }),
    runStep({ argv: ['ip', '-j', '-4', 'addr', 'show'] }),
    fs.readFile(resolvConf, 'utf8').catch(() => ''),
  ]);
  return [...prefixesFromRoutes(routes.stdout), ...prefixesFromAddrs(addrs.stdout), ...nameserversFromResolvConf(resolv)];
}

// ---------------------------------------------------------------------------------------------------------------
// State

export interface IpamNetwork {
  readonly subnet: string;
  readonly gateway: string;
  /** Addresses are handed out from here (defaults to the subnet). */
  readonly ipRange?: string;
  /** Addresses never handed out (compose `aux_addresses`). */
  readonly reserved?: readonly string[];
  /** endpoint id → address. */
  readonly allocations: Readonly<Record<string, string>>;
  /** The last address handed out (serial allocation). */
  readonly last?: string;
}

export interface IpamState {
  readonly version: 1;
  /** network key (unique, e.g. `<project>_<network>`) → its addresses. */
  readonly networks: Readonly<Record<string, IpamNetwork>>;
}

export const EMPTY_IPAM: IpamState = { version: 1, networks: {} };

/** compose `networks.<n>.ipam.config[]` entry (snake case as in the compose file). */
export interface IpamConfig {
  readonly subnet?: string;
  readonly gateway?: string;
  readonly ip_range?: string;
  readonly aux_addresses?: Readonly<Record<string, string>>;
}

function isV6(s: string | undefined): boolean {
  return s !== undefined && s.includes(':');
}

/** Chooses the first candidate subnet overlapping nothing in `used` (and no special range). */
export function chooseSubnet(used: readonly UsedPrefix[], pools: readonly Pool[] = DEFAULT_POOLS): Prefix | undefined {
  for (const pool of pools) {
    const base = mustCidr(pool.base);
    for (const cand of splitPrefix(base, pool.size)) {
      if (SPECIAL_PREFIXES.some((s) => overlaps(s, cand))) continue;
      if (used.some((u) => overlaps(u.prefix, cand))) continue;
      return cand;
    }
  }
  return undefined;
}

/** Prefixes allocated to our other networks. */
export function stateUsage(state: IpamState, exceptKey?: string): UsedPrefix[] {
  return Object.entries(state.networks)
    .filter(([k]) => k !== exceptKey)
    .map(([k, n]) => ({ prefix: mustCidr(n.subnet), source: `network ${k}` }));
}

export interface PlanNetworkResult {
  readonly network: IpamNetwork;
  /** Host prefixes an explicit subnet overlaps (allowed, as Docker does, but worth a warning). */
  readonly warnings: readonly string[];
}

/**
 * Decides the subnet/gateway/range of a network. An existing entry for `key` is returned unchanged (idempotent).
 * Explicit config: validated (host bits zero, gateway and range inside, not the network/broadcast address) and
 * refused only when it overlaps another of our networks; automatic: the first free candidate.
 * IPv6 entries are ignored (IPv4 only for now).
 */
export function planNetwork(
  state: IpamState,
  key: string,
  config: readonly IpamConfig[] | undefined,
  hostUsed: readonly UsedPrefix[],
  pools: readonly Pool[] = DEFAULT_POOLS,
): PlanNetworkResult {
  const existing = state.networks[key];
  if (existing) return { network: existing, warnings: [] };
  const ours = stateUsage(state, key);
  const warnings: string[] = [];
  const v4 = (config ?? []).filter((c) => !isV6(c.subnet) && !isV6(c.gateway) && !isV6(c.ip_range));
  if (v4.length > 1) warnings.push(`only the first IPv4 ipam config of ${key} is used`);
  const c = v4[0];
  let subnet: Prefix;
  if (c?.subnet !== undefined) {
    const p = parseCidr(c.subnet, true);
    if (!p) throw new IpamError(`network ${key}: invalid subnet ${JSON.stringify(c.subnet)} (IPv4 CIDR with zero host bits expected)`);
    if (p.len > 30) throw new IpamError(`network ${key}: subnet ${c.subnet} is too small (at most /30)`);
    const clash = ours.find((u) => overlaps(u.prefix, p));
    if (clash) throw new IpamError(`network ${key}: subnet ${c.subnet} overlaps ${clash.source} (${formatCidr(clash.prefix)})`);
    for (const u of hostUsed) if (overlaps(u.prefix, p)) warnings.push(`subnet ${c.subnet} overlaps host ${u.source}`);
    subnet = p;
  } else {
    if (c?.gateway !== undefined || c?.ip_range !== undefined) throw new IpamError(`network ${key}: ipam gateway/ip_range need a subnet`);
    const chosen = chooseSubnet([...hostUsed, ...ours], pools);
    if (!chosen) throw new IpamError(`network ${key}: no free subnet left in the pools ${pools.map((p) => p.base).join(', ')}`);
    subnet = chosen;
  }
  const inside = (what: string, s: string): number => {
    const ip = parseIPv4(s);
    if (ip === undefined) throw new IpamError(`network ${key}: invalid ${what} ${JSON.stringify(s)}`);
    if (!containsIp(subnet, ip)) throw new IpamError(`network ${key}: ${what} ${s} is outside the subnet ${formatCidr(subnet)}`);
    if (ip === subnet.base || ip === lastOf(subnet)) throw new IpamError(`network ${key}: ${what} ${s} is the network or broadcast address`);
    return ip;
  };
  const gateway = c?.gateway !== undefined ? inside('gateway', c.gateway) : firstHost(subnet);
  let ipRange: string | undefined;
  if (c?.ip_range !== undefined) {
    const r = parseCidr(c.ip_range, true);
    if (!r) throw new IpamError(`network ${key}: invalid ip_range ${JSON.stringify(c.ip_range)}`);
    if (!containsPrefix(subnet, r)) throw new IpamError(`network ${key}: ip_range ${c.ip_range} is outside the subnet ${formatCidr(subnet)}`);
    ipRange = formatCidr(r);
  }
  const reserved = Object.values(c?.aux_addresses ?? {})
    .filter((a) => !isV6(a))
    .map((a) => formatIPv4(inside('aux address', a)));
  const network: IpamNetwork = {
    subnet: formatCidr(subnet),
    gateway: formatIPv4(gateway),
    ...(ipRange ? { ipRange } : {}),
    ...(reserved.length ? { reserved } : {}),
    allocations: {},
  };
  return { network, warnings };
}

/**
 * Allocates an address for `endpointId` (returns the existing one when already allocated, idempotent).
 * `requested` (compose `ipv4_address`) must be in the subnet, not the gateway/network/broadcast/reserved, and free.
 */
export function allocateAddress<N extends IpamNetwork>(net: N, endpointId: string, requested?: string): { network: N; ip: string } {
  const current = net.allocations[endpointId];
  const subnet = mustCidr(net.subnet);
  const taken = new Set<number>([parseIPv4(net.gateway)!, ...(net.reserved ?? []).map((a) => parseIPv4(a)!)]);
  for (const [id, a] of Object.entries(net.allocations)) if (id !== endpointId) taken.add(parseIPv4(a)!);
  if (requested !== undefined) {
    const ip = parseIPv4(requested);
    if (ip === undefined) throw StaticAddressError.invalid(4, requested);
    if (!containsIp(subnet, ip)) throw StaticAddressError.outside(requested, [net.subnet]);
    if (subnet.len < 31 && (ip === subnet.base || ip === lastOf(subnet)))
      throw StaticAddressError.inUse(requested, `the network or broadcast address of ${net.subnet}`);
    if (taken.has(ip)) {
      const owner = Object.entries(net.allocations).find(([id, a]) => id !== endpointId && a === formatIPv4(ip))?.[0];
      throw StaticAddressError.inUse(
        requested,
        owner ? `in use by ${owner.slice(0, 12)}` : ip === parseIPv4(net.gateway) ? "the network's gateway" : 'reserved (ipam aux_addresses)',
      );
    }
    const s = formatIPv4(ip);
    return { network: { ...net, allocations: { ...net.allocations, [endpointId]: s } }, ip: s };
  }
  if (current !== undefined) return { network: net, ip: current };
  const range = net.ipRange ? mustCidr(net.ipRange) : subnet;
  // Only the subnet's network/broadcast addresses are special, not those of an ip_range inside it.
  const lo = Math.max(range.base, firstHost(subnet));
  const hi = Math.min(lastOf(range), lastHost(subnet));
  const count = hi - lo + 1;
  const last = net.last !== undefined ? parseIPv4(net.last) : undefined;
  const start = last !== undefined && last >= lo && last <= hi ? last + 1 : lo;
  for (let i = 0; i < count; i++) {
    const ip = lo + ((start - lo + i) % count);
    if (taken.has(ip)) continue;
    const s = formatIPv4(ip);
    return { network: { ...net, allocations: { ...net.allocations, [endpointId]: s }, last: s }, ip: s };
  }
  throw new IpamError(`no free address left in ${net.ipRange ?? net.subnet}`);
}

export function releaseAddress<N extends IpamNetwork>(net: N, endpointId: string): N {
  if (!(endpointId in net.allocations)) return net;
  const allocations = { ...net.allocations };
  delete allocations[endpointId];
  return { ...net, allocations };
}

// ---------------------------------------------------------------------------------------------------------------
// Persistence

/**
 * The IPAM state file `<dir>/ipam.json`, read-modify-written under the lock `<dir>/ipam.lock` (mkdir lock from
 * lib/fs/lock.ts, stale-owner takeover) with an atomic rename. `update` runs `fn` on the current state; what it returns as
 * `state` is written (if changed), `value` is passed back.
 */
export class IpamStore {
  readonly file: string;
  readonly lock: string;

  constructor(readonly dir: string) {
    this.file = path.join(dir, 'ipam.json');
    this.lock = path.join(dir, 'ipam.lock');
  }

  async read(): Promise<IpamState> {
    return (await readJson<IpamState>(this.file)) ?? EMPTY_IPAM;
  }

  async update<T>(fn: (s: IpamState) => Promise<{ state: IpamState; value: T }> | { state: IpamState; value: T }): Promise<T> {
    await fs.mkdir(this.dir, { recursive: true });
    return withLock(this.lock, async () => {
      const before = await this.read();
      const { state, value } = await fn(before);
      if (state !== before) await writeJsonAtomic(this.file, state);
      return value;
    });
  }

  /** Creates (or returns) the network's entry. Host usage is read inside the lock only for automatic subnets. */
  async ensureNetwork(
    key: string,
    config?: readonly IpamConfig[],
    opts: { pools?: readonly Pool[]; hostUsed?: readonly UsedPrefix[] } = {},
  ): Promise<PlanNetworkResult> {
    return this.update(async (s) => {
      if (s.networks[key]) return { state: s, value: { network: s.networks[key], warnings: [] } };
      const hostUsed = opts.hostUsed ?? (await readHostUsage());
      const r = planNetwork(s, key, config, hostUsed, opts.pools);
      return { state: { ...s, networks: { ...s.networks, [key]: r.network } }, value: r };
    });
  }

  async allocate(key: string, endpointId: string, requested?: string): Promise<string> {
    return this.update((s) => {
      const net = s.networks[key];
      if (!net) throw new IpamError(`unknown network ${key}`);
      const r = allocateAddress(net, endpointId, requested);
      return { state: r.network === net ? s : { ...s, networks: { ...s.networks, [key]: r.network } }, value: r.ip };
    });
  }

  async release(key: string, endpointId: string): Promise<void> {
    await this.update((s) => {
      const net = s.networks[key];
      if (!net) return { state: s, value: undefined };
      const n = releaseAddress(net, endpointId);
      return { state: n === net ? s : { ...s, networks: { ...s.networks, [key]: n } }, value: undefined };
    });
  }

  /** Forgets the network (its addresses included). */
  async removeNetwork(key: string): Promise<void> {
    await this.update((s) => {
      if (!s.networks[key]) return { state: s, value: undefined };
      const networks = { ...s.networks };
      delete networks[key];
      return { state: { ...s, networks }, value: undefined };
    });
  }
}
