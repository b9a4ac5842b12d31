/**
 * `tscompose check` on the native runtime: the image store, container records, names, networks, volumes and build
 * scratch checked against each other and the host, with what can be repaired safely repaired on `repair` (the
 * native counterpart of `podman system check`). What a `kill -9` of a CLI (or a full disk) at any point can leave:
 *
 * - images: lib/image/store-check.ts (leftover scratch and temp files, corrupt blobs, incomplete layers, names);
 * - containers: unreadable records (reported: the container's files are left to the user), abandoned creations
 *   (removed, as `ps` does), interrupted removals (containers/.removing-<id>: finished, as `ps` does), name claims of no container (removed) and containers whose name is unclaimed (claimed
 *   again), runs whose exit was never recorded (recorded), records whose image is gone (reported), mounts under the
 *   state directory of no container (unmounted), run directories and OCI runtime containers of no running container
 *   (deleted);
 * - networks (./check-networks.ts): endpoints of containers that are gone or not running, and of builds that are gone (released with
 *   their veths and netns), addresses allocated to no endpoint (released), records whose bridge is gone (their
 *   bridge and rules made again; a build's network with no build running removed);
 * - volumes: a directory without a readable volume.json (an empty one removed, one with data given its record
 *   back: a volume's data is never deleted);
 * - build: scratch directories, mounts and RUN-step containers of builds whose process is gone (removed);
 * - files: temp files of atomic writes whose writer was killed, outside the image store (removed; ./check-temps.ts).
 *
 * A container the user has is never removed. Repairs of a container run under its lock (as start, stop and remove
 * do), so a concurrent command sees it before or after; the check is meant for a quiet state directory all the same.
 */
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { isMissing } from '../../lib/errors.js';
import { readJson, staleAtomicTemps, writeJsonAtomic } from '../../lib/fs/atomic.js';
import { withLock } from '../../lib/fs/lock.js';
import { mountsUnder, unmountAll } from '../../lib/fs/mounts.js';
import { pidAlive } from '../../lib/fs/proc.js';
import { checkNetworks, type Add } from './check-networks.js';
import { staleTempsUnder } from './check-temps.js';
import type { StateCheckReport, StateProblem } from '../runtime.js';
import type { NativeContext } from './context.js';
import { ContainerService } from './containers.js';
import { finalizeExit } from './monitor/exit.js';
import { liveStatus } from './monitor/record.js';
import { NetworkService } from './networks.js';
import { VolumeService, volumeLockFile } from './volumes.js';
import { tombstoneIds, type ContainerRecord } from './state.js';

interface Scan {
  /** Readable records, by id (creations under way included). */
  readonly records: Map<string, ContainerRecord>;
  /** Ids whose directory has no readable record (unreadable, or not written yet). */
  readonly noRecord: Set<string>;
  /** Ids of interrupted removals left in place (containers/.removing-<id>: not repaired, or could not be). */
  readonly removing: Set<string>;
  /** Ids of running or paused containers (and creations under way). */
  readonly live: Set<string>;
  /** Whether a build's process is alive (its scratch, step containers and endpoints are its own). */
  readonly buildRunning: boolean;
}

const HEX64 = /^[0-9a-f]{64}$/;

export async function checkNativeState(
  ctx: NativeContext,
  options: { readonly repair?: boolean | undefined; readonly signal?: AbortSignal | undefined } = {},
): Promise<StateCheckReport> {
  const repair = options.repair === true;
  const problems: StateProblem[] = [];
  const checked: { area: string; count: number }[] = [];
  const add: Add = ({ hint, ...p }, repaired = false) =>
    void problems.push({ ...p, problem: hint ? `${p.problem} (${hint})` : p.problem, repair: p.repair, repaired });

  // images (the store's own check)
  const { checkImageStore } = await import('../../lib/image/store-check.js');
  const images = await checkImageStore(ctx.paths.images, { repair, signal: options.signal });
  checked.push(
    { area: 'images', count: images.counts.images },
    { area: 'blobs', count: images.counts.blobs },
    { area: 'layers', count: images.counts.layers },
  );
  for (const i of images.issues) add({ area: 'images', subject: i.subject, problem: i.problem, repair: i.repair, hint: i.hint }, i.repaired);

  const scan = await scanContainers(ctx, repair, add);
  checked.push({ area: 'containers', count: scan.records.size + scan.noRecord.size });
  await checkNames(ctx, scan, repair, add);
  await checkRuntimeState(ctx, scan, repair, add);
  checked.push({ area: 'networks', count: await checkNetworks(ctx, scan, repair, add) });
  checked.push({ area: 'volumes', count: await checkVolumes(ctx, repair, add) });
  checked.push({ area: 'build', count: await checkBuild(ctx, scan, repair, add) });
  // After the above (a repair there may itself be cut off): temp files of atomic writes whose writer is gone, and
  // in the run directory the fstab files of merged mounts (./rootfs.ts).
  for (const file of [...(await staleTempsUnder(ctx.paths.root)), ...(await staleAtomicTemps(ctx.paths.run))]) {
    if (repair) await fs.rm(file, { force: true });
    add(
      {
        area: 'files',
        subject: file.startsWith(`${ctx.paths.root}/`) ? path.relative(ctx.paths.root, file) : file,
        problem: `the temp file of an interrupted write (pid ${/\.tmp-(\d+)-[0-9a-f]+$/.exec(file)?.[1] ?? '?'} is gone)`,
        repair: 'remove it',
      },
      repair,
    );
  }
  return { checked, problems };
}

async function entries(dir: string): Promise<string[]> {
  try {
    return await fs.readdir(dir);
  } catch (e) {
    if (isMissing(e)) return [];
    throw e;
  }
}

/** A container's record as on disk: the value, or why it cannot be read. */
async function readRecord(ctx: NativeContext, id: string): Promise<{ record?: ContainerRecord; error?: string; missing?: boolean }> {
  let text: string;
  try {
    text = await fs.readFile(ctx.state.recordFile(id), 'utf8');
  } catch (e) {
    if (isMissing(e)) return { missing: true };
    return { error: (e as Error).message };
  }
  try {
    const r = JSON.parse(text) as ContainerRecord;
    if (r.id !== id || typeof r.name !== 'string' || typeof r.state !== 'object' || r.state === null) return { error: 'not a container record' };
    return { record: r };
  } catch (e) {
    return { error: `not valid JSON (${(e as Error).message})` };
  }
}

/**
 * Removes an abandoned creation as `ps` does (ContainerService.destroyCreation: the anonymous volumes it made, its
 * runtime state, mounts, name, directory).
 */
async function destroy(ctx: NativeContext, id: string): Promise<void> {
  await new ContainerService(ctx, new VolumeService(ctx), new NetworkService(ctx)).destroyCreation(id);
}

async function scanContainers(ctx: NativeContext, repair: boolean, add: Add): Promise<Scan> {
  const records = new Map<string, ContainerRecord>();
  const noRecord = new Set<string>();
  const live = new Set<string>();
  const removing = new Set<string>();
  const names = await entries(ctx.paths.containers);
  for (const id of tombstoneIds(names)) {
    // A removal whose command was killed after renaming the directory (ContainerService.destroy): finished as `ps` does.
    let error: string | undefined;
    if (repair) await ctx.state.finishRemoval(id).catch((e: unknown) => void (error = (e as Error).message));
    if (!repair || error !== undefined) removing.add(id);
    add(
      {
        area: 'containers',
        subject: id.slice(0, 12),
        problem: `an interrupted removal (${path.relative(ctx.paths.root, ctx.state.tombstoneDir(id))})${error === undefined ? '' : `: ${error}`}`,
        repair: 'finish it (release its name, delete the directory)',
      },
      repair && error === undefined,
    );
  }
  for (const id of names) {
    if (!HEX64.test(id)) continue;
    const dir = ctx.state.containerDir(id);
    const got = await readRecord(ctx, id);
    if (got.missing) {
      if (!(await ctx.state.recordlessAbandoned(id))) continue; // a creation that has not written its record yet
      if (repair) await destroy(ctx, id);
      add(
        { area: 'containers', subject: id.slice(0, 12), problem: 'an abandoned creation: a directory without a record', repair: 'remove it' },
        repair,
      );
      continue;
    }
    if (!got.record) {
      noRecord.add(id);
      add({
        area: 'containers',
        subject: id.slice(0, 12),
        problem: `its record is unreadable: ${got.error ?? ''}`,
        hint: `its files are in ${dir}: restore record.json, or unmount what is mounted under it and remove it by hand`,
      });
      continue;
    }
    const r = got.record;
    if (r.creating !== undefined) {
      if (pidAlive(r.creating)) {
        records.set(id, r);
        live.add(id);
        continue;
      }
      if (repair) await destroy(ctx, id);
      add({ area: 'containers', subject: r.name, problem: `an abandoned creation (pid ${r.creating} is gone)`, repair: 'remove it' }, repair);
      continue;
    }
    records.set(id, r);
    let status = await liveStatus(ctx, r);
    if (status === 'exited' && (r.state.status === 'running' || r.state.status === 'paused')) {
      if (repair) {
        const next = await finalizeExit(ctx, id, r.state.generation);
        if (next) records.set(id, next);
        status = next ? await liveStatus(ctx, next) : status;
      }
      add(
        {
          area: 'containers',
          subject: r.name,
          problem: `recorded ${r.state.status}, but its process is gone and its exit was not recorded`,
          repair: 'record the exit',
        },
        repair,
      );
    }
    if (status === 'running' || status === 'paused' || status === 'restarting') live.add(id);
    const imageRecord = path.join(ctx.paths.images, 'images', `${r.imageId.replace(/^sha256:/, '')}.json`);
    if (r.imageId && !existsSync(imageRecord)) {
      add({
        area: 'containers',
        subject: r.name,
        problem: `its image ${r.image} (${r.imageId.replace(/^sha256:/, '').slice(0, 12)}) is not in the image store: it cannot be started again`,
        hint: `pull ${r.image} again, or recreate the container (tscompose up --force-recreate)`,
      });
    }
  }
  let buildRunning = false;
  for (const name of await entries(path.join(ctx.paths.root, 'build', 'runs'))) {
    const pid = Number(/^(\d+)-/.exec(name)?.[1]);
    if (pidAlive(pid)) buildRunning = true;
  }
  return { records, noRecord, live, removing, buildRunning };
}

/** names/<name> claims against the records. */
async function checkNames(ctx: NativeContext, scan: Scan, repair: boolean, add: Add): Promise<void> {
  const dir = path.join(ctx.paths.root, 'names');
  const claims = new Map<string, string>();
  for (const name of await entries(dir)) claims.set(name, (await fs.readFile(path.join(dir, name), 'utf8').catch(() => '')).trim());
  for (const [name, holder] of claims) {
    const r = scan.records.get(holder);
    if ((r && r.name === name) || scan.noRecord.has(holder) || scan.removing.has(holder)) continue;
    // A claim made a moment ago by a creation that has not written its record yet.
    const st = await fs.stat(path.join(dir, name)).catch(() => undefined);
    if (!st || Date.now() - st.mtimeMs < 30_000) continue;
    if (repair) {
      await ctx.state.withNamesLock(async () => {
        const now = (await fs.readFile(path.join(dir, name), 'utf8').catch(() => '')).trim();
        if (now === holder && (await ctx.state.read(holder))?.name !== name) await fs.rm(path.join(dir, name), { force: true });
      });
    }
    const why = r ? `its container is now called ${r.name}` : holder ? `container ${holder.slice(0, 12)} does not exist` : 'it names no container';
    add({ area: 'containers', subject: `names/${name}`, problem: `a stale name claim: ${why}`, repair: 'remove the claim' }, repair);
  }
  for (const r of scan.records.values()) {
    if (r.creating !== undefined || claims.get(r.name) === r.id) continue;
    const other = claims.get(r.name);
    const otherRecord = other === undefined ? undefined : scan.records.get(other);
    if (other !== undefined && scan.noRecord.has(other)) {
      add({
        area: 'containers',
        subject: r.name,
        problem: `its name is claimed by ${other.slice(0, 12)}, whose record is unreadable`,
        hint: 'see that container above',
      });
      continue;
    }
    if (otherRecord && otherRecord.name === r.name) {
      add({
        area: 'containers',
        subject: r.name,
        problem: `two containers have this name (${r.id.slice(0, 12)}, ${otherRecord.id.slice(0, 12)}); the name is claimed by the second`,
        hint: 'remove one of them (tscompose rm, or down, of its project)',
      });
      continue;
    }
    let repaired = false;
    if (repair) {
      await ctx.state.withNamesLock(async () => {
        await fs.mkdir(dir, { recursive: true });
        await fs.rm(path.join(dir, r.name), { force: true });
        await fs.writeFile(path.join(dir, r.name), r.id, { flag: 'wx' });
      });
      repaired = true;
    }
    add(
      { area: 'containers', subject: r.name, problem: 'its name is not claimed (names/<name>): another container could take it', repair: 'claim it' },
      repaired,
    );
  }
}

/** Mounts under the state directory, run directories and OCI runtime containers that belong to no running container. */
async function checkRuntimeState(ctx: NativeContext, scan: Scan, repair: boolean, add: Add): Promise<void> {
  const known = (id: string): boolean => scan.records.has(id) || scan.noRecord.has(id);
  // mounts under containers/<id> of no container (a stopped container keeps its rootfs mounted: that is normal)
  const byContainer = new Map<string, string[]>();
  for (const m of await mountsUnder(ctx.paths.containers)) {
    const id = path.relative(ctx.paths.containers, m).split('/')[0] ?? '';
    if (tombstoneIds([id]).length > 0) continue; // an interrupted removal (above): finishing it unmounts
    if (!known(id)) byContainer.set(id, [...(byContainer.get(id) ?? []), m]);
  }
  for (const [id, points] of byContainer) {
    if (repair) await unmountAll(ctx.state.containerDir(id));
    add(
      {
        area: 'containers',
        subject: id.slice(0, 12) || ctx.paths.containers,
        problem: `mounted but no container: ${points.join(', ')}`,
        repair: 'unmount it',
      },
      repair,
    );
  }
  // the OCI runtime's containers (64 hex: services; 32 hex: build steps, in checkBuild)
  for (const id of await entries(ctx.paths.ociRoot)) {
    if (!HEX64.test(id) || scan.live.has(id) || scan.noRecord.has(id)) continue;
    const r = scan.records.get(id);
    if (repair) {
      await withLock(ctx.state.lockFile(id), async () => {
        const now = r ? await ctx.state.read(id) : undefined;
        if (now && now.creating === undefined && (now.state.status === 'running' || now.state.status === 'paused')) return; // started meanwhile
        await ctx.oci.delete(id, true).catch(() => undefined);
      });
    }
    add(
      {
        area: 'containers',
        subject: r?.name ?? id.slice(0, 12),
        problem: r
          ? `the OCI runtime still has it (${path.join(ctx.paths.ociRoot, id)}), but it is not running`
          : `an OCI runtime container of no container (${path.join(ctx.paths.ociRoot, id)})`,
        repair: 'delete it from the OCI runtime (its process is killed)',
      },
      repair,
    );
  }
  // per-run directories (conmon's pid file, the exit FIFO) of no container
  const ids = [...scan.records.keys(), ...scan.noRecord];
  for (const name of await entries(ctx.paths.run)) {
    if (!/^[0-9a-f]{12}$/.test(name) || ids.some((id) => id.startsWith(name))) continue;
    if (repair) await fs.rm(path.join(ctx.paths.run, name), { recursive: true, force: true });
    add({ area: 'containers', subject: path.join(ctx.paths.run, name), problem: 'the run directory of no container', repair: 'remove it' }, repair);
  }
  // conmon's links <run>/sock/<id> of no container (one per container; removals used to leave them)
  const sockDir = path.join(ctx.paths.run, 'sock');
  const stale = (await entries(sockDir)).filter((name) => HEX64.test(name) && !ids.includes(name));
  if (stale.length > 0) {
    if (repair) for (const name of stale) await fs.rm(path.join(sockDir, name), { force: true });
    add(
      {
        area: 'containers',
        subject: sockDir,
        problem: `${stale.length} conmon socket link${stale.length === 1 ? '' : 's'} of no container`,
        repair: 'remove them',
      },
      repair,
    );
  }
}

/** volumes/<name>: volume.json readable and naming it. Returns how many volumes. */
async function checkVolumes(ctx: NativeContext, repair: boolean, add: Add): Promise<number> {
  let count = 0;
  for (const name of await entries(ctx.paths.volumes)) {
    count++;
    const dir = path.join(ctx.paths.volumes, name);
    const file = path.join(dir, 'volume.json');
    let why: string | undefined;
    try {
      const v = JSON.parse(await fs.readFile(file, 'utf8')) as { name?: unknown; driver?: unknown };
      if (v.name !== name) why = `volume.json names ${JSON.stringify(v.name)}`;
    } catch (e) {
      why = isMissing(e) ? 'no volume.json (an interrupted creation)' : `volume.json is unreadable: ${(e as Error).message}`;
    }
    if (why === undefined && !existsSync(path.join(dir, '_data'))) {
      // A removal killed after the data went (VolumeService.remove deletes it before the record): finished.
      let removed = false;
      if (repair)
        removed = await withLock(volumeLockFile(ctx, name), async () => {
          if (existsSync(path.join(dir, '_data'))) return true; // made again meanwhile
          await fs.rm(dir, { recursive: true, force: true });
          return true;
        });
      add({ area: 'volumes', subject: name, problem: 'no _data directory (an interrupted removal)', repair: 'finish the removal' }, removed);
      continue;
    }
    if (why === undefined) continue;
    const data = await entries(path.join(dir, '_data'));
    const rest = (await entries(dir)).filter((n) => n !== '_data' && n !== 'volume.json');
    const empty = data.length === 0 && rest.length === 0;
    const action = empty ? 'remove the empty volume directory' : 'write volume.json again (its labels are lost; its data is kept)';
    let repaired = false;
    if (repair) {
      repaired = await withLock(volumeLockFile(ctx, name), async () => {
        // A creation may have finished between the look above and the lock (it holds the same lock): then it is whole.
        const now = await readJson<{ name?: unknown }>(file).catch(() => undefined);
        if (now?.name === name) return true;
        if (empty) {
          await fs.rmdir(path.join(dir, '_data')).catch(() => undefined);
          await fs.rm(file, { force: true });
          await fs.rmdir(dir);
        } else {
          const st = await fs.stat(dir);
          await writeJsonAtomic(file, { name, driver: 'local', labels: {}, created: Math.round(st.birthtimeMs || st.mtimeMs) });
        }
        return true;
      });
    }
    add({ area: 'volumes', subject: name, problem: why, repair: action }, repaired);
  }
  return count;
}

/** Scratch, mounts and RUN-step containers of builds whose process is gone. Returns how many build run directories. */
async function checkBuild(ctx: NativeContext, scan: Scan, repair: boolean, add: Add): Promise<number> {
  const root = path.join(ctx.paths.root, 'build');
  const runs = await entries(path.join(root, 'runs'));
  for (const name of runs) {
    const pid = Number(/^(\d+)-/.exec(name)?.[1]);
    if (pid === process.pid || pidAlive(pid)) continue;
    const dir = path.join(root, 'runs', name);
    if (repair) {
      await unmountAll(dir);
      await fs.rm(dir, { recursive: true, force: true });
    }
    add(
      {
        area: 'build',
        subject: `build/runs/${name}`,
        problem: `the scratch of a build that is gone (pid ${pid || '?'})`,
        repair: 'unmount and remove it',
      },
      repair,
    );
  }
  if (!scan.buildRunning) {
    for (const name of await entries(path.join(root, 'worker'))) {
      const dir = path.join(root, 'worker', name);
      if (repair) {
        await unmountAll(dir);
        await fs.rm(dir, { recursive: true, force: true });
      }
      add(
        { area: 'build', subject: `build/worker/${name}`, problem: 'the scratch of a RUN step of a build that is gone', repair: 'remove it' },
        repair,
      );
    }
    for (const id of await entries(ctx.paths.ociRoot)) {
      if (!/^[0-9a-f]{32}$/.test(id)) continue;
      if (repair) await ctx.oci.delete(id, true).catch(() => undefined);
      add(
        {
          area: 'build',
          subject: id,
          problem: 'an OCI runtime container of a RUN step of a build that is gone',
          repair: 'delete it (its process is killed)',
        },
        repair,
      );
    }
  }
  return runs.length;
}
