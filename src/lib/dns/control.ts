/**
 * The CLI side of the native runtime's DNS: registers networks' records with the detached resolver process
 * (./server.ts), starting it when needed and waiting until a change is served.
 *
 * One resolver per state directory serves every DNS-enabled network: one UDP+TCP socket per network, bound to the
 * network's gateway address. It outlives the CLI (detached, own process group, output in `dns/resolver.log`) and
 * exits by itself when the last network is removed. Changes are serialized by a lock; the resolver reloads on
 * SIGHUP and reports the serial of what it serves in `dns/status.json`.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, promises as fs } from 'node:fs';
import { isIP } from '../ip-literal.js';
import * as path from 'node:path';
import { readJson, sweepAtomicTemps, writeJsonAtomic } from '../fs/atomic.js';
import { helperEntry } from '../helper-entry.js';
import { withLock } from '../fs/lock.js';
import { processRunning } from '../fs/proc.js';
import { DnsConfigError, DnsResolverError } from './errors.js';
import { type DnsStatusFile, dnsPaths, isResolver, networkFileName, networkFromFileName } from './paths.js';
import { type DnsNetwork, parseUpstream } from './records.js';

export interface DnsOptions {
  /** The resolver entry script (default: ./resolver.cjs next to this module, the bundled one, else ./resolver.js). */
  entry?: string;
  /** Start the resolver inside this network namespace (path, e.g. /run/netns/x) instead of the caller's. */
  netns?: string;
  /** How long to wait for the resolver to serve a change (default 5000 ms). */
  timeoutMs?: number;
  /** Return once the change is recorded and signalled, without waiting for a running resolver to serve it. */
  noWait?: boolean;
  /**
   * Starts the resolver as a daemon and returns its pid (default: spawned by this process). A caller with a small
   * helper process (lib/proc/spawner) passes it, so this large process is not forked.
   */
  start?: DaemonStarter;
}

/** Starts `command args` detached (stdin /dev/null, output appended to `log`, in `cwd`, with `env` added). */
export type DaemonStarter = (job: {
  command: string;
  args: string[];
  log: string;
  cwd: string;
  env: Record<string, string>;
}) => Promise<number | undefined>;

export interface DnsStatus {
  pid?: number;
  networks: string[];
  /** Per network: the address it is served on, or why not (yet). */
  serving?: Record<string, { listening: boolean; error?: string }>;
}

/** Node flags of the resolver: a small heap, so its RSS stays low. */
const NODE_FLAGS = ['--max-old-space-size=32', '--max-semi-space-size=1'];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function dirOf(stateDir: string) {
  return dnsPaths(path.join(stateDir, 'dns'));
}

function validate(net: DnsNetwork): void {
  const bad = (what: string) => new DnsConfigError(`dns: network ${JSON.stringify(net.network)}: ${what}`);
  if (!net.network) throw bad('empty network name');
  if (!isIP(net.gateway)) throw bad(`gateway ${JSON.stringify(net.gateway)} is not an IP address`);
  if (net.port !== undefined && !(Number.isInteger(net.port) && net.port > 0 && net.port < 65536)) throw bad(`bad port ${net.port}`);
  for (const u of net.upstreams) {
    const { host, port } = parseUpstream(u);
    if (!isIP(host) || !(port > 0 && port < 65536)) throw bad(`upstream ${JSON.stringify(u)} is not ip, ip:port or [ipv6]:port`);
  }
  for (const e of net.entries) {
    for (const u of e.upstreams ?? []) {
      const { host, port } = parseUpstream(u);
      if (!isIP(host) || !(port > 0 && port < 65536))
        throw bad(`container ${e.containerId}: upstream ${JSON.stringify(u)} is not ip, ip:port or [ipv6]:port`);
    }
    for (const ip of e.ips) if (!isIP(ip)) throw bad(`container ${e.containerId}: ${JSON.stringify(ip)} is not an IP address`);
    for (const n of e.names) if (!/^[^\s]{1,253}$/.test(n)) throw bad(`container ${e.containerId}: bad name ${JSON.stringify(n)}`);
  }
}

async function runningPid(p: ReturnType<typeof dnsPaths>): Promise<number | undefined> {
  const pid = Number((await fs.readFile(p.pid, 'utf8').catch(() => '')).trim());
  return Number.isInteger(pid) && pid > 0 && (await isResolver(pid, p.dir)) ? pid : undefined;
}

function resolverEntry(opts: DnsOptions): string {
  const entry = opts.entry ?? helperEntry('resolver', import.meta.url);
  if (!existsSync(entry))
    throw new DnsResolverError(`dns: resolver entry ${entry} not found (not built?)`, { hint: 'build tscompose (npm run build)' });
  return entry;
}

interface Spawned {
  pid: number;
  /** Whether it has exited (known from the child itself: no /proc race while it execs). */
  exited(): boolean;
}

async function spawnResolver(p: ReturnType<typeof dnsPaths>, opts: DnsOptions): Promise<Spawned> {
  const argv = [process.execPath, ...NODE_FLAGS, resolverEntry(opts), p.dir];
  const [command, ...args] = opts.netns ? ['nsenter', `--net=${opts.netns}`, ...argv] : argv;
  const cannot = () => new DnsResolverError(`dns: cannot start the resolver (${command})`, { hint: `its output goes to ${p.log}` });
  // It makes no TLS connection: Node would parse a NODE_EXTRA_CA_CERTS file for nothing (~40 ms of its start).
  if (opts.start) {
    const pid = await opts.start({ command: command!, args, log: p.log, cwd: '/', env: { NODE_EXTRA_CA_CERTS: '' } });
    if (pid === undefined) throw cannot();
    // Not our child: alive until it is gone or a zombie (while its starter's shell execs it, it is that shell).
    return { pid, exited: () => !processRunning(pid) };
  }
  const log = openSync(p.log, 'a');
  try {
    const env = { ...process.env, NODE_EXTRA_CA_CERTS: undefined };
    const child = spawn(command!, args, { detached: true, stdio: ['ignore', log, log], cwd: '/', env });
    let exited = false;
    child.on('error', () => (exited = true));
    child.on('exit', () => (exited = true));
    child.unref();
    if (child.pid === undefined) throw cannot();
    return { pid: child.pid, exited: () => exited };
  } finally {
    closeSync(log);
  }
}

async function logTail(p: ReturnType<typeof dnsPaths>): Promise<string> {
  const text = await fs.readFile(p.log, 'utf8').catch(() => '');
  return text.split('\n').slice(-6).join('\n').trim();
}

/** The resolver did not `what` within the timeout: the error carries the end of its log. */
async function notInTime(p: ReturnType<typeof dnsPaths>, what: string, timeoutMs: number): Promise<DnsResolverError> {
  return new DnsResolverError(`dns: the resolver did not ${what} within ${timeoutMs} ms\n${await logTail(p)}`, {
    hint: `the resolver's log: ${p.log}`,
  });
}

/** The networks the resolver of `stateDir` is asked to serve (its network files). */
export async function dnsNetworks(stateDir: string): Promise<string[]> {
  return listNetworks(dirOf(stateDir));
}

async function listNetworks(p: ReturnType<typeof dnsPaths>): Promise<string[]> {
  const files = await fs.readdir(p.networks).catch(() => [] as string[]);
  return files
    .map(networkFromFileName)
    .filter((n): n is string => n !== undefined)
    .sort();
}

/**
 * Creates or replaces the records of one network, starting the resolver if none runs, and returns once the
 * resolver serves them. Throws when its address cannot be bound (the network stays registered and the resolver
 * keeps retrying, e.g. until the bridge has its gateway address; dnsRemoveNetwork drops it).
 */
export async function dnsSetNetwork(stateDir: string, net: DnsNetwork, opts: DnsOptions = {}): Promise<void> {
  validate(net);
  const p = dirOf(stateDir);
  const serial = randomBytes(6).toString('hex');
  const timeoutMs = opts.timeoutMs ?? 5000;
  await fs.mkdir(p.networks, { recursive: true });
  await withLock(p.lock, async () => {
    // Temp files of writers killed between write and rename (a CLI killed mid-command): gone under the lock.
    await sweepAtomicTemps(p.networks).catch(() => undefined);
    await writeJsonAtomic(path.join(p.networks, networkFileName(net.network)), { ...net, serial });
    let spawned: Spawned | undefined;
    let pid = await runningPid(p);
    if (pid !== undefined) process.kill(pid, 'SIGHUP');
    else pid = (spawned = await spawnResolver(p, opts)).pid;
    if (opts.noWait && !spawned) return; // a resolver that was just started is waited for
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const st = await readJson<DnsStatusFile>(p.status).catch(() => undefined);
      const n = st?.pid === pid ? st.networks[net.network] : undefined;
      if (n?.serial === serial) {
        if (n.error) throw new DnsResolverError(`dns: network ${net.network}: ${n.error}`, { hint: `the resolver's log: ${p.log}` });
        return;
      }
      // It was exiting (its last network had just been removed) or it died: start another.
      const gone = spawned ? spawned.exited() : !(await isResolver(pid, p.dir));
      if (gone) pid = (spawned = await spawnResolver(p, opts)).pid;
      if (Date.now() > deadline) throw await notInTime(p, `serve network ${net.network}`, timeoutMs);
      await sleep(15);
    }
  });
}

/**
 * Stops serving a network; the resolver exits when it was the last one. Returns once that is done, or with `noWait`
 * once the resolver is signalled.
 */
export async function dnsRemoveNetwork(stateDir: string, network: string, opts: DnsOptions = {}): Promise<void> {
  const p = dirOf(stateDir);
  const timeoutMs = opts.timeoutMs ?? 5000;
  await fs.mkdir(p.dir, { recursive: true });
  await withLock(p.lock, async () => {
    await sweepAtomicTemps(p.networks).catch(() => undefined);
    await fs.rm(path.join(p.networks, networkFileName(network)), { force: true });
    const pid = await runningPid(p);
    if (pid === undefined) return;
    process.kill(pid, 'SIGHUP');
    if (opts.noWait) return;
    // Only what this removal left decides (the resolver reads the files, it does not change them).
    const last = (await listNetworks(p)).length === 0;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!(await isResolver(pid, p.dir))) return;
      if (!last) {
        const st = await readJson<DnsStatusFile>(p.status).catch(() => undefined);
        if (st?.pid === pid && !(network in st.networks)) return;
      }
      if (Date.now() > deadline) {
        if (last) process.kill(pid, 'SIGKILL');
        throw await notInTime(p, `drop network ${network}`, timeoutMs);
      }
      await sleep(15);
    }
  });
}

/** The running resolver (if any) and the registered networks. */
export async function dnsStatus(stateDir: string): Promise<DnsStatus> {
  const p = dirOf(stateDir);
  const pid = await runningPid(p);
  const networks = await listNetworks(p);
  if (pid === undefined) return { networks };
  const st = await readJson<DnsStatusFile>(p.status).catch(() => undefined);
  const serving: NonNullable<DnsStatus['serving']> = {};
  if (st?.pid === pid)
    for (const [n, s] of Object.entries(st.networks)) serving[n] = { listening: s.listening, ...(s.error ? { error: s.error } : {}) };
  return { pid, networks, serving };
}

/** Removes every network and stops the resolver (e.g. on a full cleanup). */
export async function dnsStopAll(stateDir: string, opts: DnsOptions = {}): Promise<void> {
  const p = dirOf(stateDir);
  await fs.mkdir(p.dir, { recursive: true });
  await withLock(p.lock, async () => {
    await fs.rm(p.networks, { recursive: true, force: true });
    const pid = await runningPid(p);
    if (pid === undefined) return;
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + (opts.timeoutMs ?? 5000);
    while (await isResolver(pid, p.dir)) {
      if (Date.now() > deadline) {
        process.kill(pid, 'SIGKILL');
        break;
      }
      await sleep(15);
    }
  });
}
