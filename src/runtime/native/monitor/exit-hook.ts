/**
 * conmon's `--exit-command`: runs when a native container's process has ended, after the CLI may long be gone.
 * Records the exit (code, time, `die` event, runtime state deleted so the cgroup goes) and applies the restart
 * policy: `always`, `unless-stopped` and `on-failure[:N]` start the container again after Docker's back-off,
 * unless a user stopped it meanwhile.
 *
 *   node exit-hook.js <state dir> <run dir> <container id> <generation>
 */
import { nativePaths } from '../state.js';
import { finalizeExit, nativeContext, restartDelayMs, shouldRestart, sleep, startContainerProcess, eventAttributes } from './supervise.js';
import { appendEvent } from '../state.js';

async function main(argv: string[]): Promise<void> {
  const [root, run, id, gen] = argv;
  if (!root || !run || !id || !gen) return;
  const paths = nativePaths({ ...process.env, TSCOMPOSE_STATE_DIR: root, TSCOMPOSE_RUN_DIR: run });
  const ctx = nativeContext(paths);
  const generation = Number(gen);
  const rec = await finalizeExit(ctx, id, generation);
  if (!rec || rec.state.generation !== generation || !shouldRestart(rec)) return;
  await sleep(restartDelayMs(rec));
  let restarted = false;
  await ctx.state.update(id, async (r) => {
    // Re-check under the lock: a stop, rm or another start may have happened while we slept.
    if (r.state.generation !== generation || (r.state.status !== 'exited' && r.state.status !== 'restarting')) return undefined;
    if (!shouldRestart(r)) return r.state.status === 'restarting' ? { ...r, state: { ...r.state, status: 'exited' } } : undefined;
    const next = await startContainerProcess(ctx, { ...r, state: { ...r.state, restartCount: r.state.restartCount + 1 } });
    restarted = true;
    return next;
  });
  if (restarted) {
    const r = await ctx.state.read(id);
    if (r) await appendEvent(paths, { type: 'container', action: 'start', id, attributes: eventAttributes(r) });
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`tscompose exit hook: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
