/**
 * A native container as the CLI, the exit hook and the health monitor read it: its live status, the image run config
 * and OCI spec stored with it, and the attributes of its events.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { TsComposeError } from '../../../errors.js';
import { readJson } from '../../../lib/fs/atomic.js';
import { bootId, pidAlive } from '../../../lib/fs/proc.js';
import type { NativeContext } from '../context.js';
import type { ImageRunConfig, OciSpec } from '../oci/spec-types.js';
import type { ContainerRecord } from '../state.js';

/** The container's status, checking a recorded `running` against conmon's exit file and the pid. */
export async function liveStatus(ctx: NativeContext, r: ContainerRecord): Promise<ContainerRecord['state']['status']> {
  const s = r.state.status;
  if (s === 'restarting') return ofAnotherBoot(r) ? 'exited' : s; // its exit hook waiting out the back-off went with that boot
  if (s !== 'running' && s !== 'paused') return s;
  if (await ctx.state.readExitCode(r.id)) return 'exited';
  // The run dir (the OCI runtime's state) is on tmpfs: after a reboot it is gone, and a recorded pid may be another
  // process of the new boot.
  if (ofAnotherBoot(r) || !existsSync(path.join(ctx.paths.ociRoot, r.id))) return 'exited';
  if (r.state.pid !== undefined && !pidAlive(r.state.pid)) return 'exited';
  return s;
}

/** Whether the record's last start was in another boot of the machine. */
export function ofAnotherBoot(r: ContainerRecord): boolean {
  return r.state.bootId !== undefined && r.state.bootId !== bootId();
}

/** The image's run config (`config` of its config JSON) as stored with the container at creation. */
export async function imageRunConfig(ctx: NativeContext, r: ContainerRecord): Promise<ImageRunConfig> {
  const cfg = await readJson<{ config?: ImageRunConfig }>(path.join(ctx.state.containerDir(r.id), 'image-config.json'));
  return cfg?.config ?? {};
}

/** The container's OCI spec (its bundle's config.json); TsComposeError `TSC_NATIVE_STATE` without one. */
export async function ociSpecOf(ctx: NativeContext, id: string): Promise<OciSpec> {
  const spec = await readJson<OciSpec>(path.join(ctx.state.containerDir(id), 'bundle', 'config.json'));
  if (!spec) throw new TsComposeError('TSC_NATIVE_STATE', `container ${id.slice(0, 12)} has no bundle`);
  return spec;
}

/** The attributes of the container's events: its labels, name and image (Docker's), and `extra`. */
export function eventAttributes(r: ContainerRecord, extra: Record<string, string> = {}): Record<string, string> {
  return { ...r.labels, name: r.name, image: r.image, ...extra };
}
