/**
 * macvlan and ipvlan networks (Docker's drivers of those names): containers get a child interface of a parent
 * interface instead of a veth on a bridge, and sit directly on the parent's layer-2 segment; the host adds no
 * bridge, route, NAT or firewall rule for them.
 *
 * Each such network has a network namespace of its own, `tscn-<8 hex>`, which holds
 *   - the parent when the network has none of the host's (`driver_opts.parent` unset: Docker's "dummy" link,
 *     `dm-<8 hex>`, a dummy — or a veth pair on kernels without dummy links —, so the network is isolated);
 *   - the network's resolver endpoint `dns0`, a child like the containers' with an address of the network: the
 *     host cannot reach children of its own interface (macvlan and ipvlan forward nothing between a parent and its
 *     children), so the DNS resolver of the network runs in this namespace and answers there. It exists only in
 *     the modes where children reach each other (macvlan bridge, ipvlan with the bridge flag).
 * A parent `eth0.10` that does not exist is made (a VLAN subinterface of eth0, id 10) and deleted with the network.
 *
 * As ./bridge.ts, planning is pure (`Step`s) and executors converge when re-run.
 */
import { createHash } from 'node:crypto';
import { checkIfname, linkExists, netnsExists, planNetns } from './bridge.js';
import { firstHost, formatIPv4, lastHost, lastOf, mustCidr, mustIPv4, parseCidr } from './cidr.js';
import { NetConfigError, NetworkError } from './errors.js';
import { runRaw, runStep, type Step } from './run.js';

export type LinkDriver = 'macvlan' | 'ipvlan';

export const MACVLAN_MODES = ['bridge', 'private', 'vepa', 'passthru'] as const;
export const IPVLAN_MODES = ['l2', 'l3', 'l3s'] as const;
export const IPVLAN_FLAGS = ['bridge', 'private', 'vepa'] as const;

/** A network's macvlan/ipvlan settings, from compose `driver` and `driver_opts`. */
export interface LinkConfig {
  readonly driver: LinkDriver;
  /** The host interface (`driver_opts.parent`); undefined: a dummy of the network's own. */
  readonly parent?: string;
  /** `macvlan_mode` (default bridge) or `ipvlan_mode` (default l2). */
  readonly mode: string;
  /** `ipvlan_flag` (default bridge); ipvlan only. */
  readonly flag?: string;
}

/** What a network record keeps of its macvlan/ipvlan side. */
export interface LinkNetwork extends LinkConfig {
  /** The parent's name: the host's interface, a VLAN subinterface we make, or our dummy. */
  readonly parent: string;
  /** The parent is a VLAN subinterface this network made (deleted with it). */
  readonly ownVlan?: boolean;
  /** The parent is our dummy, inside `netns`. */
  readonly dummy?: boolean;
  /** The network's own namespace (resolver endpoint, dummy parent). */
  readonly netns: string;
  /** The resolver's address on the network; undefined when children cannot reach each other. */
  readonly dnsIp?: string;
}

export function isLinkDriver(driver: string | undefined): driver is LinkDriver {
  return driver === 'macvlan' || driver === 'ipvlan';
}

function hex(s: string, n: number): string {
  return createHash('sha256').update(s).digest('hex').slice(0, n);
}

/** The network's namespace, `tscn-<8 hex>` of its key. */
export function linkNetnsName(networkKey: string): string {
  return `tscn-${hex(`linknet\0${networkKey}`, 8)}`;
}

/** The dummy parent of a network without `parent`: `dm-<8 hex>` (Docker: `dm-<network id 12>`). */
export function dummyName(networkKey: string): string {
  return `dm-${hex(`dummy\0${networkKey}`, 8)}`;
}

/** The resolver endpoint's interface inside the network's namespace. */
export const DNS_IFNAME = 'dns0';

/** `eth0.10` → eth0, VLAN 10 (Docker's convention for a parent to create); undefined for other names. */
export function vlanOf(parent: string): { base: string; id: number } | undefined {
  const m = /^(.+)\.(\d+)$/.exec(parent);
  if (!m) return undefined;
  const id = Number(m[2]);
  if (!(id >= 1 && id <= 4094)) throw new NetConfigError(`parent ${parent}: VLAN id ${m[2]} is outside 1-4094`);
  return { base: m[1]!, id };
}

/** compose `driver` + `driver_opts` → the settings, validated as Docker does (its messages where it has them). */
export function parseLinkOptions(driver: LinkDriver, opts: Readonly<Record<string, string>> | undefined): LinkConfig {
  const o = opts ?? {};
  const parent = o['parent'] === '' ? undefined : o['parent'];
  if (parent === 'lo') throw new NetConfigError(`loopback interface is not a valid ${driver} parent link`);
  if (parent !== undefined) {
    checkIfname(parent);
    vlanOf(parent);
  }
  if (driver === 'macvlan') {
    const mode = o['macvlan_mode'] || 'bridge';
    if (!(MACVLAN_MODES as readonly string[]).includes(mode))
      throw new NetConfigError(`requested macvlan mode '${mode}' is not valid, 'bridge' mode is the macvlan driver default`);
    return { driver, ...(parent !== undefined ? { parent } : {}), mode };
  }
  const mode = o['ipvlan_mode'] || 'l2';
  if (!(IPVLAN_MODES as readonly string[]).includes(mode))
    throw new NetConfigError(`requested ipvlan mode '${mode}' is not valid, 'l2' mode is the ipvlan driver default`);
  const flag = o['ipvlan_flag'] || 'bridge';
  if (!(IPVLAN_FLAGS as readonly string[]).includes(flag))
    throw new NetConfigError(`requested ipvlan flag '${flag}' is not valid, 'bridge' is the ipvlan driver default`);
  return { driver, ...(parent !== undefined ? { parent } : {}), mode, flag };
}

/** Whether children of one parent reach each other in this mode (and so reach the network's resolver). */
export function childrenTalk(c: LinkConfig): boolean {
  return c.driver === 'macvlan' ? c.mode === 'bridge' : c.flag === 'bridge';
}

/**
 * The resolver's address: the last host address of the ip_range (or of the subnet), or the one below it when that
 * is the gateway. Reserved in the network's IPAM (a static ipv4_address cannot take it).
 */
export function resolverAddress(subnet: string, gateway: string, ipRange?: string): string {
  const s = mustCidr(subnet);
  const r = ipRange ? (parseCidr(ipRange) ?? s) : s;
  const hi = Math.min(lastOf(r), lastHost(s));
  const lo = Math.max(r.base, firstHost(s));
  const gw = mustIPv4(gateway);
  for (let ip = hi; ip >= lo; ip--) if (ip !== gw) return formatIPv4(ip);
  throw new NetConfigError(`no address left in ${ipRange ?? subnet} for the network's resolver`);
}

/**
 * The record of a new network's link side (names only; nothing made). A VLAN parent (`eth0.10`) is the network's
 * own, made with it and deleted with it, only when it does not exist yet (`parentExists`, looked up by the caller):
 * one the host already had stays when the network goes, as with Docker.
 */
export function planLinkNetwork(
  key: string,
  c: LinkConfig,
  dns: { subnet: string; gateway: string; ipRange?: string },
  opts: { parentExists?: boolean } = {},
): LinkNetwork {
  const netns = linkNetnsName(key);
  const parent = c.parent ?? dummyName(key);
  return {
    ...c,
    parent,
    ...(c.parent === undefined ? { dummy: true } : {}),
    ...(c.parent !== undefined && vlanOf(c.parent) && opts.parentExists !== true ? { ownVlan: true } : {}),
    netns,
    ...(childrenTalk(c) ? { dnsIp: resolverAddress(dns.subnet, dns.gateway, dns.ipRange) } : {}),
  };
}

/** The `type …` tail of `ip link add` for a child of this network. */
export function childType(l: LinkConfig): string {
  return l.driver === 'macvlan' ? `type macvlan mode ${l.mode}` : `type ipvlan mode ${l.mode} ${l.flag ?? 'bridge'}`;
}

/** `ip` in the namespace that holds the parent (ours for a dummy, else the host's). */
function parentIp(l: LinkNetwork): string[] {
  return l.dummy ? ['ip', '-n', l.netns] : ['ip'];
}

export interface LinkAddress {
  readonly address: string;
  readonly prefixLen: number;
  readonly gateway: string;
  readonly defaultRoute: boolean;
}

/**
 * `ip link add` of a child named `ifname` created straight into `netns` (the name is only looked up there), then
 * its addresses and routes inside. ipvlan children have the parent's MAC (none is set); ipvlan l3/l3s route by
 * device (no gateway on the segment).
 */
export function planChild(l: LinkNetwork, netns: string, ifname: string, a: LinkAddress, mac?: string): Step[] {
  checkIfname(ifname);
  mustIPv4(a.address);
  const argv = [...parentIp(l), 'link', 'add', 'link', l.parent, 'name', ifname, 'netns', netns];
  if (l.driver === 'macvlan' && mac) argv.push('address', mac);
  argv.push(...childType(l).split(' '));
  const add: Step = { argv };
  const inner = [`link set dev lo up`, `address replace ${a.address}/${a.prefixLen} broadcast + dev ${ifname}`, `link set dev ${ifname} up`];
  if (a.defaultRoute)
    inner.push(
      l.driver === 'ipvlan' && l.mode !== 'l2' ? `route replace default dev ${ifname}` : `route replace default via ${a.gateway} dev ${ifname}`,
    );
  return [add, { argv: ['ip', '-n', netns, '-batch', '-'], input: `${inner.join('\n')}\n` }];
}

const GONE = /Cannot find device|does not exist|No such file or directory|Invalid argument|not found/i;

/** Deletes a child inside its namespace (a namespace or link already gone is fine). */
export function planChildTeardown(netns: string, ifname: string): Step {
  return { argv: ['ip', '-n', netns, 'link', 'del', 'dev', checkIfname(ifname)], okIf: GONE };
}

/** Whether the network's parts are in place, from /run/netns and /sys (no process): its namespace and host parent. */
export async function linkNetworkInPlace(l: LinkNetwork): Promise<boolean> {
  if (!(await netnsExists(l.netns))) return false;
  return l.dummy === true || linkExists(l.parent);
}

async function ensureParent(l: LinkNetwork): Promise<void> {
  if (l.dummy) {
    const r = await runRaw(['ip', '-n', l.netns, 'link', 'add', l.parent, 'type', 'dummy']);
    if (r.code !== 0 && /Unknown device type|not supported/i.test(r.stderr)) {
      // No dummy links in this kernel (CONFIG_DUMMY): a veth pair inside the network's namespace serves as well
      // (its peer up, so the parent has a carrier; nothing outside the namespace sees either end).
      await runStep({ argv: ['ip', '-n', l.netns, 'link', 'add', l.parent, 'type', 'veth', 'peer', 'name', `${l.parent}p`], okIf: /File exists/ });
      await runStep({ argv: ['ip', '-n', l.netns, 'link', 'set', `${l.parent}p`, 'up'] });
    } else if (r.code !== 0 && !/File exists/.test(r.stderr))
      await runStep({ argv: ['ip', '-n', l.netns, 'link', 'add', l.parent, 'type', 'dummy'] });
    await runStep({ argv: ['ip', '-n', l.netns, 'link', 'set', l.parent, 'up'] });
    return;
  }
  if (await linkExists(l.parent)) return;
  const vlan = vlanOf(l.parent);
  if (!l.ownVlan || !vlan) throw new NetworkError(`-o parent interface was not found on the host: ${l.parent}`);
  if (!(await linkExists(vlan.base))) throw new NetworkError(`-o parent interface was not found on the host: ${vlan.base} (of ${l.parent})`);
  await runStep({ argv: ['ip', 'link', 'add', 'link', vlan.base, 'name', l.parent, 'type', 'vlan', 'id', String(vlan.id)] });
  await runStep({ argv: ['ip', 'link', 'set', l.parent, 'up'] });
}

/** Refuses clearly when the kernel cannot make this driver's links (a probe inside the network's namespace). */
async function kernelHas(l: LinkNetwork): Promise<void> {
  const probe = `${DNS_IFNAME}probe`;
  const r = await runRaw(['ip', '-n', l.netns, 'link', 'add', probe, 'type', l.driver, 'mode', l.mode]);
  await runRaw(['ip', '-n', l.netns, 'link', 'del', probe]);
  if (r.code !== 0 && /Unknown device type|not supported/i.test(r.stderr))
    throw new NetworkError(`this kernel has no ${l.driver} links (CONFIG_${l.driver.toUpperCase()}): network driver ${l.driver} is not available`, {
      hint: `load the ${l.driver} module (modprobe ${l.driver}) or use another network driver`,
    });
}

/**
 * Makes (or completes) the network: its namespace, parent (dummy or VLAN subinterface when ours) and resolver
 * endpoint. Idempotent.
 */
export async function ensureLinkNetwork(l: LinkNetwork, net: { subnet: string; gateway: string; internal: boolean }): Promise<void> {
  for (const s of planNetns(l.netns).steps) await runStep(s);
  await kernelHas(l);
  await ensureParent(l);
  if (!l.dnsIp) return;
  await runStep(planChildTeardown(l.netns, DNS_IFNAME));
  const [add, inner] = planChild(l, l.netns, DNS_IFNAME, {
    address: l.dnsIp,
    prefixLen: mustCidr(net.subnet).len,
    gateway: net.gateway,
    defaultRoute: !net.internal,
  });
  await runStep(add!);
  // Made again (its namespace was gone: a reboot, `check --repair`), it has another MAC (a fixed one would clash
  // with the old endpoint while the old namespace lingers): announced when it comes up (gratuitous ARP), so the
  // containers' neighbour entries follow at once rather than after 10-30 s of unanswered queries.
  await runStep({ argv: ['ip', 'netns', 'exec', l.netns, 'sh', '-c', `echo 1 > /proc/sys/net/ipv4/conf/${DNS_IFNAME}/arp_notify`] });
  await runStep(inner!);
}

/** Removes the network's namespace (its resolver endpoint and dummy go with it) and a VLAN parent it made. */
export async function removeLinkNetwork(l: LinkNetwork): Promise<void> {
  if (await netnsExists(l.netns)) await runStep({ argv: ['ip', 'netns', 'del', l.netns], okIf: /No such file|Invalid argument/ });
  if (l.ownVlan && (await linkExists(l.parent))) await runStep({ argv: ['ip', 'link', 'del', 'dev', l.parent], okIf: GONE });
}

/** Attaches a container's namespace (created first when `createNetns`). A stale child of the same name is replaced. */
export async function attachChild(
  l: LinkNetwork,
  netns: string,
  ifname: string,
  a: LinkAddress,
  opts: { mac?: string; createNetns?: boolean } = {},
): Promise<void> {
  const exists = await netnsExists(netns);
  if (!exists && !opts.createNetns) throw new NetworkError(`netns ${netns} does not exist`);
  if (!exists) await runStep({ argv: ['ip', 'netns', 'add', netns], okIf: /File exists/ });
  else await runStep(planChildTeardown(netns, ifname));
  if (!l.dummy && !(await linkExists(l.parent))) throw new NetworkError(`the parent interface ${l.parent} of the network is gone`);
  for (const s of planChild(l, netns, ifname, a, opts.mac)) await runStep(s);
}
