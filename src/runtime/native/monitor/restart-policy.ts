/**
 * Docker's restart policies (`no`, `always`, `unless-stopped`, `on-failure[:N]`) as pure decisions on a container's
 * record, and the back-off between restarts. Applied by conmon's exit hook (./exit-hook.ts).
 */
import type { ContainerRecord } from '../state.js';

/** Whether the restart policy wants another run after this exit. */
export function shouldRestart(r: ContainerRecord): boolean {
  if (r.state.stoppedByUser) return false;
  const policy = r.spec.restart ?? 'no';
  if (policy === 'always' || policy === 'unless-stopped') return true;
  const m = /^on-failure(?::(\d+))?$/.exec(policy);
  if (!m) return false;
  if (r.state.exitCode === 0) return false;
  // Docker: a maximum of 0 (or none) means no limit.
  return m[1] === undefined || Number(m[1]) === 0 || r.state.restartCount < Number(m[1]);
}

/** Docker's restart back-off: 100 ms doubling per quick restart, at most 10 s here; reset after 10 s of running. */
export function restartDelayMs(r: ContainerRecord): number {
  const ran = r.state.startedAt && r.state.finishedAt ? Date.parse(r.state.finishedAt) - Date.parse(r.state.startedAt) : 0;
  if (ran >= 10_000) return 100;
  return Math.min(100 * 2 ** Math.min(r.state.restartCount, 7), 10_000);
}

/**
 * What the exit hook does with the record of run `generation` once the back-off is over (re-checked under the
 * record's lock: a stop, rm or another start may have happened meanwhile): `restart` it; `settle` a `restarting`
 * container the policy no longer restarts (a user stopped it) to `exited`; or `leave` the record alone.
 * `stopping`: the container's stopping file is there. A user's stop writes only that file before its signal (the
 * record takes it when the exit is recorded), so a stop that began during the back-off counts as the user's word.
 */
export function afterBackOff(r: ContainerRecord, generation: number, stopping = false): 'restart' | 'settle' | 'leave' {
  if (r.state.generation !== generation || (r.state.status !== 'exited' && r.state.status !== 'restarting')) return 'leave';
  if (stopping || !shouldRestart(r)) return r.state.status === 'restarting' ? 'settle' : 'leave';
  return 'restart';
}
