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
import { netnsName } from './bridge.js';
import { connect, disconnect, releaseNetns, type ConnectRequest } from './endpoint-connect.js';
import { releaseContainers, releaseContainersDeferred } from './endpoint-release.js';
import type { PortMapping } from './firewall.js';
import { createNetwork, removeNetwork, type CreateNetworkRequest } from './network-lifecycle.js';
import { NetStateStore, type EndpointRecord, type NativeNetworksOptions, type NetState, type NetworkRecord } from './network-state.js';

export type { ConnectRequest } from './endpoint-connect.js';
export type { CreateNetworkRequest } from './network-lifecycle.js';
export {
  firewallOf,
  HOST_SUBNET_LOCK,
  networkInPlace,
  type EndpointRecord,
  type NativeNetworksOptions,
  type NetState,
  type NetworkRecord,
} from './network-state.js';
export type { PortMapping };

/**
 * The networks of one state directory: ./network-lifecycle.ts creates and removes them, ./endpoint-connect.ts
 * and ./endpoint-release.ts attach and release containers' endpoints, all through one ./network-state.ts store.
 */
export class NativeNetworks {
  readonly file: string;
  readonly lock: string;
  private readonly store: NetStateStore;

  constructor(readonly opts: NativeNetworksOptions) {
    this.store = new NetStateStore(opts);
    this.file = this.store.file;
    this.lock = this.store.lock;
  }

  async read(): Promise<NetState> {
    return this.store.read();
  }

  /** Creates the network (or re-creates its bridge/rules after a reboot); idempotent. */
  async createNetwork(req: CreateNetworkRequest): Promise<{ network: NetworkRecord; warnings: readonly string[] }> {
    return createNetwork(this.store, req);
  }

  /**
   * Attaches a container's netns to the network: address, veth, routes, published ports. Idempotent per
   * (network, endpointId): a re-run keeps the address and host ports and rebuilds the interface.
   */
  async connect(req: ConnectRequest): Promise<EndpointRecord> {
    return connect(this.store, req);
  }

  /**
   * Detaches the endpoint: veth deleted (its peer goes with it), ports unpublished, address released. The netns
   * stays (the container may be on other networks): `releaseNetns` removes it. Missing things are fine.
   */
  async disconnect(network: string, endpointId: string): Promise<void> {
    return disconnect(this.store, network, endpointId);
  }

  /** Deletes the container's netns if we created it and no endpoint of ours still uses it. */
  async releaseNetns(netns: string): Promise<void> {
    return releaseNetns(this.store, netns);
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
    return releaseContainers(this.store, list);
  }

  /** releaseContainers without waiting, under the lock, for the kernel to destroy the host veths: `linksGone` does. */
  async releaseContainersDeferred(
    list: readonly { readonly endpointId: string; readonly netns?: string }[],
  ): Promise<{ keys: string[]; linksGone: Promise<void> }> {
    return releaseContainersDeferred(this.store, list);
  }

  /**
   * Removes the network: bridge, nft table, iptables ACCEPTs, state. Refuses while endpoints are attached unless
   * `force` (then they are detached first). A network unknown to the state is still cleaned by its key.
   */
  async removeNetwork(key: string, opts: { force?: boolean; beforeForget?: Promise<unknown> } = {}): Promise<void> {
    return removeNetwork(this.store, key, opts);
  }

  /** Re-applies bridges and rules of every recorded network (after a reboot, or dockerd (re)starting). */
  async reapplyAll(): Promise<void> {
    const state = await this.read();
    for (const n of Object.values(state.networks)) await this.createNetwork({ key: n.key, name: n.name, internal: n.internal });
  }
}
