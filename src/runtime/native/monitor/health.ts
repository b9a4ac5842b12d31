/**
 * Healthchecks of native containers, on Docker's rules (moby daemon/health.go): the first check after
 * `start_interval` while in `start_period` (else `interval`); a success makes the container healthy; failures
 * inside the start period don't count; `retries` consecutive failures make it unhealthy; a check running past
 * `timeout` fails; the last 5 results are kept with their output cut at 4096 bytes. Defaults: interval 30 s,
 * timeout 30 s, retries 3, start_interval 5 s. `CMD-SHELL x` runs `/bin/sh -c x`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { HealthcheckSpec } from '../../runtime.js';
import { execBuffered } from '../exec.js';
import { healthcheckOf } from './healthcheck.js';
import { NativeContext } from '../context.js';
import { appendEvent, type ContainerRecord, type HealthState } from '../state.js';
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

export async function runHealthMonitor(root: string, run: string, id: string, generation: number): Promise<void> {
  const ctx = new NativeContext({ ...process.env, TSCOMPOSE_STATE_DIR: root, TSCOMPOSE_RUN_DIR: run });
  const first = await ctx.state.read(id);
  if (!first) return;
  const hc = healthcheckOf(first.spec, await imageRunConfig(ctx, first));
  if (!hc) return;
  await monitor(ctx, id, generation, hc);
}

async function current(ctx: NativeContext, id: string, generation: number): Promise<ContainerRecord | undefined> {
  const r = await ctx.state.read(id);
  if (!r || r.state.generation !== generation) return undefined;
  const s = await liveStatus(ctx, r);
  return s === 'running' || s === 'paused' ? r : undefined;
}

async function monitor(ctx: NativeContext, id: string, generation: number, hc: HealthcheckSpec): Promise<void> {
  const cmd = healthCommand(hc.test);
  if (!cmd) return;
  const interval = hc.intervalMs || HEALTH_DEFAULTS.intervalMs;
  const timeout = hc.timeoutMs || HEALTH_DEFAULTS.timeoutMs;
  const retries = hc.retries || HEALTH_DEFAULTS.retries;
  const startPeriod = hc.startPeriodMs || HEALTH_DEFAULTS.startPeriodMs;
  const startInterval = hc.startIntervalMs || HEALTH_DEFAULTS.startIntervalMs;
  const started = Date.now();
  for (;;) {
    const inStart = Date.now() - started < startPeriod;
    // Sleep in slices so the monitor notices a stopped container quickly.
    const wait = inStart ? Math.min(startInterval, interval) : interval;
    const until = Date.now() + wait;
    while (Date.now() < until) {
      await sleep(Math.min(500, until - Date.now()));
      if (!(await current(ctx, id, generation))) return;
    }
    const r = await current(ctx, id, generation);
    if (!r) return;
    if (r.state.status === 'paused') continue;
    const start = new Date().toISOString();
    let result: { exitCode: number; output: string };
    try {
      const out = await execBuffered(ctx, r, { cmd }, { timeoutMs: timeout, maxBytes: 4096 });
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
