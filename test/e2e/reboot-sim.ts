/**
 * A simulated reboot of the native runtime, scoped to one test's state: what a reboot leaves of its containers.
 * Every process of the state (conmon, container processes, exit hooks, health monitor, DNS resolver) is killed,
 * mounts under the base directory are unmounted, the containers' network namespaces, the networks' bridges, nft
 * tables and iptables rules and the containers' cgroups are removed, and the run directory (on tmpfs: /run) is
 * deleted. The state directory (on disk: /var/lib) stays as it was.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { listCgroupDirs } from '../../src/runtime/native/oci/cgroups.js';

const run = (cmd: string, ...args: string[]): string => spawnSync(cmd, args, { encoding: 'utf8' }).stdout ?? '';

interface Dirs {
  /** The directory holding both (mounts and processes naming it are the test's). */
  readonly base: string;
  readonly stateDir: string;
  readonly runDir: string;
}

/** Ids of the containers recorded in the state directory. */
function containerIds(stateDir: string): string[] {
  try {
    return readdirSync(join(stateDir, 'containers')).filter((d) => /^[0-9a-f]{64}$/.test(d));
  } catch {
    return [];
  }
}

export function simulateReboot(d: Dirs): void {
  const ids = containerIds(d.stateDir);
  // 1. Processes: the containers' (recorded pids and whatever is in their cgroups), then everything naming the base.
  const pids = new Set<number>();
  for (const id of ids) {
    try {
      const rec = JSON.parse(readFileSync(join(d.stateDir, 'containers', id, 'record.json'), 'utf8')) as {
        state?: { pid?: number; conmonPid?: number };
      };
      if (rec.state?.pid) pids.add(rec.state.pid);
      if (rec.state?.conmonPid) pids.add(rec.state.conmonPid);
    } catch {
      /* no record */
    }
  }
  const cgroups = listCgroupDirs('/tscompose').filter((c) => ids.some((id) => c.includes(id)));
  for (const dir of cgroups) {
    for (const f of ['cgroup.procs']) {
      try {
        for (const p of readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean)) pids.add(Number(p));
      } catch {
        /* gone */
      }
    }
  }
  for (const line of run('ps', '-eo', 'pid,args').split('\n').slice(1)) {
    const m = /^\s*(\d+)\s+(.*)$/.exec(line);
    if (m && m[2]!.includes(d.base) && Number(m[1]) !== process.pid) pids.add(Number(m[1]));
  }
  for (const p of pids) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  // Let the kernel reap them before their mounts and cgroups go.
  for (let i = 0; i < 50 && [...pids].some((p) => existsSync(`/proc/${p}`) && !readFileSync(`/proc/${p}/stat`, 'utf8').includes(') Z')); i++) {
    spawnSync('sleep', ['0.1']);
  }
  // 2. Mounts under the base, deepest first.
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m.startsWith(d.base))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) spawnSync('umount', ['-l', m]);
  // 3. Network namespaces of the containers; bridges, nft tables and iptables rules of the networks.
  for (const id of ids) spawnSync('ip', ['netns', 'delete', `tsc-${id.slice(0, 12)}`]);
  let bridges: string[] = [];
  try {
    const nets = JSON.parse(readFileSync(join(d.stateDir, 'net', 'networks.json'), 'utf8')) as { networks?: Record<string, { bridge?: string }> };
    bridges = Object.values(nets.networks ?? {})
      .map((n) => n.bridge ?? '')
      .filter(Boolean);
  } catch {
    /* no networks */
  }
  for (const b of bridges) {
    spawnSync('ip', ['link', 'delete', b]);
    spawnSync('nft', ['delete', 'table', 'ip', b]);
    for (const line of run('iptables', '-S').split('\n')) {
      if (line.startsWith('-A ') && line.includes(b)) spawnSync('sh', ['-c', `iptables -D ${line.slice(3)}`]);
    }
  }
  // 4. The containers' cgroups (the processes are gone).
  for (const dir of cgroups.sort((a, b) => b.length - a.length)) spawnSync('rmdir', [dir]);
  // 5. /run: the run directory (OCI runtime state, conmon pid files, sockets).
  rmSync(d.runDir, { recursive: true, force: true });
}
