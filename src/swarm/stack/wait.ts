/**
 * Waiting on a swarm: a service's depends_on condition (started, healthy, completed) and `up --wait`'s
 * convergence of the whole stack, read from its tasks. A task with a healthcheck stays `starting` until healthy and
 * is `running` after, so "healthy" is "every desired replica running". Tasks that fail or are rejected keep being
 * retried by swarm: their last error is what a timeout reports (image missing, no node matches the constraints,
 * insufficient resources).
 */
import { setTimeout as delay } from 'node:timers/promises';
import { TsComposeError } from '../../errors.js';
import type { ServiceSpec } from '../api-types.js';
import type { SwarmApi, SwarmService, SwarmTask } from '../port.js';

export class StackWaitError extends TsComposeError {
  constructor(message: string, hint?: string) {
    super('TSC_SWARM_WAIT', message, hint === undefined ? {} : { hint });
  }
}

export interface WaitSettings {
  readonly signal?: AbortSignal | undefined;
  /** Poll interval (default 500 ms). */
  readonly intervalMs?: number | undefined;
  /** Give up after this long (default 10 minutes). */
  readonly timeoutMs?: number | undefined;
}

/** Where a service is: replicas running of desired, done (jobs), and the last task error. */
export interface ServiceProgress {
  readonly name: string;
  readonly running: number;
  readonly desired: number;
  readonly completed: number;
  readonly job: boolean;
  readonly failed: number;
  readonly lastError?: string | undefined;
  readonly updating: boolean;
}

function desiredOf(spec: ServiceSpec, nodes: number): { desired: number; job: boolean } {
  const m = spec.Mode ?? {};
  if (m.Global) return { desired: nodes, job: false };
  if (m.ReplicatedJob) return { desired: m.ReplicatedJob.TotalCompletions ?? 1, job: true };
  if (m.GlobalJob) return { desired: nodes, job: true };
  return { desired: m.Replicated?.Replicas ?? 1, job: false };
}

export function progressOf(service: SwarmService, tasks: readonly SwarmTask[], nodes: number): ServiceProgress {
  const { desired, job } = desiredOf(service.spec, nodes);
  const mine = tasks.filter((t) => t.serviceId === service.id);
  const live = mine.filter((t) => t.desiredState === 'running' || (job && t.desiredState === 'complete'));
  const failedTasks = mine.filter((t) => t.state === 'failed' || t.state === 'rejected').sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : -1));
  const err = failedTasks[0];
  return {
    name: service.spec.Name ?? service.id,
    running: live.filter((t) => t.state === 'running').length,
    desired,
    completed: mine.filter((t) => t.state === 'complete' && t.exitCode !== undefined && t.exitCode === 0).length,
    job,
    failed: failedTasks.length,
    lastError: err ? `${err.state}: ${err.error ?? err.message}${err.exitCode ? ` (exit ${err.exitCode})` : ''}` : undefined,
    updating: service.updateState === 'updating' || service.updateState === 'rollback_started',
  };
}

/** Whether a service is where `up --wait` wants it: every replica running (healthy), or a job completed. */
export function converged(p: ServiceProgress): boolean {
  if (p.updating) return false;
  return p.job ? p.completed >= p.desired : p.running >= p.desired;
}

async function poll<T>(settings: WaitSettings, what: string, step: () => Promise<T | undefined>, describe: () => string): Promise<T> {
  const end = Date.now() + (settings.timeoutMs ?? 600_000);
  for (;;) {
    settings.signal?.throwIfAborted();
    const r = await step();
    if (r !== undefined) return r;
    if (Date.now() >= end) throw new StackWaitError(`${what}: not done after ${Math.round((settings.timeoutMs ?? 600_000) / 1000)}s (${describe()})`);
    await delay(settings.intervalMs ?? 500, undefined, settings.signal ? { signal: settings.signal } : {});
  }
}

async function snapshot(api: SwarmApi, name: string, signal?: AbortSignal): Promise<ServiceProgress> {
  const [svc, tasks, nodes] = await Promise.all([
    api.inspectService(name, { signal }),
    api.listTasks({ service: name, signal }),
    api.listNodes({ signal }),
  ]);
  return progressOf(svc, tasks, nodes.filter((n) => n.availability === 'active' && n.state === 'ready').length || 1);
}

/** Waits until `service` (the swarm name) meets a depends_on condition. */
export async function waitServiceCondition(api: SwarmApi, service: string, condition: string, settings: WaitSettings = {}): Promise<void> {
  let last: ServiceProgress | undefined;
  const describe = (): string =>
    last ? `${last.running}/${last.desired} running${last.lastError ? `; last task ${last.lastError}` : ''}` : 'no task yet';
  await poll(
    settings,
    `service ${service} ${condition === 'service_healthy' ? 'healthy' : condition === 'service_completed_successfully' ? 'completed' : 'started'}`,
    async () => {
      last = await snapshot(api, service, settings.signal);
      if (condition === 'service_started') return last.running > 0 || last.completed > 0 ? true : undefined;
      if (condition === 'service_completed_successfully') return last.completed >= last.desired ? true : undefined;
      return last.running >= last.desired && !last.updating ? true : undefined;
    },
    describe,
  );
}

/** `up --wait`: every service converged; `onProgress` sees each poll's figures. */
export async function waitStack(
  api: SwarmApi,
  services: readonly string[],
  settings: WaitSettings & { readonly onProgress?: ((p: readonly ServiceProgress[]) => void) | undefined } = {},
): Promise<ServiceProgress[]> {
  let last: ServiceProgress[] = [];
  return poll(
    settings,
    'stack not converged',
    async () => {
      last = await Promise.all(services.map((s) => snapshot(api, s, settings.signal)));
      settings.onProgress?.(last);
      return last.every(converged) ? last : undefined;
    },
    () =>
      last
        .filter((p) => !converged(p))
        .map(
          (p) =>
            `${p.name} ${p.job ? `${p.completed}/${p.desired} completed` : `${p.running}/${p.desired} running`}${p.lastError ? `, last task ${p.lastError}` : ''}`,
        )
        .join('; '),
  );
}
