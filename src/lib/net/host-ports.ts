/**
 * Which host ports are free for a publication, and picking one of a range as Docker does for `9000-9010:80`
 * (the first port of the range that no host socket listens on and no other endpoint publishes).
 *
 * Host sockets are read from /proc/net: tcp/tcp6 (listening sockets only: an outgoing connection's local port
 * does not clash with a DNAT of new connections), udp/udp6 (every bound socket), sctp/eps (when the kernel has
 * SCTP sockets at all; without them nothing on the host can hold an SCTP port). Any address counts: a port
 * bound on 127.0.0.1 is taken for 0.0.0.0 as well (conservative, as a bind would be).
 */
import { existsSync, promises as fs } from 'node:fs';
import { release } from 'node:os';
import { NetworkError } from './errors.js';
import { canBind, type Protocol } from './firewall.js';

/** Local ports of the sockets listed in a /proc/net/{tcp,tcp6,udp,udp6} table (tcp: LISTEN state only). */
export function parseProcNetPorts(text: string, protocol: 'tcp' | 'udp'): Set<number> {
  const out = new Set<number>();
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    const local = f[1];
    if (!local || f.length < 4) continue;
    if (protocol === 'tcp' && f[3] !== '0A') continue;
    const port = parseInt(local.slice(local.lastIndexOf(':') + 1), 16);
    if (Number.isInteger(port)) out.add(port);
  }
  return out;
}

/** Local ports of /proc/net/sctp/eps (`ENDPT SOCK STY SST HBKT LPORT UID INODE LADDRS`). */
export function parseSctpEps(text: string): Set<number> {
  const out = new Set<number>();
  for (const line of text.split('\n').slice(1)) {
    const port = Number(line.trim().split(/\s+/)[5]);
    if (Number.isInteger(port) && port > 0) out.add(port);
  }
  return out;
}

async function readOrEmpty(file: string): Promise<string> {
  return fs.readFile(file, 'utf8').catch(() => '');
}

/** Host ports held by sockets of `protocol` (any address, IPv4 and IPv6). */
export async function hostPortsInUse(protocol: Protocol): Promise<Set<number>> {
  if (protocol === 'sctp') return parseSctpEps(await readOrEmpty('/proc/net/sctp/eps'));
  const [v4, v6] = await Promise.all([readOrEmpty(`/proc/net/${protocol}`), readOrEmpty(`/proc/net/${protocol}6`)]);
  return new Set([...parseProcNetPorts(v4, protocol), ...parseProcNetPorts(v6, protocol)]);
}

/** Whether a host socket holds `port` (tcp/udp: a bind test on `hostIp` too, as for fixed ports). */
export async function hostPortFree(protocol: Protocol, port: number, hostIp?: string, inUse?: ReadonlySet<number>): Promise<boolean> {
  if ((inUse ?? (await hostPortsInUse(protocol))).has(port)) return false;
  return protocol === 'sctp' || canBind(protocol, port, hostIp);
}

/**
 * One free port of `start..end` for `protocol`, lowest first: not in `exclude` (ours: other endpoints'
 * publications, which hold no socket since DNAT needs none) and not held by a host socket.
 */
export async function pickPortInRange(
  protocol: Protocol,
  range: { readonly start: number; readonly end: number },
  hostIp?: string,
  exclude: ReadonlySet<number> = new Set(),
): Promise<number> {
  const inUse = await hostPortsInUse(protocol);
  for (let port = range.start; port <= range.end; port++) {
    if (exclude.has(port)) continue;
    if (await hostPortFree(protocol, port, hostIp, inUse)) return port;
  }
  throw new NetworkError(`no free host port in ${hostIp ?? '0.0.0.0'}:${range.start}-${range.end}/${protocol}`, {
    hint: 'every port of the range is in use on the host or published by another container',
  });
}

/** The kernel's ephemeral port range (ip_local_port_range), Docker's range for ports published without a host port. */
export async function ephemeralRange(): Promise<{ start: number; end: number }> {
  const m = /(\d+)\s+(\d+)/.exec(await readOrEmpty('/proc/sys/net/ipv4/ip_local_port_range'));
  return m ? { start: Number(m[1]), end: Number(m[2]) } : { start: 32768, end: 60999 };
}

/**
 * Whether this kernel has SCTP sockets (loaded, or a module it can load): without them no process, on the host
 * or in a container, can serve SCTP, so publishing an SCTP port cannot work (Docker refuses it too).
 */
export function sctpSupported(): boolean {
  return existsSync('/proc/net/sctp') || existsSync(`/lib/modules/${release()}/kernel/net/sctp`);
}

/** Refuses SCTP publications on a kernel without SCTP (a typed error, never a silent tcp). */
export function checkProtocolSupported(protocol: Protocol): void {
  if (protocol === 'sctp' && !sctpSupported()) {
    throw new NetworkError(`cannot publish an sctp port: this kernel (${release()}) has no SCTP support`, {
      hint: 'load the sctp kernel module (modprobe sctp) or publish the port over tcp or udp',
    });
  }
}
