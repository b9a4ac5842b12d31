/**
 * The native runtime's state directory (default /var/lib/tscompose, `TSCOMPOSE_STATE_DIR` overrides):
 *
 *   containers/<id>/record.json   the container: name, labels, spec, image, state (written atomically)
 *   containers/<id>/bundle/       the OCI bundle (config.json); rootfs/ is the overlay mount, upper/ and work/ its layers
 *   containers/<id>/ctr.log       stdout/stderr in conmon's k8s-file format, appended across restarts; with
 *                                 `logging` rotation also ctr.log.<seq> and ctr.log.tmp (./log-files.ts)
 *   containers/<id>/exits/<id>    the exit code conmon writes when the container's process ends
 *   containers/<id>/etc/          hosts, hostname, resolv.conf bind-mounted into the container
 *   containers/<id>/image-config.json, overlay/<n>/, files/<n>   its image's config, overlay binds, secrets/configs (./container-files.ts)
 *   containers/.removing-<id>/    a container directory being removed: renamed there whole (atomically), its name
 *                                 released, then deleted; one left by a killed removal is finished by the next scan
 *   names/<name>                  the id holding a container name (StateStore.claimName)
 *   volumes/<name>/               named volumes: volume.json and _data/ (./volumes.ts)
 *   net/, dns/                    bridge networks' state and their DNS servers' (lib/net, lib/dns, ./netglue.ts)
 *   images/                       the image store (lib/image, ./images.ts)
 *   events.jsonl                  engine events, one JSON object per line (appended with O_APPEND); past 1 MiB it
 *                                 becomes events.jsonl.1 (./events-file.ts)
 *   locks/                        inter-process locks (src/lib/fs/lock.ts withLock)
 *
 * Runtime-only state (the OCI runtime's --root, conmon pid files) lives under a run directory on tmpfs
 * (`/run/tscompose/native-<hash of the state dir>`, `TSCOMPOSE_RUN_DIR` overrides), so a reboot leaves no stale
 * runtime state while records survive (their containers then show as exited).
 *
 * Both directories are the owner's alone (0700, as dockerd's /var/lib/docker; 0710 is left as it is, dockerd's mode
 * when a remapped root's group must traverse it): made so, or tightened, by the first write of a process
 * (StateStore.ensureSecure). Records keep no secret: the inline content of secrets and configs is written only to
 * files/<n> (container-mounts.ts), never into record.json.
 */
import { createHash } from 'node:crypto';
import { existsSync, linkSync, promises as fs, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { ContainerSpec, HealthStatus, Labels, MountInfo, PublishedPort } from '../runtime.js';
import { TsComposeError } from '../../errors.js';
import { errnoCode, isMissing } from '../../lib/errors.js';
import { atomicTempWriter, readJson, writeJsonAtomic } from '../../lib/fs/atomic.js';
import { lockHolder, withLock } from '../../lib/fs/lock.js';
import { mountsUnder, unmountAll } from '../../lib/fs/mounts.js';
import { pidAlive } from '../../lib/fs/proc.js';
import { markUnrelatedSubdirs } from '../../lib/fs/spread.js';

export interface NativePaths {
  readonly root: string;
  readonly run: string;
  readonly containers: string;
  readonly volumes: string;
  readonly images: string;
  readonly locks: string;
  readonly events: string;
  /** The OCI runtime's `--root`. */
  readonly ociRoot: string;
}

/** The layout under the state and run directories (`TSCOMPOSE_STATE_DIR` and `TSCOMPOSE_RUN_DIR`, read by ./context.ts). */
export function nativePaths(dirs: { readonly stateDir?: string | undefined; readonly runDir?: string | undefined }): NativePaths {
  const root = path.resolve(dirs.stateDir ?? '/var/lib/tscompose');
  const run = path.resolve(dirs.runDir ?? `/run/tscompose/native-${createHash('sha256').update(root).digest('hex').slice(0, 12)}`);
  return {
    root,
    run,
    containers: path.join(root, 'containers'),
    volumes: path.join(root, 'volumes'),
    images: path.join(root, 'images'),
    locks: path.join(root, 'locks'),
    events: path.join(root, 'events.jsonl'),
    ociRoot: path.join(run, 'oci'),
  };
}

export interface HealthState {
  status: HealthStatus;
  failingStreak: number;
  log: { start: string; end: string; exitCode: number; output: string }[];
}

export interface ContainerState {
  /** What the last command or the exit hook recorded; `running`/`paused` are checked against the exit file. */
  /** `restarting`: exited, and the restart policy will start it again after its back-off. */
  status: 'created' | 'running' | 'paused' | 'exited' | 'restarting';
  pid?: number;
  conmonPid?: number;
  startedAt?: string;
  finishedAt?: string;
  exitCode: number;
  restartCount: number;
  /** Set by stop/kill: restart policies (other than `always` after a daemon restart) leave it stopped. */
  stoppedByUser: boolean;
  health?: HealthState;
  /**
   * The run ended without an exit of its own (no exit file, conmon gone: the machine went down, or conmon was
   * killed): `resume` brings back such `on-failure` containers. Cleared by the next start.
   */
  interrupted?: boolean;
  /** The boot (lib/fs/proc.ts bootId) of the last start: a run or a restart back-off of another boot is over. */
  bootId?: string;
  /** Increases with every start: the exit hook and health monitor act only on the run they were made for. */
  generation: number;
  /** While running on bridge networks: network name → endpoint. */
  endpoints?: Record<string, { networkId: string; ip: string; aliases: string[] }>;
  publishedPorts?: PublishedPort[];
}

export interface ContainerRecord {
  id: string;
  name: string;
  image: string;
  imageId: string;
  labels: Labels;
  /** Unix ms. */
  created: number;
  hostname: string;
  spec: ContainerSpec;
  mounts: MountInfo[];
  /** Named volumes this container created for its anonymous volumes (removed with `rm -v`). */
  anonymousVolumes: string[];
  state: ContainerState;
  /** Set while `create` is under way (the creating CLI's pid): such a record is not a container yet. */
  creating?: number;
}

const HEX64 = /^[0-9a-f]{64}$/;
/** A container name as Docker allows it (so also a safe file name under names/). */
const CONTAINER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
/** The prefix of a container directory being removed (containers/.removing-<id>). */
const TOMBSTONE = '.removing-';

/** The ids of tombstones among the entries of containers/. */
export function tombstoneIds(entries: readonly string[]): string[] {
  return entries.flatMap((n) => (n.startsWith(TOMBSTONE) && HEX64.test(n.slice(TOMBSTONE.length)) ? [n.slice(TOMBSTONE.length)] : []));
}

/** The modes a state or run directory may keep: the owner's alone, or dockerd's 0710 for a remapped root's group. */
const PRIVATE_DIR_MODES = new Set([0o700, 0o710]);

/** Makes `dir` (missing parents with the usual modes) and leaves it the owner's alone: 0700 unless already 0700 or 0710. */
export async function securePrivateDir(dir: string): Promise<void> {
  const st = await fs.stat(dir).catch((e: unknown) => {
    if (isMissing(e)) return undefined;
    throw e;
  });
  if (st !== undefined) {
    if (!PRIVATE_DIR_MODES.has(st.mode & 0o7777)) await fs.chmod(dir, 0o700);
    return;
  }
  await fs.mkdir(path.dirname(dir), { recursive: true }); // parents with the usual modes
  try {
    await fs.mkdir(dir, { mode: 0o700 }); // a umask only takes bits away
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    const raced = await fs.stat(dir); // made meanwhile by another process
    if (!PRIVATE_DIR_MODES.has(raced.mode & 0o7777)) await fs.chmod(dir, 0o700);
  }
}

/** The record as written to disk: secrets' and configs' inline content left out (it lives in files/<n> only). */
export function recordForDisk(record: ContainerRecord): ContainerRecord {
  const files = record.spec.files;
  if (files === undefined || !files.some((f) => f.content !== undefined)) return record;
  return { ...record, spec: { ...record.spec, files: files.map(({ content: _content, ...f }) => f) } };
}

/** Written once the state's (or run) directories were marked for spreading (lib/fs/spread.ts). */
const SPREAD_MARKER = '.spread';

export class StateStore {
  private secured: Promise<void> | undefined;

  constructor(readonly paths: NativePaths) {}

  /**
   * The state and run directories made (or tightened to) the owner's alone, once per process: before anything of
   * a container is written (the name claim and record writes call it).
   */
  ensureSecure(): Promise<void> {
    this.secured ??= Promise.all([securePrivateDir(this.paths.root), securePrivateDir(this.paths.run)]).then(
      // Once per directory (a marker): container directories, and the run and OCI runtime directories made per
      // container, spread over the file system's block groups (lib/fs/spread.ts).
      () =>
        Promise.all([
          markUnrelatedSubdirs([this.paths.containers], path.join(this.paths.root, SPREAD_MARKER)),
          markUnrelatedSubdirs([this.paths.run, this.paths.ociRoot], path.join(this.paths.run, SPREAD_MARKER)),
        ]).then(() => undefined),
      (e: unknown) => {
        this.secured = undefined;
        throw e;
      },
    );
    return this.secured;
  }

  containerDir(id: string): string {
    return path.join(this.paths.containers, id);
  }

  recordFile(id: string): string {
    return path.join(this.containerDir(id), 'record.json');
  }

  exitFile(id: string): string {
    return path.join(this.containerDir(id), 'exits', id);
  }

  /** The container's lock (lib/fs/lock.ts): held by record updates, and by a creation until its first record is written. */
  lockFile(id: string): string {
    return path.join(this.paths.locks, `c-${id}`);
  }

  logFile(id: string): string {
    return path.join(this.containerDir(id), 'ctr.log');
  }

  async read(id: string): Promise<ContainerRecord | undefined> {
    try {
      return await readJson<ContainerRecord>(this.recordFile(id));
    } catch {
      return undefined; // a torn read cannot happen (atomic rename); a corrupt file is treated as absent
    }
  }

  async write(record: ContainerRecord): Promise<void> {
    await this.ensureSecure();
    await writeJsonAtomic(this.recordFile(record.id), recordForDisk(record));
  }

  async ids(): Promise<string[]> {
    return (await this.entries()).filter((n) => HEX64.test(n));
  }

  private async entries(): Promise<string[]> {
    try {
      return await fs.readdir(this.paths.containers);
    } catch (e) {
      if (isMissing(e)) return [];
      throw e;
    }
  }

  /** Where a container's directory goes while it is removed (same filesystem: the rename is atomic). */
  tombstoneDir(id: string): string {
    return path.join(this.paths.containers, `${TOMBSTONE}${id}`);
  }

  /** Ids of removals under way or interrupted (containers/.removing-<id>). */
  async tombstones(): Promise<string[]> {
    return tombstoneIds(await this.entries());
  }

  /**
   * Removes a container's directory so that a kill at any point leaves something the next command finishes: the
   * directory renamed whole to its tombstone (the record goes with it: the container is gone at once), its name
   * claim released, then the tombstone deleted (finishRemoval). The caller has made sure nothing is mounted under
   * it. Idempotent: with no directory left, a tombstone left by an earlier run is finished.
   */
  async removeContainerDir(id: string): Promise<void> {
    const tomb = this.tombstoneDir(id);
    // One left by an earlier removal (a late write re-made the directory meanwhile) is finished first.
    if (existsSync(tomb)) await this.finishRemoval(id);
    try {
      await fs.rename(this.containerDir(id), tomb);
    } catch (e) {
      if (!isMissing(e)) throw e;
    }
    // The mount table is not read again: the caller has just done so (with 100 containers up it is ~40 KB).
    await this.finishRemoval(id, { unmounted: true });
  }

  /**
   * Finishes the removal of a tombstone: the name claim its record holds released, the container's lock file and the
   * tombstone deleted. Never deletes through a mount: what is still mounted under it is unmounted first, and a
   * mount that stays is an error (TSC_NATIVE_BUSY) with the tombstone left in place. `unmounted`: the caller has
   * just seen nothing mounted under the directory it renamed.
   */
  async finishRemoval(id: string, opts: { unmounted?: boolean } = {}): Promise<void> {
    const tomb = this.tombstoneDir(id);
    if (opts.unmounted !== true && (await mountsUnder(tomb)).length > 0) {
      await unmountAll(tomb).catch(() => undefined);
      const left = await mountsUnder(tomb);
      if (left.length > 0) {
        throw new TsComposeError('TSC_NATIVE_BUSY', `cannot remove container ${id.slice(0, 12)}: ${left[0]} is still mounted`, {
          hint: `umount it (umount -l ${left[0]}) and retry`,
        });
      }
    }
    // Gone already when the deletion below had begun: the name was released before it.
    const rec = await readJson<ContainerRecord>(path.join(tomb, 'record.json')).catch(() => undefined);
    if (rec?.id === id) await this.releaseName(rec.name, id);
    await fs.rm(this.lockFile(id), { recursive: true, force: true });
    await fs.rm(tomb, { recursive: true, force: true });
  }

  /**
   * Makes a new container's directory and writes its first record, holding the container's lock meanwhile: until
   * the record is there, the lock's holder tells a creation under way from one whose CLI was killed.
   */
  async createContainerDir(record: ContainerRecord): Promise<void> {
    await withLock(this.lockFile(record.id), async () => {
      await fs.mkdir(path.join(this.containerDir(record.id), 'bundle'), { recursive: true });
      await this.write(record);
    });
  }

  /**
   * Whether a container directory without a record was abandoned. A creation makes the directory and writes its first
   * record holding the container's lock (createContainerDir): one whose lock has no live holder, older than 30 s, or
   * holding anything else (left by a removal that an older version, deleting the directory in place, was killed
   * in) is no creation under way. One whose record is there but unreadable is not abandoned either: its files are
   * the user's (`check` reports it).
   */
  async recordlessAbandoned(id: string): Promise<boolean> {
    const dir = this.containerDir(id);
    const [st, names] = await Promise.all([fs.stat(dir).catch(() => undefined), fs.readdir(dir).catch(() => undefined)]);
    if (!st || !names || names.includes('record.json')) return false;
    if (Date.now() - st.mtimeMs > 30_000 || !names.every((n) => n === 'bundle' || atomicTempWriter(n) !== undefined)) return true;
    const holder = lockHolder(this.lockFile(id));
    if (holder !== undefined && pidAlive(holder)) return false;
    // No live holder: the creation died, or has just written its record and let go of the lock (read again).
    return !existsSync(this.recordFile(id));
  }

  /** Every container (records of creations under way or abandoned left out: see `abandoned`). */
  async all(): Promise<ContainerRecord[]> {
    return (await this.scan()).containers;
  }

  /**
   * Ids of creations whose CLI died (kill -9 during `create`): a record still marked `creating` by a dead pid, or a
   * directory left without any record (see recordlessAbandoned).
   */
  async abandoned(): Promise<string[]> {
    return (await this.scan()).abandoned;
  }

  /**
   * One pass over the state directory: the containers, and the abandoned creations. Removals a killed command left
   * (tombstones) are finished on the way (one that cannot be, something being mounted under it, is left for `check`).
   */
  async scan(): Promise<{ containers: ContainerRecord[]; abandoned: string[] }> {
    const entries = await this.entries();
    for (const id of tombstoneIds(entries)) await this.finishRemoval(id).catch(() => undefined);
    const ids = entries.filter((n) => HEX64.test(n));
    const records = await Promise.all(ids.map((id) => this.read(id)));
    const containers: ContainerRecord[] = [];
    const abandoned: string[] = [];
    for (const [i, r] of records.entries()) {
      if (r === undefined) {
        if (await this.recordlessAbandoned(ids[i]!)) abandoned.push(ids[i]!);
      } else if (r.creating === undefined) containers.push(r);
      else if (!pidAlive(r.creating)) abandoned.push(r.id);
    }
    return { containers, abandoned };
  }

  /** Full id, unique id prefix, or name (with or without a leading slash). */
  async find(idOrName: string): Promise<ContainerRecord | undefined> {
    const key = idOrName.replace(/^\//, '');
    if (/^[0-9a-f]{64}$/.test(key)) {
      const r = await this.read(key);
      if (r && r.creating === undefined) return r;
    }
    // By its name claim first (names/<name> holds the id): one record read instead of all of them, which the engine's
    // start of each container by name made quadratic (10,000 record reads in an `up` of 100 services).
    if (CONTAINER_NAME.test(key)) {
      const holder = (await fs.readFile(this.nameFile(key), 'utf8').catch(() => '')).trim();
      const r = HEX64.test(holder) ? await this.read(holder) : undefined;
      if (r && r.name === key && r.creating === undefined) return r;
    }
    const all = await this.all();
    const byName = all.find((r) => r.name === key);
    if (byName) return byName;
    if (/^[0-9a-f]{3,63}$/.test(key)) {
      const matches = all.filter((r) => r.id.startsWith(key));
      if (matches.length === 1) return matches[0];
    }
    return undefined;
  }

  /** Read-modify-write of a record under its lock. `fn` returns the new record (or undefined to leave it). */
  async update(
    id: string,
    fn: (r: ContainerRecord) => ContainerRecord | undefined | Promise<ContainerRecord | undefined>,
  ): Promise<ContainerRecord | undefined> {
    // Not for a removed container: taking its lock would re-create the state directory (a late exit hook).
    if (!(await this.read(id))) return undefined;
    return withLock(this.lockFile(id), async () => {
      const r = await this.read(id);
      if (!r) return undefined;
      const next = await fn(r);
      if (next) await this.write(next);
      return next ?? r;
    });
  }

  nameFile(name: string): string {
    return path.join(this.paths.root, 'names', name);
  }

  /**
   * Claims a container name for `id`: an exclusive create of names/<name> (atomic, no global lock). A claim whose
   * container record is gone (a crashed create) is taken over. Returns the id holding the name when it is taken.
   */
  async claimName(name: string, id: string): Promise<string | undefined> {
    await this.ensureSecure();
    const file = this.nameFile(name);
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await fs.writeFile(file, id, { flag: 'wx' });
        return undefined;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') {
          await fs.mkdir(path.dirname(file), { recursive: true });
          continue;
        }
        if (code !== 'EEXIST') throw e;
      }
      const holder = (await fs.readFile(file, 'utf8').catch(() => '')).trim();
      if (holder && holder !== id && (await this.read(holder))?.name === name) return holder;
      if (holder === id) return undefined;
      // Stale: its container is gone or was renamed. Take it over (the old name file of a rename is removed after).
      await fs.rm(file, { force: true });
    }
    return undefined;
  }

  async releaseName(name: string, id: string): Promise<void> {
    const holder = (await fs.readFile(this.nameFile(name), 'utf8').catch(() => '')).trim();
    if (holder === id) await fs.rm(this.nameFile(name), { force: true });
  }

  /** Marks that the CLI is stopping the container: conmon's exit command then leaves the exit to the CLI. */
  stoppingFile(id: string): string {
    return path.join(this.containerDir(id), 'stopping');
  }

  /**
   * Makes the container's stopping file (only its existence counts) as a hard link to one empty file of the state
   * directory: a link takes no new inode. On an ext4 without a journal each new inode is found past every inode freed
   * in the last minute, which after a `down` cost ~0.5 ms per file, and the 20 stops of a `down` waited for theirs
   * through the thread pool in turn (~30 ms each, median). A link is ~15 µs: made synchronously, so each stop
   * signals at once. Written as a file of its own when no link can be made (another file system, too many links).
   * Never throws: a container whose directory is gone needs no mark.
   */
  markStopping(id: string): void {
    const file = this.stoppingFile(id);
    const empty = path.join(this.paths.root, 'stopping.empty');
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        linkSync(empty, file);
        return;
      } catch (e) {
        const code = errnoCode(e);
        if (code === 'EEXIST') return;
        if (code === 'ENOENT' && !existsSync(path.dirname(file))) return;
        if (code !== 'ENOENT' || attempt > 0) break;
        try {
          writeFileSync(empty, '', { flag: 'wx', mode: 0o600 });
        } catch {
          // made by another process meanwhile, or not writable: linked or written below
        }
      }
    }
    try {
      writeFileSync(file, '');
    } catch {
      // the directory went meanwhile
    }
  }

  /** The lock for names (create, rename): names are unique among containers. */
  withNamesLock<T>(fn: () => Promise<T>): Promise<T> {
    return withLock(path.join(this.paths.locks, 'names'), fn);
  }

  async readExitCode(id: string): Promise<{ code: number; at: Date } | undefined> {
    // Asked of every running container by every command (its live status): a missing file, the usual answer, is
    // one stat without an exception thrown and caught.
    const st = statSync(this.exitFile(id), { throwIfNoEntry: false });
    if (st === undefined) return undefined;
    try {
      // Synchronous, as records are: a few bytes, and waiting stops read it on every wake.
      const text = readFileSync(this.exitFile(id), 'utf8');
      // conmon writes it whole (temp file + rename); an empty one is taken as not written yet.
      if (text.trim() === '') return undefined;
      const code = Number.parseInt(text.trim(), 10);
      return { code: Number.isNaN(code) ? -1 : code, at: st.mtime };
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw e;
    }
  }
}
