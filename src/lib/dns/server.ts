/**
 * The DNS resolver process of the native runtime (started detached by ./control.ts, entry ./resolver.ts): one UDP
 * and one TCP socket per served network, bound to the network's gateway address, answering from the records in
 * `<dir>/networks/*.json` (./records.ts) and forwarding other names to the upstream servers.
 *
 * Reloads on SIGHUP; exits when no network is left (or on SIGTERM). Writes `status.json` after each reload so the
 * CLI can wait until a change is served. Addresses that cannot be bound yet are retried every 500 ms.
 */
import dgram from 'node:dgram';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import type * as DnsPacket from 'dns-packet';
import type { DecodedPacket, Packet } from 'dns-packet';
import { isIPv6 } from '../ip-literal.js';
import { type DnsStatusFile, dnsPaths, isResolver, networkFromFileName } from './paths.js';
import { type DnsIndex, type DnsNetwork, RCODE, buildIndex, decide, listenKey, parseUpstream, rawErrorResponse, truncateForUdp } from './records.js';

// require(), not import: Node's ESM loading of a CommonJS package costs ~8 MB RSS more (measured). Likewise no
// node:crypto (../fs/atomic.js, ../fs/lock.js) here: this process stays near Node's floor (~43 MB).
const dnsPacket = createRequire(import.meta.url)('dns-packet') as typeof DnsPacket;

const UDP_UPSTREAM_TIMEOUT_MS = 2000;
const TCP_UPSTREAM_TIMEOUT_MS = 4000;
const TCP_IDLE_MS = 10_000;
const RETRY_MS = 500;
const SELF_CHECK_MS = 10_000;

type StoredNetwork = DnsNetwork & { serial: string };

interface Listener {
  ip: string;
  port: number;
  udp: dgram.Socket;
  tcp: net.Server;
  conns: Set<net.Socket>;
}

let tmpSeq = 0;
async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}-${tmpSeq++}`;
  await fs.writeFile(tmp, `${JSON.stringify(value)}\n`);
  await fs.rename(tmp, file);
}

function log(msg: string): void {
  process.stderr.write(`${new Date().toISOString()} ${msg}\n`);
}

export async function readNetworks(dir: string): Promise<StoredNetwork[]> {
  const p = dnsPaths(dir);
  let files: string[];
  try {
    files = await fs.readdir(p.networks);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out: StoredNetwork[] = [];
  for (const f of files.sort()) {
    if (networkFromFileName(f) === undefined) continue;
    try {
      out.push(JSON.parse(await fs.readFile(path.join(p.networks, f), 'utf8')) as StoredNetwork);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') log(`skipping ${f}: ${(e as Error).message}`);
    }
  }
  return out;
}

function maxUdpSize(q: DecodedPacket): number {
  for (const a of q.additionals ?? []) {
    if (a.type === 'OPT') return Math.max(512, Math.min(4096, (a as { udpPayloadSize?: number }).udpPayloadSize ?? 512));
  }
  return 512;
}

function forwardUdp(raw: Buffer, upstream: string): Promise<Buffer | undefined> {
  const { host, port } = parseUpstream(upstream);
  return new Promise((resolve) => {
    const s = dgram.createSocket(isIPv6(host) ? 'udp6' : 'udp4');
    const done = (v: Buffer | undefined) => {
      clearTimeout(timer);
      s.removeAllListeners('message');
      s.close();
      resolve(v);
    };
    const timer = setTimeout(() => done(undefined), UDP_UPSTREAM_TIMEOUT_MS);
    s.on('error', () => done(undefined));
    s.on('message', (m, rinfo) => {
      if (rinfo.port === port && m.length >= 12 && m.readUInt16BE(0) === raw.readUInt16BE(0)) done(m);
    });
    s.send(raw, port, host, (err) => {
      if (err) done(undefined);
    });
  });
}

function forwardTcp(raw: Buffer, upstream: string): Promise<Buffer | undefined> {
  const { host, port } = parseUpstream(upstream);
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    const sock = net.connect({ host, port });
    const done = (v: Buffer | undefined) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => done(undefined), TCP_UPSTREAM_TIMEOUT_MS);
    sock.on('error', () => done(undefined));
    sock.on('close', () => done(undefined));
    sock.on('connect', () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(raw.length);
      sock.write(Buffer.concat([len, raw]));
    });
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) done(buf.subarray(2, 2 + buf.readUInt16BE(0)));
    });
  });
}

export class Resolver {
  private idx: DnsIndex = buildIndex([]);
  private listeners = new Map<string, Listener>();
  private reloading: Promise<void> | undefined;
  private again = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly p: ReturnType<typeof dnsPaths>;

  constructor(
    dir: string,
    private readonly onEmpty: () => void = () => undefined,
  ) {
    this.p = dnsPaths(dir);
  }

  /** Re-reads the network files; coalesces calls made while a reload runs. */
  reload(): Promise<void> {
    if (this.reloading) {
      this.again = true;
      return this.reloading;
    }
    this.reloading = (async () => {
      do {
        this.again = false;
        await this.reloadOnce().catch((e: unknown) => log(`reload failed: ${(e as Error).message}`));
      } while (this.again && !this.closed);
    })().finally(() => {
      this.reloading = undefined;
    });
    return this.reloading;
  }

  private async reloadOnce(): Promise<void> {
    if (this.closed) return;
    const nets = await readNetworks(this.p.dir);
    if (nets.length === 0) {
      log('no network left: exiting');
      this.onEmpty();
      return;
    }
    this.idx = buildIndex(nets);
    const wanted = new Map(nets.filter((n) => n.listen !== false).map((n) => [listenKey(n.gateway, n.port), n]));
    for (const [key, l] of this.listeners) {
      if (!wanted.has(key)) {
        this.listeners.delete(key);
        await closeListener(l);
        log(`stopped listening on ${l.ip}:${l.port}`);
      }
    }
    const errors = new Map<string, string>();
    for (const [key, n] of wanted) {
      if (this.listeners.has(key)) continue;
      try {
        this.listeners.set(key, await this.listen(n.gateway, n.port ?? 53));
        log(`listening on ${n.gateway}:${n.port ?? 53} for network ${n.network}`);
      } catch (e) {
        errors.set(n.network, `cannot listen on ${n.gateway}:${n.port ?? 53}: ${(e as Error).message}`);
      }
    }
    const status: DnsStatusFile = { pid: process.pid, networks: {} };
    for (const n of nets) {
      const listening = this.listeners.has(listenKey(n.gateway, n.port));
      const error = errors.get(n.network);
      status.networks[n.network] = { serial: n.serial, listening, ...(error !== undefined ? { error } : {}) };
    }
    await writeJsonAtomic(this.p.status, status);
    if (errors.size) {
      for (const e of errors.values()) log(e);
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => void this.reload(), RETRY_MS);
    }
  }

  private async listen(ip: string, port: number): Promise<Listener> {
    const udp = dgram.createSocket({ type: isIPv6(ip) ? 'udp6' : 'udp4' });
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind({ address: ip, port, exclusive: true }, () => {
        udp.off('error', reject);
        resolve();
      });
    });
    udp.on('error', (e) => log(`udp ${ip}:${port}: ${e.message}`));
    udp.on('message', (msg, rinfo) => {
      void this.handle(msg, ip, port, rinfo.address, 'udp').then((res) => {
        if (res) udp.send(res, rinfo.port, rinfo.address);
      });
    });
    const conns = new Set<net.Socket>();
    const tcp = net.createServer((sock) => this.serveTcp(sock, ip, port, conns));
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen({ host: ip, port, exclusive: true }, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      udp.close();
      throw e;
    }
    tcp.on('error', (e) => log(`tcp ${ip}:${port}: ${e.message}`));
    return { ip, port, udp, tcp, conns };
  }

  private serveTcp(sock: net.Socket, ip: string, port: number, conns: Set<net.Socket>): void {
    conns.add(sock);
    let buf = Buffer.alloc(0);
    sock.setTimeout(TCP_IDLE_MS, () => sock.destroy());
    sock.on('error', () => undefined);
    sock.on('close', () => conns.delete(sock));
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + msg.length);
        void this.handle(Buffer.from(msg), ip, port, sock.remoteAddress ?? '', 'tcp').then((res) => {
          if (!res || sock.destroyed) return;
          const len = Buffer.alloc(2);
          len.writeUInt16BE(res.length);
          sock.write(Buffer.concat([len, res]));
        });
      }
    });
  }

  /** The response bytes to one query, or undefined to drop it. */
  async handle(raw: Buffer, listenIp: string, port: number, clientIp: string, proto: 'udp' | 'tcp'): Promise<Buffer | undefined> {
    let q: DecodedPacket;
    try {
      q = dnsPacket.decode(raw);
    } catch {
      return rawErrorResponse(raw, RCODE.FORMERR);
    }
    if (q.flag_qr) return undefined;
    const d = decide(this.idx, listenIp, port, clientIp, q);
    if (d.kind === 'answer') {
      const enc = dnsPacket.encode(d.response);
      if (proto === 'udp') {
        const t = truncateForUdp(q, d.response, enc, maxUdpSize(q));
        if (t) return dnsPacket.encode(t as Packet);
      }
      return enc;
    }
    for (const up of d.upstreams) {
      const res = proto === 'udp' ? await forwardUdp(raw, up) : await forwardTcp(raw, up);
      if (res) return res;
    }
    return rawErrorResponse(raw, RCODE.SERVFAIL);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    const ls = [...this.listeners.values()];
    this.listeners.clear();
    await Promise.all(ls.map(closeListener));
  }
}

async function closeListener(l: Listener): Promise<void> {
  for (const c of l.conns) c.destroy();
  await Promise.all([new Promise<void>((r) => l.udp.close(() => r())), new Promise<void>((r) => l.tcp.close(() => r()))]);
}

/** The resolver process's main: pid file, signals, first load. */
export async function runResolver(dir: string): Promise<void> {
  const p = dnsPaths(dir);
  let exiting = false;
  const exit = async () => {
    if (exiting) return;
    exiting = true;
    await resolver.close();
    // Only remove what is still ours: a successor may already have written its own.
    const pid = Number(await fs.readFile(p.pid, 'utf8').catch(() => '0'));
    if (pid === process.pid) await fs.rm(p.pid, { force: true });
    const st = await fs.readFile(p.status, 'utf8').catch(() => '');
    if (st && (JSON.parse(st) as DnsStatusFile).pid === process.pid) await fs.rm(p.status, { force: true });
    process.exit(0);
  };
  const resolver = new Resolver(dir, () => void exit());
  process.on('SIGHUP', () => void resolver.reload());
  process.on('SIGTERM', () => void exit());
  process.on('SIGINT', () => void exit());
  await fs.mkdir(dir, { recursive: true });
  const other = Number((await fs.readFile(p.pid, 'utf8').catch(() => '')).trim());
  if (other > 0 && other !== process.pid && (await isResolver(other, dir))) {
    log(`resolver ${other} already runs: exiting`);
    process.exit(0);
  }
  await fs.writeFile(p.pid, `${process.pid}\n`);
  log(`resolver started (pid ${process.pid})`);
  // A resolver that is no longer the one named by the pid file (a stray, or its state was deleted) stops.
  setInterval(() => {
    void fs.readFile(p.pid, 'utf8').then(
      (t) => Number(t.trim()) !== process.pid && (log('pid file names another process: exiting'), void exit()),
      () => (log('pid file gone: exiting'), void exit()),
    );
  }, SELF_CHECK_MS);
  await resolver.reload();
}
