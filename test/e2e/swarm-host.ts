/**
 * What the swarm harness's modules share (./swarm-harness.ts): the names and roots of a run (`tscsw-<run>`,
 * /run/tscompose-swarm, /var/lib/tscompose-swarm), the registry port, whether this host can run the harness at all,
 * the shape of a run's state.json, and running host commands (`sh`) and probing pids (`alive`).
 */
import { execFileSync } from 'node:child_process';

export const PREFIX = 'tscsw';
export const RUN_ROOT = '/run/tscompose-swarm';
export const DATA_ROOT = '/var/lib/tscompose-swarm';
export const REGISTRY_PORT = Number(process.env.TSCOMPOSE_REGISTRY_PORT ?? '5001');

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

export interface NodeState {
  readonly name: string;
  readonly netns: string;
  readonly veth: string;
  readonly ip: string;
  readonly dir: string;
  readonly dataRoot: string;
  readonly sock: string;
  readonly pidfile: string;
}

export interface RunState {
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

export function sh(cmd: string, args: readonly string[], quiet = false): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
  } catch (e) {
    if (quiet) return '';
    const err = e as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')}: ${err.stderr?.trim() || err.message}`, { cause: e });
  }
}

export const alive = (pid: number | undefined): boolean => {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
