/**
 * The runtime-facing facade: compose networks as bridges + per-network nft tables, containers attached through
 * veth pairs into their netns, published ports as DNAT rules. State (`<stateDir>/networks.json`) records everything
 * created, so teardown is exact and every operation can be re-run after a crash or a reboot (it converges).
 *
 * Locking: state changes happen under `<stateDir>/networks.lock`. Network create/remove run their commands inside
 * the lock (rare, ~30-60 ms); connect/disconnect only allocate/record inside it and run the per-endpoint `ip`
 * commands outside, so parallel container starts do not queue behind each other; the firewall of a network is
 * re-applied inside the lock from the state just written (it always reflects every endpoint's ports).
 *
 * Creating a network also holds a host-wide lock (`hostLock`, shared by every state directory on the host) from
 * reading the host's routes until its bridge has its address: two state directories (two users' runtimes, parallel
 * test suites) choosing a subnet at once would otherwise both see the same one free and put the same gateway on
 * two bridges, after which one of them loses its traffic (replies routed to the other bridge).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { readJson, sweepAtomicTemps, writeJsonAtomic } from '../fs/atomic.js';
import { withLock } from '../fs/lock.js';
import {
  attachEndpoint,
  bridgeName,
  containerIfname,
  defaultMtu,
  detachEndpoint,
  ensureBridge,
  ensureNetns,
  hostVethName,
  linkExists,
  macFromIp,
  mtuFromOptions,
  netnsExists,
  netnsName,
  removeBridge,
  removeNetns,
} from './bridge.js';
import { mustCidr, overlaps } from './cidr.js';
import { NetworkError } from './errors.js';
import {
  applyFirewall,
  ensureIptablesAccept,
  removeFirewall,
  removeIptablesAccept,
  type FirewallNetwork,
  type FirewallPort,
  type PortMapping,
} from './firewall.js';
import { resolvePorts, type PortRequest } from './endpoint-ports.js';
import {
  allocateAddress,
  planNetwork,
  readHostUsage,
  releaseAddress,
  type IpamConfig,
  type IpamNetwork,
  type Pool,
  type UsedPrefix,
} from './ipam.js';
import { address6, planIpv6 } from './ipv6.js';
import {
  attachChild,
  ensureLinkNetwork,
  isLinkDriver,
  linkNetworkInPlace,
  parseLinkOptions,
  planChildTeardown,
  planLinkNetwork,
  removeLinkNetwork,
  type LinkDriver,
  type LinkNetwork,
} from './macvlan.js';
import { runStep, type Step } from './run.js';
import { checkStaticAddresses, userSubnetsOf, type UserSubnets } from './static-address.js';

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

export interface CreateNetworkRequest {
  /** Unique key, e.g. `<project>_<network>` (Docker's network name). */
  readonly key: string;
  readonly name?: string;
  readonly internal?: boolean;
  /** compose `driver`: bridge (default), macvlan or ipvlan. */
  readonly driver?: string;
  /** compose `enable_ipv6` (bridge networks): an IPv6 subnet from `ipam`, else a ULA /64. */
  readonly enableIpv6?: boolean;
  readonly ipam?: readonly IpamConfig[];
  /** compose `driver_opts` (`com.docker.network.driver.mtu` is honoured; macvlan/ipvlan: ./macvlan.ts's). */
  readonly driverOpts?: Readonly<Record<string, string>>;
  readonly labels?: Readonly<Record<string, string>>;
}

export interface ConnectRequest {
  readonly network: string;
  /** Usually the container id (also names the netns we create: `tsc-<id12>`). */
  readonly endpointId: string;
  /** Existing netns to join (/run/netns/<n>, /proc/<pid>/ns/net, …); default: create /run/netns/tsc-<id12>. */
  readonly netnsPath?: string;
  /** Name to give the netns (default `tsc-<id12>` of endpointId). */
  readonly netnsName?: string;
  readonly ifname?: string;
  readonly ipv4Address?: string;
  /** compose `ipv6_address` (a network with IPv6). */
  readonly ipv6Address?: string;
  readonly macAddress?: string;
  /** Default: true for the netns's first non-internal network. */
  readonly defaultRoute?: boolean;
  readonly ports?: readonly PortRequest[];
  readonly aliases?: readonly string[];
  /** Refuse explicit host ports a host socket already holds (default true). */
  readonly checkHostBind?: boolean;
  /** Display name put into the rules' comments. */
  readonly owner?: string;
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

export class NativeNetworks {
  readonly file: string;
  readonly lock: string;

  constructor(readonly opts: NativeNetworksOptions) {
    this.file = path.join(opts.stateDir, 'networks.json');
    this.lock = path.join(opts.stateDir, 'networks.lock');
  }

  async read(): Promise<NetState> {
    return (await readJson<NetState>(this.file)) ?? EMPTY;
  }

  private async locked<T>(fn: (s: NetState, save: (s: NetState) => Promise<void>) => Promise<T>): Promise<T> {
    await fs.mkdir(this.opts.stateDir, { recursive: true });
    return withLock(this.lock, async () => {
      // Temp files of writers of this directory killed mid-write (one readdir when there are none).
      await sweepAtomicTemps(this.opts.stateDir).catch(() => undefined);
      return fn(await this.read(), (s) => writeJsonAtomic(this.file, s));
    });
  }

  /** Creates the network (or re-creates its bridge/rules after a reboot); idempotent. */
  async createNetwork(req: CreateNetworkRequest): Promise<{ network: NetworkRecord; warnings: readonly string[] }> {
    return this.locked(async (state, save) => {
      const known = state.networks[req.key];
      if (known ? known.link : isLinkDriver(req.driver)) return this.createLinkNetwork(req, state, save);
      if (req.driver !== undefined && req.driver !== 'bridge') throw new NetworkError(`network driver ${req.driver} is not supported`);
      let rec = state.networks[req.key];
      let warnings: readonly string[] = [];
      const bridge = (r: NetworkRecord) =>
        ensureBridge({
          name: r.bridge,
          subnet: r.subnet,
          gateway: r.gateway,
          mtu: r.mtu,
          internal: r.internal,
          ...(r.gateway6 && r.subnet6 ? { gateway6: r.gateway6, prefixLen6: Number(r.subnet6.split('/')[1]) } : {}),
        });
      let chain: string | undefined;
      if (rec && (await linkExists(rec.bridge))) {
        // nft and iptables do not need the bridge to exist (they match names): all three in parallel.
        [, , chain] = await Promise.all([bridge(rec), applyFirewall(firewallOf(rec)), ensureIptablesAccept(rec.bridge)]);
      } else {
        // A new network, or one whose bridge is gone (a reboot): from reading the host's routes until its gateway
        // address is on the bridge, under the host-wide lock.
        rec = await withLock(this.opts.hostLock ?? HOST_SUBNET_LOCK, async () => {
          let r = rec;
          if (r) await this.checkStillFree(r);
          else {
            const planned = await this.plan(req, state);
            r = planned.network;
            warnings = planned.warnings;
            // Record first: a crash below leaves a record that `removeNetwork` (or a re-run) cleans up.
            await save({ ...state, networks: { ...state.networks, [req.key]: r } });
          }
          await bridge(r);
          return r;
        });
        [, chain] = await Promise.all([applyFirewall(firewallOf(rec)), ensureIptablesAccept(rec.bridge)]);
      }
      if (chain !== rec.iptablesChain || rec.ready !== true) {
        const { iptablesChain: _old, ...rest } = rec;
        rec = chain ? { ...rest, iptablesChain: chain, ready: true } : { ...rest, ready: true };
        const cur = await this.read();
        await save({ ...cur, networks: { ...cur.networks, [req.key]: rec } });
      }
      return { network: rec, warnings };
    });
  }

  /** createNetwork of a macvlan/ipvlan network: no bridge, no firewall, no host lock (it adds no host route). */
  private async createLinkNetwork(
    req: CreateNetworkRequest,
    state: NetState,
    save: (s: NetState) => Promise<void>,
  ): Promise<{ network: NetworkRecord; warnings: readonly string[] }> {
    let rec = state.networks[req.key];
    let warnings: readonly string[] = [];
    if (!rec) {
      if (req.enableIpv6) throw new NetworkError(`network ${req.key}: enable_ipv6 is not supported on ${req.driver} networks of the native runtime`);
      const cfg = parseLinkOptions(req.driver as LinkDriver, req.driverOpts);
      const other = Object.values(state.networks).find((n) => cfg.parent !== undefined && n.link && !n.link.dummy && n.link.parent === cfg.parent);
      if (other) throw new NetworkError(`network ${other.key} is already using parent interface ${cfg.parent}`);
      const planned = await this.plan(req, state, true);
      const link = planLinkNetwork(req.key, cfg, planned.network);
      const reserved = [...(planned.network.reserved ?? []), ...(link.dnsIp ? [link.dnsIp] : [])];
      rec = { ...planned.network, ...(reserved.length ? { reserved } : {}), link };
      warnings = planned.warnings;
      await save({ ...state, networks: { ...state.networks, [req.key]: rec } });
    }
    try {
      await ensureLinkNetwork(rec.link!, rec);
    } catch (e) {
      if (state.networks[req.key] === undefined) {
        // a new network that could not be made: nothing of it stays (Docker rolls back too)
        await removeLinkNetwork(rec.link!).catch(() => undefined);
        const cur = await this.read();
        const networks = { ...cur.networks };
        delete networks[req.key];
        await save({ ...cur, networks });
      }
      throw e;
    }
    if (rec.ready !== true) {
      rec = { ...rec, ready: true };
      const cur = await this.read();
      await save({ ...cur, networks: { ...cur.networks, [req.key]: rec } });
    }
    return { network: rec, warnings };
  }

  /**
   * A recorded network whose bridge is gone (a reboot, or removed by hand) gets its subnet back only if no other
   * tscompose network took it meanwhile: another state directory may have chosen it while it looked free. Refused
   * then, clearly, rather than one gateway on two bridges.
   */
  private async checkStillFree(r: NetworkRecord): Promise<void> {
    const mine = mustCidr(r.subnet);
    const used = await (this.opts.hostUsage ?? readHostUsage)().catch(() => [] as readonly UsedPrefix[]);
    // Only another tscompose bridge counts: a subnet given explicitly may overlap a host route by choice (allowed,
    // with a warning, when it was created), and a reboot does not change that.
    const clash = used.find((u) => overlaps(u.prefix, mine) && /(?: dev | on )tsc-/.test(u.source));
    if (clash)
      throw new NetworkError(
        `network ${r.key}: its subnet ${r.subnet} is now used by ${clash.source} (taken while its bridge ${r.bridge} was gone); ` +
          'remove the network (down) and create it again to get another subnet',
      );
  }

  /** A new network's record: its subnet chosen against this state's networks and the host's routes. */
  private async plan(req: CreateNetworkRequest, state: NetState, link = false): Promise<{ network: NetworkRecord; warnings: readonly string[] }> {
    const others = Object.fromEntries(Object.entries(state.networks).map(([k, n]) => [k, n as IpamNetwork]));
    const needHost = !(req.ipam ?? []).some((c) => c.subnet !== undefined && !c.subnet.includes(':'));
    const hostUsage = this.opts.hostUsage ?? readHostUsage;
    // A macvlan/ipvlan subnet given explicitly is usually the parent's segment, which the host has a route to: no
    // warning then (the host routes nothing to it for us).
    const hostUsed = needHost ? await hostUsage() : link ? [] : await hostUsage().catch(() => []);
    const plan = planNetwork({ version: 1, networks: others }, req.key, req.ipam, hostUsed, this.opts.pools);
    const v6 =
      req.enableIpv6 && !link
        ? planIpv6(
            req.key,
            req.ipam,
            Object.values(state.networks).flatMap((n) => n.subnet6 ?? []),
          )
        : undefined;
    const network: NetworkRecord = {
      ...plan.network,
      ...(v6 ?? {}),
      key: req.key,
      name: req.name ?? req.key,
      bridge: bridgeName(req.key),
      internal: req.internal ?? false,
      mtu: mtuFromOptions(req.driverOpts, await defaultMtu()),
      ...(req.labels ? { labels: req.labels } : {}),
      userSubnets: userSubnetsOf(req.ipam),
      endpoints: {},
    };
    return { network, warnings: plan.warnings };
  }

  /**
   * Attaches a container's netns to the network: address, veth, routes, published ports. Idempotent per
   * (network, endpointId): a re-run keeps the address and host ports and rebuilds the interface.
   */
  async connect(req: ConnectRequest): Promise<EndpointRecord> {
    const ep = await this.locked(async (state, save) => {
      const net = state.networks[req.network];
      if (!net) throw new NetworkError(`network ${req.network} does not exist`);
      checkStaticAddresses(net, req);
      const old = net.endpoints[req.endpointId];
      const nsName =
        req.netnsPath && path.dirname(req.netnsPath) === '/run/netns' ? path.basename(req.netnsPath) : (req.netnsName ?? netnsName(req.endpointId));
      const sameNs = Object.values(state.networks).flatMap((n) =>
        Object.values(n.endpoints)
          .filter((e) => e.netns === nsName && !(n.key === net.key && e.endpointId === req.endpointId))
          .map((e) => ({ n, e })),
      );
      const { network: n2, ip } = allocateAddress(net, req.endpointId, req.ipv4Address ?? (old ? old.ip : undefined));
      const others6 = Object.values(net.endpoints).flatMap((e) => (e.endpointId !== req.endpointId && e.ip6 ? [e.ip6] : []));
      const ip6 =
        net.subnet6 && net.gateway6
          ? address6({ subnet: net.subnet, subnet6: net.subnet6, gateway6: net.gateway6 }, ip, req.ipv6Address, others6)
          : undefined;
      if (ip6 !== undefined && req.ipv6Address === undefined && others6.includes(ip6))
        throw new NetworkError(`IPv6 address ${ip6} is already in use on ${net.key}`);
      const ifname = req.ifname ?? old?.ifname ?? firstFreeIfname(sameNs.map((x) => x.e.ifname));
      if (sameNs.some((x) => x.e.ifname === ifname)) throw new NetworkError(`interface ${ifname} is already used in netns ${nsName}`);
      const defaultRoute = req.defaultRoute ?? (old?.defaultRoute || (!net.internal && !sameNs.some((x) => x.e.defaultRoute)));
      const taken = Object.values(state.networks).flatMap((n) =>
        Object.values(n.endpoints)
          .filter((e) => !(n.key === net.key && e.endpointId === req.endpointId))
          .flatMap((e) => e.ports),
      );
      // macvlan/ipvlan: nothing published (Docker ignores ports there: the container is on the segment itself).
      const ports = await resolvePorts(net.internal || net.link ? [] : (req.ports ?? []), {
        taken,
        ...(old ? { previous: old.ports } : {}),
        containerIp: ip,
        ...(req.owner ? { owner: req.owner } : {}),
        checkHostBind: req.checkHostBind !== false,
      });
      const rec: EndpointRecord = {
        endpointId: req.endpointId,
        netns: nsName,
        ownNetns: old?.ownNetns ?? req.netnsPath === undefined,
        ifname,
        hostVeth: net.link ? '' : hostVethName(net.key, req.endpointId),
        ...(net.link ? { driver: net.link.driver } : {}),
        ip,
        ...(ip6 !== undefined ? { ip6 } : {}),
        prefixLen: mustCidr(net.subnet).len,
        gateway: net.gateway,
        // ipvlan children have their parent's MAC
        mac: net.link?.driver === 'ipvlan' ? '' : (req.macAddress ?? macFromIp(ip)).toLowerCase(),
        defaultRoute,
        ports,
        ...(req.aliases ? { aliases: req.aliases } : {}),
      };
      await save({ ...state, networks: { ...state.networks, [net.key]: { ...n2, endpoints: { ...n2.endpoints, [req.endpointId]: rec } } } });
      return { rec, net };
    });
    const { rec, net } = ep;
    try {
      if (!rec.ownNetns) await ensureNetns(rec.netns, req.netnsPath);
      if (net.link) {
        const a = { address: rec.ip, prefixLen: rec.prefixLen, gateway: rec.gateway, defaultRoute: rec.defaultRoute };
        await attachChild(net.link, rec.netns, rec.ifname, a, { ...(rec.mac ? { mac: rec.mac } : {}), createNetns: rec.ownNetns });
      } else
        await attachEndpoint(
          {
            netns: rec.netns,
            bridge: net.bridge,
            hostVeth: rec.hostVeth,
            ifname: rec.ifname,
            address: rec.ip,
            prefixLen: rec.prefixLen,
            gateway: rec.gateway,
            defaultRoute: rec.defaultRoute,
            mac: rec.mac,
            mtu: net.mtu,
            ...(rec.ip6 && net.subnet6 && net.gateway6
              ? { address6: rec.ip6, prefixLen6: Number(net.subnet6.split('/')[1]), gateway6: net.gateway6 }
              : {}),
          },
          { createNetns: rec.ownNetns },
        );
      if (rec.ports.length) await this.locked(async (s) => void (await applyFirewallFor(s, net.key)));
    } catch (e) {
      await this.disconnect(net.key, req.endpointId).catch(() => undefined);
      if (rec.ownNetns) await this.releaseNetns(rec.netns).catch(() => undefined);
      throw e;
    }
    return rec;
  }

  /**
   * Detaches the endpoint: veth deleted (its peer goes with it), ports unpublished, address released. The netns
   * stays (the container may be on other networks): `releaseNetns` removes it. Missing things are fine.
   */
  async disconnect(network: string, endpointId: string): Promise<void> {
    const found = await this.locked(async (state, save) => {
      const net = state.networks[network];
      const ep = net?.endpoints[endpointId];
      if (!net || !ep) return undefined;
      const endpoints = { ...net.endpoints };
      delete endpoints[endpointId];
      const n2 = { ...releaseAddress(net, endpointId), endpoints };
      let next: NetState = { ...state, networks: { ...state.networks, [network]: n2 } };
      // Hand the default route over to another non-internal network of the same netns.
      let handover: { netns: string; ifname: string; gateway: string } | undefined;
      if (ep.defaultRoute) {
        for (const other of Object.values(next.networks)) {
          if (other.internal) continue;
          const e = Object.values(other.endpoints).find((x) => x.netns === ep.netns);
          if (!e) continue;
          handover = { netns: e.netns, ifname: e.ifname, gateway: e.gateway };
          next = {
            ...next,
            networks: {
              ...next.networks,
              [other.key]: { ...other, endpoints: { ...other.endpoints, [e.endpointId]: { ...e, defaultRoute: true } } },
            },
          };
          break;
        }
      }
      await save(next);
      if (ep.driver) await runStep(planChildTeardown(ep.netns, ep.ifname));
      else await detachEndpoint(ep.hostVeth);
      if (ep.ports.length) await applyFirewallFor(next, network);
      if (handover) {
        await runStep({
          argv: ['ip', '-n', handover.netns, 'route', 'replace', 'default', 'via', handover.gateway, 'dev', handover.ifname],
          okIf: /No such|Cannot find|Network is unreachable/,
        });
      }
      return ep;
    });
    void found;
  }

  /** Deletes the container's netns if we created it and no endpoint of ours still uses it. */
  async releaseNetns(netns: string): Promise<void> {
    const state = await this.read();
    const users = Object.values(state.networks).flatMap((n) => Object.values(n.endpoints).filter((e) => e.netns === netns));
    if (users.length) return;
    await removeNetns(netns);
  }

  /**
   * Disconnects `endpointId` from every network and removes its netns if we created it: one state update, one
   * `ip -batch` (all veths + the netns), then the firewall of networks where it had published ports.
   */
  async releaseContainer(endpointId: string, netns = netnsName(endpointId)): Promise<void> {
    await this.releaseContainers([{ endpointId, netns }]);
  }

  /**
   * Releases several containers' endpoints in one lock turn, one `ip -batch` and one firewall update per network.
   * Returns the keys of the networks they were on.
   */
  async releaseContainers(list: readonly { readonly endpointId: string; readonly netns?: string }[]): Promise<string[]> {
    return this.locked(async (state, save) => {
      let next = state;
      const lines: string[] = [];
      // Host ends of veths whose netns goes in this batch: deleting the netns destroys both ends, in one kernel
      // batch for all of them (~90 ms for 20 here, against ~480 ms for 20 `link del`s, each waiting on its own).
      const goWithNetns: string[] = [];
      const withPorts = new Set<string>();
      const keys = new Set<string>();
      // macvlan/ipvlan children in a netns that stays (they go with one that goes)
      const children: Step[] = [];
      for (const { endpointId, netns = netnsName(endpointId) } of list) {
        const mine = Object.values(next.networks).filter((n) => n.endpoints[endpointId]);
        const eps = mine.map((n) => n.endpoints[endpointId]!);
        for (const n of mine) {
          const endpoints = { ...n.endpoints };
          delete endpoints[endpointId];
          next = { ...next, networks: { ...next.networks, [n.key]: { ...releaseAddress(n, endpointId), endpoints } } };
          if (n.endpoints[endpointId]!.ports.length) withPorts.add(n.key);
          keys.add(n.key);
        }
        const stillUsed = Object.values(next.networks).some((n) => Object.values(n.endpoints).some((e) => e.netns === netns));
        const ownNs = mine.length === 0 || eps.some((e) => e.ownNetns);
        const nsGoes = ownNs && !stillUsed && (await netnsExists(netns));
        for (const e of eps) {
          if (e.driver) {
            if (!(nsGoes && e.netns === netns)) children.push(planChildTeardown(e.netns, e.ifname));
            continue;
          }
          if (!(await linkExists(e.hostVeth))) continue;
          if (nsGoes && e.netns === netns) goWithNetns.push(e.hostVeth);
          else lines.push(`link del dev ${e.hostVeth}`);
        }
        if (nsGoes) lines.push(`netns del ${netns}`);
      }
      if (next !== state) await save(next);
      for (const c of children) await runStep(c);
      if (lines.length) await ipForceBatch(lines);
      if (goWithNetns.length) await waitLinksGone(goWithNetns);
      await Promise.all([...withPorts].map((key) => applyFirewallFor(next, key)));
      return [...keys];
    });
  }

  /**
   * Removes the network: bridge, nft table, iptables ACCEPTs, state. Refuses while endpoints are attached unless
   * `force` (then they are detached first). A network unknown to the state is still cleaned by its key.
   */
  async removeNetwork(key: string, opts: { force?: boolean } = {}): Promise<void> {
    const eps = await this.locked(async (state) => Object.values(state.networks[key]?.endpoints ?? {}));
    if (eps.length && !opts.force) throw new NetworkError(`network ${key} has active endpoints: ${eps.map((e) => e.endpointId).join(', ')}`);
    for (const e of eps) await this.disconnect(key, e.endpointId);
    await this.locked(async (state, save) => {
      const bridge = state.networks[key]?.bridge ?? bridgeName(key);
      // Not ready while it comes down: a kill during the teardown leaves a record others know to complete or remove.
      const rec = state.networks[key];
      if (rec?.ready) {
        state = { ...state, networks: { ...state.networks, [key]: { ...rec, ready: false } } };
        await save(state);
      }
      if (rec?.link) await removeLinkNetwork(rec.link);
      else
        await Promise.all([
          removeFirewall(bridge, { ipv6: rec?.subnet6 !== undefined }),
          removeIptablesAccept(bridge),
          removeBridge(bridge, { force: true }),
        ]);
      if (state.networks[key]) {
        const networks = { ...state.networks };
        delete networks[key];
        await save({ ...state, networks });
      }
    });
    for (const e of eps) if (e.ownNetns) await this.releaseNetns(e.netns);
  }

  /** Re-applies bridges and rules of every recorded network (after a reboot, or dockerd (re)starting). */
  async reapplyAll(): Promise<void> {
    const state = await this.read();
    for (const n of Object.values(state.networks)) await this.createNetwork({ key: n.key, name: n.name, internal: n.internal });
  }
}

/** Whether the network's links are in place (bridge; or namespace and parent), from /sys and /run/netns. */
export async function networkInPlace(n: NetworkRecord): Promise<boolean> {
  return n.link ? linkNetworkInPlace(n.link) : linkExists(n.bridge);
}

function firstFreeIfname(used: readonly string[]): string {
  for (let i = 0; ; i++) if (!used.includes(containerIfname(i))) return containerIfname(i);
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

async function applyFirewallFor(state: NetState, key: string): Promise<void> {
  const n = state.networks[key];
  if (n) await applyFirewall(firewallOf(n));
}

export type { PortMapping };

/**
 * Waits until the links are gone (their netns was deleted; the kernel destroys its devices asynchronously, so
 * "released" must not return before); whatever is still there after `timeoutMs` is deleted explicitly.
 */
async function waitLinksGone(links: readonly string[], timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  let left = [...links];
  while (left.length > 0 && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 5));
    const still: string[] = [];
    for (const l of left) if (await linkExists(l)) still.push(l);
    left = still;
  }
  if (left.length) await ipForceBatch(left.map((l) => `link del dev ${l}`));
}

/** `ip -force -batch`: every line is tried; a device or netns already gone is not an error. */
async function ipForceBatch(lines: readonly string[]): Promise<void> {
  await runStep({ argv: ['ip', '-force', '-batch', '-'], input: `${lines.join('\n')}\n`, okIf: /Cannot find device|No such file/ });
}
