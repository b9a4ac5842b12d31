/**
 * `tscompose check` on the native runtime (./check.ts), its networks part: endpoints of containers that are gone or
 * not running and of builds that are gone (released with their veths and netns), addresses allocated to no endpoint
 * (released), records whose bridge is gone (bridge and rules made again; a build's network with no build
 * running removed), and networks a DNS resolver serves that have no record (dropped).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { writeJsonAtomic } from '../../lib/fs/atomic.js';
import { withLock } from '../../lib/fs/lock.js';
import { pidAlive } from '../../lib/fs/proc.js';
import { networkInPlace, releaseAddress, type NetState } from '../../lib/net/index.js';
import type { StateProblem } from '../runtime.js';
import type { NativeContext } from './context.js';
import { refreshDns, staleDnsNetworks } from './netglue.js';
import type { ContainerRecord } from './state.js';

/** Reports a problem (`repaired`: by this run). */
export type Add = (p: Omit<StateProblem, 'repaired'> & { hint?: string | undefined }, repaired?: boolean) => void;

/** What the containers' part of the check found, as the networks' part needs it. */
export interface ContainersSeen {
  readonly records: ReadonlyMap<string, ContainerRecord>;
  /** Ids whose directory has no readable record. */
  readonly noRecord: ReadonlySet<string>;
  /** Running or paused containers, and creations under way. */
  readonly live: ReadonlySet<string>;
  readonly buildRunning: boolean;
}

const HEX64 = /^[0-9a-f]{64}$/;
const BUILD_ENDPOINT = /^[0-9a-f]{8}b(\d+)$/;

/** Endpoints and addresses of the bridge networks against the running containers and builds. Returns how many networks. */
export async function checkNetworks(ctx: NativeContext, scan: ContainersSeen, repair: boolean, add: Add): Promise<number> {
  const nets = ctx.networks;
  let state: NetState;
  try {
    state = await nets.read();
  } catch (e) {
    add({
      area: 'networks',
      subject: nets.file,
      problem: `unreadable: ${(e as Error).message}`,
      hint: 'restore it, or move it aside and run `tscompose up` again',
    });
    return 0;
  }
  const release = new Map<string, Set<string>>();
  const allocs: { network: string; id: string }[] = [];
  for (const n of Object.values(state.networks)) {
    for (const id of Object.keys(n.endpoints)) {
      const build = BUILD_ENDPOINT.exec(id);
      let why: string | undefined;
      if (HEX64.test(id)) {
        if (scan.live.has(id) || scan.noRecord.has(id)) continue;
        why = scan.records.has(id) ? `container ${scan.records.get(id)!.name} is not running` : `container ${id.slice(0, 12)} does not exist`;
      } else if (build) {
        const pid = Number(build[1]);
        if (pid === process.pid || pidAlive(pid)) continue;
        why = `the build (pid ${pid}) is gone`;
      } else {
        add({
          area: 'networks',
          subject: `${n.key}/${id}`,
          problem: 'an endpoint of no container or build tscompose knows',
          hint: 'remove the network when nothing uses it',
        });
        continue;
      }
      release.set(id, (release.get(id) ?? new Set()).add(n.key));
      add(
        {
          area: 'networks',
          subject: `${n.key}/${HEX64.test(id) ? id.slice(0, 12) : id}`,
          problem: `a leaked endpoint (${n.endpoints[id]!.ip}): ${why}`,
          repair: 'release it (veth, netns, address, ports)',
        },
        repair,
      );
    }
    for (const [id, ip] of Object.entries(n.allocations)) {
      if (n.endpoints[id]) continue;
      allocs.push({ network: n.key, id });
      add(
        {
          area: 'networks',
          subject: `${n.key}/${ip}`,
          problem: `a leaked address: allocated to ${id.slice(0, 12)}, which has no endpoint`,
          repair: 'release it',
        },
        repair,
      );
    }
  }
  if (repair && release.size > 0) {
    for (const id of release.keys()) {
      if (!HEX64.test(id)) continue;
      // under the container's lock, checked again: a start meanwhile attached it
      await withLock(ctx.state.lockFile(id), async () => {
        const r = await ctx.state.read(id);
        if (r && (r.state.status === 'running' || r.state.status === 'paused')) release.delete(id);
      });
    }
    const keys = await nets.releaseContainers([...release.keys()].map((endpointId) => ({ endpointId })));
    await refreshDns(ctx.paths, keys).catch(() => undefined);
  }
  if (repair && allocs.length > 0) {
    await fs.mkdir(path.dirname(nets.file), { recursive: true });
    await withLock(nets.lock, async () => {
      const now = await nets.read();
      const networks = { ...now.networks };
      for (const a of allocs) {
        const n = networks[a.network];
        if (n && !n.endpoints[a.id]) networks[a.network] = { ...releaseAddress(n, a.id), endpoints: n.endpoints };
      }
      await writeJsonAtomic(nets.file, { ...now, networks });
    });
  }
  await checkBridges(ctx, state, scan, repair, add);
  await checkStaleDns(ctx, state, repair, add);
  return Object.keys(state.networks).length;
}

/** What the resolvers serve for networks that have no record: dropped (the resolver exits when nothing is left). */
async function checkStaleDns(ctx: NativeContext, state: NetState, repair: boolean, add: Add): Promise<void> {
  for (const stale of await staleDnsNetworks(ctx.paths, new Set(Object.keys(state.networks)))) {
    let error: string | undefined;
    if (repair)
      error = await stale.drop().then(
        () => undefined,
        (e: unknown) => (e as Error).message,
      );
    add(
      {
        area: 'networks',
        subject: stale.key,
        problem: `served by a DNS resolver, but no network has that name${error === undefined ? '' : `: ${error}`}`,
        repair: 'stop serving it',
      },
      repair && error === undefined,
    );
  }
}

/**
 * Network records whose bridge is gone (deleted by hand, a netns or a network manager): re-made with their rules by
 * createNetwork (idempotent on a record); a build's network with no build running is removed instead.
 */
async function checkBridges(ctx: NativeContext, state: NetState, scan: ContainersSeen, repair: boolean, add: Add): Promise<void> {
  const dns: string[] = [];
  for (const n of Object.values(state.networks)) {
    if (await networkInPlace(n)) continue;
    const build = n.key.startsWith('tscompose_build_') && !scan.buildRunning;
    let error: string | undefined;
    if (repair) {
      try {
        if (build) await ctx.networks.removeNetwork(n.key, { force: true });
        else {
          await ctx.networks.createNetwork({ key: n.key, name: n.name, internal: n.internal, ...(n.labels ? { labels: n.labels } : {}) });
          dns.push(n.key);
        }
      } catch (e) {
        error = (e as Error).message;
      }
    }
    const missing = n.link ? `its namespace ${n.link.netns} or parent ${n.link.parent}` : `its bridge ${n.bridge}`;
    const attached = Object.keys(n.endpoints).filter((id) => !HEX64.test(id) || scan.live.has(id));
    add(
      {
        area: 'networks',
        subject: n.key,
        problem: `${missing} does not exist${build ? ' (a build network, no build running)' : ''}${error === undefined ? '' : `: ${error}`}`,
        repair: build ? 'remove the network' : n.link ? 'create its namespace and links again' : 'create the bridge and its rules again',
        hint: !build && attached.length > 0 ? 'restart the containers on it to attach them again' : undefined,
      },
      repair && error === undefined,
    );
  }
  await refreshDns(ctx.paths, dns).catch(() => undefined);
}
