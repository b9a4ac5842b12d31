/**
 * A new container's volume mounts: named and anonymous volumes (the compose file's and the image's VOLUMEs, with
 * Docker's copy-up of the image's content), volumes_from, overlay-backed binds, secrets and configs (their files:
 * ./container-files.ts). Plain binds and tmpfs are mounted by the OCI spec (./oci/oci-spec.ts).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { TsComposeError } from '../../errors.js';
import type { StoredImage } from '../../lib/image/store.js';
import { NotFoundError } from '../errors.js';
import type { ContainerSpec, MountInfo } from '../runtime.js';
import type { NativeContext } from './context.js';
import { fileMountSource } from './container-files.js';
import { pidAlive } from '../../lib/fs/proc.js';
import { isMounted } from './rootfs.js';
import { ociSpecOf } from './monitor/record.js';
import { ociSpecToJson } from './oci/oci-spec.js';
import type { ImageRunConfig, OciMount } from './oci/spec-types.js';
import { secureJoin } from './secure-path.js';
import { unsupported } from './unsupported.js';
import { volumeDataDir, type VolumeService } from './volumes.js';
import type { IdRange } from './userns/idmap.js';

const execFileP = promisify(execFile);

/**
 * The container's volume mounts as OCI mounts, and as the runtime port reports them. An empty named or anonymous
 * volume is filled with the image's content at its target first, unless `nocopy`. `anonymous`: the names of the
 * volumes made for (or inherited by) the anonymous ones, removed with the container by `rm -v`.
 */
export async function volumeMounts(
  ctx: NativeContext,
  volumes: VolumeService,
  c: { id: string; spec: ContainerSpec; image: StoredImage; rootfs: string; userns?: IdRange | undefined },
): Promise<{ oci: OciMount[]; info: MountInfo[]; anonymous: string[] }> {
  const { id, spec, image, rootfs, userns } = c;
  const oci: OciMount[] = [];
  const anonymous: string[] = [];
  const info: MountInfo[] = [];
  const dir = ctx.state.containerDir(id);
  // Anonymous volumes of the container this one replaces (recreate without -V), by target.
  const inherited = new Map<string, string>();
  if (spec.inheritVolumesFrom !== undefined) {
    const old = await ctx.state.find(spec.inheritVolumesFrom);
    for (const name of old?.anonymousVolumes ?? []) {
      const m = old!.mounts.find((x) => x.type === 'volume' && x.source === name);
      if (m) inherited.set(m.target, name);
    }
  }
  const mounts = [...(spec.mounts ?? [])];
  // volumes_from: the other container's volumes and binds, at the same targets (`:ro` makes them read-only).
  for (const ref of spec.volumesFrom ?? []) {
    const [name, mode] = ref.split(':') as [string, string | undefined];
    const other = await ctx.state.find(name);
    if (!other) throw new NotFoundError('container', name, { hint: `volumes_from: no container named ${name}` });
    for (const om of other.mounts) {
      if (mounts.some((m) => m.target === om.target) || (om.type !== 'volume' && om.type !== 'bind')) continue;
      mounts.push({
        type: om.type,
        source: om.source,
        target: om.target,
        readOnly: mode === 'ro' || (mode !== 'rw' && om.readOnly),
        noCopy: true,
        createHostPath: false,
      });
    }
  }
  const imageVolumes = Object.keys((image.config.config as ImageRunConfig | undefined)?.Volumes ?? {});
  for (const target of imageVolumes) if (!mounts.some((m) => m.target === target)) mounts.push({ type: 'volume', target });
  let n = 0;
  for (const m of mounts) {
    if (m.type === 'tmpfs') continue;
    if (m.type === 'image') throw unsupported('an image mount', 'use a bind mount or a volume');
    if (m.type === 'bind') {
      const source = m.source ?? '';
      if (!(await fs.stat(source).catch(() => undefined))) {
        if (m.createHostPath === false) {
          throw new TsComposeError('TSC_BIND_SOURCE_MISSING', `invalid mount config for type "bind": bind source path does not exist: ${source}`);
        }
        await fs.mkdir(source, { recursive: true });
      }
      if (m.overlay) {
        // Overlay-backed: the host directory is the read-only lower layer; writes go to this container's upper.
        const o = path.join(dir, 'overlay', String(n++));
        await Promise.all(['upper', 'work', 'merged'].map((d) => fs.mkdir(path.join(o, d), { recursive: true })));
        // under a user-namespace remap the overlay's root (its upper directory's) belongs to the remapped root, so
        // the container can write there as it could in a directory of its own (not in host-root-owned ones below)
        if (userns) await fs.chown(path.join(o, 'upper'), userns.uid, userns.gid);
        if (!(await isMounted(path.join(o, 'merged')))) {
          await execFileP('mount', [
            '-t',
            'overlay',
            'overlay',
            '-o',
            `lowerdir=${source},upperdir=${path.join(o, 'upper')},workdir=${path.join(o, 'work')}`,
            path.join(o, 'merged'),
          ]).catch((e: unknown) => {
            throw new TsComposeError(
              'TSC_NATIVE_MOUNT',
              `cannot mount the overlay volume ${source}:${m.target}:O: ${String((e as { stderr?: string }).stderr ?? e).trim()}`,
            );
          });
        }
        oci.push({
          destination: m.target,
          type: 'bind',
          source: path.join(o, 'merged'),
          options: ['rbind', 'rprivate', ...(m.readOnly ? ['ro'] : [])],
        });
      }
      info.push({ type: 'bind', source, target: m.target, readOnly: m.readOnly === true });
      continue;
    }
    let name = m.source;
    if (name === undefined || name === '') {
      name = inherited.get(m.target);
      if (name === undefined) {
        const fresh = randomBytes(32).toString('hex');
        // Named in the creation's placeholder record before it is made: a creation that fails or is killed from here
        // on removes it with itself (ContainerService.destroyCreation); an anonymous volume no record names would stay.
        await ctx.state.update(id, (r) => ({ ...r, anonymousVolumes: [...r.anonymousVolumes, fresh] }));
        await volumes.create({ name: fresh, labels: { 'com.docker.volume.anonymous': '' } });
        name = fresh;
      }
      anonymous.push(name);
    } else if (!(await volumes.exists(name))) {
      await volumes.create({ name, labels: {} });
    }
    const data = volumes.dataDir(name);
    // A subpath mounts part of the volume's content: nothing of the image's is copied into it.
    if (!m.noCopy && !m.subpath) await copyUp(rootfs, m.target, data);
    // A subpath is checked and resolved when the container starts (refreshSubpaths), as Docker does: a dependency
    // started before it may make the directory.
    const source = m.subpath ? path.join(data, cleanSubpath(data, m.subpath)) : data;
    oci.push({ destination: m.target, type: 'bind', source, options: ['rbind', 'rprivate', ...(m.readOnly ? ['ro'] : [])] });
    info.push({ type: 'volume', source: name, target: m.target, readOnly: m.readOnly === true });
  }
  // Secrets and configs: files bound read-only (./container-files.ts writes those that need a copy of their own).
  for (const [i, f] of (spec.files ?? []).entries()) {
    const source = await fileMountSource(path.join(dir, 'files'), i, f);
    oci.push({ destination: f.target, type: 'bind', source, options: ['rbind', 'rprivate', 'ro'] });
    info.push({ type: 'bind', source, target: f.target, readOnly: true });
  }
  return { oci, info, anonymous };
}

/** A volume subpath normalised; `..` and absolute paths refused (moby's safepath message). */
function cleanSubpath(data: string, subpath: string): string {
  const clean = path.posix.normalize(subpath);
  if (clean === '..' || clean.startsWith('../') || path.posix.isAbsolute(subpath))
    throw new TsComposeError('TSC_INVALID_MOUNT', `path concatenation escapes the base directory, base: ${data}, subpath: ${subpath}`);
  return clean;
}

/**
 * compose `volume.subpath`: that directory (or file) of the volume, which must exist; symlinks resolved inside the
 * volume, `..` refused, as moby's safepath.Join (same messages).
 */
export async function volumeSubpath(data: string, subpath: string): Promise<string> {
  const clean = cleanSubpath(data, subpath);
  const full = await secureJoin(data, clean);
  if (!(await fs.stat(full).catch(() => undefined))) {
    const shown = path.join(data, clean);
    throw new TsComposeError('TSC_VOLUME_SUBPATH_MISSING', `cannot access path ${shown}: lstat ${shown}: no such file or directory`, {
      hint: 'a volume subpath must exist in the volume: create it there first (e.g. with a service that mounts the whole volume)',
    });
  }
  return full;
}

/**
 * Before a start: each volume subpath checked (it must exist now) and resolved, and config.json rewritten when a
 * resolved path differs from the one it names. Docker checks a subpath when the container starts, not at create.
 */
export async function refreshSubpaths(ctx: NativeContext, r: { id: string; spec: ContainerSpec; mounts: readonly MountInfo[] }): Promise<void> {
  const subpaths = (r.spec.mounts ?? []).filter((m) => m.type === 'volume' && m.subpath);
  if (subpaths.length === 0) return;
  const oci = await ociSpecOf(ctx, r.id);
  let changed = false;
  for (const m of subpaths) {
    const name = r.mounts.find((x) => x.type === 'volume' && x.target === m.target)?.source;
    if (name === undefined) continue;
    const source = await volumeSubpath(volumeDataDir(ctx, name), m.subpath!);
    oci.mounts = oci.mounts.map((o) => {
      if (o.destination !== m.target || o.type !== 'bind' || o.source === source) return o;
      changed = true;
      return { ...o, source };
    });
  }
  if (changed) await fs.writeFile(path.join(ctx.state.containerDir(r.id), 'bundle', 'config.json'), ociSpecToJson(oci));
}

/**
 * Docker's volume copy-up: an empty volume gets the image's content at `target` (owners and modes kept). A marker
 * beside the data (`copy-up`, the copying process's pid) says a copy is under way: one whose process is gone was cut
 * off (a `kill -9` of the CLI during the copy) and is done again over what it left, instead of the volume staying
 * half-filled because it is no longer empty. Exported for tests.
 */
export async function copyUp(rootfs: string, target: string, data: string): Promise<void> {
  const marker = path.join(path.dirname(data), 'copy-up');
  const cutOff = await fs.readFile(marker, 'utf8').then(
    (pid) => !pidAlive(Number(pid)),
    () => false,
  );
  if (!cutOff && (await fs.readdir(data).catch(() => ['?'])).length > 0) return;
  const src = await secureJoin(rootfs, target);
  const st = await fs.lstat(src).catch(() => undefined);
  if (!st?.isDirectory() || (await fs.readdir(src)).length === 0) {
    if (cutOff) await fs.rm(marker, { force: true }); // nothing of this image to copy
    return;
  }
  await fs.writeFile(marker, String(process.pid));
  await execFileP('cp', ['-a', `${src}/.`, `${data}/`]);
  const dst = await fs.stat(data);
  if (dst.uid !== st.uid || dst.gid !== st.gid) await fs.chown(data, st.uid, st.gid);
  await fs.chmod(data, st.mode & 0o7777);
  await fs.rm(marker, { force: true });
}
