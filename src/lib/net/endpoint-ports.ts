/**
 * The host ports of an endpoint's published ports, decided when it connects (./network.ts): a previous run's
 * ports are kept, ephemeral ones picked, one free port taken from each range, and clashes with the other
 * endpoints' ports (or, for an explicit port, a host socket) refused.
 */
import { NetworkError } from './errors.js';
import { pickFreePort, portConflicts, type FirewallPort, type Protocol } from './firewall.js';
import { checkProtocolSupported, ephemeralRange, hostPortFree, pickPortInRange } from './host-ports.js';

/**
 * A port to publish, Docker's meaning: `hostPort` undefined = an ephemeral port; `start === end` = that port; a
 * range = one free port of it (the lowest free one), picked at connect.
 */
export interface PortRequest {
  readonly hostIp?: string;
  readonly hostPort?: { readonly start: number; readonly end: number };
  readonly containerPort: number;
  readonly protocol: Protocol;
}

export interface ResolvePortsOptions {
  /** The other endpoints' published ports (every network). */
  readonly taken: readonly FirewallPort[];
  /** This endpoint's ports of a previous run (kept when they still match a request). */
  readonly previous?: readonly FirewallPort[];
  readonly containerIp: string;
  /** Put into the rules' comments. */
  readonly owner?: string;
  /** Refuse explicit host ports a host socket already holds. */
  readonly checkHostBind: boolean;
}

export async function resolvePorts(requests: readonly PortRequest[], o: ResolvePortsOptions): Promise<FirewallPort[]> {
  const ports: FirewallPort[] = [];
  const used = (protocol: Protocol): Set<number> => new Set([...o.taken, ...ports].filter((p) => p.protocol === protocol).map((p) => p.hostPort));
  for (const p of requests) {
    checkProtocolSupported(p.protocol);
    const prev = o.previous?.find(
      (x) =>
        x.containerPort === p.containerPort &&
        x.protocol === p.protocol &&
        (x.hostIp ?? '') === (p.hostIp ?? '') &&
        (!p.hostPort || (x.hostPort >= p.hostPort.start && x.hostPort <= p.hostPort.end)),
    );
    let hostPort: number;
    if (prev) hostPort = prev.hostPort;
    else if (!p.hostPort) {
      hostPort =
        p.protocol === 'sctp'
          ? await pickPortInRange('sctp', await ephemeralRange(), p.hostIp, used('sctp'))
          : await pickFreePort(p.protocol, p.hostIp, used(p.protocol));
    } else if (p.hostPort.start !== p.hostPort.end) hostPort = await pickPortInRange(p.protocol, p.hostPort, p.hostIp, used(p.protocol));
    else {
      hostPort = p.hostPort.start;
      if (o.checkHostBind && !(await hostPortFree(p.protocol, hostPort, p.hostIp))) {
        throw new NetworkError(`host port ${p.hostIp ?? '0.0.0.0'}:${hostPort}/${p.protocol} is in use by a host process`);
      }
    }
    const fp: FirewallPort = {
      ...(p.hostIp !== undefined ? { hostIp: p.hostIp } : {}),
      hostPort,
      containerPort: p.containerPort,
      protocol: p.protocol,
      containerIp: o.containerIp,
      ...(o.owner ? { owner: o.owner } : {}),
    };
    const clash = portConflicts([...o.taken, ...ports], [fp]);
    if (clash.length) throw new NetworkError(clash[0]!);
    ports.push(fp);
  }
  return ports;
}
