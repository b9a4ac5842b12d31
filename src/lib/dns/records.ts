/**
 * Per-network DNS records and the pure answering logic of the native runtime's resolver (./server.ts): which
 * names a client may see, and the answer to one query, or "forward it upstream".
 *
 * Scoping (aardvark-dns's and Docker's model): a query arrives on a network's gateway address (the listening
 * address tells the network). If the query's source IP belongs to a registered container on that network, the
 * client sees the names of every network that container is attached to (the arrival network first); otherwise only
 * the arrival network's names. Names are case-insensitive; a trailing dot is ignored. TTL 0, so changes are seen
 * at once. Unknown names (and every query the records cannot answer) are forwarded to the visible networks'
 * upstream servers.
 */
import { isIPv4, isIPv6 } from '../ip-literal.js';
import type { Answer, DecodedPacket, Packet, Question } from 'dns-packet';

/** One container's records on one network. */
export interface DnsEntry {
  containerId: string;
  /** Its addresses on this network (IPv4 and/or IPv6). */
  ips: string[];
  /** Service name, container name, aliases, short id (any case). */
  names: string[];
  /** compose `dns:` of this container: its other names go there instead of the network's upstreams. */
  upstreams?: string[];
}

/** Everything the resolver needs to serve one network; the state file of that network. */
export interface DnsNetwork {
  network: string;
  /** The address to listen on: the network's gateway address on the host (bridge). */
  gateway: string;
  /** UDP+TCP port; 53 unless set (tests). */
  port?: number;
  /**
   * false: records only, not listened on here (a network served by another resolver whose containers are also on
   * networks of this one: their names are visible to them here too).
   */
  listen?: boolean;
  /** Where other names go: `ip`, `ip:port`, `ipv6` or `[ipv6]:port`. Empty: answer SERVFAIL (internal networks). */
  upstreams: string[];
  entries: DnsEntry[];
}

export const TTL = 0;

// Flag bits and codes (RFC 1035 4.1.1).
const QR = 1 << 15;
const AA = 1 << 10;
const TC = 1 << 9;
const RD = 1 << 8;
const RA = 1 << 7;
export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

interface NameRecord {
  v4: string[];
  v6: string[];
}

interface NetIndex {
  net: DnsNetwork;
  names: Map<string, NameRecord>;
  /** address → names (first name first) for PTR. */
  ptr: Map<string, string[]>;
}

export interface DnsIndex {
  networks: Map<string, NetIndex>;
  /** `ip|port` → network name. */
  byListen: Map<string, string>;
  /** `network|client ip` → container id. */
  clients: Map<string, string>;
  /** container id → the networks it is on. */
  containerNetworks: Map<string, string[]>;
  /** client ip → container ids having it (on any network). */
  ipOwners: Map<string, string[]>;
  /** container id → its own upstreams (compose `dns:`). */
  containerUpstreams: Map<string, string[]>;
}

export function normalizeName(name: string): string {
  let n = name.toLowerCase();
  while (n.endsWith('.')) n = n.slice(0, -1);
  return n;
}

/**
 * Canonical text of an address (RFC 5952 for IPv6, via the URL parser), so `::ffff:10.0.0.1` and `10.0.0.1`, or
 * two spellings of one IPv6 address, compare equal.
 */
export function canonicalIp(ip: string): string {
  const v4mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (v4mapped) return v4mapped[1]!;
  if (!isIPv6(ip)) return ip;
  const c = new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  const m = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(c);
  if (!m) return c;
  const hi = parseInt(m[1]!, 16);
  const lo = parseInt(m[2]!, 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

export function listenKey(ip: string, port = 53): string {
  return `${canonicalIp(ip)}|${port}`;
}

export function buildIndex(networks: DnsNetwork[]): DnsIndex {
  const idx: DnsIndex = {
    networks: new Map(),
    byListen: new Map(),
    clients: new Map(),
    containerNetworks: new Map(),
    ipOwners: new Map(),
    containerUpstreams: new Map(),
  };
  for (const net of networks) {
    const names = new Map<string, NameRecord>();
    const ptr = new Map<string, string[]>();
    for (const e of net.entries) {
      const ips = e.ips.map(canonicalIp);
      const v4 = ips.filter((ip) => isIPv4(ip));
      const v6 = ips.filter((ip) => isIPv6(ip));
      const lower = [...new Set(e.names.map(normalizeName).filter((n) => n !== ''))];
      for (const n of lower) {
        const r = names.get(n) ?? { v4: [], v6: [] };
        for (const ip of v4) if (!r.v4.includes(ip)) r.v4.push(ip);
        for (const ip of v6) if (!r.v6.includes(ip)) r.v6.push(ip);
        names.set(n, r);
      }
      for (const ip of ips) {
        if (!ptr.has(ip) && lower.length) ptr.set(ip, lower);
        idx.clients.set(`${net.network}|${ip}`, e.containerId);
        const owners = idx.ipOwners.get(ip) ?? [];
        if (!owners.includes(e.containerId)) owners.push(e.containerId);
        idx.ipOwners.set(ip, owners);
      }
      if (e.upstreams?.length) idx.containerUpstreams.set(e.containerId, e.upstreams);
      const nets = idx.containerNetworks.get(e.containerId) ?? [];
      if (!nets.includes(net.network)) nets.push(net.network);
      idx.containerNetworks.set(e.containerId, nets);
    }
    idx.networks.set(net.network, { net, names, ptr });
    if (net.listen !== false) idx.byListen.set(listenKey(net.gateway, net.port), net.network);
  }
  return idx;
}

/**
 * The networks whose names a client at `clientIp` sees when asking on `network`'s address: the networks of the
 * container owning that address (the arrival network first). A client address that no registered container owns
 * (the host, a container not registered yet) sees the arrival network. A container asking on the address of a
 * network it is not on still sees only its own networks.
 */
export function visibleNetworks(idx: DnsIndex, network: string, clientIp: string): string[] {
  const ip = canonicalIp(clientIp);
  const own = idx.clients.get(`${network}|${ip}`);
  const ids = own !== undefined ? [own] : (idx.ipOwners.get(ip) ?? []);
  if (ids.length === 0) return idx.networks.has(network) ? [network] : [];
  const nets = own !== undefined ? [network] : [];
  for (const id of ids) for (const n of idx.containerNetworks.get(id) ?? []) if (!nets.includes(n)) nets.push(n);
  return nets.filter((n) => idx.networks.has(n));
}

/** The registered container that owns a client address (preferring the arrival network's), if any. */
export function clientContainer(idx: DnsIndex, network: string, clientIp: string): string | undefined {
  const ip = canonicalIp(clientIp);
  return idx.clients.get(`${network}|${ip}`) ?? idx.ipOwners.get(ip)?.[0];
}

export type Decision = { kind: 'answer'; response: Packet } | { kind: 'forward'; upstreams: string[] };

/** Reverse-lookup name (`4.3.2.1.in-addr.arpa`, nibbles `.ip6.arpa`) → the address, or undefined. */
export function ptrNameToIp(name: string): string | undefined {
  const n = normalizeName(name);
  if (n.endsWith('.in-addr.arpa')) {
    const parts = n.slice(0, -'.in-addr.arpa'.length).split('.');
    if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) < 256)) return undefined;
    return parts.reverse().map(Number).join('.');
  }
  if (n.endsWith('.ip6.arpa')) {
    const nib = n.slice(0, -'.ip6.arpa'.length).split('.');
    if (nib.length !== 32 || !nib.every((x) => /^[0-9a-f]$/.test(x))) return undefined;
    const hex = nib.reverse().join('');
    const groups = hex.match(/.{4}/g)!;
    return canonicalIp(groups.join(':'));
  }
  return undefined;
}

function shuffled<T>(xs: T[]): T[] {
  const a = xs.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

function reply(query: Packet, rcode: number, answers: Answer[] = [], authoritative = true): Packet {
  const flags = QR | (authoritative ? AA : 0) | ((query.flags ?? 0) & RD) | RA | rcode;
  return { id: query.id ?? 0, type: 'response', flags, questions: query.questions ?? [], answers };
}

function upstreamsOf(idx: DnsIndex, nets: string[]): string[] {
  const out: string[] = [];
  for (const n of nets) for (const u of idx.networks.get(n)?.net.upstreams ?? []) if (!out.includes(u)) out.push(u);
  return out;
}

/**
 * Decides the answer to a decoded query that arrived on `listenIp:port` from `clientIp`: an answer from the
 * records, an error, or forwarding to upstream servers. A query to an address the index does not serve is REFUSED.
 */
export function decide(idx: DnsIndex, listenIp: string, port: number, clientIp: string, query: DecodedPacket | Packet): Decision {
  const network = idx.byListen.get(listenKey(listenIp, port));
  if (network === undefined) return { kind: 'answer', response: reply(query, RCODE.REFUSED) };
  const opcode = ((query.flags ?? 0) >> 11) & 0xf;
  if (opcode !== 0) return { kind: 'answer', response: reply(query, RCODE.NOTIMP) };
  const qs = query.questions ?? [];
  if (qs.length !== 1) return { kind: 'answer', response: reply(query, RCODE.FORMERR) };
  const q = qs[0] as Question;
  const nets = visibleNetworks(idx, network, clientIp);
  const local = q.class === undefined || q.class === 'IN' || q.class === 'ANY' ? lookup(idx, nets, q) : undefined;
  if (local) return { kind: 'answer', response: reply(query, RCODE.NOERROR, local) };
  const client = clientContainer(idx, network, clientIp);
  const own = client === undefined ? undefined : idx.containerUpstreams.get(client);
  const upstreams = own ?? upstreamsOf(idx, nets.length ? nets : [network]);
  if (upstreams.length === 0) return { kind: 'answer', response: reply(query, RCODE.SERVFAIL, [], false) };
  return { kind: 'forward', upstreams };
}

/** The answers for `q` from the visible networks (possibly none: NOERROR/NODATA), or undefined: not ours. */
export function lookup(idx: DnsIndex, nets: string[], q: Question): Answer[] | undefined {
  const name = normalizeName(q.name);
  if (q.type === 'PTR') {
    const ip = ptrNameToIp(name);
    if (ip === undefined) return undefined;
    for (const n of nets) {
      const names = idx.networks.get(n)?.ptr.get(ip);
      if (names) return names.map((data) => ({ type: 'PTR', name: q.name, ttl: TTL, class: 'IN', data }) as Answer);
    }
    return undefined;
  }
  for (const n of nets) {
    const r = idx.networks.get(n)?.names.get(name);
    if (!r) continue;
    const out: Answer[] = [];
    if (q.type === 'A' || (q.type as string) === 'ANY')
      for (const data of shuffled(r.v4)) out.push({ type: 'A', name: q.name, ttl: TTL, class: 'IN', data });
    if (q.type === 'AAAA' || (q.type as string) === 'ANY')
      for (const data of shuffled(r.v6)) out.push({ type: 'AAAA', name: q.name, ttl: TTL, class: 'IN', data });
    return out;
  }
  return undefined;
}

/** A minimal error response built from the raw query bytes (when it cannot even be decoded). */
export function rawErrorResponse(raw: Buffer, rcode: number): Buffer | undefined {
  if (raw.length < 12) return undefined;
  const out = Buffer.alloc(12);
  raw.copy(out, 0, 0, 2);
  const flags = raw.readUInt16BE(2);
  out.writeUInt16BE(QR | (flags & (0xf << 11)) | (flags & RD) | RA | rcode, 2);
  return out;
}

/** Sets the TC bit and drops the records of an encoded UDP response that is larger than `max` bytes. */
export function truncateForUdp(query: Packet, response: Packet, encoded: Buffer, max: number): Packet | undefined {
  if (encoded.length <= max) return undefined;
  return { ...response, flags: (response.flags ?? 0) | TC, answers: [] };
}

/** `ip`, `ip:port`, `[ipv6]:port` or a bare IPv6 → { host, port }. */
export function parseUpstream(u: string): { host: string; port: number } {
  const br = /^\[([^\]]+)\](?::(\d+))?$/.exec(u);
  if (br) return { host: br[1]!, port: br[2] ? Number(br[2]) : 53 };
  if (isIPv6(u)) return { host: u, port: 53 };
  const m = /^([^:]+):(\d+)$/.exec(u);
  if (m) return { host: m[1]!, port: Number(m[2]) };
  return { host: u, port: 53 };
}
