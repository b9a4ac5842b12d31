/**
 * Another container's namespaces for a native container: `pid`, `ipc`, `uts: container:X` (compose `service:X`,
 * resolved to X's first container by the engine) join the namespaces of X's init process (`/proc/<pid>/ns/<kind>`),
 * as moby's `daemon/oci_linux.go` withNamespaces does. X must be running (Docker: "container X is not running"); an
 * IPC namespace only when X made it shareable (`ipc: shareable`, or X uses the host's), as Docker requires: X's
 * /dev/shm is then a tmpfs on the host (`<container dir>/shm`, moby's ShmPath) that joiners bind too.
 * The paths are resolved at creation and again before every start (`refreshJoins`): X may have a new process.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { TsComposeError } from '../../errors.js';
import { isMounted } from '../../lib/fs/mounts.js';
import { ConflictError, NotFoundError } from '../errors.js';
import type { ContainerSpec } from '../runtime.js';
import type { NativeContext } from './context.js';
import { liveStatus, ociSpecOf } from './monitor/record.js';
import { DEFAULT_SHM_SIZE } from './oci/defaults.js';
import { ociSpecToJson } from './oci/oci-spec.js';
import type { OciNamespace } from './oci/spec-types.js';
import type { ContainerRecord } from './state.js';

type JoinKind = 'pid' | 'ipc' | 'uts' | 'network';

const KEYS = { pid: 'pidMode', ipc: 'ipcMode', uts: 'utsMode', network: 'networkMode' } as const;
const NAMES = { pid: 'PID', ipc: 'IPC', uts: 'UTS', network: 'network' } as const;
const NS_FILES = { pid: 'pid', ipc: 'ipc', uts: 'uts', network: 'net' } as const;

export interface NamespaceJoins {
  readonly pid?: string;
  readonly ipc?: string;
  readonly uts?: string;
  readonly network?: string;
  /** The donor's /dev/shm for `ipc: container:X`, or this container's own host tmpfs for `ipc: shareable`. */
  readonly shm?: string;
}

/** Where a shareable IPC container's /dev/shm lives on the host. */
export function shmDir(ctx: NativeContext, id: string): string {
  return path.join(ctx.state.containerDir(id), 'shm');
}

/**
 * The container named by a `container:X` mode, running (or paused), with its init's pid; at creation a stopped one
 * too, with pid 0 (Docker creates the container and refuses its start): the start resolves it again.
 */
async function runningTarget(
  ctx: NativeContext,
  kind: JoinKind,
  name: string,
  atCreate: boolean,
): Promise<ContainerRecord & { state: { pid: number } }> {
  const other = await ctx.state.find(name);
  if (!other) throw new NotFoundError('container', name, { hint: `${KEYS[kind].replace('Mode', '')}: container:${name} names no container` });
  const s = await liveStatus(ctx, other);
  const running = (s === 'running' || s === 'paused') && other.state.pid !== undefined;
  if (!running && atCreate) return { ...other, state: { ...other.state, pid: 0 } };
  if (!running) {
    throw new ConflictError('container', other.name, `cannot join the ${NAMES[kind]} namespace of container ${other.name}: it is not running`, {
      hint: `start ${other.name} first`,
    });
  }
  return other as ContainerRecord & { state: { pid: number } };
}

/**
 * The namespace paths of the spec's `container:` modes (pid, ipc, uts; `network` only at a start: creation resolves
 * it with ContainerService.networkOf), and the /dev/shm to bind. At creation (`atCreate`) a stopped target gives
 * `/proc/0/ns/<kind>`, a path that cannot be joined: the start (refreshJoins) puts the target's current one there,
 * or refuses the start as Docker does ("not running", "non-shareable IPC").
 */
export async function namespaceJoins(
  ctx: NativeContext,
  spec: Pick<ContainerSpec, 'pidMode' | 'ipcMode' | 'utsMode' | 'networkMode'>,
  id: string,
  atCreate = false,
): Promise<NamespaceJoins> {
  const out: { -readonly [K in keyof NamespaceJoins]: NamespaceJoins[K] } = {};
  for (const kind of ['pid', 'ipc', 'uts', 'network'] as const) {
    const mode = spec[KEYS[kind]];
    if (kind === 'network' && atCreate) continue;
    if (mode === undefined || !mode.startsWith('container:')) continue;
    const other = await runningTarget(ctx, kind, mode.slice('container:'.length), atCreate);
    if (kind === 'ipc') {
      const donor = other.spec.ipcMode;
      if (donor === 'host') out.shm = '/dev/shm';
      else if (other.state.pid === 0 || (donor === 'shareable' && (await isMounted(shmDir(ctx, other.id))))) out.shm = shmDir(ctx, other.id);
      else {
        throw new TsComposeError('TSC_IPC_NOT_SHAREABLE', `container ${other.name}: non-shareable IPC`, {
          hint: `give its service \`ipc: shareable\` (as Docker, only a shareable IPC namespace can be joined)`,
        });
      }
    }
    out[kind] = `/proc/${other.state.pid}/ns/${NS_FILES[kind]}`;
  }
  if (spec.ipcMode === 'shareable') out.shm = shmDir(ctx, id);
  return out;
}

/** `ipc: shareable`: the container's /dev/shm, a tmpfs on the host of `shm_size` (unless mounted already). */
export async function ensureShm(
  ctx: NativeContext,
  spec: Pick<ContainerSpec, 'ipcMode' | 'shmSizeBytes'>,
  id: string,
  owner?: { uid: number; gid: number },
): Promise<void> {
  if (spec.ipcMode !== 'shareable') return;
  const dir = shmDir(ctx, id);
  if (await isMounted(dir)) return;
  await fs.mkdir(dir, { recursive: true });
  const size = spec.shmSizeBytes !== undefined && spec.shmSizeBytes > 0 ? spec.shmSizeBytes : DEFAULT_SHM_SIZE;
  const r = await ctx.spawner.run({ command: 'mount', args: ['-t', 'tmpfs', '-o', `mode=1777,size=${size},nosuid,nodev,noexec`, 'shm', dir] });
  if (r.code !== 0)
    throw new TsComposeError(
      'TSC_NATIVE_MOUNT',
      `cannot mount the shareable /dev/shm of container ${id.slice(0, 12)}: ${(r.stderr || r.stdout).trim()}`,
    );
  if (owner) await fs.chown(dir, owner.uid, owner.gid);
}

/**
 * Before a start: the namespaces a container joins (network, pid, ipc, uts `container:X`) at X's current process,
 * and its shareable /dev/shm mounted (a reboot took it); config.json rewritten when a path changed.
 */
export async function refreshJoins(ctx: NativeContext, r: ContainerRecord): Promise<void> {
  const s = r.spec;
  await ensureShm(ctx, s, r.id);
  const modes = [s.pidMode, s.ipcMode, s.utsMode, s.networkMode];
  if (!modes.some((m) => m?.startsWith('container:'))) return;
  const joins = await namespaceJoins(ctx, s, r.id);
  const oci = await ociSpecOf(ctx, r.id);
  const before = JSON.stringify(oci);
  const kinds: Record<OciNamespace['type'], keyof NamespaceJoins | undefined> = {
    pid: 'pid',
    ipc: 'ipc',
    uts: 'uts',
    network: 'network',
    mount: undefined,
    user: undefined,
    cgroup: undefined,
  };
  oci.linux.namespaces = oci.linux.namespaces.map((n) => {
    const k = kinds[n.type];
    const p = k === undefined ? undefined : joins[k];
    return p !== undefined && n.path !== undefined ? { type: n.type, path: p } : n;
  });
  if (s.ipcMode?.startsWith('container:') && joins.shm !== undefined)
    oci.mounts = oci.mounts.map((m) => (m.destination === '/dev/shm' && m.type === 'bind' ? { ...m, source: joins.shm! } : m));
  if (JSON.stringify(oci) !== before) await fs.writeFile(path.join(ctx.state.containerDir(r.id), 'bundle', 'config.json'), ociSpecToJson(oci));
}

/**
 * refreshJoins for a restart by the restart policy (the exit hook): the container it joins may be restarting too
 * (its end ended this one's PID namespace), so a target not running yet is waited for up to `waitMs`.
 */
export async function refreshJoinsForRestart(ctx: NativeContext, r: ContainerRecord, waitMs = 5000): Promise<void> {
  for (let waited = 0; ; waited += 100) {
    try {
      return await refreshJoins(ctx, r);
    } catch (e) {
      if (!(e instanceof ConflictError) || waited >= waitMs) throw e;
      await sleep(100);
    }
  }
}
