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
 *
 * The harness is four files: this one (`startSwarm` and what it returns), ./swarm-host.ts (a run's names, roots and
 * state, whether this host can run it, host commands), ./swarm-engine.ts (the Engine API client, the engines and the
 * registry forwarder) and ./swarm-cleanup.ts (`stop()`'s teardown and `cleanupStale`).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cleanupStale, forwardRule, gwbridgeLink, teardown } from './swarm-cleanup.js';
import { apiOk, startEngine, startForwarder, waitEngine } from './swarm-engine.js';
import { DATA_ROOT, PREFIX, REGISTRY_PORT, RUN_ROOT, sh, swarmUnavailable, type NodeState, type RunState } from './swarm-host.js';

export { cleanupStale, PREFIX, swarmUnavailable };

const OVERLAY_POOL = '10.79.0.0/16';

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
