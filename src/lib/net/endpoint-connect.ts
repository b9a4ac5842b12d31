/**
 * A container's endpoint on a native network: `connect` allocates its address (and IPv6 address), interface name
 * and host ports and records them under the state lock, then makes the veth (or macvlan/ipvlan child), addresses
 * and routes outside it, so parallel starts do not queue behind each other; `disconnect` undoes one endpoint
 * (handing the default route to another network of the netns), `releaseNetns` the netns once no endpoint uses it.
 */
import * as path from 'node:path';
import { attachEndpoint, containerIfname, detachEndpoint, ensureNetns, hostVethName, macFromIp, netnsName, removeNetns } from './bridge.js';
import { mustCidr } from './cidr.js';
import { resolvePorts, type PortRequest } from './endpoint-ports.js';
import { NetworkError } from './errors.js';
import { allocateAddress, releaseAddress } from './ipam.js';
import { address6 } from './ipv6.js';
import { attachChild, planChildTeardown } from './macvlan.js';
import { applyFirewallFor, type EndpointRecord, type NetState, type NetStateStore } from './network-state.js';
import { runStep } from './run.js';
import { checkStaticAddresses } from './static-address.js';

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
  /** The IPv6 default route (a network with IPv6): default `defaultRoute`. */
  readonly defaultRoute6?: boolean;
  readonly ports?: readonly PortRequest[];
  readonly aliases?: readonly string[];
  /** Refuse explicit host ports a host socket already holds (default true). */
  readonly checkHostBind?: boolean;
  /** Display name put into the rules' comments. */
  readonly owner?: string;
}

/**
 * Attaches a container's netns to the network: address, veth, routes, published ports. Idempotent per
 * (network, endpointId): a re-run keeps the address and host ports and rebuilds the interface.
 */
export async function connect(store: NetStateStore, req: ConnectRequest): Promise<EndpointRecord> {
  const ep = await store.locked(async (state, save) => {
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
    const defaultRoute6 = req.defaultRoute6 ?? (req.defaultRoute === undefined ? (old?.defaultRoute6 ?? defaultRoute) : defaultRoute);
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
      ...(ip6 !== undefined && defaultRoute6 !== defaultRoute ? { defaultRoute6 } : {}),
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
          ...(rec.defaultRoute6 !== undefined ? { defaultRoute6: rec.defaultRoute6 } : {}),
          mac: rec.mac,
          mtu: net.mtu,
          ...(rec.ip6 && net.subnet6 && net.gateway6
            ? { address6: rec.ip6, prefixLen6: Number(net.subnet6.split('/')[1]), gateway6: net.gateway6 }
            : {}),
        },
        { createNetns: rec.ownNetns },
      );
    if (rec.ports.length) await store.locked(async (s) => void (await applyFirewallFor(s, net.key)));
  } catch (e) {
    await disconnect(store, net.key, req.endpointId, { dropNetns: true }).catch(() => undefined);
    if (rec.ownNetns) await releaseNetns(store, rec.netns).catch(() => undefined); // when the disconnect failed
    throw e;
  }
  return rec;
}

/**
 * Detaches the endpoint: veth deleted (its peer goes with it), ports unpublished, address released. The netns
 * stays unless `dropNetns` and it is the endpoint's own and no other endpoint uses it (the container may be on other
 * networks: `releaseNetns` removes it then). The kernel's side first, then the record, as endpoint-release.ts: a kill
 * in between leaves a record of what is gone, which the next disconnect or release finishes; the other order left a
 * veth (and a netns) that no record named. Missing things are fine.
 */
export async function disconnect(store: NetStateStore, network: string, endpointId: string, opts: { dropNetns?: boolean } = {}): Promise<void> {
  await store.locked(async (state, save) => {
    const net = state.networks[network];
    const ep = net?.endpoints[endpointId];
    if (!net || !ep) return;
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
    const netnsGoes =
      opts.dropNetns === true &&
      ep.ownNetns &&
      !Object.values(next.networks).some((n) => Object.values(n.endpoints).some((e) => e.netns === ep.netns));
    if (ep.driver) await runStep(planChildTeardown(ep.netns, ep.ifname));
    else await detachEndpoint(ep.hostVeth);
    if (netnsGoes) await removeNetns(ep.netns);
    if (ep.ports.length) await applyFirewallFor(next, network);
    if (handover) {
      await runStep({
        argv: ['ip', '-n', handover.netns, 'route', 'replace', 'default', 'via', handover.gateway, 'dev', handover.ifname],
        okIf: /No such|Cannot find|Network is unreachable/,
      });
    }
    await save(next);
  });
}

/**
 * Deletes the container's netns if we created it and no endpoint of ours still uses it: under the state's lock, so
 * that a connect recording an endpoint in it meanwhile is seen.
 */
export async function releaseNetns(store: NetStateStore, netns: string): Promise<void> {
  await store.locked(async (state) => {
    if (Object.values(state.networks).some((n) => Object.values(n.endpoints).some((e) => e.netns === netns))) return;
    await removeNetns(netns);
  });
}

function firstFreeIfname(used: readonly string[]): string {
  for (let i = 0; ; i++) if (!used.includes(containerIfname(i))) return containerIfname(i);
}
