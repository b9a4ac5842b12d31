/**
 * Bridge networking of native containers, between the runtime and ./net (bridges, veths, nftables) and ./dns
 * (the resolver): a container's endpoints are attached when a run starts (its network namespace
 * /run/netns/tsc-<id12> is made then, before `runc create`) and released when the run ends (the exit hook or a
 * stopping CLI), so a stopped container holds no veth, netns, address or firewall rule. DNS serves, per network,
 * the names of the containers running on it; /etc/hosts and /etc/resolv.conf are rewritten in place at each start.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { TsComposeError } from '../../errors.js';
import type { EndpointSpec, PublishedPort } from '../runtime.js';
import { coalescing } from '../../lib/coalesce.js';
import { isCodedError } from '../../lib/errors.js';
import type { DaemonStarter, DnsEntry } from '../../lib/dns/index.js';
import { sharedSpawner } from '../../lib/proc/spawner.js';

/** The DNS modules, loaded when a container starts or stops on a network (not for `ps` or a no-op `up`). */
const dnsModule = () => import('../../lib/dns/index.js');
/** The resolver is started by the process's small helper shell, not forked from the CLI (lib/proc/spawner.ts). */
const start: DaemonStarter = (job) => sharedSpawner().startDetached(job);
import { withLock } from '../../lib/fs/lock.js';
import {
  checkStaticAddresses,
  chooseGateways,
  compareGateway,
  InterfaceNameError,
  interfaceNames,
  NativeNetworks,
  networkInPlace,
  StaticAddressError,
  netnsName,
  netnsPath,
  type EndpointRecord,
  type NetState,
  type NetworkRecord,
  type PortRequest,
} from '../../lib/net/index.js';
import type { ContainerRecord, NativePaths } from './state.js';
import { traced } from '../../util/trace.js';

/** The network and DNS libraries' errors (bad subnet, port in use, a failed `ip`): our code and context, their hint. */
export function asUserError(e: unknown, context: string): Error {
  if (e instanceof TsComposeError) return e;
  return new TsComposeError('TSC_NATIVE_NETWORK', `${context}: ${(e as Error).message}`, { cause: e, hint: isCodedError(e) ? e.hint : undefined });
}

/**
 * A refused static address (in Docker Engine's words) or `interface_name`, after the container's name as Docker's
 * adapter shows an engine error (`container web-1: Address already in use`); its code and hint kept.
 */
export function staticAddressError(e: StaticAddressError | InterfaceNameError, container: string): TsComposeError {
  return new TsComposeError(e.code, `container ${container}: ${e.message}`, { cause: e, hint: e.hint, exitCode: e.exitCode });
}

export function networksOf(paths: NativePaths): NativeNetworks {
  return new NativeNetworks({ stateDir: path.join(paths.root, 'net') });
}

/** Whether the container uses bridge networks (no `network_mode`, at least one network). */
export function usesBridge(r: Pick<ContainerRecord, 'spec'>): boolean {
  return r.spec.networkMode === undefined && (r.spec.networks?.length ?? 0) > 0;
}

export function containerNetnsPath(id: string): string {
  return netnsPath(netnsName(id));
}

function dnsDir(paths: NativePaths): string {
  return path.join(paths.root, 'dns');
}

/**
 * A macvlan/ipvlan network's resolver: its own directory and process, started inside the network's namespace
 * (the host cannot reach the network's children: lib/net/macvlan.ts), listening on the network's resolver address.
 */
function linkDnsDir(paths: NativePaths, key: string): string {
  return path.join(paths.root, 'dns-links', encodeURIComponent(key));
}

/**
 * Stops a macvlan/ipvlan network's resolver that runs in another namespace than the network's current one (the
 * namespace was made again: `check --repair`, a reboot, deleted by hand): it would serve nobody; the next
 * refresh starts one in the right namespace.
 */
async function stopResolverElsewhere(paths: NativePaths, key: string, netns: string): Promise<void> {
  const { dnsStatus, dnsStopAll } = await dnsModule();
  const dir = linkDnsDir(paths, key);
  const { pid } = await dnsStatus(dir);
  if (pid === undefined) return;
  const [running, wanted] = await Promise.all([stat(`/proc/${pid}/ns/net`).catch(() => undefined), stat(netnsPath(netns)).catch(() => undefined)]);
  if (running && wanted && running.ino === wanted.ino && running.dev === wanted.dev) return;
  await dnsStopAll(dir);
}

/**
 * The networks the resolvers serve that have no network record (a removal cut off between the two by an older
 * version, which dropped the record first): the main resolver's network files and the macvlan/ipvlan resolvers'
 * directories, each kept serving (and its resolver running) until dropped. `drop` drops them.
 */
export async function staleDnsNetworks(paths: NativePaths, known: ReadonlySet<string>): Promise<{ key: string; drop: () => Promise<void> }[]> {
  const { dnsNetworks, dnsRemoveNetwork } = await dnsModule();
  const out: { key: string; drop: () => Promise<void> }[] = [];
  for (const key of await dnsNetworks(dnsDir(paths)).catch(() => [] as string[]))
    if (!known.has(key)) out.push({ key, drop: () => dnsRemoveNetwork(dnsDir(paths), key) });
  for (const name of await readdir(path.join(paths.root, 'dns-links')).catch(() => [] as string[])) {
    let key: string;
    try {
      key = decodeURIComponent(name);
    } catch {
      continue;
    }
    if (!known.has(key)) out.push({ key, drop: () => removeLinkDns(paths, key) });
  }
  return out;
}

/**
 * Removes a macvlan/ipvlan network's resolver directory (its resolver is gone with its last container), under the
 * resolvers' lock as refreshDns and prewarmDns change them.
 */
export async function removeLinkDns(paths: NativePaths, key: string): Promise<void> {
  const { dnsStopAll } = await dnsModule();
  await withLock(path.join(paths.locks, 'dns'), async () => {
    await dnsStopAll(linkDnsDir(paths, key)).catch(() => undefined);
    await rm(linkDnsDir(paths, key), { recursive: true, force: true });
  });
}

/** Where a container's resolv.conf points for a network: its resolver (undefined: none, the host's servers). */
function resolverOf(net: NetworkRecord | undefined): string | undefined {
  if (!net) return undefined;
  return net.link ? net.link.dnsIp : net.gateway;
}

const SERVICE_LABEL = 'com.docker.compose.service';

/** The names a container answers to on a network: service, container name, aliases, short id. */
function namesFor(r: ContainerRecord, ep: EndpointSpec): string[] {
  const names = [r.name, r.id.slice(0, 12), ...(ep.aliases ?? [])];
  const service = r.labels[SERVICE_LABEL];
  if (service) names.push(service);
  return [...new Set(names)];
}

/** Re-serves every network's names from the network state (under one lock: concurrent starts don't lose entries). */
export async function refreshDns(paths: NativePaths, keys: readonly string[], options: { wait?: boolean } = {}): Promise<void> {
  if (keys.length === 0) return;
  const { dnsRemoveNetwork, dnsSetNetwork, isLoopback, networkFileName, upstreamsFromResolvConf } = await dnsModule();
  await withLock(path.join(paths.locks, 'dns'), async () => {
    const state = await networksOf(paths).read();
    const upstreams = upstreamsFromResolvConf(readFileSync('/etc/resolv.conf', 'utf8'));
    for (const key of new Set(keys)) {
      const net = state.networks[key];
      const eps = Object.values(net?.endpoints ?? {});
      const listen = resolverOf(net);
      const dir = net?.link ? linkDnsDir(paths, key) : dnsDir(paths);
      if (!net || eps.length === 0 || listen === undefined) {
        // Not waiting either: the resolver drops it (or, serving nothing more, exits) on its own. The network's
        // removal, which follows in a `down`, waits for that.
        await dnsRemoveNetwork(dir, key, options.wait === false ? { noWait: true } : {}).catch(() => undefined);
        if (!net) await dnsRemoveNetwork(linkDnsDir(paths, key), key).catch(() => undefined);
        continue;
      }
      const entries = entriesOf(eps);
      if (net.link) await stopResolverElsewhere(paths, key, net.link.netns);
      // From a macvlan/ipvlan network's namespace the host's loopback resolvers are out of reach.
      const ups = net.internal ? [] : net.link ? upstreams.filter((u) => !isLoopback(u)) : upstreams;
      await dnsSetNetwork(
        dir,
        { network: key, gateway: listen, upstreams: ups, entries },
        {
          start,
          ...(options.wait === false ? { noWait: true } : {}),
          ...(net.link ? { netns: netnsPath(net.link.netns) } : {}),
        },
      );
    }
    // While the host's resolver serves a bridge network, it also holds the records of the macvlan/ipvlan networks
    // (not listening on them): a container on both kinds asks it (writeEtc) and sees the names of both.
    const bridges = Object.values(state.networks).some((n) => !n.link && Object.keys(n.endpoints).length > 0);
    for (const n of Object.values(state.networks)) {
      if (!n.link) continue;
      const eps = Object.values(n.endpoints);
      const copy = existsSync(path.join(dnsDir(paths), 'networks', networkFileName(n.key)));
      if (bridges && eps.length > 0) {
        if (copy && !keys.includes(n.key)) continue;
        const records = { network: n.key, gateway: n.link.dnsIp ?? n.gateway, listen: false, upstreams: [], entries: entriesOf(eps) };
        await dnsSetNetwork(dnsDir(paths), records, { noWait: true, start });
      } else if (copy) await dnsRemoveNetwork(dnsDir(paths), n.key).catch(() => undefined);
    }
  });
}

/**
 * A new bridge network's resolver, started in the background: the resolver is a Node process that takes ~100-200 ms
 * to start while containers are being created, and the first container start on the network waited for it. It
 * serves the network with no names until containers join (refreshDns); the network's removal stops it (refreshDns
 * with no endpoints). Holds the DNS lock while the resolver starts, as refreshDns does; a failure is left to the
 * first start to report.
 */
export function prewarmDns(paths: NativePaths, key: string): void {
  void traced('native.network.prewarm-dns', async () => {
    const { dnsSetNetwork, networkFileName, upstreamsFromResolvConf } = await dnsModule();
    await withLock(path.join(paths.locks, 'dns'), async () => {
      const net = (await networksOf(paths).read()).networks[key];
      if (!net || net.link || Object.keys(net.endpoints).length > 0) return;
      if (existsSync(path.join(dnsDir(paths), 'networks', networkFileName(key)))) return;
      const upstreams = net.internal ? [] : upstreamsFromResolvConf(readFileSync('/etc/resolv.conf', 'utf8'));
      await dnsSetNetwork(dnsDir(paths), { network: key, gateway: net.gateway, upstreams, entries: [] }, { noWait: true, start });
    });
  }).catch(() => undefined);
}

function entriesOf(eps: readonly EndpointRecord[]): DnsEntry[] {
  return eps.map((e) => ({ containerId: e.endpointId, ips: [e.ip, ...(e.ip6 ? [e.ip6] : [])], names: [...(e.aliases ?? [])] }));
}

/** The spec's published ports as the network library takes them (the same typed value: nothing to parse). */
function portsOf(r: ContainerRecord): PortRequest[] {
  return (r.spec.ports ?? []).map((p) => ({
    containerPort: p.containerPort,
    protocol: p.protocol,
    ...(p.hostIp ? { hostIp: p.hostIp } : {}),
    ...(p.hostPort ? { hostPort: p.hostPort } : {}),
  }));
}

/** The container's endpoints as the gateway choice sees them (networks not in the state: none). */
function candidates(r: ContainerRecord, state: NetState) {
  return (r.spec.networks ?? []).flatMap((ep) => {
    const net = state.networks[ep.network];
    if (!net) return [];
    const ipv6 = !net.link && net.subnet6 !== undefined && net.gateway6 !== undefined;
    return [{ network: ep.network, gwPriority: ep.gwPriority, internal: net.internal, ipv4: true, ipv6, bridge: !net.link }];
  });
}

/**
 * The networks that give the container's default routes, IPv4 and IPv6, as Docker Engine 28.1+ chooses them
 * (compose `gw_priority`, then non-internal, dual-stack, network name: lib/net/endpoint-order.ts).
 */
export function defaultRoutes(r: ContainerRecord, state: NetState): { ipv4?: string; ipv6?: string } {
  return chooseGateways(candidates(r, state));
}

/**
 * The network that publishes the container's ports: as Docker Engine 28 does, the one that provides the default
 * gateway (the first bridge network in the gateway order). The DNAT targets the container's address there;
 * clients on any other network reach it through the host's addresses (forwarding into that bridge is allowed for
 * DNATed connections, replies hairpin through the host).
 */
function gatewayNetwork(r: ContainerRecord, state: NetState): string | undefined {
  return candidates(r, state)
    .filter((c) => c.bridge && !c.internal)
    .sort(compareGateway)[0]?.network;
}

export interface Attached {
  readonly endpoints: Record<string, { networkId: string; ip: string; aliases: string[] }>;
  readonly ports: PublishedPort[];
}

/** Network ids as the runtime reports them: stable per network key and subnet. */
export function networkId(key: string, subnet: string): string {
  // A cheap stable id (no crypto import on this path): FNV-1a over key and subnet, widened to 64 hex chars.
  let h = 0x811c9dc5;
  const parts: string[] = [];
  for (let round = 0; round < 8; round++) {
    for (const ch of `${round}:${key}|${subnet}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
    parts.push(h.toString(16).padStart(8, '0'));
  }
  return parts.join('');
}

/**
 * Attaches a starting container to its networks (ports published on its gateway network), writes its /etc/hosts
 * and /etc/resolv.conf, and serves its names. On failure everything attached so far is released.
 */
export async function attachNetworks(paths: NativePaths, r: ContainerRecord, etcDir: string): Promise<Attached> {
  const nets = networksOf(paths);
  const endpoints: Record<string, { networkId: string; ip: string; aliases: string[] }> = {};
  const ports: PublishedPort[] = [];
  const attached: EndpointRecord[] = [];
  const keys: string[] = [];
  try {
    const known = await nets.read();
    // Static addresses refused before anything is made (Docker checks them as the container starts); connect
    // checks them again under the lock.
    for (const ep of r.spec.networks ?? []) {
      const net = known.networks[ep.network];
      if (net) checkStaticAddresses(net, ep);
    }
    // compose `interface_name` checked and the other interfaces numbered; `gw_priority` chooses the default routes.
    const ifnames = interfaceNames(r.spec.networks ?? []);
    const routes = defaultRoutes(r, known);
    const gateway = gatewayNetwork(r, known);
    for (const [i, ep] of (r.spec.networks ?? []).entries()) {
      // A network recorded by a CLI killed before it was whole (bridge, settings, rules), or during its removal, or
      // after a reboot: make it again (idempotent).
      const net0 = known.networks[ep.network];
      if (net0 && (net0.ready !== true || !(await networkInPlace(net0)))) {
        await nets.createNetwork({ key: net0.key, name: net0.name, internal: net0.internal, ...(net0.labels ? { labels: net0.labels } : {}) });
      }
      const rec = await traced('native.start.network.connect', () =>
        nets.connect({
          network: ep.network,
          endpointId: r.id,
          ...(ep.ipv4Address ? { ipv4Address: ep.ipv4Address } : {}),
          ...(ep.ipv6Address ? { ipv6Address: ep.ipv6Address } : {}),
          ...(ep.macAddress ? { macAddress: ep.macAddress } : {}),
          ifname: ifnames[i]!,
          defaultRoute: routes.ipv4 === ep.network,
          defaultRoute6: routes.ipv6 === ep.network,
          aliases: namesFor(r, ep),
          owner: r.name,
          ...(ep.network === gateway ? { ports: portsOf(r) } : {}),
        }),
      );
      attached.push(rec);
      keys.push(ep.network);
      const state = await nets.read();
      const net = state.networks[ep.network]!;
      endpoints[ep.network] = { networkId: networkId(net.key, net.subnet), ip: rec.ip, aliases: [...(ep.aliases ?? [])] };
      for (const p of rec.ports)
        ports.push({ containerPort: p.containerPort, protocol: p.protocol, hostIp: p.hostIp || '0.0.0.0', hostPort: p.hostPort });
    }
    // The first bridge network's resolver (it also knows the macvlan/ipvlan networks' names), else the first
    // macvlan/ipvlan network's that has one.
    const final = (await nets.read()).networks;
    const mine = keys.map((k) => final[k]).filter((n) => n !== undefined);
    const resolver = mine.find((n) => !n.link)?.gateway ?? mine.map(resolverOf).find((x) => x !== undefined);
    await traced('native.start.network.etc', () => writeEtc(paths, r, etcDir, attached, resolver));
    await traced('native.start.network.dns', () => announce(paths, keys));
  } catch (e) {
    await nets.releaseContainer(r.id).catch(() => undefined);
    await refreshDns(paths, keys).catch(() => undefined);
    throw e instanceof StaticAddressError || e instanceof InterfaceNameError
      ? staticAddressError(e, r.name)
      : asUserError(e, `cannot attach container ${r.name} to its networks`);
  }
  return { endpoints, ports };
}

/**
 * Per state root: DNS refreshes of containers starting at the same time, merged (coalesce.ts): one lock turn and
 * one reload of the resolver instead of one each. Not waiting for the resolver to reload (~30-80 ms, serialised
 * over containers): the container's process starts after conmon and the runtime, and a dependent one later still.
 * A resolver that has to be started is waited for.
 */
const announcers = new Map<string, (keys: readonly string[]) => Promise<void>>();

function announce(paths: NativePaths, keys: readonly string[]): Promise<void> {
  let run = announcers.get(paths.root);
  if (!run) announcers.set(paths.root, (run = coalescing((batch: (readonly string[])[]) => refreshDns(paths, batch.flat(), { wait: false }))));
  return run(keys);
}

/** `resolver`: the first network's resolver (undefined: it has none, a macvlan in a mode without one). */
async function writeEtc(
  paths: NativePaths,
  r: ContainerRecord,
  etcDir: string,
  eps: readonly EndpointRecord[],
  resolver: string | undefined,
): Promise<void> {
  const { containerNameservers, hostsFileFor, parseResolvConf, resolvConfFor, writeInPlace } = await dnsModule();
  const hostText = readFileSync('/etc/resolv.conf', 'utf8');
  const host = parseResolvConf(hostText);
  const first = eps[0];
  // Links: the linked container's address under the link's alias (Docker makes them aliases on the network).
  const extra = [...(r.spec.extraHosts ?? [])];
  const links = r.spec.links ?? [];
  if (links.length > 0) {
    const state: NetState = await networksOf(paths).read();
    for (const link of links) {
      const [target, alias] = link.split(':') as [string, string | undefined];
      for (const n of Object.values(state.networks)) {
        const e = Object.values(n.endpoints).find((x) => (x.aliases ?? []).includes(target));
        if (e && eps.some((m) => n.endpoints[m.endpointId])) {
          extra.push(`${alias ?? target}:${e.ip}`);
          break;
        }
      }
    }
  }
  const hosts = hostsFileFor({
    hostname: r.hostname,
    ...(r.spec.domainname ? { domainname: r.spec.domainname } : {}),
    ips: eps.flatMap((e) => [e.ip, ...(e.ip6 ? [e.ip6] : [])]),
    extraHosts: extra,
    network: 'bridge',
  });
  // The gateway's resolver answers the network's names and forwards the rest; compose `dns:` servers come after
  // it (used when it fails), dns_search/dns_opt replace the host's.
  const resolv = resolvConfFor({
    nameservers: !first
      ? host.nameservers
      : resolver !== undefined
        ? [resolver, ...(r.spec.dns ?? [])]
        : r.spec.dns?.length
          ? [...r.spec.dns]
          : containerNameservers(hostText),
    search: r.spec.dnsSearch ? [...r.spec.dnsSearch] : host.search,
    options: r.spec.dnsOptions ? [...r.spec.dnsOptions] : host.options,
  });
  await Promise.all([writeInPlace(path.join(etcDir, 'hosts'), hosts), writeInPlace(path.join(etcDir, 'resolv.conf'), resolv)]);
}

/** Releases a stopped container's endpoints (veths, netns, addresses, port rules) and its DNS names. */
export async function detachNetworks(paths: NativePaths, r: ContainerRecord): Promise<void> {
  await (
    await detachNetworksDeferred(paths, r)
  ).linksGone;
}

/**
 * detachNetworks, resolving once the endpoints are released in the network state and their deletion asked for;
 * `linksGone` settles once the kernel has destroyed the host veths (~70 ms after), so that a removal does its
 * other steps meanwhile.
 */
export async function detachNetworksDeferred(paths: NativePaths, r: ContainerRecord): Promise<{ linksGone: Promise<void> }> {
  const nets = networksOf(paths);
  const before = await nets.read();
  if (!Object.values(before.networks).some((n) => n.endpoints[r.id]) && !existsSync(containerNetnsPath(r.id)))
    return { linksGone: Promise.resolve() };
  let release = releasers.get(paths.root);
  if (!release) releasers.set(paths.root, (release = coalescing((ids: string[]) => releaseMany(paths, ids), RELEASE_GATHER)));
  return release(r.id);
}

/**
 * Per state root: releases of containers stopping at the same time, merged (coalesce.ts). A batch ends once the
 * state is updated and the deletions asked for; each caller then waits for the kernel to destroy its batch's host
 * veths, while the next batch goes on.
 */
const releasers = new Map<string, (id: string) => Promise<{ linksGone: Promise<void> }>>();
/**
 * The removals of a `down` come to their release within a few ms of each other (each first records its exit and
 * reads its files), the first alone: without waiting for the others it made a batch of its own, and the rest a
 * second lock turn and DNS refresh after it (~20 ms of a 20-container `down`). A lone removal waits 4 ms more.
 */
const RELEASE_GATHER = { quietMs: 4, maxMs: 25 };

async function releaseMany(paths: NativePaths, ids: readonly string[]): Promise<{ linksGone: Promise<void> }> {
  const { keys, linksGone } = await traced('native.release.endpoints', () =>
    networksOf(paths).releaseContainersDeferred(ids.map((endpointId) => ({ endpointId }))),
  );
  await traced('native.release.dns', () => refreshDns(paths, keys, { wait: false }));
  return { linksGone };
}
