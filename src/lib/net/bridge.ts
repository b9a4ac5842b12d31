/**
 * Linux bridge networks: one bridge per compose network, one veth pair per (container netns, network).
 *
 * Planning functions (`planBridge`, `planEndpoint`, `planEndpointTeardown`, …) are pure: they return `Step`s
 * (argv + stdin) so they are tested without root; the executors (`ensureBridge`, `attachEndpoint`, …) look at
 * /sys and /run/netns (no process spawned for that) and run the steps. Everything converges when re-run after a
 * crash, and deleting what is already gone succeeds.
 *
 * Cost per endpoint: one `ip -batch` on the host (`netns add` when we own the netns, veth created with its peer
 * directly inside the netns, enslaved, hairpin on, up), shared by the endpoints made at the same time
 * (./host-batch.ts), + one `ip -n <ns> -batch` inside it (lo up, address, eth up, default route).
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { mustCidr, mustIPv4 } from './cidr.js';
import { NetConfigError, NetworkError } from './errors.js';
import { hostBatcher } from './host-batch.js';
import { runStep, type Step } from './run.js';

export const NETNS_DIR = '/run/netns';
const IFNAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/;
const MAC_RE = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

function hex(s: string, n: number): string {
  return createHash('sha256').update(s).digest('hex').slice(0, n);
}

/** `tsc-<8 hex>` (12 chars) from the network's unique key. */
export function bridgeName(networkKey: string): string {
  return `tsc-${hex(`net\0${networkKey}`, 8)}`;
}

/** Host end of an endpoint's veth: `vtsc<10 hex>` (14 chars), from the network key and the endpoint id. */
export function hostVethName(networkKey: string, endpointId: string): string {
  return `vtsc${hex(`ep\0${networkKey}\0${endpointId}`, 10)}`;
}

/** Name of a netns we create for a container: `tsc-<first 12 chars of its id>` → /run/netns/tsc-<id12>. */
export function netnsName(containerId: string): string {
  const id = containerId.replace(/[^A-Za-z0-9_.-]/g, '').slice(0, 12);
  if (!id) throw new NetConfigError(`bad container id ${JSON.stringify(containerId)}`);
  return `tsc-${id}`;
}

export function netnsPath(name: string): string {
  return path.join(NETNS_DIR, name);
}

/** Interface name inside the container for its n-th network: eth0, eth1, … */
export function containerIfname(index: number): string {
  return `eth${index}`;
}

export function checkIfname(name: string): string {
  if (!IFNAME_RE.test(name)) throw new NetConfigError(`invalid interface name ${JSON.stringify(name)} (1-15 chars [A-Za-z0-9_.-])`);
  return name;
}

/** compose `driver_opts` → MTU (`com.docker.network.driver.mtu`), else the default-route interface's MTU. */
export function mtuFromOptions(opts: Readonly<Record<string, string>> | undefined, fallback: number): number {
  const v = opts?.['com.docker.network.driver.mtu'];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 68 || n > 65535) throw new NetConfigError(`invalid com.docker.network.driver.mtu ${JSON.stringify(v)}`);
  return n;
}

/** Interface of the IPv4 default route in a /proc/net/route text (lowest metric), if any. */
export function defaultRouteIface(procNetRoute: string): string | undefined {
  let best: { dev: string; metric: number } | undefined;
  for (const line of procNetRoute.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const [dev, dst, , , , , metric, mask] = f;
    if (dst !== '00000000' || mask !== '00000000') continue;
    const m = Number(metric);
    if (!best || m < best.metric) best = { dev: dev!, metric: m };
  }
  return best?.dev;
}

/** MTU of the default-route interface (1500 when there is none). No process spawned. */
export async function defaultMtu(): Promise<number> {
  const dev = defaultRouteIface(await fs.readFile('/proc/net/route', 'utf8').catch(() => ''));
  if (!dev) return 1500;
  const n = Number((await fs.readFile(`/sys/class/net/${dev}/mtu`, 'utf8').catch(() => '1500')).trim());
  return Number.isInteger(n) && n > 0 ? n : 1500;
}

export async function linkExists(name: string): Promise<boolean> {
  return fs.access(`/sys/class/net/${name}`).then(
    () => true,
    () => false,
  );
}

export async function netnsExists(name: string): Promise<boolean> {
  return fs.access(netnsPath(name)).then(
    () => true,
    () => false,
  );
}

/** Interfaces enslaved to a bridge (from /sys, no spawn). */
export async function bridgePorts(bridge: string): Promise<string[]> {
  return fs.readdir(`/sys/class/net/${bridge}/brif`).catch(() => []);
}

const GONE = /Cannot find device|does not exist|No such file or directory|Invalid argument|not found/i;

function ipBatch(lines: readonly string[], netns?: string): Step {
  return { argv: netns ? ['ip', '-n', netns, '-batch', '-'] : ['ip', '-batch', '-'], input: `${lines.join('\n')}\n` };
}

// ---------------------------------------------------------------------------------------------------------------
// Bridge

export interface BridgeSpec {
  readonly name: string;
  /** `10.214.0.0/24` */
  readonly subnet: string;
  /** `10.214.0.1` */
  readonly gateway: string;
  readonly mtu: number;
  readonly internal: boolean;
  /** `enable_ipv6`: the gateway's IPv6 address and the prefix length. */
  readonly gateway6?: string;
  readonly prefixLen6?: number;
}

/** The `ip -batch` creating (unless `exists`) and configuring the bridge; all lines idempotent besides `link add`. */
export function planBridge(spec: BridgeSpec, exists: boolean): Step {
  checkIfname(spec.name);
  const len = mustCidr(spec.subnet).len;
  mustIPv4(spec.gateway);
  const lines: string[] = [];
  // STP off (the default) puts ports in forwarding state at once; no IPv6 link-local address on the bridge.
  if (!exists) lines.push(`link add name ${spec.name} mtu ${spec.mtu} type bridge`);
  // An address of its own, set (not random): a bridge with a random address takes the lowest of its ports' as
  // ports come and go, and containers that cached the gateway's old address send to it in vain (the host drops
  // frames to a MAC that is not the bridge's) until their neighbour entry is re-probed, 10-30 s later: DNS and
  // every connection to the host hang (as Docker does, a fixed address; this one is stable across re-creation).
  lines.push(`link set dev ${spec.name} mtu ${spec.mtu} address ${macFromIp(spec.gateway)}`);
  lines.push(`address replace ${spec.gateway}/${len} broadcast + dev ${spec.name}`);
  if (spec.gateway6) lines.push(`address replace ${spec.gateway6}/${spec.prefixLen6 ?? 64} dev ${spec.name} nodad`);
  lines.push(`link set dev ${spec.name} up`);
  return ipBatch(lines);
}

/**
 * Per-bridge and global sysctls: ip_forward=1 (global, never reverted: other software may rely on it);
 * route_localnet=1 (DNAT of 127.0.0.1 published ports; the firewall drops packets *to* 127/8 arriving on the
 * bridge) unless internal; internal bridges get forwarding=0 (the kernel does not route what arrives on them).
 */
export function bridgeSysctls(spec: BridgeSpec): [string, string][] {
  const conf = `/proc/sys/net/ipv4/conf/${spec.name}`;
  // enable_ipv6: IPv6 forwarding is global (as Docker sets it; never reverted).
  const v6: [string, string][] = spec.gateway6 && !spec.internal ? [['/proc/sys/net/ipv6/conf/all/forwarding', '1']] : [];
  if (spec.internal) return [[`${conf}/forwarding`, '0'], ...v6];
  return [['/proc/sys/net/ipv4/ip_forward', '1'], [`${conf}/route_localnet`, '1'], ...v6];
}

export interface BridgeCreated {
  readonly bridge: string;
  /** We created the bridge in this call (false: it existed, re-configured). */
  readonly created: boolean;
  /** ip_forward was 0 and we set it (the caller may record it; we never revert it). */
  readonly ipForwardEnabled: boolean;
}

async function writeSysctl(file: string, value: string): Promise<boolean> {
  const cur = (await fs.readFile(file, 'utf8')).trim();
  if (cur === value) return false;
  await fs.writeFile(file, value);
  return true;
}

/** Creates or re-configures the bridge (idempotent). */
export async function ensureBridge(spec: BridgeSpec): Promise<BridgeCreated> {
  const exists = await linkExists(spec.name);
  await runStep(planBridge(spec, exists));
  let ipForwardEnabled = false;
  for (const [file, value] of bridgeSysctls(spec)) {
    const changed = await writeSysctl(file, value);
    if (file.endsWith('/ip_forward') && changed) ipForwardEnabled = true;
  }
  return { bridge: spec.name, created: !exists, ipForwardEnabled };
}

export function planBridgeTeardown(name: string): Step {
  return { argv: ['ip', 'link', 'del', 'dev', checkIfname(name)], okIf: GONE };
}

/**
 * Deletes the bridge if nothing is attached (or `force`). Returns whether it is gone. A missing bridge is fine.
 */
export async function removeBridge(name: string, opts: { force?: boolean } = {}): Promise<boolean> {
  if (!(await linkExists(name))) return true;
  if (!opts.force && (await bridgePorts(name)).length > 0) return false;
  await runStep(planBridgeTeardown(name));
  return true;
}

// ---------------------------------------------------------------------------------------------------------------
// Network namespaces

export interface NetnsRef {
  /** Name under /run/netns (what `ip -n` takes). */
  readonly name: string;
  /** We created it (`ip netns add`) and delete it on teardown; otherwise it was attached from a path/pid. */
  readonly owned: boolean;
}

/**
 * Steps giving a netns a name under /run/netns: `ip netns add <name>` (new), or for an existing namespace, a bind
 * mount of its path (`/proc/<pid>/ns/net`, a runtime's netns file) onto /run/netns/<name>, which is what
 * `ip netns attach` does. Paths already under /run/netns are used as they are (no steps).
 */
export function planNetns(name: string, from?: string): { ref: NetnsRef; steps: Step[] } {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(name)) throw new NetConfigError(`invalid netns name ${JSON.stringify(name)}`);
  if (from === undefined) return { ref: { name, owned: true }, steps: [{ argv: ['ip', 'netns', 'add', name], okIf: /File exists/ }] };
  if (path.dirname(from) === NETNS_DIR) return { ref: { name: path.basename(from), owned: false }, steps: [] };
  const target = netnsPath(name);
  return {
    ref: { name, owned: false },
    steps: [{ argv: ['mkdir', '-p', NETNS_DIR] }, { argv: ['touch', target] }, { argv: ['mount', '--bind', from, target] }],
  };
}

/** Creates (or names) the netns; skips everything when /run/netns/<name> is already there. */
export async function ensureNetns(name: string, from?: string): Promise<NetnsRef> {
  const { ref, steps } = planNetns(name, from);
  if (steps.length && (await netnsExists(ref.name))) return ref;
  for (const s of steps) await runStep(s);
  return ref;
}

/** `ip netns del` unmounts and removes /run/netns/<name>; the namespace dies with its last user. */
export function planNetnsTeardown(name: string): Step {
  return { argv: ['ip', 'netns', 'del', name], okIf: /No such file|Invalid argument/ };
}

export async function removeNetns(name: string): Promise<void> {
  if (!(await netnsExists(name))) return;
  await runStep(planNetnsTeardown(name));
}

// ---------------------------------------------------------------------------------------------------------------
// Endpoints

export interface EndpointSpec {
  /** netns name (under /run/netns). */
  readonly netns: string;
  readonly bridge: string;
  readonly hostVeth: string;
  /** Interface name inside the netns (eth0, eth1, …). */
  readonly ifname: string;
  /** `10.214.0.2` */
  readonly address: string;
  readonly prefixLen: number;
  readonly gateway: string;
  /** Add the default route via the gateway (one network of the container: ./endpoint-order.ts). */
  readonly defaultRoute: boolean;
  /** Add the IPv6 default route via `gateway6` (default: `defaultRoute`); the IPv6 gateway may be another network's. */
  readonly defaultRoute6?: boolean;
  /** Defaults to `macFromIp(address)` (stable per address, so a reused address keeps neighbours' ARP valid). */
  readonly mac?: string;
  readonly mtu: number;
  /** `enable_ipv6`: the container's IPv6 address, prefix length and the gateway's. */
  readonly address6?: string;
  readonly prefixLen6?: number;
  readonly gateway6?: string;
}

/** Locally administered MAC derived from the IPv4 address: `02:42:<4 address bytes>` (Docker's old scheme). */
export function macFromIp(ip: string): string {
  const v = mustIPv4(ip);
  return ['02', '42', ...[v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

/**
 * Two `ip -batch` steps: host side (recreate the veth with its peer created inside the netns, enslave, hairpin on
 * — needed for container → published port → itself with DNAT —, up) and netns side (lo up, address, up, default
 * route). `hostVethExists`: a leftover from a crash is deleted first, which also removes its stale peer.
 * `createNetns`: the host batch starts with `netns add <netns>` (no separate `ip netns add` process).
 */
export function planEndpoint(spec: EndpointSpec, hostVethExists: boolean, createNetns = false): [host: Step, inner: Step] {
  checkIfname(spec.hostVeth);
  checkIfname(spec.ifname);
  checkIfname(spec.bridge);
  mustIPv4(spec.address);
  mustIPv4(spec.gateway);
  if (spec.mac !== undefined && !MAC_RE.test(spec.mac)) throw new NetConfigError(`invalid mac_address ${JSON.stringify(spec.mac)}`);
  const mac = (spec.mac ?? macFromIp(spec.address)).toLowerCase();
  const host: string[] = [];
  // `netns add` inside the batch: ip creates the namespace and stays in the host's (saves a process).
  if (createNetns) host.push(`netns add ${spec.netns}`);
  if (hostVethExists) host.push(`link del dev ${spec.hostVeth}`);
  host.push(
    `link add name ${spec.hostVeth} mtu ${spec.mtu} type veth peer name ${spec.ifname} mtu ${spec.mtu} address ${mac} netns ${spec.netns}`,
    `link set dev ${spec.hostVeth} master ${spec.bridge}`,
    `link set dev ${spec.hostVeth} type bridge_slave hairpin on`,
    `link set dev ${spec.hostVeth} up`,
  );
  const inner = [
    `link set dev lo up`,
    `address replace ${spec.address}/${spec.prefixLen} broadcast + dev ${spec.ifname}`,
    `link set dev ${spec.ifname} up`,
  ];
  if (spec.defaultRoute) inner.push(`route replace default via ${spec.gateway} dev ${spec.ifname}`);
  if (spec.address6) {
    inner.push(`address replace ${spec.address6}/${spec.prefixLen6 ?? 64} dev ${spec.ifname} nodad`);
    if ((spec.defaultRoute6 ?? spec.defaultRoute) && spec.gateway6) inner.push(`route replace default via ${spec.gateway6} dev ${spec.ifname}`);
  }
  return [ipBatch(host), ipBatch(inner, spec.netns)];
}

export interface EndpointCreated {
  readonly netns: string;
  readonly hostVeth: string;
  readonly ifname: string;
  readonly address: string;
  readonly mac: string;
}

/** Host sides of the endpoints this process makes, merged while one runs (./host-batch.ts). */
const hostSide = hostBatcher();

/**
 * Creates the endpoint (idempotent: a half-made one from a crash is replaced). Two `ip` processes, the host one
 * shared with the endpoints made at the same time. With `createNetns`, a missing /run/netns/<netns> is created in
 * the host batch.
 */
export async function attachEndpoint(spec: EndpointSpec, opts: { createNetns?: boolean } = {}): Promise<EndpointCreated> {
  const [exists, nsExists] = await Promise.all([linkExists(spec.hostVeth), netnsExists(spec.netns)]);
  if (!nsExists && !opts.createNetns) throw new NetworkError(`netns ${spec.netns} does not exist`);
  const [host, inner] = planEndpoint(spec, exists, !nsExists);
  if ((await hostSide(host.input ?? '')) === 'alone') {
    // Its batch failed (maybe through another endpoint's lines): its host side again on its own, from what is there.
    const createNetns = opts.createNetns === true && !(await netnsExists(spec.netns));
    const [again] = planEndpoint(spec, await linkExists(spec.hostVeth), createNetns);
    await runStep(again);
  }
  await runStep(inner);
  const mac = (spec.mac ?? macFromIp(spec.address)).toLowerCase();
  return { netns: spec.netns, hostVeth: spec.hostVeth, ifname: spec.ifname, address: spec.address, mac };
}

/** Deleting the host end removes the peer inside the netns too. */
export function planEndpointTeardown(hostVeth: string): Step {
  return { argv: ['ip', 'link', 'del', 'dev', checkIfname(hostVeth)], okIf: GONE };
}

export async function detachEndpoint(hostVeth: string): Promise<void> {
  if (!(await linkExists(hostVeth))) return;
  await runStep(planEndpointTeardown(hostVeth));
}
