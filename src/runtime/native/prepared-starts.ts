/**
 * Prepared starts (Runtime.prepareStart): while a container's dependencies start, its own start is done up to the OCI
 * runtime's `start` (./monitor/conmon.ts: endpoints, log keeper, conmon and the runtime's `create`), so that its
 * start, once they are up, is that one step. Held per runtime object (one CLI command), until the container's start
 * takes its preparation or `discardAll` undoes the ones no start took (a failed or cancelled `up`).
 *
 * Nothing of a preparation is in the record: the container stays `created` (or `exited`) until its start. A CLI
 * killed in between leaves the created OCI container and its endpoints to the container's next start or removal,
 * which clear a previous run's runtime state and endpoints in any case; the exit of the created process, recorded by
 * nobody (its generation is one the record never had, ./monitor/exit.ts), changes nothing.
 *
 * Also the steps a start and its preparation share: `readyToLaunch` and `userStart`.
 */
import { NotFoundError } from '../errors.js';
import { refreshJoins } from './container-joins.js';
import { refreshSubpaths } from './container-mounts.js';
import type { NativeContext } from './context.js';
import { discardLaunched, prepareContainerProcess, stopProcess, type Launched } from './monitor/conmon.js';
import { mountRootfs } from './rootfs.js';
import type { ContainerRecord } from './state.js';

/** A start by the user begins a new restart count (Docker). */
export const userStart = (r: ContainerRecord): ContainerRecord => ({ ...r, state: { ...r.state, stoppedByUser: false, restartCount: 0 } });

/**
 * What a start does before launching the process, and so its preparation too: the rootfs mounted, the joined
 * namespaces and volume subpaths as they are now.
 */
export async function readyToLaunch(ctx: NativeContext, r: ContainerRecord): Promise<void> {
  const images = await ctx.images();
  const image = await images.resolve(r.imageId);
  if (!image) throw new NotFoundError('image', r.image);
  await mountRootfs(ctx, r.id, images.overlayLowerdir(image));
  // The containers whose namespaces it joins may have new processes since this one was created.
  await refreshJoins(ctx, r);
  // Volume subpaths must exist now (a dependency may have made them since the create).
  await refreshSubpaths(ctx, r);
}

export class PreparedStarts {
  private readonly launched = new Map<string, Launched>();

  constructor(private readonly ctx: NativeContext) {}

  /**
   * Prepares the start of container `id` under its record lock, unless it runs or is prepared already. Any failure is
   * dropped: the start then does it all again and reports it.
   */
  async prepare(id: string): Promise<void> {
    if (this.launched.has(id)) return;
    await this.ctx.state
      .update(id, async (r) => {
        if (r.state.status !== 'created' && r.state.status !== 'exited') return undefined;
        // A terminal or an open stdin is wired at the runtime's create, and an attach may still hand the start its
        // stdin (./pending-stdin.ts): such containers start whole, at their start.
        if (r.spec.tty === true || r.spec.openStdin === true) return undefined;
        await readyToLaunch(this.ctx, r);
        this.launched.set(id, await prepareContainerProcess(this.ctx, userStart(r)));
        return undefined;
      })
      .catch(() => undefined);
  }

  /** The preparation of `id`'s start, now the start's to finish or undo. */
  take(id: string): Launched | undefined {
    const l = this.launched.get(id);
    this.launched.delete(id);
    return l;
  }

  /** Undoes every preparation no start took. */
  async discardAll(): Promise<void> {
    const all = [...this.launched];
    this.launched.clear();
    await Promise.all(all.map(([id, l]) => this.undo(id, l)));
  }

  /**
   * Undoes a preparation, when the record is still the one it was made for; else another start has already cleared
   * it (a start removes a previous run's runtime state and endpoints) and only its log keeper may be left.
   */
  async undo(id: string, l: Launched | undefined): Promise<void> {
    if (!l) return;
    await this.ctx.state
      .update(id, async (r) => {
        if (preparedFor(r, l)) await discardLaunched(this.ctx, r, l);
        else stopProcess(l.keeperPid);
        return undefined;
      })
      .catch(() => undefined);
  }
}

/** Whether `l` was prepared for the record as it is: the run after its last one, not started since. */
export const preparedFor = (r: ContainerRecord, l: Launched): boolean =>
  l.generation === r.state.generation + 1 && (r.state.status === 'created' || r.state.status === 'exited');
