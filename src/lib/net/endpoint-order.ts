/**
 * A container's endpoints as Docker Engine 28.1+ orders and names them (compose `gw_priority`, `interface_name`):
 *
 * - Default gateway (moby daemon/libnetwork/sandbox.go `Endpoint.Less`, default_gateway.go `getGatewayEndpoint`):
 *   endpoints sorted by gw_priority (highest first), then non-internal before internal, then dual-stack before
 *   single-stack before none, then by network name; the first with an IPv4 gateway gives the IPv4 default route, the
 *   first with an IPv6 gateway the IPv6 one (so they may differ). An internal network has no gateway.
 * - Interface names (moby osl/interface_linux.go `generateIfaceName`): an endpoint without `interface_name` gets the
 *   lowest free `eth<N>`. Docker joins endpoints in no set order, so a generated name can take one asked for by
 *   another endpoint and that start fails; here the asked-for names are set aside first, the others numbered in order.
 * - An `interface_name` must be a name the kernel takes for a link (Docker passes it to the kernel unchecked: net/core
 *   dev.c `dev_valid_name`: 1-15 bytes, not `.` or `..`, no `/`, `:` or white space), and unique in the container.
 */
import { InterfaceNameError } from './errors.js';

/** What the gateway choice needs of one of the container's endpoints. */
export interface GatewayCandidate {
  /** The network's name: the last tie-break. */
  readonly network: string;
  /** compose `gw_priority` (default 0). */
  readonly gwPriority?: number | undefined;
  readonly internal: boolean;
  /** The network gives its endpoints an IPv4 gateway (or default route) when not internal. */
  readonly ipv4: boolean;
  /** The network has IPv6 (a gateway6) and it is not internal. */
  readonly ipv6: boolean;
}

/** Gateways a candidate gives: an internal network none. */
function gateways(c: GatewayCandidate): { v4: boolean; v6: boolean } {
  return c.internal ? { v4: false, v6: false } : { v4: c.ipv4, v6: c.ipv6 };
}

/** Docker's `Endpoint.Less`: negative when `a` is the better default gateway. */
export function compareGateway(a: GatewayCandidate, b: GatewayCandidate): number {
  const pa = a.gwPriority ?? 0;
  const pb = b.gwPriority ?? 0;
  if (pa !== pb) return pb - pa;
  if (a.internal !== b.internal) return a.internal ? 1 : -1;
  const count = (c: GatewayCandidate): number => Number(gateways(c).v4) + Number(gateways(c).v6);
  if (count(a) !== count(b)) return count(b) - count(a);
  return a.network < b.network ? -1 : a.network > b.network ? 1 : 0;
}

/** The networks that give the IPv4 and the IPv6 default routes (undefined: none does). */
export function chooseGateways(candidates: readonly GatewayCandidate[]): { ipv4?: string; ipv6?: string } {
  const sorted = [...candidates].sort(compareGateway);
  const ipv4 = sorted.find((c) => gateways(c).v4)?.network;
  const ipv6 = sorted.find((c) => gateways(c).v6)?.network;
  return { ...(ipv4 !== undefined ? { ipv4 } : {}), ...(ipv6 !== undefined ? { ipv6 } : {}) };
}

const IFNAMSIZ = 16;

/** Checks one `interface_name` as the kernel would (Docker leaves it to the kernel); returns it. */
export function checkInterfaceName(name: string, network: string): string {
  const bad = (why: string, hint: string): InterfaceNameError =>
    new InterfaceNameError(`invalid interface_name ${JSON.stringify(name)} on network ${network}: ${why}`, { hint });
  if (name === '') throw bad('it is empty', 'give a name such as eth0 or lan0, or drop interface_name');
  if (Buffer.byteLength(name) >= IFNAMSIZ)
    throw bad(`${Buffer.byteLength(name)} bytes, a Linux interface name has at most ${IFNAMSIZ - 1}`, 'use a shorter name');
  if (name === '.' || name === '..' || /[/:\s]/.test(name))
    throw bad('not a valid Linux interface name', 'a Linux interface name has no "/", ":" or white space and is not "." or ".."');
  // Names the kernel takes but the `ip` commands that make the interface cannot carry (or the kernel would
  // rewrite: `%d` is a pattern for the next free number): refused rather than mangled.
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name))
    throw bad('the native runtime takes interface names of letters, digits, "_", "." and "-" (starting with a letter or digit)', 'rename it');
  return name;
}

/**
 * Each endpoint's interface name in the container, in order: its `interface_name` (checked, unique), else the lowest
 * `eth<N>` that no earlier endpoint has and no endpoint asks for.
 */
export function interfaceNames(endpoints: readonly { readonly network: string; readonly interfaceName?: string | undefined }[]): string[] {
  const asked = new Map<string, string>();
  for (const ep of endpoints) {
    if (ep.interfaceName === undefined) continue;
    checkInterfaceName(ep.interfaceName, ep.network);
    const other = asked.get(ep.interfaceName);
    if (other !== undefined)
      throw new InterfaceNameError(`interface_name ${JSON.stringify(ep.interfaceName)} is given on networks ${other} and ${ep.network}`, {
        hint: 'the interfaces of a container need different names',
      });
    asked.set(ep.interfaceName, ep.network);
  }
  const used = new Set(asked.keys());
  return endpoints.map((ep) => {
    if (ep.interfaceName !== undefined) return ep.interfaceName;
    let i = 0;
    while (used.has(`eth${i}`)) i++;
    used.add(`eth${i}`);
    return `eth${i}`;
  });
}
