/**
 * conmon's `--exit-command`: runs when a native container's process has ended, after the CLI may long be gone.
 * Records the exit (code, time, `die` event, runtime state deleted so the cgroup goes) and applies the restart
 * policy: `always`, `unless-stopped` and `on-failure[:N]` start the container again after Docker's back-off,
 * unless a user stopped it meanwhile.
 *
 *   node exit-hook.js <state dir> <run dir> <container id> <generation>
 */
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { NativeContext } from '../context.js';
import { appendEvent } from '../events-file.js';
import { startContainerProcess } from './conmon.js';
import { finalizeExit } from './exit.js';
import { eventAttributes } from './record.js';
import { afterBackOff, restartDelayMs, shouldRestart } from './restart-policy.js';

async function main(argv: string[]): Promise<void> {
  const [root, run, id, gen] = argv;
  if (!root || !run || !id || !gen) return;
  const ctx = new NativeContext({ ...process.env, TSCOMPOSE_STATE_DIR: root, TSCOMPOSE_RUN_DIR: run });
  const generation = Number(gen);
  const rec = await finalizeExit(ctx, id, generation);
  if (!rec || rec.state.generation !== generation || !shouldRestart(rec)) return;
  await sleep(restartDelayMs(rec));
  let restarted = false;
  await ctx.state.update(id, async (r) => {
    const stopping = existsSync(ctx.state.stoppingFile(id));
    const decision = afterBackOff(r, generation, stopping);
    if (decision === 'leave') return undefined;
    if (decision === 'settle') return { ...r, state: { ...r.state, status: 'exited', ...(stopping ? { stoppedByUser: true } : {}) } };
    // The containers whose namespaces it joins may have new processes (loaded only for such a container).
    const s = r.spec;
    if (s.ipcMode === 'shareable' || [s.networkMode, s.pidMode, s.ipcMode, s.utsMode].some((m) => m?.startsWith('container:')))
      await (await import('../container-joins.js')).refreshJoinsForRestart(ctx, r);
    if (s.mounts?.some((m) => m.subpath)) await (await import('../container-mounts.js')).refreshSubpaths(ctx, r);
    const next = await startContainerProcess(ctx, { ...r, state: { ...r.state, restartCount: r.state.restartCount + 1 } });
    restarted = true;
    return next;
  });
  if (restarted) {
    const r = await ctx.state.read(id);
    if (r) await appendEvent(ctx.paths, { type: 'container', action: 'start', id, attributes: eventAttributes(r) });
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`tscompose exit hook: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
