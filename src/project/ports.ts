/**
 * Published ports: the one parser of compose's short syntax (`[[HOST_IP:]PUBLISHED:]TARGET[/PROTOCOL]`, also what
 * `run -p`/`--publish` takes) into compose's long form, and the one conversion of a long-form entry into the typed
 * value the runtime port carries (PortMapping). Follows compose-go's ParsePortConfig (docker/go-connections'
 * nat.ParsePortSpec): a container range expands to one entry per port; a host range of the same length maps
 * pairwise; a host range onto ONE container port stays a range, meaning "one free port of it" (Docker picks it).
 */
import { isIP } from '../lib/ip-literal.js';
import { ConfigError } from '../errors.js';
import type { ServicePortConfig } from './types.js';

export type PortProtocol = 'tcp' | 'udp' | 'sctp';

const PROTOCOLS: readonly string[] = ['tcp', 'udp', 'sctp'];

/** Inclusive port range; `start === end` for one port. */
export interface PortRange {
  readonly start: number;
  readonly end: number;
}

/**
 * One published port, typed (the runtime port's PortBinding has this shape). `hostPort` absent = an ephemeral
 * port; `start === end` = that port; a range = one free port of the range, chosen when the container starts.
 */
export interface PortMapping {
  readonly containerPort: number;
  readonly protocol: PortProtocol;
  readonly hostIp?: string;
  readonly hostPort?: PortRange;
}

/** A port string that does not parse: `detail` says why. */
export class InvalidPortError extends ConfigError {
  constructor(spec: string, detail: string) {
    super('TSC_INVALID_PORT', `invalid port ${JSON.stringify(spec)}: ${detail}`, undefined, {
      hint: 'expected [[HOST_IP:]PUBLISHED:]TARGET[/PROTOCOL], ports or ranges (8000-8010), protocol tcp, udp or sctp',
    });
  }
}

/** `80` or `8000-8010` (0-65535, start ≤ end); undefined for anything else. */
export function parseRange(s: string): PortRange | undefined {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(s);
  if (!m) return undefined;
  const start = Number(m[1]);
  const end = m[2] === undefined ? start : Number(m[2]);
  if (end < start || end > 65535) return undefined;
  return { start, end };
}

/** A host IP as a port may name it: IPv4, IPv6, or IPv6 in brackets (`[::1]`); '' is none. Undefined when invalid. */
export function hostIpOf(s: string): string | undefined {
  const ip = s.startsWith('[') && s.endsWith(']') ? s.slice(1, -1) : s;
  return isIP(ip) === 0 ? undefined : ip;
}

/** `8000` or `8000-8010`, as compose prints a published port. */
export function formatRange(r: PortRange): string {
  return r.start === r.end ? String(r.start) : `${r.start}-${r.end}`;
}

/** nat's splitParts: `ip:published:target`, an IPv6 address taking every field before the last two. */
function splitParts(raw: string): [ip: string, published: string, target: string] {
  const parts = raw.split(':');
  const n = parts.length;
  if (n === 1) return ['', '', parts[0]!];
  if (n === 2) return ['', parts[0]!, parts[1]!];
  if (n === 3) return [parts[0]!, parts[1]!, parts[2]!];
  return [parts.slice(0, n - 2).join(':'), parts[n - 2]!, parts[n - 1]!];
}

/**
 * Short syntax → long-form entries (`{mode, host_ip?, target, published?, protocol}`, in the key order compose
 * prints), ordered as compose-go orders them (by `target/protocol` as a string). Throws InvalidPortError.
 */
export function parsePortSpec(spec: string): ServicePortConfig[] {
  const fail = (detail: string): never => {
    throw new InvalidPortError(spec, detail);
  };
  const [rawIp, published, rawTarget] = splitParts(spec.trim());
  let ip = rawIp;
  let target = rawTarget;
  let protocol = 'tcp';
  const slash = target.indexOf('/');
  if (slash >= 0) {
    if (target.indexOf('/', slash + 1) >= 0) fail(`more than one protocol in ${JSON.stringify(target)}`);
    protocol = target.slice(slash + 1).toLowerCase() || 'tcp';
    target = target.slice(0, slash);
  }
  if (ip.startsWith('[')) {
    if (!ip.endsWith(']')) fail(`invalid IP address ${ip}`);
    ip = ip.slice(1, -1);
  }
  if (ip !== '' && isIP(ip) === 0) fail(`invalid IP address ${ip}`);
  if (target === '') fail('no container port');
  const t = parseRange(target) ?? fail(`invalid container port ${JSON.stringify(target)}`);
  const p = published === '' ? undefined : (parseRange(published) ?? fail(`invalid host port ${JSON.stringify(published)}`));
  if (!PROTOCOLS.includes(protocol)) fail(`invalid protocol ${JSON.stringify(protocol)} (tcp, udp or sctp)`);
  const count = t.end - t.start + 1;
  if (p && t.start !== t.end && p.end - p.start + 1 !== count) fail(`host range ${published} and container range ${target} differ in length`);
  const entry = (port: number, pub: string | undefined): ServicePortConfig => ({
    mode: 'ingress',
    ...(ip !== '' ? { host_ip: ip } : {}),
    target: port,
    ...(pub !== undefined ? { published: pub } : {}),
    protocol,
  });
  const out = Array.from({ length: count }, (_, i) => entry(t.start + i, !p ? undefined : count === 1 ? formatRange(p) : String(p.start + i)));
  // compose-go sorts the nat port keys (`80/tcp`) as strings.
  return out
    .map((e) => [`${e.target}/${e.protocol}`, e] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, e]) => e);
}

/** Invalid long-form values at the point of use (compose reports them when creating the container). */
export class InvalidPortConfigError extends ConfigError {
  constructor(detail: string) {
    super('TSC_INVALID_PORT', detail);
  }
}

/** A long-form entry (short syntax already expanded by parsePortSpec) → the typed value. */
export function portMapping(p: ServicePortConfig): PortMapping {
  const protocol = (p.protocol || 'tcp').toLowerCase();
  if (!PROTOCOLS.includes(protocol))
    throw new InvalidPortConfigError(`port ${p.target}: invalid protocol ${JSON.stringify(p.protocol)} (tcp, udp or sctp)`);
  if (!Number.isInteger(p.target) || p.target < 1 || p.target > 65535) throw new InvalidPortConfigError(`invalid container port ${String(p.target)}`);
  const out: { -readonly [K in keyof PortMapping]: PortMapping[K] } = { containerPort: p.target, protocol: protocol as PortProtocol };
  if (p.host_ip !== undefined && p.host_ip !== '') {
    const ip = hostIpOf(p.host_ip);
    if (ip === undefined) throw new InvalidPortConfigError(`port ${p.target}: invalid host IP ${JSON.stringify(p.host_ip)}`);
    out.hostIp = ip;
  }
  if (p.published !== undefined && p.published !== '') {
    const r = parseRange(String(p.published));
    if (!r) throw new InvalidPortConfigError(`port ${p.target}: invalid published port ${JSON.stringify(p.published)}`);
    // Port 0 is Docker's "any port", as if none was given.
    if (r.end > 0) out.hostPort = r.start === 0 ? { start: 1, end: r.end } : r;
  }
  return out;
}
