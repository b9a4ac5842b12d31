/**
 * `docker export` and `docker commit` for native containers (the runtime port's exportContainer and
 * commitContainer), with Docker's semantics (moby daemon/export.go, daemon/commit.go):
 * - export: the container's root filesystem — its overlay of the image layers and its own upper directory, as the
 *   host sees the mount, so without its volumes, binds and tmpfs — as a tar written by GNU tar: numeric owners,
 *   `security.capability` xattrs, entries named without a leading `./`;
 * - commit: the container's upper directory becomes a layer (lib/image/diff commitLayer: overlay whiteouts and
 *   opaque directories as OCI ones) on top of its image's; the config is the container's — the image's with the
 *   container's command, entrypoint, environment, working directory, user, labels, exposed ports and stop signal
 *   over it (Docker's container config) — with the `changes` (Dockerfile instructions) applied; one history entry
 *   (`created_by` the container's command, `comment` the message, `author`). The container is paused meanwhile
 *   (`pause`, default true) when it runs.
 *
 * A container under a user-namespace remap is refused: its files carry the remapped owners (Docker translates
 * them back; this does not yet).
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { TsComposeError } from '../../errors.js';
import type { OciContainerConfig } from '../../lib/image/types.js';
import { NotFoundError } from '../errors.js';
import type { CallOptions, CommitOptions, ContainerSpec } from '../runtime.js';
import type { ContainerService } from './containers.js';
import type { NativeContext } from './context.js';
import { portError } from './images.js';
import { envKey } from './oci/process.js';
import { containerUserns, mountRootfs, rootfsDir } from './rootfs.js';
import type { ContainerRecord } from './state.js';

function refuseRemapped(r: ContainerRecord, what: string): never {
  throw new TsComposeError('TSC_NATIVE_USERNS', `cannot ${what} container ${r.name} on the native runtime: it runs under a user-namespace remap`, {
    hint: 'its files carry the remapped owners; run it without userns_mode / a remap to export or commit it',
  });
}

/** Mounts the container's rootfs (unless mounted); its host path. */
async function mountedRootfs(ctx: NativeContext, r: ContainerRecord): Promise<string> {
  const images = await ctx.images();
  const image = await images.resolve(r.imageId);
  if (!image) throw new NotFoundError('image', r.imageId, { hint: `the image of container ${r.name} is no longer in the native store` });
  await mountRootfs(ctx, r.id, images.overlayLowerdir(image));
  return rootfsDir(ctx, r.id);
}

export async function exportContainer(
  ctx: NativeContext,
  containers: ContainerService,
  idOrName: string,
  options: CallOptions = {},
): Promise<Readable> {
  const r = await containers.record(idOrName);
  if (await containerUserns(ctx, r.id)) refuseRemapped(r, 'export');
  const root = await mountedRootfs(ctx, r);
  const entries = (await fs.readdir(root)).sort();
  const out = new PassThrough();
  if (entries.length === 0) {
    // an empty root: the end blocks of an empty archive
    out.end(Buffer.alloc(1024));
    return out;
  }
  const args = [
    '-c',
    '-f',
    '-',
    '--numeric-owner',
    '--one-file-system',
    '--xattrs',
    '--xattrs-include=security.capability',
    '-C',
    root,
    '--',
    ...entries,
  ];
  const child = spawn('tar', args, { stdio: ['ignore', 'pipe', 'pipe'], ...(options.signal ? { signal: options.signal } : {}) });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  child.stdout!.pipe(out, { end: false });
  child.on('error', (e) => out.destroy(e));
  child.on('close', (code) => {
    // GNU tar exits 1 when a file changed while it was read (a running container): the archive is still whole.
    if (code === 0 || code === 1) out.end();
    else
      out.destroy(
        new TsComposeError('TSC_NATIVE_EXPORT', `exporting container ${r.name} failed: ${stderr.trim() || `tar exited with status ${code}`}`),
      );
  });
  return out;
}

/**
 * The container config Docker gives a container (and so a commit of it): the image's, with what the container sets
 * over it. Pure.
 */
export function containerConfig(image: OciContainerConfig | undefined, spec: ContainerSpec): OciContainerConfig {
  const cfg: OciContainerConfig = { ...(image ?? {}) };
  const specEntrypoint = spec.entrypoint && spec.entrypoint.length === 1 && spec.entrypoint[0] === '' ? [] : spec.entrypoint;
  const command = spec.command && spec.command.length > 0 ? [...spec.command] : undefined;
  if (specEntrypoint !== undefined) {
    cfg.Entrypoint = specEntrypoint.length > 0 ? [...specEntrypoint] : null;
    cfg.Cmd = command ?? null;
  } else if (command !== undefined) cfg.Cmd = command;
  if (spec.env !== undefined && spec.env.length > 0) {
    const keys = new Set(spec.env.map(envKey));
    cfg.Env = [...spec.env, ...(image?.Env ?? []).filter((e) => !keys.has(envKey(e)))];
  }
  if (spec.workingDir) cfg.WorkingDir = spec.workingDir;
  if (spec.user) cfg.User = spec.user;
  if (spec.stopSignal) cfg.StopSignal = spec.stopSignal;
  cfg.Labels = { ...(image?.Labels ?? {}), ...spec.labels };
  if (spec.exposedPorts?.length) {
    const ports: Record<string, object> = { ...(image?.ExposedPorts ?? {}) };
    for (const p of spec.exposedPorts) ports[p.includes('/') ? p : `${p}/tcp`] = {};
    cfg.ExposedPorts = ports;
  }
  return cfg;
}

export async function commitContainer(
  ctx: NativeContext,
  containers: ContainerService,
  idOrName: string,
  options: CommitOptions = {},
): Promise<{ id: string }> {
  const r = await containers.record(idOrName);
  if (await containerUserns(ctx, r.id)) refuseRemapped(r, 'commit');
  const images = await ctx.images();
  const parent = await images.resolve(r.imageId);
  if (!parent) throw new NotFoundError('image', r.imageId, { hint: `the image of container ${r.name} is no longer in the native store` });
  const { applyChange } = await import('../../lib/image/import.js');
  const config = containerConfig(parent.config.config, r.spec);
  for (const c of options.changes ?? []) applyChange(config, c); // refused before anything is paused or written
  const { commitImage, commitLayer } = await import('../../lib/image/diff/index.js');
  const store = images.store;
  const paused = options.pause !== false && (await containers.status(r)) === 'running';
  if (paused) await containers.pause(r.id);
  const lease = await store.lease();
  try {
    const upper = path.join(ctx.state.containerDir(r.id), 'upper');
    await fs.mkdir(upper, { recursive: true });
    const layer = await commitLayer(store, upper, parent.layers, options.signal ? { signal: options.signal } : {});
    await lease.add(layer.chainId);
    const args = [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])];
    const image = await commitImage(store, {
      parent,
      layers: [layer],
      config,
      history: [
        {
          created_by: args.join(' '),
          ...(options.author ? { author: options.author } : {}),
          ...(options.message ? { comment: options.message } : {}),
        },
      ],
      ...(options.author ? { author: options.author } : {}),
      tags: options.reference ? [options.reference] : [],
    });
    await ctx.event({ type: 'image', action: 'commit', id: image.id, attributes: { name: options.reference ?? image.id, container: r.id } });
    return { id: image.id };
  } catch (e) {
    throw portError(e);
  } finally {
    await lease.release().catch(() => undefined);
    if (paused) await containers.unpause(r.id).catch(() => undefined);
  }
}
