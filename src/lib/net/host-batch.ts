/**
 * The host side of endpoints made at the same time, in one `ip -batch` process (the first of `planEndpoint`'s two
 * steps, ./bridge.ts). An `up` attaches its containers while they start, a few at a time: each attachment used to
 * start an `ip` process of its own for its host side (veth with its peer in the netns, enslaved, hairpin, up), and
 * these overlap (each takes 20-100 ms while the containers start). Merged through `coalescing` (../coalesce.ts):
 * the first runs at once, the ones that come while a batch runs go together in the next.
 *
 * `ip -batch` stops at its first failing line. When a batch of several fails, nobody knows whose lines failed or
 * which of the others ran: each caller is told to run its own host side again on its own (`alone`), planned anew
 * from what is there now; the planned steps converge (a veth left by the batch is deleted and made again). A lone
 * endpoint's failure is its own error.
 */
import { coalescing } from '../coalesce.js';
import { runStep, type Step } from './run.js';

/** `done`: the lines ran; `alone`: the batch failed, run them again on their own. */
export type HostBatchResult = 'done' | 'alone';

/** Runs host-side `ip -batch` scripts (`input` of a step with argv `ip -batch -`), merged while one runs. */
export function hostBatcher(run: (step: Step) => Promise<unknown> = runStep): (script: string) => Promise<HostBatchResult> {
  return coalescing(async (scripts: string[]): Promise<HostBatchResult> => {
    const step: Step = { argv: ['ip', '-batch', '-'], input: scripts.map((s) => (s.endsWith('\n') ? s : `${s}\n`)).join('') };
    try {
      await run(step);
    } catch (e) {
      if (scripts.length === 1) throw e;
      return 'alone';
    }
    return 'done';
  });
}
