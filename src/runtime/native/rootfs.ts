/**
 * A native container's root filesystem: an overlay mount of the image layers (read-only) with the container's own
 * upper and work directories under its state directory, and the unmounting of it and of everything mounted below.
 * A remapped container (user namespace, ./userns/) has its range in `userns.json` beside them: its lower layers are
 * the chowned copies for that range and its upper and work directories belong to the range's root. Its rootfs is
 * also bound at `/run/tscompose-userns/<range>/<id>`, the path its config.json names: runc mounts the rootfs from inside the
 * user namespace, where the remapped root cannot search the state directory's parents (a temp dir, a 0700 state
 * dir); dockerd asks for o+x on every parent of its root instead.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { TsComposeError } from '../../errors.js';
import { coalescing } from '../../lib/coalesce.js';
import { sharedSpawner } from '../../lib/proc/spawner.js';
import { isMounted, mountsUnder, onOwnDevice } from '../../lib/fs/mounts.js';
import type { NativeContext } from './context.js';
import { usernsRunDir, type IdRange } from './userns/idmap.js';
import { ensureUsernsRunDir } from './userns/rundir.js';
import { pruneRemappedLayers, remappedLowerdir } from './userns/layers.js';

const execFileP = promisify(execFile);

/** Where the container's rootfs is mounted: its bundle's `rootfs`. */
export function rootfsDir(ctx: NativeContext, id: string): string {
  return path.join(ctx.state.containerDir(id), 'bundle', 'rootfs');
}

export { isMounted, mountsUnder } from '../../lib/fs/mounts.js';

/** The user-namespace remap a container was created with (its `userns.json`), undefined for none. */
export async function containerUserns(ctx: NativeContext, id: string): Promise<IdRange | undefined> {
  const text = await fs.readFile(path.join(ctx.state.containerDir(id), 'userns.json'), 'utf8').catch(() => undefined);
  return text === undefined ? undefined : (JSON.parse(text) as IdRange);
}

/**
 * Mounts the container's overlay rootfs (image layers read-only, its own upper and work dirs) unless mounted.
 * `userns` (at creation only) records the container's remap; later mounts read it back.
 */
export async function mountRootfs(
  ctx: NativeContext,
  id: string,
  lower: { cwd: string; lowerdir: string },
  options: { userns?: IdRange | undefined } = {},
): Promise<string> {
  const dir = ctx.state.containerDir(id);
  const target = rootfsDir(ctx, id);
  const userns = 'userns' in options ? options.userns : await containerUserns(ctx, id);
  // No read of the mount table (~40 KB with 100 containers up) at a creation (the path does not exist yet) or at a
  // start after it (the overlay has a device of its own); only a rootfs left unmounted (a reboot) is looked up.
  if (existsSync(target) && (onOwnDevice(target) || (await isMounted(target)))) return userns ? bindForUserns(id, target, userns) : target;
  await Promise.all([
    fs.mkdir(target, { recursive: true }),
    fs.mkdir(path.join(dir, 'upper'), { recursive: true }),
    fs.mkdir(path.join(dir, 'work'), { recursive: true }),
  ]);
  if ('userns' in options && userns) await fs.writeFile(path.join(dir, 'userns.json'), JSON.stringify(userns));
  if (userns) {
    lower = await remappedLowerdir(lower, ctx.usernsLayers, userns);
    await Promise.all(['upper', 'work'].map((d) => fs.chown(path.join(dir, d), userns.uid, userns.gid)));
  }
  const opts = `lowerdir=${lower.lowerdir},upperdir=${path.join(dir, 'upper')},workdir=${path.join(dir, 'work')}`;
  // With the mounts of the containers created at the same time, as one process; alone when that did not mount it.
  await mountMerged({ ctx, target, options: opts, cwd: lower.cwd }).catch(() => undefined);
  if (onOwnDevice(target)) return userns ? bindForUserns(id, target, userns) : target;
  // Started by the context's helper, not forked from this process (lib/proc/spawner.ts).
  const r = await ctx.spawner.run({ command: 'mount', args: overlayMountArgs(opts, target), cwd: lower.cwd });
  if (r.code !== 0) {
    // A layer's link gone (an install killed before making it, by a version before the store re-made such links):
    // mount says only "special device overlay does not exist".
    const missing = lower.lowerdir.split(':').find((l) => !existsSync(path.resolve(lower.cwd, l)));
    throw new TsComposeError(
      'TSC_NATIVE_MOUNT',
      `cannot mount the root filesystem of container ${id.slice(0, 12)}: ${(r.stderr || r.stdout || `mount exited with status ${r.code}`).trim()}${
        missing === undefined ? '' : ` (the image layer ${path.resolve(lower.cwd, missing)} is missing)`
      }`,
      {
        hint:
          missing === undefined
            ? 'the native runtime needs root and overlayfs; its state directory must not itself be on overlayfs (set TSCOMPOSE_STATE_DIR)'
            : '`tscompose --runtime native check --repair` makes the image store whole again (or pull the image again)',
      },
    );
  }
  return userns ? bindForUserns(id, target, userns) : target;
}

interface OverlayMount {
  readonly ctx: NativeContext;
  readonly target: string;
  /** `lowerdir=…,upperdir=…,workdir=…`; the lower directories relative to `cwd`. */
  readonly options: string;
  readonly cwd: string;
}

/**
 * Overlay mounts asked for at the same time (the creations of an `up`), as one `mount -a -T FSTAB` per helper and
 * layer directory: util-linux mounts every line of that file in one process (20 rootfs: ~10 ms against ~45 ms for
 * 20 `mount` processes). Nothing is reported from here: mount -a goes on past a failing line, and each caller looks
 * at its own target afterwards (mountRootfs: not mounted, it mounts it alone and reports that error).
 */
const mountMerged = coalescing<OverlayMount>(async (mounts) => {
  const groups = new Map<NativeContext, Map<string, OverlayMount[]>>();
  for (const m of mounts) {
    const byCwd = groups.get(m.ctx) ?? new Map<string, OverlayMount[]>();
    byCwd.set(m.cwd, [...(byCwd.get(m.cwd) ?? []), m]);
    groups.set(m.ctx, byCwd);
  }
  await Promise.all([...groups].flatMap(([ctx, byCwd]) => [...byCwd].map(([cwd, group]) => mountAll(ctx, cwd, group))));
});

async function mountAll(ctx: NativeContext, cwd: string, group: readonly OverlayMount[]): Promise<void> {
  // A lone one as before (no file to write); if it fails, mountRootfs runs it again for its error.
  if (group.length === 1) {
    await ctx.spawner.run({ command: 'mount', args: overlayMountArgs(group[0]!.options, group[0]!.target), cwd, output: 'ignore' });
    return;
  }
  // Named as an atomic write's temp file (lib/fs/atomic.ts): `check` removes one whose writer was killed.
  const fstab = path.join(ctx.paths.run, `.mounts.fstab.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await fs.writeFile(fstab, group.map((m) => `overlay ${fstabField(m.target)} overlay ${fstabField(m.options)} 0 0\n`).join(''), { mode: 0o600 });
    await ctx.spawner.run({ command: 'mount', args: ['-a', '-T', fstab], cwd, output: 'ignore' });
  } finally {
    await fs.rm(fstab, { force: true });
  }
}

/** `mount`'s arguments for one overlay at `target`. */
function overlayMountArgs(options: string, target: string): string[] {
  return ['-t', 'overlay', 'overlay', '-o', options, target];
}

/** A field of an fstab line: ASCII whitespace and backslashes octal-escaped, as libmount reads them back. */
export function fstabField(value: string): string {
  return value.replace(/[ \t\n\r\v\f\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
}

/** Binds a remapped container's rootfs at /run/tscompose-userns/<range>/<id> (./userns/idmap.ts), unless bound. */
async function bindForUserns(id: string, target: string, range: IdRange): Promise<string> {
  const pub = path.join(usernsRunDir(range), id);
  if (await isMounted(pub)) return pub;
  await ensureUsernsRunDir(range);
  await fs.mkdir(pub, { recursive: true, mode: 0o700 });
  await execFileP('mount', ['--bind', target, pub]).catch((e: unknown) => {
    throw new TsComposeError(
      'TSC_NATIVE_MOUNT',
      `cannot bind the root filesystem of container ${id.slice(0, 12)} at ${pub}: ${String((e as { stderr?: string }).stderr ?? e).trim()}`,
    );
  });
  return pub;
}

/**
 * `umount` of mount points asked for at the same time, as one process (containers stopping together) started by
 * the helper shell (lib/proc/spawner.ts); failures are not reported: the caller checks /proc/self/mountinfo again and retries what is left.
 */
const umountMerged = coalescing<string>(async (points) => {
  await sharedSpawner().run({ command: 'umount', args: points, output: 'ignore' });
});

/**
 * Unmounts the container's rootfs and overlay volumes (everything mounted under its directory). A remapped one's
 * bind for runc goes too, and so do the chowned copies of layers no longer in the image store. Returns what is
 * still mounted under its directory (nothing, unless a mount would not go).
 */
export async function unmountRootfs(ctx: NativeContext, id: string): Promise<string[]> {
  const dir = ctx.state.containerDir(id);
  const userns = await containerUserns(ctx, id).catch(() => undefined);
  if (userns) {
    const pub = path.join(usernsRunDir(userns), id);
    if (await isMounted(pub)) await execFileP('umount', [pub]).catch(() => execFileP('umount', ['-l', pub]).catch(() => undefined));
    await fs.rmdir(pub).catch(() => undefined);
    // The user namespace others joined (./userns/join.ts).
    const ns = `${pub}.userns`;
    if (await isMounted(ns)) await execFileP('umount', ['-l', ns]).catch(() => undefined);
    await fs.rm(ns, { force: true }).catch(() => undefined);
    await pruneRemappedLayers(ctx.usernsLayers, ctx.paths.images).catch(() => undefined);
  }
  // The rootfs is normally the only mount: it goes without reading the mount table first (the kernel writes the
  // whole table out for each read, ~10 KB with 20 containers up), which is then read once to see what is left.
  let points = [rootfsDir(ctx, id)];
  for (let round = 0; round < 5; round++) {
    for (const p of points) {
      if (round < 4) await umountMerged(p);
      else await execFileP('umount', ['-l', p]).catch(() => undefined);
    }
    if (round > 0) await sleep(100);
    points = await mountsUnder(dir);
    if (points.length === 0) break;
  }
  return points;
}
