/**
 * The end of a native container's run: waiting for conmon's exit file and recording the exit (shared by the CLI
 * stopping a container and conmon's exit hook, ./exit-hook.ts).
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DirWaiter } from '../../../lib/fs/dir-waiter.js';
import { pidAlive, readPidFile } from '../../../lib/fs/proc.js';
import type { NativeContext } from '../context.js';
import { detachNetworks, usesBridge } from '../netglue.js';
import { appendEvent } from '../events-file.js';
import type { ContainerRecord } from '../state.js';
import { eventAttributes, ofAnotherBoot } from './record.js';
import { shouldRestart } from './restart-policy.js';

/**
 * Records the end of the current run when conmon's exit file says it ended (idempotent: the exit hook and a
 * stopping CLI may both get here). Deletes the runtime state (which frees the cgroup) and releases the network
 * endpoints, unless `keepNetworks`: the container is about to be removed and its removal releases them (a start
 * before that releases them first). Returns the updated record.
 */
export async function finalizeExit(
  ctx: NativeContext,
  id: string,
  generation?: number,
  opts: { keepNetworks?: boolean; removing?: boolean } = {},
): Promise<ContainerRecord | undefined> {
  let died: ContainerRecord | undefined;
  // The process is gone but conmon has not written its exit file yet (it does right after reaping; under load that
  // takes a moment): wait for it a little, outside the record's lock, rather than record an unknown exit (255).
  const before = await ctx.state.read(id);
  if (
    before?.state.pid !== undefined &&
    !ofAnotherBoot(before) &&
    !pidAlive(before.state.pid) &&
    !(await ctx.state.readExitCode(id)) &&
    (await conmonAlive(ctx, id))
  ) {
    for (let i = 0; i < 100 && !(await ctx.state.readExitCode(id)); i++) await sleep(20);
  }
  const rec = await ctx.state.update(id, async (r) => {
    if (generation !== undefined && r.state.generation !== generation) return undefined;
    const staleBackOff = r.state.status === 'restarting' && ofAnotherBoot(r);
    if (r.state.status !== 'running' && r.state.status !== 'paused' && !staleBackOff) return undefined;
    const exit = await ctx.state.readExitCode(id);
    const otherBoot = ofAnotherBoot(r);
    const ociState = existsSync(path.join(ctx.oci.root, id));
    if (!exit && !otherBoot && ociState && r.state.pid !== undefined && pidAlive(r.state.pid)) return undefined;
    // No exit of its own and nobody left to record one (a reboot, conmon killed): the run was cut off. Nothing
    // restarts it now; `resume` does, as its restart policy says.
    const cutOff = staleBackOff || (!exit && (otherBoot || !(await conmonAlive(ctx, id))));
    if (ociState && !otherBoot) await ctx.oci.delete(id, true).catch(() => undefined);
    if (usesBridge(r) && !opts.keepNetworks) await detachNetworks(ctx.paths, r).catch(() => undefined);
    const next: ContainerRecord = {
      ...r,
      state: {
        ...r.state,
        status: 'exited',
        exitCode: staleBackOff ? r.state.exitCode : (exit?.code ?? 255),
        finishedAt: staleBackOff ? (r.state.finishedAt ?? new Date().toISOString()) : (exit?.at ?? new Date()).toISOString(),
      },
    };
    delete next.state.pid;
    delete next.state.endpoints;
    delete next.state.publishedPorts;
    // The user stopped it (stop, kill, down): the stopping file says so until the next start.
    if (existsSync(ctx.state.stoppingFile(id))) next.state.stoppedByUser = true;
    if (opts.removing) {
      // Removed right after (the stop of a `down`): what the removal would write under this lock, written now.
      next.state.stoppedByUser = true;
      next.state.generation = r.state.generation + 1;
    }
    if (cutOff) next.state.interrupted = true;
    else if (shouldRestart(next)) next.state.status = 'restarting';
    if (staleBackOff) return next; // its death was recorded in that boot
    died = next;
    return next;
  });
  if (died)
    await appendEvent(ctx.paths, {
      type: 'container',
      action: 'die',
      id,
      attributes: eventAttributes(died, { exitCode: String(died.state.exitCode) }),
    });
  return rec;
}

/** Whether the container's conmon still runs (it writes the exit file; after a reboot or a kill there is none). */
async function conmonAlive(ctx: NativeContext, id: string): Promise<boolean> {
  const pid = readPidFile(path.join(ctx.paths.run, id.slice(0, 12), 'conmon.pid'));
  return pid > 0 && pidAlive(pid);
}

/** Waits until conmon's exit file appears (or the pid is gone); false on timeout. */
export async function waitExitFile(ctx: NativeContext, r: ContainerRecord, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  let delay = 10;
  // Woken by inotify as soon as conmon writes the file (polling alone found it ~50 ms late on average).
  const waiter = new DirWaiter(path.dirname(ctx.state.exitFile(r.id)));
  // Once the process is gone, conmon writes the file right after reaping it, which under load can take a while:
  // without the file the exit would be recorded as 255 (seen with several `run --rm` at once). So it is waited
  // for (woken by inotify like before) up to 3 s more, then taken as written.
  let goneUntil: number | undefined;
  try {
    for (;;) {
      if (await ctx.state.readExitCode(r.id)) return true;
      const now = Date.now();
      if (goneUntil === undefined && r.state.pid !== undefined && !pidAlive(r.state.pid)) goneUntil = Math.min(end, now + 3000);
      if (goneUntil !== undefined && now >= goneUntil) return true;
      if (now >= end) return false;
      await waiter.wait(goneUntil === undefined ? delay : Math.min(delay, 20));
      delay = Math.min(delay * 2, 100);
    }
  } finally {
    waiter.close();
  }
}
