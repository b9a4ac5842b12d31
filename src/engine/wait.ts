/**
 * Waiting (compose `convergence.go: waitDependencies`, `up --wait`): depends_on conditions checked by polling
 * `inspectContainer` every 500 ms (injectable), and the `--wait` readiness of whole services.
 */
import { setMaxListeners } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { TsComposeError } from '../errors.js';
import { serviceDependencies } from '../project/dependencies.js';
import type { Project } from '../project/types.js';
import type { ContainerInspect, Runtime } from '../runtime/runtime.js';
import { done, failed, warning, working, type EventSink } from './events.js';
import { LABEL_ONEOFF, LABEL_PROJECT, LABEL_SERVICE } from './labels.js';

export class DependencyError extends TsComposeError {
  constructor(message: string) {
    super('TSC_DEPENDENCY', message);
  }
}

export class WaitTimeoutError extends TsComposeError {
  constructor(message: string) {
    super('TSC_WAIT_TIMEOUT', message);
  }
}

export interface WaitOptions {
  readonly signal?: AbortSignal | undefined;
  /** Poll interval; default 500 ms. */
  readonly intervalMs?: number | undefined;
  readonly sleep?: ((ms: number, signal?: AbortSignal) => Promise<void>) | undefined;
}

const defaultSleep = async (ms: number, signal?: AbortSignal): Promise<void> => {
  await delay(ms, undefined, signal ? { signal } : {});
};

/** The (non one-off) containers of a service. */
export async function serviceContainers(runtime: Runtime, project: string, service: string, signal?: AbortSignal): Promise<ContainerInspect[]> {
  const list = await runtime.listContainers({
    all: true,
    labels: { [LABEL_PROJECT]: project, [LABEL_SERVICE]: service, [LABEL_ONEOFF]: 'False' },
    signal,
  });
  return Promise.all(list.map((c) => runtime.inspectContainer(c.id, { signal })));
}

type Check = (c: ContainerInspect) => 'ok' | 'pending' | string;

async function poll(runtime: Runtime, project: string, service: string, check: Check, options: WaitOptions): Promise<void> {
  const sleep = options.sleep ?? defaultSleep;
  for (;;) {
    options.signal?.throwIfAborted();
    const containers = await serviceContainers(runtime, project, service, options.signal);
    let pending = false;
    for (const c of containers) {
      const r = check(c);
      if (r === 'pending') pending = true;
      else if (r !== 'ok') throw new DependencyError(r);
    }
    if (!pending) return;
    await sleep(options.intervalMs ?? 500, options.signal);
  }
}

const healthy: Check = (c) => {
  if (c.status === 'exited' || c.status === 'dead') return `container ${c.name} exited (${c.exitCode})`;
  if (c.health === undefined) return `container ${c.name} has no healthcheck configured`;
  if (c.health === 'unhealthy') return `dependency failed to start: container ${c.name} is unhealthy`;
  return c.health === 'healthy' ? 'ok' : 'pending';
};

const completed =
  (service: string): Check =>
  (c) => {
    if (c.status !== 'exited' && c.status !== 'dead') return 'pending';
    return c.exitCode === 0 ? 'ok' : `service "${service}" didn't complete successfully: exit ${c.exitCode}`;
  };

/**
 * Waits until the depends_on conditions of `service` hold. Dependencies outside `selected` (--no-deps) or scaled
 * to 0 are not waited on; a failed `required: false` dependency is a warning, not an error.
 */
export async function waitDependencies(
  runtime: Runtime,
  project: Project,
  service: string,
  events: EventSink,
  options: WaitOptions & { readonly selected?: ReadonlySet<string> | undefined } = {},
): Promise<void> {
  const svc = project.services[service];
  if (!svc) return;
  const waits: Promise<void>[] = [];
  for (const [dep, d] of serviceDependencies(svc)) {
    if (d.condition === 'service_started') continue;
    const depSvc = project.services[dep];
    if (!depSvc || (options.selected && !options.selected.has(dep))) continue;
    if ((depSvc.scale ?? depSvc.deploy?.replicas ?? 1) === 0) continue;
    const check = d.condition === 'service_healthy' ? healthy : completed(dep);
    waits.push(
      (async () => {
        const containers = await serviceContainers(runtime, project.name, dep, options.signal);
        const names = containers.map((c) => c.name);
        for (const n of names) events.emit(working(`Container ${n}`, 'Waiting'));
        try {
          if (containers.length === 0) throw new DependencyError(`service "${dep}" has no container to wait for`);
          await poll(runtime, project.name, dep, check, options);
          for (const n of names) events.emit(done(`Container ${n}`, d.condition === 'service_healthy' ? 'Healthy' : 'Exited'));
        } catch (e) {
          if (!(e instanceof DependencyError)) throw e;
          if (d.required) {
            for (const n of names) events.emit(failed(`Container ${n}`, 'Error', e.message));
            throw e;
          }
          for (const n of names) events.emit(warning(`Container ${n}`, 'Skipped', `optional dependency "${dep}" failed: ${e.message}`));
          if (names.length === 0) events.emit(warning(`Service ${dep}`, 'Skipped', e.message));
        }
      })(),
    );
  }
  await Promise.all(waits);
}

/**
 * Waits until `service`'s containers meet a depends_on `condition` (`service_healthy`, `service_completed_successfully`;
 * `service_started` holds at once), polling as `waitDependencies` does. DependencyError when it cannot hold any more.
 */
export async function waitCondition(runtime: Runtime, project: string, service: string, condition: string, options: WaitOptions = {}): Promise<void> {
  if (condition === 'service_started') return;
  await poll(runtime, project, service, condition === 'service_healthy' ? healthy : completed(service), options);
}

/** `up --wait` readiness: running (and healthy when a healthcheck exists), or a one-shot that exited 0. */
const ready: Check = (c) => {
  if (c.status === 'exited' || c.status === 'dead') return c.exitCode === 0 ? 'ok' : `container ${c.name} exited (${c.exitCode})`;
  if (c.status !== 'running') return 'pending';
  if (c.health === 'unhealthy') return `container ${c.name} is unhealthy`;
  return c.health === undefined || c.health === 'healthy' ? 'ok' : 'pending';
};

/** Waits until every container of `services` is ready (see `ready`); `timeoutMs` bounds the whole wait. */
export async function waitReady(
  runtime: Runtime,
  project: string,
  services: readonly string[],
  events: EventSink,
  options: WaitOptions & { readonly timeoutMs?: number | undefined } = {},
): Promise<void> {
  const ac = new AbortController();
  // One signal is shared by every call in flight (p-queue tasks, engine requests): no listener cap.
  setMaxListeners(0, ac.signal);
  const onAbort = (): void => ac.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const timeout =
    options.timeoutMs === undefined
      ? undefined
      : new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            const err = new WaitTimeoutError(`application not healthy after ${Math.round(options.timeoutMs! / 1000)}s`);
            ac.abort(err);
            reject(err);
          }, options.timeoutMs);
        });
  try {
    const all = Promise.all(
      services.map(async (s) => {
        const containers = await serviceContainers(runtime, project, s, ac.signal);
        for (const c of containers) events.emit(working(`Container ${c.name}`, 'Waiting'));
        try {
          await poll(runtime, project, s, ready, { ...options, signal: ac.signal });
        } catch (e) {
          if (e instanceof DependencyError) for (const c of containers) events.emit(failed(`Container ${c.name}`, 'Error', e.message));
          throw e;
        }
        for (const c of await serviceContainers(runtime, project, s, ac.signal))
          events.emit(done(`Container ${c.name}`, c.status === 'exited' ? 'Exited' : 'Healthy'));
      }),
    );
    await (timeout ? Promise.race([all, timeout]) : all);
  } catch (e) {
    if (ac.signal.aborted && ac.signal.reason instanceof WaitTimeoutError) throw ac.signal.reason;
    throw e;
  } finally {
    if (timer) clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
    if (!ac.signal.aborted) ac.abort();
  }
}
