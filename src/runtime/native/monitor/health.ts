/**
 * Healthchecks of native containers, on Docker's rules (moby daemon/health.go): the first check after
 * `start_interval` while in `start_period` (else `interval`); a success makes the container healthy; failures
 * inside the start period don't count; `retries` consecutive failures make it unhealthy; a check running past
 * `timeout` fails; the last 5 results are kept with their output cut at 4096 bytes. Defaults: interval 30 s,
 * timeout 30 s, retries 3, start_interval 5 s. `CMD-SHELL x` runs `/bin/sh -c x`.
 *
 * `checkRun` checks one run (generation) of one container until it ended; the state directory's health monitor
 * (./health-monitor.ts) runs one for each registered run. It imports only what a check needs (no NativeContext,
 * whose networks pull in lib/net and lib/dns, no image service): the monitor's process stays small.
 */
import * as path from 'node:path';
import { DirWaiter } from '../../../lib/fs/dir-waiter.js';
import type { HealthcheckSpec } from '../../runtime.js';
import type { NativeContext } from '../context.js';
import { execBuffered } from '../exec.js';
import type { OciRuntime } from '../oci/oci-runtime.js';
import { appendEvent } from '../events-file.js';
import type { ContainerRecord, HealthState, NativePaths, StateStore } from '../state.js';
import { healthcheckOf } from './healthcheck.js';
import { eventAttributes, imageRunConfig, liveStatus } from './record.js';

export const HEALTH_DEFAULTS = { intervalMs: 30_000, timeoutMs: 30_000, retries: 3, startPeriodMs: 0, startIntervalMs: 5_000 };

export function healthCommand(test: readonly string[]): string[] | undefined {
  const [kind, ...rest] = test;
  if (kind === 'CMD-SHELL') return ['/bin/sh', '-c', rest.join(' ')];
  if (kind === 'CMD') return rest.length > 0 ? rest : undefined;
  if (kind === 'NONE' || kind === undefined) return undefined;
  return ['/bin/sh', '-c', test.join(' ')];
}

/** The next health state after one check result (pure). */
export function nextHealth(
  prev: HealthState,
  result: { exitCode: number; output: string; start: string; end: string },
  opts: { retries: number; inStartPeriod: boolean },
): HealthState {
  const log = [...prev.log, { start: result.start, end: result.end, exitCode: result.exitCode, output: result.output.slice(0, 4096) }].slice(-5);
  if (result.exitCode === 0) return { status: 'healthy', failingStreak: 0, log };
  if (opts.inStartPeriod && prev.status === 'starting') return { status: 'starting', failingStreak: 0, log };
  const failingStreak = prev.failingStreak + 1;
  return { status: failingStreak >= opts.retries ? 'unhealthy' : prev.status, failingStreak, log };
}

/**
 * What a check uses of the native runtime: the paths, the records and the OCI runtime running the container (the
 * part of a NativeContext that `liveStatus`, `imageRunConfig` and `execBuffered` read).
 */
export interface HealthContext {
  readonly paths: NativePaths;
  readonly state: StateStore;
  readonly oci: OciRuntime;
}

/**
 * The monitor's HealthContext where the shared helpers take a NativeContext: they read only its `paths`, `state`
 * and `oci` for a running container and an exec without `user` (a NativeContext would load lib/net for nothing).
 */
function native(ctx: HealthContext): NativeContext {
  return ctx as unknown as NativeContext;
}

/** How often a check's wait looks whether the run is still on (its exit file wakes it at once). */
const LIVENESS_MS = 1000;
/** How long a registered run may wait for its start to be recorded (the CLI writes the record right after). */
const RECORD_WAIT_MS = 60_000;

/** The record while it shows the run `generation` running or paused. */
async function current(ctx: HealthContext, id: string, generation: number): Promise<ContainerRecord | undefined> {
  const r = await ctx.state.read(id);
  if (!r || r.state.generation !== generation) return undefined;
  const s = await liveStatus(native(ctx), r);
  return s === 'running' || s === 'paused' ? r : undefined;
}

/** The record of the run once it is recorded (a start registers its run just before writing its record). */
async function recorded(ctx: HealthContext, id: string, generation: number, signal: AbortSignal | undefined): Promise<ContainerRecord | undefined> {
  const end = Date.now() + RECORD_WAIT_MS;
  for (let delay = 20; !signal?.aborted; delay = Math.min(delay * 2, 500)) {
    const r = await ctx.state.read(id);
    if (!r || r.state.generation > generation) return undefined;
    if (r.state.generation === generation) return r;
    if (Date.now() > end) return undefined;
    await new Promise((res) => setTimeout(res, delay));
  }
  return undefined;
}

/**
 * Checks the run `generation` of container `id` on its healthcheck's schedule until the run ends (or `signal`
 * aborts), recording each result and emitting `health_status` events. Resumes from the recorded health (a monitor
 * started again after a kill carries on); the start period counts from the run's recorded start.
 */
export async function checkRun(ctx: HealthContext, id: string, generation: number, signal?: AbortSignal): Promise<void> {
  const first = await recorded(ctx, id, generation, signal);
  if (!first) return;
  const hc = healthcheckOf(first.spec, await imageRunConfig(native(ctx), first));
  if (!hc) return;
  const waiter = new DirWaiter(path.dirname(ctx.state.exitFile(id)), signal);
  try {
    const startedAt = first.state.startedAt ? Date.parse(first.state.startedAt) : NaN;
    await monitor(ctx, id, generation, hc, Number.isNaN(startedAt) ? Date.now() : Math.min(startedAt, Date.now()), waiter, signal);
  } finally {
    waiter.close();
  }
}

async function monitor(
  ctx: HealthContext,
  id: string,
  generation: number,
  hc: HealthcheckSpec,
  started: number,
  waiter: DirWaiter,
  signal: AbortSignal | undefined,
): Promise<void> {
  const cmd = healthCommand(hc.test);
  if (!cmd) return;
  const interval = hc.intervalMs || HEALTH_DEFAULTS.intervalMs;
  const timeout = hc.timeoutMs || HEALTH_DEFAULTS.timeoutMs;
  const retries = hc.retries || HEALTH_DEFAULTS.retries;
  const startPeriod = hc.startPeriodMs || HEALTH_DEFAULTS.startPeriodMs;
  const startInterval = hc.startIntervalMs || HEALTH_DEFAULTS.startIntervalMs;
  for (;;) {
    const inStart = Date.now() - started < startPeriod;
    // Wait in slices so a stopped container is noticed soon (at once when its exit file is written).
    const wait = inStart ? Math.min(startInterval, interval) : interval;
    const until = Date.now() + wait;
    while (Date.now() < until) {
      await waiter.wait(Math.min(LIVENESS_MS, until - Date.now()));
      if (signal?.aborted || !(await current(ctx, id, generation))) return;
    }
    const r = await current(ctx, id, generation);
    if (!r || signal?.aborted) return;
    if (r.state.status === 'paused') continue;
    const start = new Date().toISOString();
    let result: { exitCode: number; output: string };
    try {
      const out = await execBuffered(native(ctx), r, { cmd }, { timeoutMs: timeout, maxBytes: 4096 });
      result = out.timedOut
        ? { exitCode: -1, output: `Health check exceeded timeout (${Math.round(timeout / 1000)}s)` }
        : { exitCode: out.exitCode, output: out.stdout + out.stderr };
    } catch (e) {
      result = { exitCode: -1, output: (e as Error).message };
    }
    const end = new Date().toISOString();
    let changed: ContainerRecord | undefined;
    await ctx.state.update(id, (rec) => {
      if (rec.state.generation !== generation) return undefined;
      const prev = rec.state.health ?? { status: 'starting', failingStreak: 0, log: [] };
      const health = nextHealth(prev, { ...result, start, end }, { retries, inStartPeriod: Date.now() - started < startPeriod });
      const next = { ...rec, state: { ...rec.state, health } };
      if (health.status !== prev.status) changed = next;
      return next;
    });
    if (changed) {
      await appendEvent(ctx.paths, {
        type: 'container',
        action: `health_status: ${changed.state.health!.status}`,
        id,
        attributes: eventAttributes(changed),
      });
    }
  }
}
