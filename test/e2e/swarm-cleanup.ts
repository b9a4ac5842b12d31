/**
 * The host-side cleanup of swarm harness runs (./swarm-harness.ts): `teardown` removes one run from its state (swarm
 * leave, engines and their leftover containerd, shims, containers and netns processes stopped by pid, mounts under its
 * roots unmounted, netns, veths, bridge and its iptables FORWARD rule deleted, the forwarder stopped, roots removed,
 * a `docker_gwbridge` the run created deleted), and `cleanupStale` does so for runs whose owner process is gone and
 * for any `tscsw-…` netns, link or rule that no live run owns.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { api } from './swarm-engine.js';
import { alive, DATA_ROOT, PREFIX, RUN_ROOT, sh, swarmUnavailable, type RunState } from './swarm-host.js';

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

export async function teardown(state: RunState): Promise<void> {
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

export const gwbridgeLink = (): boolean => sh('ip', ['-o', 'link', 'show', 'docker_gwbridge'], true) !== '';
const hostEngineHasGwbridge = (): boolean => sh('docker', ['network', 'ls', '-q', '--filter', 'name=^docker_gwbridge$'], true).trim() !== '';

export function forwardRule(bridge: string): string[] {
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
