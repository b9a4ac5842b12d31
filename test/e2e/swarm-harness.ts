/**
 * A throwaway Docker Swarm on this host for the e2e tests (issue 15): N Docker Engines, each in a network namespace
 * of its own, joined to a bridge the harness creates, forming one swarm (node 0 the manager, the others workers),
 * as /work/shared/notes/compose-semantics.md §9 measured it. Never touches the host engine's swarm state.
 *
 * Per run (id `<run>`, 4 hex digits), everything named from the prefix `tscsw-<run>`:
 * - bridge `tscsw-<run>` with 10.77.K.1/24 (the first K whose /24 no host route overlaps; or `subnet`), an
 *   iptables FORWARD accept rule for traffic within it (the host's FORWARD policy is DROP and bridged traffic goes
 *   through iptables here), commented `tscsw-<run>`;
 * - per node i: netns `tscsw-<run>-n<i>`, a veth `tscsw-<run>-<i>` on the bridge whose peer is `eth0` in the netns
 *   with 10.77.K.(10+i) (no default route: the engines reach only the bridge and each other), and a dockerd entered
 *   with `nsenter --net` only (`ip netns exec` would remount /sys and hide the cgroups) under `unshare -u` with its
 *   own hostname `tscsw-<run>-n<i>`; its own --data-root (/var/lib/tscompose-swarm/<run>/n<i>), --exec-root and
 *   --pidfile and unix socket (/run/tscompose-swarm/<run>/n<i>/), --config-file holding `{}` (else it reads the
 *   host's /etc/docker/daemon.json), --bip 10.78.0.1/24 and local pools 10.78.128.0/17 (inside its netns only);
 * - the swarm: `init` on node 0 with --advertise-addr its eth0 address and overlay pool 10.79.0.0/16 (/24 each),
 *   workers `join` with their own addresses; the harness waits until every node is ready.
 *
 * Images: each engine has its own image store, and the local registry (scripts/engine-env.sh, Debian's
 * docker-registry) listens on 127.0.0.1:5001 on the host only, which no netns reaches. The harness starts a small
 * TCP forwarder (a detached `node` process, so a test blocked in spawnSync does not stall pulls) on the bridge
 * address :5001 → 127.0.0.1:5001 and gives every engine `--registry-mirror http://<bridge>:5001` and
 * `--insecure-registry <bridge>:5001`: `busybox:latest` (a Docker Hub name) then pulls through the mirror on every
 * node, and `<bridge>:5001/name:tag` names the registry directly (`registry` in the result).
 *
 * Every run writes /run/tscompose-swarm/<run>/state.json (with the pid of the process that owns it) before creating
 * anything; `stop()` and `cleanupStale()` (runs whose owner is gone: a killed test) remove everything from it:
 * swarm leave, engines stopped by pid (SIGKILL after 20 s), processes left in the netns killed by pid, mounts under
 * the roots unmounted, netns, veths, bridge and the iptables rule deleted, the forwarder stopped, roots removed, and
 * a `docker_gwbridge` link in the host namespace only if it appeared during the run (and the host engine does not
 * list it). `startSwarm` calls `cleanupStale` first.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const PREFIX = 'tscsw';
const RUN_ROOT = '/run/tscompose-swarm';
const DATA_ROOT = '/var/lib/tscompose-swarm';
const REGISTRY_PORT = Number(process.env.TSCOMPOSE_REGISTRY_PORT ?? '5001');
const OVERLAY_POOL = '10.79.0.0/16';

const has = (cmd: string): boolean => {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

/** Why the harness cannot run here (undefined: it can): root, dockerd, nsenter, unshare, ip, iptables. */
export const swarmUnavailable: string | undefined =
  process.getuid?.() !== 0
    ? 'not root'
    : (['dockerd', 'nsenter', 'unshare', 'ip', 'iptables'].filter((c) => !has(c)).map((c) => `${c} missing`)[0] ?? undefined);

/**
 * Whether the kernel has IPVS, which a service's VIP and the ingress routing mesh need (the engines load it on
 * demand where it is a module). Without it a `vip` service's name resolves but nothing answers behind the VIP, and
 * ingress-published ports do not answer: use `endpoint_mode: dnsrr` and `mode: host` ports there.
 */
export function hasIpvs(): boolean {
  return existsSync('/proc/net/ip_vs');
}

export interface SwarmHarness {
  readonly run: string;
  /** `unix:///run/tscompose-swarm/<run>/n0/docker.sock` (the manager). */
  readonly managerHost: string;
  /** Every engine's DOCKER_HOST, manager first. */
  readonly hosts: readonly string[];
  readonly nodeIps: readonly string[];
  /** The nodes' hostnames (what `docker node ls` shows), manager first. */
  readonly hostnames: readonly string[];
  /** The host's address on the bridge. */
  readonly bridgeIp: string;
  /** `<bridge>:5001`: the local registry as every node reaches it. */
  readonly registry: string;
  /** How long the engines took to answer, swarm init, and the joins until every node was ready (ms). */
  readonly timings: { readonly enginesMs: number; readonly initMs: number; readonly joinMs: number };
  /** process.env with DOCKER_HOST set to the manager (or to node `node`). */
  env(node?: number): NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

interface NodeState {
  readonly name: string;
  readonly netns: string;
  readonly veth: string;
  readonly ip: string;
  readonly dir: string;
  readonly dataRoot: string;
  readonly sock: string;
  readonly pidfile: string;
}

interface RunState {
  readonly run: string;
  readonly owner: number;
  readonly bridge: string;
  readonly bridgeIp: string;
  readonly subnet: string;
  readonly nodes: readonly NodeState[];
  /** Whether the host namespace had a docker_gwbridge link before the run. */
  readonly gwbridgeBefore: boolean;
  forwarderPid?: number;
}

function sh(cmd: string, args: readonly string[], quiet = false): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
  } catch (e) {
    if (quiet) return '';
    const err = e as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')}: ${err.stderr?.trim() || err.message}`, { cause: e });
  }
}

const alive = (pid: number | undefined): boolean => {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** One Engine API call over a unix socket: status and parsed body (text when not JSON). */
function api(sock: string, method: string, path: string, body?: unknown, timeoutMs = 30_000): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      {
        socketPath: sock,
        method,
        path,
        headers: data ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) } : {},
        timeout: timeoutMs,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            /* text */
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)));
    req.on('error', reject);
    req.end(data);
  });
}

async function apiOk(sock: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const r = await api(sock, method, path, body);
  if (r.status >= 300) throw new Error(`${method} ${path} on ${sock}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

// -- teardown -------------------------------------------------------------------------------------------------------

function mountPoints(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m): m is string => !!m)
    .map((m) => m.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
}

function unmountUnder(root: string): void {
  const mine = mountPoints()
    .filter((m) => m === root || m.startsWith(`${root}/`))
    .sort((a, b) => b.length - a.length);
  for (const m of mine) sh('umount', ['-l', m], true);
}

/** Pids of the processes whose command line names `path` (containerd and its shims for an engine's roots). */
function processesNaming(path: string): number[] {
  const pids: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(path)) pids.push(Number(p));
    } catch {
      /* gone */
    }
  }
  return pids;
}

/** Container ids of an engine's leftover shims (`-id <cid>`), to reach their containers' processes through their cgroups. */
function shimContainers(pids: readonly number[]): string[] {
  const ids: string[] = [];
  for (const pid of pids) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const i = argv.indexOf('-id');
      if (i >= 0 && /^[0-9a-f]{64}$/.test(argv[i + 1] ?? '')) ids.push(argv[i + 1]!);
    } catch {
      /* gone */
    }
  }
  return ids;
}

/** Kills the processes of the engine's containers `ids` (cgroupfs driver: /sys/fs/cgroup/<controller>/docker/<id>) and removes their cgroups. */
async function killContainers(ids: readonly string[]): Promise<void> {
  if (!ids.length) return;
  const controllers = existsSync('/sys/fs/cgroup/cgroup.controllers') ? [''] : readdirSync('/sys/fs/cgroup');
  const dirs = ids
    .flatMap((id) => controllers.map((c) => join('/sys/fs/cgroup', c, 'docker', id)))
    .filter((d) => existsSync(join(d, 'cgroup.procs')));
  for (const dir of dirs) {
    for (const pid of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
  for (const dir of dirs) {
    for (let i = 0; i < 20; i++) {
      try {
        rmdirSync(dir);
        break;
      } catch {
        await sleep(100); // its processes are still exiting
      }
    }
  }
}

async function stopPid(pid: number | undefined, graceMs: number): Promise<void> {
  if (!alive(pid)) return;
  process.kill(pid!, 'SIGTERM');
  const end = Date.now() + graceMs;
  while (alive(pid) && Date.now() < end) await sleep(200);
  if (alive(pid)) process.kill(pid!, 'SIGKILL');
  while (alive(pid)) await sleep(100);
}

const readPid = (file: string): number | undefined => {
  try {
    const n = Number(readFileSync(file, 'utf8').trim());
    return n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
};

async function teardown(state: RunState): Promise<void> {
  // Workers leave first, then the manager (force: a lone manager may leave only so).
  const live = state.nodes.filter((n) => existsSync(n.sock));
  for (const n of [...live].reverse()) await api(n.sock, 'POST', '/swarm/leave?force=1', undefined, 15_000).catch(() => undefined);
  await Promise.all(state.nodes.map((n) => stopPid(readPid(n.pidfile), 20_000)));
  for (const n of state.nodes) {
    // What a killed engine left: containerd and shims (by their roots), their containers, anything in the netns.
    const leftovers = [...new Set([...processesNaming(n.dir), ...processesNaming(n.dataRoot)])];
    const containers = shimContainers(leftovers);
    await killContainers(containers);
    for (const pid of leftovers) await stopPid(pid, 2_000);
    for (const pid of sh('ip', ['netns', 'pids', n.netns], true).split('\n').filter(Boolean)) await stopPid(Number(pid), 2_000);
    unmountUnder(n.dataRoot);
    unmountUnder(n.dir);
    sh('ip', ['netns', 'del', n.netns], true);
    sh('ip', ['link', 'del', n.veth], true);
  }
  await stopPid(state.forwarderPid, 2_000);
  sh('ip', ['link', 'del', state.bridge], true);
  deleteForwardRules(state.bridge);
  if (!state.gwbridgeBefore && gwbridgeLink() && !hostEngineHasGwbridge()) sh('ip', ['link', 'del', 'docker_gwbridge'], true);
  const data = join(DATA_ROOT, state.run);
  unmountUnder(data);
  rmSync(data, { recursive: true, force: true });
  const dir = join(RUN_ROOT, state.run);
  unmountUnder(dir);
  rmSync(dir, { recursive: true, force: true });
}

const gwbridgeLink = (): boolean => sh('ip', ['-o', 'link', 'show', 'docker_gwbridge'], true) !== '';
const hostEngineHasGwbridge = (): boolean => sh('docker', ['network', 'ls', '-q', '--filter', 'name=^docker_gwbridge$'], true).trim() !== '';

function forwardRule(bridge: string): string[] {
  return ['FORWARD', '-i', bridge, '-o', bridge, '-m', 'comment', '--comment', bridge, '-j', 'ACCEPT'];
}

function deleteForwardRules(bridge: string): void {
  for (let i = 0; i < 10 && checkRule(bridge); i++) sh('iptables', ['-D', ...forwardRule(bridge)], true);
}

function checkRule(bridge: string): boolean {
  try {
    execFileSync('iptables', ['-C', ...forwardRule(bridge)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Removes what runs whose owner process is gone left behind (state dirs, data roots, netns, links and iptables
 * rules named `tscsw-…`). Returns the run ids cleaned.
 */
export async function cleanupStale(): Promise<string[]> {
  if (swarmUnavailable) return [];
  const cleaned: string[] = [];
  const liveRuns = new Set<string>();
  for (const run of existsSync(RUN_ROOT) ? readdirSync(RUN_ROOT).filter((r) => !r.startsWith('.')) : []) {
    let state: RunState | undefined;
    try {
      state = JSON.parse(readFileSync(join(RUN_ROOT, run, 'state.json'), 'utf8')) as RunState;
    } catch {
      state = undefined;
    }
    const young = Date.now() - statSync(join(RUN_ROOT, run)).mtimeMs < 60_000;
    if (!state && young) {
      liveRuns.add(run); // starting: its state comes right after its directory
      continue;
    }
    if (state && state.owner !== process.pid && alive(state.owner)) {
      liveRuns.add(run);
      continue;
    }
    if (state && state.owner === process.pid) {
      liveRuns.add(run);
      continue;
    }
    if (state) await teardown(state);
    unmountUnder(join(RUN_ROOT, run));
    rmSync(join(RUN_ROOT, run), { recursive: true, force: true });
    cleaned.push(run);
  }
  // Data roots of runs whose state went away (a reboot empties /run), and names no live run owns.
  for (const run of existsSync(DATA_ROOT) ? readdirSync(DATA_ROOT) : []) {
    if (liveRuns.has(run)) continue;
    unmountUnder(join(DATA_ROOT, run));
    rmSync(join(DATA_ROOT, run), { recursive: true, force: true });
    if (!cleaned.includes(run)) cleaned.push(run);
  }
  const owned = (name: string): boolean => [...liveRuns].some((r) => name.startsWith(`${PREFIX}-${r}`));
  for (const ns of sh('ip', ['netns', 'list'], true).split('\n')) {
    const name = ns.split(' ')[0] ?? '';
    if (name.startsWith(`${PREFIX}-`) && !owned(name)) {
      for (const pid of sh('ip', ['netns', 'pids', name], true).split('\n').filter(Boolean)) await stopPid(Number(pid), 5_000);
      sh('ip', ['netns', 'del', name], true);
    }
  }
  for (const line of sh('ip', ['-o', 'link', 'show'], true).split('\n')) {
    const name = /^\d+: ([^:@]+)/.exec(line)?.[1];
    if (name?.startsWith(`${PREFIX}-`) && !owned(name)) {
      sh('ip', ['link', 'del', name], true);
      deleteForwardRules(name);
    }
  }
  for (const rule of sh('iptables', ['-S', 'FORWARD'], true).split('\n')) {
    const bridge = new RegExp(`--comment (${PREFIX}-[0-9a-f]+)`).exec(rule)?.[1];
    if (bridge && !owned(bridge)) deleteForwardRules(bridge);
  }
  return cleaned;
}

// -- start ----------------------------------------------------------------------------------------------------------

/** The subnets of the runs under RUN_ROOT (their bridges may not exist yet). */
function runningSubnets(): string[] {
  const out: string[] = [];
  for (const run of readdirSync(RUN_ROOT)) {
    try {
      out.push((JSON.parse(readFileSync(join(RUN_ROOT, run, 'state.json'), 'utf8')) as RunState).subnet);
    } catch {
      /* no state yet, or not a run */
    }
  }
  return out;
}

/** An exclusive lock (a directory; taken over when older than 30 s: its holder died). */
async function lock(path: string): Promise<() => void> {
  for (const end = Date.now() + 60_000; ;) {
    try {
      mkdirSync(path);
      return () => rmSync(path, { recursive: true, force: true });
    } catch {
      try {
        if (Date.now() - statSync(path).mtimeMs > 30_000) rmSync(path, { recursive: true, force: true });
      } catch {
        /* released meanwhile */
      }
      if (Date.now() > end) throw new Error(`lock ${path} held for over 60 s`);
      await sleep(100);
    }
  }
}

/** The first 10.77.K.0/24 that no host route (or address) overlaps. */
function freeSubnet(taken: readonly string[]): string {
  const routes = sh('ip', ['-4', 'route', 'show', 'table', 'all'], true) + sh('ip', ['-4', '-o', 'addr'], true);
  const resolvers = existsSync('/etc/resolv.conf') ? readFileSync('/etc/resolv.conf', 'utf8') : '';
  for (let k = 0; k < 256; k++) {
    const net = `10.77.${k}.`;
    if (!routes.includes(net) && !resolvers.includes(net) && !taken.includes(`${net}0/24`)) return `${net}0/24`;
  }
  throw new Error('no free 10.77.K.0/24 subnet for the swarm bridge');
}

const FORWARDER = `
const net = require('net');
const [host, port, target] = process.argv.slice(1);
const server = net.createServer((c) => {
  const u = net.connect(Number(target), '127.0.0.1');
  c.pipe(u).pipe(c);
  c.on('error', () => u.destroy());
  u.on('error', () => c.destroy());
});
server.listen(Number(port), host, () => process.stdout.write('listening\\n'));
server.on('error', (e) => { process.stderr.write(String(e) + '\\n'); process.exit(1); });
`;

async function startForwarder(host: string, log: string): Promise<number> {
  const err = openSync(log, 'a');
  const child = spawn(process.execPath, ['-e', FORWARDER, host, String(REGISTRY_PORT), String(REGISTRY_PORT)], {
    detached: true,
    stdio: ['ignore', 'pipe', err],
  });
  closeSync(err);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('registry forwarder did not start')), 10_000);
    child.stdout!.once('data', () => {
      clearTimeout(timer);
      resolve();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`registry forwarder exited (${code ?? 'signal'}): see ${log}`));
    });
  });
  child.stdout!.destroy();
  child.unref();
  return child.pid!;
}

function startEngine(n: NodeState, bridgeIp: string): void {
  mkdirSync(join(n.dir, 'exec'), { recursive: true });
  mkdirSync(n.dataRoot, { recursive: true });
  writeFileSync(join(n.dir, 'daemon.json'), '{}\n');
  const log = openSync(join(n.dir, 'dockerd.log'), 'a');
  const registry = `${bridgeIp}:${REGISTRY_PORT}`;
  const child = spawn(
    'nsenter',
    [
      `--net=/run/netns/${n.netns}`,
      'unshare',
      '-u',
      'sh',
      '-c',
      'hostname "$0" && exec "$@"',
      n.name,
      'dockerd',
      '--data-root',
      n.dataRoot,
      '--exec-root',
      join(n.dir, 'exec'),
      '--pidfile',
      n.pidfile,
      '-H',
      `unix://${n.sock}`,
      '--config-file',
      join(n.dir, 'daemon.json'),
      '--bip',
      '10.78.0.1/24',
      '--default-address-pool',
      'base=10.78.128.0/17,size=24',
      '--registry-mirror',
      `http://${registry}`,
      '--insecure-registry',
      registry,
    ],
    { detached: true, stdio: ['ignore', log, log] },
  );
  closeSync(log);
  child.unref();
}

async function waitEngine(n: NodeState, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const r = await api(n.sock, 'GET', '/_ping', undefined, 2_000).catch(() => undefined);
    if (r?.status === 200) return;
    if (Date.now() > end) {
      const log = existsSync(join(n.dir, 'dockerd.log')) ? readFileSync(join(n.dir, 'dockerd.log'), 'utf8').slice(-2000) : '';
      throw new Error(`engine ${n.name} did not answer on ${n.sock} within ${timeoutMs} ms:\n${log}`);
    }
    await sleep(200);
  }
}

export interface StartSwarmOptions {
  /** Engines (1 manager + nodes-1 workers), 1…9. */
  readonly nodes: number;
  /** The bridge's /24 (`10.77.5.0/24`); default: the first 10.77.K.0/24 no host route overlaps. */
  readonly subnet?: string | undefined;
  /** Per step (engines answering, init, joins until ready), default 60 s. */
  readonly timeoutMs?: number | undefined;
}

export async function startSwarm(options: StartSwarmOptions): Promise<SwarmHarness> {
  if (swarmUnavailable) throw new Error(`swarm harness unavailable: ${swarmUnavailable}`);
  if (!Number.isInteger(options.nodes) || options.nodes < 1 || options.nodes > 9) throw new Error('nodes: 1…9');
  const timeoutMs = options.timeoutMs ?? 60_000;
  await cleanupStale();
  mkdirSync(RUN_ROOT, { recursive: true });
  // Runs starting side by side (jest workers) pick their subnet and write their state under a lock, so each sees the others'.
  const unlock = await lock(join(RUN_ROOT, '.lock'));
  let run: string;
  let subnet: string;
  try {
    subnet = options.subnet ?? freeSubnet(runningSubnets());
    do
      run = Math.floor(Math.random() * 0x10000)
        .toString(16)
        .padStart(4, '0');
    while (existsSync(join(RUN_ROOT, run)) || existsSync(join(DATA_ROOT, run)));
    mkdirSync(join(RUN_ROOT, run));
  } finally {
    unlock();
  }
  const base = /^(\d+\.\d+\.\d+)\.0\/24$/.exec(subnet)?.[1];
  if (!base) throw new Error(`subnet ${subnet}: expected a /24 like 10.77.5.0/24`);
  const prefix = `${PREFIX}-${run}`;
  const runDir = join(RUN_ROOT, run);
  const nodes: NodeState[] = Array.from({ length: options.nodes }, (_, i) => {
    const dir = join(runDir, `n${i}`);
    return {
      name: `${prefix}-n${i}`,
      netns: `${prefix}-n${i}`,
      veth: `${prefix}-${i}`,
      ip: `${base}.${10 + i}`,
      dir,
      dataRoot: join(DATA_ROOT, run, `n${i}`),
      sock: join(dir, 'docker.sock'),
      pidfile: join(dir, 'docker.pid'),
    };
  });
  const state: RunState = { run, owner: process.pid, bridge: prefix, bridgeIp: `${base}.1`, subnet, nodes, gwbridgeBefore: gwbridgeLink() };
  const save = (): void => writeFileSync(join(runDir, 'state.json'), JSON.stringify(state, null, 2));
  save();

  try {
    // A set address (not random): a random one follows the lowest port's as veths come and go, and the engines'
    // cached neighbour entry for the bridge address (the registry forwarder) would go stale (see src/lib/net/bridge.ts).
    sh('ip', ['link', 'add', state.bridge, 'address', '02:42:0a:4d:ff:01', 'type', 'bridge']);
    sh('ip', ['addr', 'add', `${state.bridgeIp}/24`, 'dev', state.bridge]);
    sh('ip', ['link', 'set', state.bridge, 'up']);
    sh('iptables', ['-I', ...forwardRule(state.bridge)]);
    state.forwarderPid = await startForwarder(state.bridgeIp, join(runDir, 'forwarder.log'));
    save();
    for (const [i, n] of nodes.entries()) {
      sh('ip', ['netns', 'add', n.netns]);
      sh('ip', ['link', 'add', n.veth, 'type', 'veth', 'peer', 'name', `${prefix}p${i}`]);
      sh('ip', ['link', 'set', `${prefix}p${i}`, 'netns', n.netns]);
      sh('ip', ['link', 'set', n.veth, 'master', state.bridge, 'up']);
      sh('ip', ['-n', n.netns, 'link', 'set', `${prefix}p${i}`, 'name', 'eth0']);
      sh('ip', ['-n', n.netns, 'addr', 'add', `${n.ip}/24`, 'dev', 'eth0']);
      sh('ip', ['-n', n.netns, 'link', 'set', 'eth0', 'up']);
      sh('ip', ['-n', n.netns, 'link', 'set', 'lo', 'up']);
    }

    let t = Date.now();
    for (const n of nodes) startEngine(n, state.bridgeIp);
    await Promise.all(nodes.map((n) => waitEngine(n, timeoutMs)));
    const enginesMs = Date.now() - t;

    t = Date.now();
    const manager = nodes[0]!;
    await apiOk(manager.sock, 'POST', '/swarm/init', {
      ListenAddr: `${manager.ip}:2377`,
      AdvertiseAddr: manager.ip,
      DefaultAddrPool: [OVERLAY_POOL],
      SubnetSize: 24,
    });
    const initMs = Date.now() - t;

    t = Date.now();
    const swarm = (await apiOk(manager.sock, 'GET', '/swarm')) as { JoinTokens: { Worker: string } };
    await Promise.all(
      nodes.slice(1).map((n) =>
        apiOk(n.sock, 'POST', '/swarm/join', {
          ListenAddr: `${n.ip}:2377`,
          AdvertiseAddr: n.ip,
          RemoteAddrs: [`${manager.ip}:2377`],
          JoinToken: swarm.JoinTokens.Worker,
        }),
      ),
    );
    const end = Date.now() + timeoutMs;
    for (;;) {
      const list = (await apiOk(manager.sock, 'GET', '/nodes')) as { Status?: { State?: string } }[];
      if (list.length === nodes.length && list.every((x) => x.Status?.State === 'ready')) break;
      if (Date.now() > end) throw new Error(`swarm nodes not ready within ${timeoutMs} ms: ${JSON.stringify(list.map((x) => x.Status))}`);
      await sleep(250);
    }
    const joinMs = Date.now() - t;

    const hosts = nodes.map((n) => `unix://${n.sock}`);
    let stopped: Promise<void> | undefined;
    return {
      run,
      managerHost: hosts[0]!,
      hosts,
      nodeIps: nodes.map((n) => n.ip),
      hostnames: nodes.map((n) => n.name),
      bridgeIp: state.bridgeIp,
      registry: `${state.bridgeIp}:${REGISTRY_PORT}`,
      timings: { enginesMs, initMs, joinMs },
      env: (node = 0) => ({ ...process.env, DOCKER_HOST: hosts[node] }),
      stop: () => (stopped ??= teardown(state)),
    };
  } catch (e) {
    await teardown(state).catch(() => undefined);
    throw e;
  }
}
