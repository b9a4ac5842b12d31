/**
 * The native networks' records and their state file: `<stateDir>/networks.json` (every network, its endpoints
 * and addresses, written atomically) and its lock `<stateDir>/networks.lock`, under which every change is made
 * (./network.ts explains what runs inside it). Also what is read off a record: its firewall input, whether its
 * links are in place.
 */
import { promises as fs, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { sweepAtomicTemps, writeJsonAtomic } from '../fs/atomic.js';
import { isMissing } from '../errors.js';
import { withLock } from '../fs/lock.js';
import { linkExists } from './bridge.js';
import { applyFirewall, type FirewallNetwork, type FirewallPort } from './firewall.js';
import type { IpamNetwork, Pool, UsedPrefix } from './ipam.js';
import { linkNetworkInPlace, type LinkDriver, type LinkNetwork } from './macvlan.js';
import type { UserSubnets } from './static-address.js';

export interface EndpointRecord {
  readonly endpointId: string;
  /** netns name under /run/netns. */
  readonly netns: string;
  /** We created the netns (deleted with the container's last endpoint via `releaseNetns`). */
  readonly ownNetns: boolean;
  readonly ifname: string;
  /** Host end of the veth; empty on a macvlan/ipvlan network (`driver` set: a child of the parent, no host end). */
  readonly hostVeth: string;
  readonly driver?: LinkDriver;
  readonly ip: string;
  /** `enable_ipv6`: its IPv6 address on the network. */
  readonly ip6?: string;
  readonly prefixLen: number;
  readonly gateway: string;
  readonly mac: string;
  readonly defaultRoute: boolean;
  /** The IPv6 default route goes through this endpoint (absent in records written before: `defaultRoute`). */
  readonly defaultRoute6?: boolean;
  readonly ports: readonly FirewallPort[];
  /** Extra names for DNS (recorded for the DNS server; unused here). */
  readonly aliases?: readonly string[];
}

export interface NetworkRecord extends IpamNetwork {
  readonly key: string;
  readonly name: string;
  readonly bridge: string;
  readonly internal: boolean;
  readonly mtu: number;
  /** iptables chain holding our ACCEPTs (DOCKER-USER/FORWARD), when one was needed. */
  readonly iptablesChain?: string;
  readonly labels?: Readonly<Record<string, string>>;
  /** `enable_ipv6` (./ipv6.ts): the IPv6 subnet and the bridge's IPv6 address. */
  readonly subnet6?: string;
  readonly gateway6?: string;
  /** A macvlan/ipvlan network (./macvlan.ts): no bridge, firewall or published ports; `bridge` is unused. */
  readonly link?: LinkNetwork;
  /**
   * The address families with a subnet from the ipam config: only they take containers' static addresses, as on
   * Docker (./static-address.ts). Absent in records written before it was kept.
   */
  readonly userSubnets?: UserSubnets;
  readonly endpoints: Readonly<Record<string, EndpointRecord>>;
  /**
   * Set once the bridge, its settings and its rules are all in place; cleared before they are torn down. A record
   * without it was left by a process killed while creating or removing the network: `createNetwork` completes it.
   */
  readonly ready?: boolean;
}

export interface NetState {
  readonly version: 1;
  readonly networks: Readonly<Record<string, NetworkRecord>>;
}

export interface NativeNetworksOptions {
  readonly stateDir: string;
  readonly pools?: readonly Pool[];
  /** Injected host usage (tests); default: read from `ip`/resolv.conf when a subnet is auto-chosen. */
  readonly hostUsage?: () => Promise<readonly UsedPrefix[]>;
  /** The host-wide lock held while a new network's subnet is chosen and its bridge made (default HOST_SUBNET_LOCK). */
  readonly hostLock?: string;
}

/** One per host (not per state directory): subnet choice reads host state that every state directory changes. */
export const HOST_SUBNET_LOCK = '/run/lock/tscompose/net-subnets';

const EMPTY: NetState = { version: 1, networks: {} };

/** The state file and its lock: reads, and changes made under the lock. */
export class NetStateStore {
  readonly file: string;
  readonly lock: string;

  constructor(readonly opts: NativeNetworksOptions) {
    this.file = path.join(opts.stateDir, 'networks.json');
    this.lock = path.join(opts.stateDir, 'networks.lock');
  }

  /**
   * The state this store last read, with the file's text. A read whose text is the same hands out the same object
   * instead of parsing it again: states are never changed in place (the types are readonly; changes make new
   * objects). An `up` of 20 containers on one network read the file ~140 times, and it grows with each endpoint
   * (~13 KB at 20): reading is ~15 µs, parsing ~90 µs. Reads after another container's write still parse.
   */
  private cached: { readonly text: string; readonly state: NetState } | undefined;

  async read(): Promise<NetState> {
    let text: string;
    try {
      // Synchronous, as readJson (lib/fs/atomic.ts) reads: a small local file.
      text = readFileSync(this.file, 'utf8');
    } catch (e) {
      if (isMissing(e)) return EMPTY;
      throw e;
    }
    if (this.cached?.text === text) return this.cached.state;
    const state = JSON.parse(text) as NetState;
    this.cached = { text, state };
    return state;
  }

  /** Runs `fn` on the current state under the lock; `save` writes the state it is given. */
  async locked<T>(fn: (s: NetState, save: (s: NetState) => Promise<void>) => Promise<T>): Promise<T> {
    await fs.mkdir(this.opts.stateDir, { recursive: true });
    return withLock(this.lock, async () => {
      // Temp files of writers of this directory killed mid-write (one readdir when there are none).
      await sweepAtomicTemps(this.opts.stateDir).catch(() => undefined);
      return fn(await this.read(), (s) => writeJsonAtomic(this.file, s));
    });
  }
}

/** Whether the network's links are in place (bridge; or namespace and parent), from /sys and /run/netns. */
export async function networkInPlace(n: NetworkRecord): Promise<boolean> {
  return n.link ? linkNetworkInPlace(n.link) : linkExists(n.bridge);
}

/** The firewall input of a network record. */
export function firewallOf(n: NetworkRecord): FirewallNetwork {
  return {
    bridge: n.bridge,
    subnet: n.subnet,
    gateway: n.gateway,
    internal: n.internal,
    name: n.name,
    ports: Object.values(n.endpoints).flatMap((e) => e.ports),
    ...(n.subnet6 && n.gateway6 ? { subnet6: n.subnet6, gateway6: n.gateway6 } : {}),
  };
}

/** Re-applies the firewall of the network `key` from `state`. */
export async function applyFirewallFor(state: NetState, key: string): Promise<void> {
  const n = state.networks[key];
  if (n) await applyFirewall(firewallOf(n));
}
