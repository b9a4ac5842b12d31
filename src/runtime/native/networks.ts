/**
 * Native networks: bridges, and macvlan/ipvlan networks, with DNS (lib/net, lib/dns). Their state is `<state>/net/networks.json`; containers'
 * endpoints are attached and released with each run (./netglue.ts), so a network only lists its running containers.
 */
import { ConflictError, NotFoundError } from '../errors.js';
import { matchesLabels, type ListOptions, type NetworkInfo, type NetworkSpec } from '../runtime.js';
import type { NativeContext } from './context.js';
import { isLinkDriver } from '../../lib/net/index.js';
import { asUserError, networkId, prewarmDns, refreshDns, removeLinkDns } from './netglue.js';
import { unsupported } from './unsupported.js';
import { traced } from '../../util/trace.js';

export class NetworkService {
  constructor(private readonly ctx: NativeContext) {}

  /** Network name → id, as containers report them. */
  async ids(): Promise<Record<string, string>> {
    const state = await this.ctx.networks.read();
    return Object.fromEntries(Object.values(state.networks).map((n) => [n.key, networkId(n.key, n.subnet)]));
  }

  private async infos(): Promise<NetworkInfo[]> {
    const state = await this.ctx.networks.read();
    return Object.values(state.networks).map((n) => ({
      id: networkId(n.key, n.subnet),
      name: n.key,
      driver: n.link?.driver ?? 'bridge',
      labels: n.labels ?? {},
      internal: n.internal,
      attachable: false,
      containers: Object.keys(n.endpoints),
    }));
  }

  async list(options: ListOptions = {}): Promise<NetworkInfo[]> {
    return (await this.infos()).filter((n) => matchesLabels(n.labels, options.labels));
  }

  async inspect(idOrName: string): Promise<NetworkInfo> {
    const all = await this.infos();
    const n =
      all.find((x) => x.name === idOrName || x.id === idOrName) ?? (idOrName.length >= 12 ? all.find((x) => x.id.startsWith(idOrName)) : undefined);
    if (!n) throw new NotFoundError('network', idOrName);
    return n;
  }

  async create(spec: NetworkSpec): Promise<{ id: string }> {
    if (spec.driver !== undefined && spec.driver !== 'bridge' && !isLinkDriver(spec.driver))
      throw unsupported(`network driver ${spec.driver}`, 'the native runtime has bridge, macvlan and ipvlan networks');
    const existing = (await this.infos()).find((n) => n.name === spec.name);
    if (existing) throw new ConflictError('network', spec.name, `network with name ${spec.name} already exists`);
    const { network } = await this.ctx.networks
      .createNetwork({
        key: spec.name,
        name: spec.name,
        ...(spec.internal ? { internal: true } : {}),
        ...(spec.driver !== undefined ? { driver: spec.driver } : {}),
        ...(spec.enableIpv6 ? { enableIpv6: true } : {}),
        ...(spec.ipam?.config
          ? {
              ipam: spec.ipam.config.map((c) => ({
                ...(c.subnet ? { subnet: c.subnet } : {}),
                ...(c.gateway ? { gateway: c.gateway } : {}),
                ...(c.ipRange ? { ip_range: c.ipRange } : {}),
              })) as never,
            }
          : {}),
        ...(spec.driverOpts ? { driverOpts: spec.driverOpts } : {}),
        labels: { ...spec.labels },
      })
      .catch((e: unknown) => {
        throw asUserError(e, `cannot create network ${spec.name}`);
      });
    const id = networkId(network.key, network.subnet);
    if (!isLinkDriver(spec.driver)) prewarmDns(this.ctx.paths, network.key);
    await this.ctx.event({ type: 'network', action: 'create', id, attributes: { ...spec.labels, name: spec.name, type: spec.driver ?? 'bridge' } });
    return { id };
  }

  async remove(idOrName: string): Promise<void> {
    const n = await this.inspect(idOrName);
    if (n.containers.length > 0)
      throw new ConflictError('network', n.name, `error while removing network: network ${n.name} id ${n.id} has active endpoints`);
    // The resolver drops the network (and exits when it was the last) while the bridge goes: the kernel takes ~40 ms
    // to delete a bridge, the resolver ~20 ms to act on its signal, and neither needs the other done first. The
    // network's record goes once both are done: a kill before that leaves it for the next removal to finish (the
    // resolver's entry for a network without a record was found by nothing, and kept the resolver running).
    const dns = traced('native.network.remove.dns', async () => {
      await refreshDns(this.ctx.paths, [n.name]);
      if (n.driver !== 'bridge') await removeLinkDns(this.ctx.paths, n.name);
    });
    await Promise.all([dns, traced('native.network.remove.links', () => this.ctx.networks.removeNetwork(n.name, { beforeForget: dns }))]);
    await this.ctx.event({ type: 'network', action: 'destroy', id: n.id, attributes: { ...n.labels, name: n.name, type: n.driver } });
  }

  async connect(network: string, container: string): Promise<void> {
    throw unsupported(`connecting a container to network ${network} after its creation (${container})`, 'declare the network in the compose file');
  }

  async disconnect(network: string): Promise<void> {
    throw unsupported(`disconnecting from network ${network}`, 'declare the networks in the compose file');
  }
}
