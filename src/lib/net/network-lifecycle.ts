/**
 * Creating and removing native networks: a bridge network's subnet chosen (under the host-wide lock, see
 * ./network.ts), recorded first, then its bridge, nft table and iptables ACCEPTs made, and marked ready; a
 * macvlan/ipvlan network's namespace and parent (./macvlan.ts); removal in the reverse order, the record marked
 * not ready while it comes down. Both converge when re-run after a crash or a reboot.
 */
import { withLock } from '../fs/lock.js';
import { bridgeName, defaultMtu, ensureBridge, linkExists, mtuFromOptions, removeBridge } from './bridge.js';
import { mustCidr, overlaps } from './cidr.js';
import { NetworkError } from './errors.js';
import { applyFirewall, ensureIptablesAccept, removeFirewall, removeIptablesAccept } from './firewall.js';
import { planNetwork, readHostUsage, type IpamConfig, type IpamNetwork, type UsedPrefix } from './ipam.js';
import { planIpv6 } from './ipv6.js';
import { ensureLinkNetwork, isLinkDriver, parseLinkOptions, planLinkNetwork, removeLinkNetwork, type LinkDriver } from './macvlan.js';
import { disconnect } from './endpoint-connect.js';
import { firewallOf, HOST_SUBNET_LOCK, type EndpointRecord, type NetState, type NetStateStore, type NetworkRecord } from './network-state.js';
import { userSubnetsOf } from './static-address.js';

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

/** Creates the network (or re-creates its bridge/rules after a reboot); idempotent. */
export async function createNetwork(
  store: NetStateStore,
  req: CreateNetworkRequest,
): Promise<{ network: NetworkRecord; warnings: readonly string[] }> {
  return store.locked(async (state, save) => {
    const known = state.networks[req.key];
    if (known ? known.link : isLinkDriver(req.driver)) return createLinkNetwork(store, req, state, save);
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
      rec = await withLock(store.opts.hostLock ?? HOST_SUBNET_LOCK, async () => {
        let r = rec;
        if (r) await checkStillFree(store, r);
        else {
          const planned = await planRecord(store, req, state);
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
      const cur = await store.read();
      await save({ ...cur, networks: { ...cur.networks, [req.key]: rec } });
    }
    return { network: rec, warnings };
  });
}

/** createNetwork of a macvlan/ipvlan network: no bridge, no firewall, no host lock (it adds no host route). */
async function createLinkNetwork(
  store: NetStateStore,
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
    const planned = await planRecord(store, req, state, true);
    const parentExists = cfg.parent !== undefined && (await linkExists(cfg.parent));
    const link = planLinkNetwork(req.key, cfg, planned.network, { parentExists });
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
      const cur = await store.read();
      const networks = { ...cur.networks };
      delete networks[req.key];
      await save({ ...cur, networks });
    }
    throw e;
  }
  if (rec.ready !== true) {
    rec = { ...rec, ready: true };
    const cur = await store.read();
    await save({ ...cur, networks: { ...cur.networks, [req.key]: rec } });
  }
  return { network: rec, warnings };
}

/**
 * A recorded network whose bridge is gone (a reboot, or removed by hand) gets its subnet back only if no other
 * tscompose network took it meanwhile: another state directory may have chosen it while it looked free. Refused
 * then, clearly, rather than one gateway on two bridges.
 */
async function checkStillFree(store: NetStateStore, r: NetworkRecord): Promise<void> {
  const mine = mustCidr(r.subnet);
  const used = await (store.opts.hostUsage ?? readHostUsage)().catch(() => [] as readonly UsedPrefix[]);
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
async function planRecord(
  store: NetStateStore,
  req: CreateNetworkRequest,
  state: NetState,
  link = false,
): Promise<{ network: NetworkRecord; warnings: readonly string[] }> {
  const others = Object.fromEntries(Object.entries(state.networks).map(([k, n]) => [k, n as IpamNetwork]));
  const needHost = !(req.ipam ?? []).some((c) => c.subnet !== undefined && !c.subnet.includes(':'));
  const hostUsage = store.opts.hostUsage ?? readHostUsage;
  // A macvlan/ipvlan subnet given explicitly is usually the parent's segment, which the host has a route to: no
  // warning then (the host routes nothing to it for us).
  const hostUsed = needHost ? await hostUsage() : link ? [] : await hostUsage().catch(() => []);
  const plan = planNetwork({ version: 1, networks: others }, req.key, req.ipam, hostUsed, store.opts.pools);
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
 * Removes the network: bridge, nft table, iptables ACCEPTs, state. Refuses while endpoints are attached unless
 * `force` (then they are detached first). A network unknown to the state is still cleaned by its key.
 * `beforeForget`: the caller's own teardown of what belongs to the network (its resolver's entry), which runs
 * meanwhile and is waited for before the record goes: a kill before that leaves the record, whose next removal
 * finishes both; after it, nothing of the network is left that no record names.
 */
export async function removeNetwork(
  store: NetStateStore,
  key: string,
  opts: { force?: boolean; beforeForget?: Promise<unknown> } = {},
): Promise<void> {
  const busy = (eps: readonly EndpointRecord[]): NetworkError =>
    new NetworkError(`network ${key} has active endpoints: ${eps.map((e) => e.endpointId).join(', ')}`);
  const eps = await store.locked(async (state) => Object.values(state.networks[key]?.endpoints ?? {}));
  if (eps.length && !opts.force) throw busy(eps);
  // Each endpoint's own netns goes with it when nothing else uses it (before its record: a kill leaves nothing unnamed).
  for (const e of eps) await disconnect(store, key, e.endpointId, { dropNetns: true });
  await store.locked(async (state, save) => {
    // A connect between the two locked sections (it records its endpoint, then attaches its veth to the bridge
    // outside the lock): refused as above, not torn down under it.
    const joined = Object.values(state.networks[key]?.endpoints ?? {});
    if (joined.length && !opts.force) throw busy(joined);
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
    await opts.beforeForget?.catch(() => undefined);
    if (state.networks[key]) {
      const networks = { ...state.networks };
      delete networks[key];
      await save({ ...state, networks });
    }
  });
}
