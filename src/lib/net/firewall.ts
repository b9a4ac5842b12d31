/**
 * nftables rules of native compose networks: ONE TABLE PER NETWORK, `table ip <bridge name>` (`tsc-<hash8>`).
 *
 * Why per network rather than one shared table: every rule of a network is derived from that network's record
 * alone, so creating/changing/removing a network never reads or rewrites another network's (or project's) rules
 * (no cross-project races, no merge logic); a change is one atomic `nft -f` transaction that deletes and re-adds
 * the table; removal is exact (`delete table ip tsc-<hash>`) and a leftover is recognisable by name. Isolation
 * between networks needs no global view: each table guards its own bridge's *inbound* side.
 *
 * Per table (non-internal):
 *  - raw prerouting: packets to 127.0.0.0/8 arriving on the bridge are dropped (route_localnet=1 on the bridge
 *    would otherwise let containers reach the host's localhost services; moby #45610).
 *  - nat prerouting: `fib daddr type local` and not 127/8 → `ports` (DNAT of published ports). Loopback host IPs
 *    are never DNATed here, so L2 neighbours cannot reach `127.0.0.1:X` publications.
 *  - nat output: `fib daddr type local` → `ports` (the host itself, 127.0.0.1 included, via route_localnet).
 *  - nat postrouting: masquerade DNATed packets leaving on the bridge that come from 127/8 or the subnet (localhost
 *    access and hairpin) or from another tscompose bridge (`tsc-*`: a client on another network of the container),
 *    and the subnet leaving via any other interface (outbound).
 *  - filter forward: into the bridge from elsewhere only replies and DNATed (published) connections: isolation
 *    from other tscompose and Docker networks and from routed access to unpublished ports.
 * Internal networks: no NAT, no ports; forward drops anything crossing the bridge boundary; input drops packets from
 * the bridge to host addresses other than the gateway (DNS on the gateway stays reachable).
 *
 * nft base chains at one hook are ALL evaluated and a drop anywhere is final, but an `accept` only ends its own
 * chain: our accepts cannot override Docker's `FORWARD` policy DROP (br_netfilter makes even bridge-internal
 * traffic cross it). So when iptables' filter table has a DOCKER-USER chain (or a FORWARD chain that drops),
 * `ensureIptablesAccept` inserts `-i <br> -j ACCEPT` and `-o <br> -j ACCEPT` there, commented `tscompose <br>`,
 * removed exactly by comment. Our own drops still apply since they are in our table.
 */
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { formatCidr, mustCidr, mustIPv4, parseIPv4 } from './cidr.js';
import { NetConfigError, NetworkError } from './errors.js';
import { runRaw, runStep, type Step } from './run.js';

export type Protocol = 'tcp' | 'udp' | 'sctp';

/** A published port: one host port onto one container port (a range of container ports is one mapping each). */
export interface PortMapping {
  /** Host address; undefined, '' or '0.0.0.0' = every IPv4 address of the host. IPv6 addresses are skipped. */
  readonly hostIp?: string;
  /** A concrete port: pick ephemeral ones (`pickFreePort`) and one of a range (`pickPortInRange`, host-ports.ts) first. */
  readonly hostPort: number;
  readonly containerPort: number;
  readonly protocol: Protocol;
}

export interface FirewallPort extends PortMapping {
  readonly containerIp: string;
  /** Put into the rule comment (e.g. the container name) to ease debugging. */
  readonly owner?: string;
}

export interface FirewallNetwork {
  /** Bridge name; also the table name. */
  readonly bridge: string;
  readonly subnet: string;
  readonly gateway: string;
  readonly internal: boolean;
  readonly ports: readonly FirewallPort[];
  /** Human-readable name for the table comment. */
  readonly name?: string;
  /** `enable_ipv6`: the IPv6 subnet and gateway (rules in an `ip6` table of the same name). */
  readonly subnet6?: string;
  readonly gateway6?: string;
}

export const NFT_FAMILY = 'ip';

export function tableName(bridge: string): string {
  return bridge;
}

function q(s: string): string {
  return `"${s.replace(/["\\]/g, '')}"`;
}

export function isAnyHostIp(ip: string | undefined): boolean {
  return ip === undefined || ip === '' || ip === '0.0.0.0';
}

function isV6(ip: string | undefined): boolean {
  return ip !== undefined && ip.includes(':');
}

function checkPort(n: number, what: string): void {
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new NetConfigError(`invalid ${what} ${n}`);
}

/** The DNAT rules of one mapping (no rules for IPv6 host addresses). */
export function portRules(p: FirewallPort): string[] {
  if (isV6(p.hostIp)) return [];
  checkPort(p.hostPort, 'host port');
  checkPort(p.containerPort, 'container port');
  if (p.protocol !== 'tcp' && p.protocol !== 'udp' && p.protocol !== 'sctp') throw new NetConfigError(`unsupported protocol ${String(p.protocol)}`);
  mustIPv4(p.containerIp);
  const daddr = isAnyHostIp(p.hostIp) ? '' : `ip daddr ${formatIpOrThrow(p.hostIp!)} `;
  const comment = p.owner ? ` comment ${q(p.owner)}` : '';
  return [`${daddr}${p.protocol} dport ${p.hostPort} dnat to ${p.containerIp}:${p.containerPort}${comment}`];
}

function formatIpOrThrow(s: string): string {
  mustIPv4(s);
  return s;
}

/**
 * An internal network's chains in a table of `family`: nothing leaves or enters the bridge, and the host is reached
 * only at the gateway address.
 */
function internalChains(family: 'ip' | 'ip6', br: string, gateway: string): string[] {
  return [
    `\tchain forward {`,
    `\t\ttype filter hook forward priority filter; policy accept;`,
    `\t\tiifname ${br} oifname != ${br} counter drop comment "internal: nothing leaves"`,
    `\t\toifname ${br} iifname != ${br} counter drop comment "internal: nothing enters"`,
    `\t}`,
    `\tchain input {`,
    `\t\ttype filter hook input priority filter; policy accept;`,
    `\t\tiifname ${br} ${family} daddr != ${gateway} fib daddr type local counter drop comment "internal: host only via the gateway"`,
    `\t}`,
  ];
}

/**
 * The nft script (for `nft -f -`) that atomically replaces the network's table: `table` (creates it if absent, so
 * the `delete` cannot fail) + `delete table` + the full definition, one transaction.
 */
export function rulesFor(n: FirewallNetwork): string {
  const t = tableName(n.bridge);
  const br = q(n.bridge);
  const subnet = formatCidr(mustCidr(n.subnet, true));
  mustIPv4(n.gateway);
  const L: string[] = [];
  L.push(`table ${NFT_FAMILY} ${t}`, `delete table ${NFT_FAMILY} ${t}`, `table ${NFT_FAMILY} ${t} {`);
  L.push(`\tcomment ${q(`tscompose network ${n.name ?? n.bridge}`)}`);
  if (n.internal) {
    L.push(...internalChains('ip', br, n.gateway), `}`);
    return `${L.join('\n')}\n`;
  }
  const ports = n.ports.flatMap(portRules);
  L.push(
    `\tchain raw_prerouting {`,
    `\t\ttype filter hook prerouting priority raw; policy accept;`,
    `\t\tiifname ${br} ip daddr 127.0.0.0/8 counter drop comment "no host localhost from containers"`,
    `\t}`,
  );
  if (ports.length) {
    L.push(
      `\tchain ports {`,
      ...ports.map((r) => `\t\t${r}`),
      `\t}`,
      `\tchain nat_prerouting {`,
      `\t\ttype nat hook prerouting priority dstnat; policy accept;`,
      `\t\tip daddr != 127.0.0.0/8 fib daddr type local jump ports`,
      `\t}`,
      `\tchain nat_output {`,
      `\t\ttype nat hook output priority -100; policy accept;`,
      `\t\tfib daddr type local jump ports`,
      `\t}`,
    );
  }
  L.push(
    `\tchain nat_postrouting {`,
    `\t\ttype nat hook postrouting priority srcnat; policy accept;`,
    `\t\toifname ${br} ct status dnat ip saddr { 127.0.0.0/8, ${subnet} } masquerade comment "localhost and hairpin"`,
    // A client on another tscompose network that the container is also on: without this its replies would leave
    // straight over that network and miss the un-DNAT.
    `\t\toifname ${br} ct status dnat iifname "tsc-*" masquerade comment "hairpin from other tscompose networks"`,
    `\t\toifname != ${br} ip saddr ${subnet} masquerade comment "outbound"`,
    `\t}`,
    `\tchain forward {`,
    `\t\ttype filter hook forward priority filter; policy accept;`,
    `\t\toifname ${br} iifname != ${br} ct state established,related accept`,
    `\t\toifname ${br} iifname != ${br} ct status dnat accept comment "published ports"`,
    `\t\toifname ${br} iifname != ${br} counter drop comment "isolation"`,
    `\t}`,
    `}`,
  );
  return `${L.join('\n')}\n`;
}

/**
 * The `ip6` table of a network with IPv6 (replaced atomically as the `ip` one): outbound masquerade and isolation,
 * or an internal network's drops. Published ports stay IPv4 (DNAT in the `ip` table).
 */
export function rules6For(n: FirewallNetwork): string {
  const t = tableName(n.bridge);
  const br = q(n.bridge);
  if (!n.subnet6 || !n.gateway6) return ''; // no ip6 statement at all: hosts without IPv6 keep working
  const L = [`table ip6 ${t}`, `delete table ip6 ${t}`, `table ip6 ${t} {`, `\tcomment ${q(`tscompose network ${n.name ?? n.bridge}`)}`];
  if (n.internal) L.push(...internalChains('ip6', br, n.gateway6));
  else
    L.push(
      `\tchain nat_postrouting {`,
      `\t\ttype nat hook postrouting priority srcnat; policy accept;`,
      `\t\toifname != ${br} ip6 saddr ${n.subnet6} masquerade comment "outbound"`,
      `\t}`,
      `\tchain forward {`,
      `\t\ttype filter hook forward priority filter; policy accept;`,
      `\t\toifname ${br} iifname != ${br} ct state established,related accept`,
      `\t\toifname ${br} iifname != ${br} counter drop comment "isolation"`,
      `\t}`,
    );
  L.push('}');
  return `${L.join('\n')}\n`;
}

/** Script deleting the `ip6` table; succeeds whether or not it exists. */
export function removal6Script(bridge: string): string {
  const t = tableName(bridge);
  return `table ip6 ${t}\ndelete table ip6 ${t}\n`;
}

/** Script deleting the table; succeeds whether or not it exists. */
export function removalScript(bridge: string): string {
  const t = tableName(bridge);
  return `table ${NFT_FAMILY} ${t}\ndelete table ${NFT_FAMILY} ${t}\n`;
}

export function planApply(n: FirewallNetwork): Step {
  return { argv: ['nft', '-f', '-'], input: rulesFor(n) + rules6For(n) };
}

/** Applies the network's rules atomically (one `nft` process). */
export async function applyFirewall(n: FirewallNetwork): Promise<void> {
  await runStep(planApply(n));
}

/** `ipv6`: the network had IPv6 (its `ip6` table goes too). */
export async function removeFirewall(bridge: string, opts: { ipv6?: boolean } = {}): Promise<void> {
  await runStep({ argv: ['nft', '-f', '-'], input: removalScript(bridge) + (opts.ipv6 ? removal6Script(bridge) : '') });
}

// ---------------------------------------------------------------------------------------------------------------
// Coexisting with iptables' FORWARD DROP (Docker)

export function iptablesComment(bridge: string): string {
  return `tscompose ${bridge}`;
}

/** The rules we want in `chain` (as iptables-save prints them, `-A` form). */
export function iptablesRules(bridge: string, chain: string): string[] {
  const c = iptablesComment(bridge);
  return [`-A ${chain} -i ${bridge} -m comment --comment "${c}" -j ACCEPT`, `-A ${chain} -o ${bridge} -m comment --comment "${c}" -j ACCEPT`];
}

export interface IptablesFilter {
  readonly chains: ReadonlyMap<string, string>;
  readonly rules: readonly string[];
}

/** Parses `iptables-save -t filter`: chain → policy, and the `-A` lines. */
export function parseIptablesSave(text: string): IptablesFilter {
  const chains = new Map<string, string>();
  const rules: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^:(\S+) (\S+)/.exec(line);
    if (m) chains.set(m[1]!, m[2]!);
    else if (line.startsWith('-A ')) rules.push(line.trim());
  }
  return { chains, rules };
}

/** Where ACCEPTs are needed: DOCKER-USER when it exists, else FORWARD if it drops/rejects, else nowhere. */
export function acceptChain(f: IptablesFilter): string | undefined {
  if (f.chains.has('DOCKER-USER')) return 'DOCKER-USER';
  const policy = f.chains.get('FORWARD');
  if (policy === undefined) return undefined;
  if (policy === 'DROP' || f.rules.some((r) => r.startsWith('-A FORWARD ') && / -j (DROP|REJECT)\b/.test(r))) return 'FORWARD';
  return undefined;
}

/** Lines of our rules for `bridge` found in the dump (any chain). */
export function ourIptablesRules(f: IptablesFilter, bridge: string): string[] {
  const tag = `--comment "${iptablesComment(bridge)}"`;
  return f.rules.filter((r) => r.includes(tag));
}

/**
 * `iptables-restore --noflush` input making our rules exactly `want` (undefined chain = remove ours): deletes stale
 * ones, inserts missing ones at the top. Undefined when nothing needs changing.
 */
export function planIptables(f: IptablesFilter, bridge: string, chain: string | undefined): string | undefined {
  const have = ourIptablesRules(f, bridge);
  const want = chain ? iptablesRules(bridge, chain) : [];
  const del = have.filter((r) => !want.includes(r));
  const add = want.filter((r) => !have.includes(r));
  if (!del.length && !add.length) return undefined;
  const lines = ['*filter', ...del.map((r) => r.replace(/^-A /, '-D ')), ...add.map((r) => r.replace(/^-A (\S+) /, '-I $1 1 ')), 'COMMIT'];
  return `${lines.join('\n')}\n`;
}

async function iptablesDump(): Promise<IptablesFilter | undefined> {
  const r = await runRaw(['iptables-save', '-t', 'filter']).catch(() => undefined);
  if (!r || r.code !== 0) return undefined; // no iptables: nothing to coexist with
  return parseIptablesSave(r.stdout);
}

/** Ensures the ACCEPTs exist where Docker's (or anyone's) FORWARD would drop; returns the chain used. */
export async function ensureIptablesAccept(bridge: string): Promise<string | undefined> {
  const f = await iptablesDump();
  if (!f) return undefined;
  const chain = acceptChain(f);
  const script = planIptables(f, bridge, chain);
  if (script) await runStep({ argv: ['iptables-restore', '--noflush'], input: script });
  return chain;
}

export async function removeIptablesAccept(bridge: string): Promise<void> {
  const f = await iptablesDump();
  if (!f) return;
  const script = planIptables(f, bridge, undefined);
  if (script) await runStep({ argv: ['iptables-restore', '--noflush'], input: script });
}

// ---------------------------------------------------------------------------------------------------------------
// Host ports

/** Host port clashes between `wanted` and `taken` (same protocol and port, same or wildcard host IP). */
export function portConflicts(taken: readonly PortMapping[], wanted: readonly PortMapping[]): string[] {
  const out: string[] = [];
  const norm = (ip: string | undefined) => (isAnyHostIp(ip) ? '0.0.0.0' : ip!);
  const all = [...taken];
  for (const w of wanted) {
    for (const t of all) {
      if (t.protocol !== w.protocol || isV6(t.hostIp) || isV6(w.hostIp)) continue;
      const [a, b] = [norm(t.hostIp), norm(w.hostIp)];
      if (a !== b && a !== '0.0.0.0' && b !== '0.0.0.0') continue;
      if (w.hostPort === t.hostPort) out.push(`${b}:${w.hostPort}/${w.protocol} is already published`);
    }
    all.push(w);
  }
  return out;
}

/** Whether a host socket could bind hostIp:port now (a listening host service would otherwise be shadowed). */
export function canBind(protocol: 'tcp' | 'udp', port: number, hostIp?: string): Promise<boolean> {
  return new Promise((resolve) => {
    const host = isAnyHostIp(hostIp) ? '0.0.0.0' : hostIp!;
    if (protocol === 'udp') {
      const s = dgram.createSocket('udp4');
      s.once('error', () => {
        s.close();
        resolve(false);
      });
      s.bind({ port, address: host, exclusive: true }, () => s.close(() => resolve(true)));
      return;
    }
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen({ port, host, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

/**
 * An ephemeral host port: the kernel picks one (from ip_local_port_range, 32768-60999) for a briefly bound
 * socket; ports in `exclude` (ours, not held by any socket since DNAT needs none) are skipped.
 */
export async function pickFreePort(protocol: 'tcp' | 'udp', hostIp?: string, exclude: ReadonlySet<number> = new Set()): Promise<number> {
  const host = isAnyHostIp(hostIp) ? '0.0.0.0' : hostIp!;
  if (parseIPv4(host) === undefined) throw new NetConfigError(`invalid host IP ${host}`);
  for (let i = 0; i < 50; i++) {
    const port = await new Promise<number>((resolve, reject) => {
      if (protocol === 'udp') {
        const s = dgram.createSocket('udp4');
        s.once('error', reject);
        s.bind({ port: 0, address: host, exclusive: true }, () => {
          const p = s.address().port;
          s.close(() => resolve(p));
        });
        return;
      }
      const s = net.createServer();
      s.once('error', reject);
      s.listen({ port: 0, host, exclusive: true }, () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    if (!exclude.has(port)) return port;
  }
  throw new NetworkError('could not find a free host port');
}
