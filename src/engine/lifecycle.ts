/**
 * `start`, `stop`, `restart`, `kill`, `pause`, `unpause`, `rm`: one runtime call per container, containers found by
 * label, in dependency order read from their `depends_on` labels (reverse order for stop/kill). Given the project,
 * `start`, `stop` and `restart` run the services' post_start / pre_stop hooks around it (./lifecycle-hooks.ts).
 */
import { dependencyOrder } from '../project/graph.js';
import type { Project } from '../project/types.js';
import { isNotModified } from '../runtime/errors.js';
import type { ContainerSummary } from '../runtime/runtime.js';
import { projectContainers, serviceOf } from './containers.js';
import { done, failed, warning, working, type EngineContext } from './events.js';
import { LABEL_DEPENDS_ON, parseDependsOnLabel } from './labels.js';
import { runContainerHooks } from './lifecycle-hooks.js';
import { waitReady } from './wait.js';

/** Service names of `containers` in dependency order (dependencies first). */
function serviceOrder(containers: readonly ContainerSummary[]): string[] {
  const graph = new Map<string, Set<string>>();
  for (const c of containers) {
    const s = serviceOf(c);
    const deps = graph.get(s) ?? new Set<string>();
    for (const d of parseDependsOnLabel(c.labels[LABEL_DEPENDS_ON] ?? '')) if (d.service !== s) deps.add(d.service);
    graph.set(s, deps);
  }
  for (const deps of graph.values()) for (const d of [...deps]) if (!graph.has(d)) deps.delete(d);
  try {
    return dependencyOrder(graph);
  } catch {
    return [...graph.keys()].sort();
  }
}

/**
 * `services` and the services depending on them with depends_on `restart: true`, transitively, read from the
 * containers' labels (compose `restart` selects them with `IncludeDependents` over the `restart: true` edges).
 */
function withRestartDependents(containers: readonly ContainerSummary[], services: readonly string[]): string[] {
  const dependents = new Map<string, Set<string>>();
  for (const c of containers) {
    for (const d of parseDependsOnLabel(c.labels[LABEL_DEPENDS_ON] ?? '')) {
      if (!d.restart) continue;
      const set = dependents.get(d.service) ?? new Set<string>();
      set.add(serviceOf(c));
      dependents.set(d.service, set);
    }
  }
  const selected = new Set(services);
  const stack = [...services];
  while (stack.length > 0) {
    for (const d of dependents.get(stack.pop()!) ?? []) {
      if (selected.has(d)) continue;
      selected.add(d);
      stack.push(d);
    }
  }
  return [...selected].sort();
}

type Action = {
  readonly ing: string;
  readonly ed: string;
  readonly reverse: boolean;
  readonly applies: (c: ContainerSummary) => boolean;
  readonly run: (ctx: EngineContext, c: ContainerSummary) => Promise<void>;
};

async function apply(
  ctx: EngineContext,
  project: string,
  services: readonly string[] | undefined,
  action: Action,
  oneoff = false,
): Promise<ContainerSummary[]> {
  const containers = await projectContainers(ctx.runtime, project, { services, oneoff, signal: ctx.signal });
  return applyTo(ctx, containers, action);
}

async function applyTo(ctx: EngineContext, containers: readonly ContainerSummary[], action: Action): Promise<ContainerSummary[]> {
  let order = serviceOrder(containers);
  if (action.reverse) order = order.reverse();
  const touched: ContainerSummary[] = [];
  for (const s of order) {
    const group = containers.filter((c) => serviceOf(c) === s && action.applies(c));
    await Promise.all(
      group.map(async (c) => {
        const resource = `Container ${c.name}`;
        ctx.events.emit(working(resource, action.ing));
        try {
          await action.run(ctx, c);
        } catch (e) {
          if (!isNotModified(e)) {
            ctx.events.emit(failed(resource, 'Error', e instanceof Error ? e.message : String(e)));
            throw e;
          }
        }
        ctx.events.emit(done(resource, action.ed));
        touched.push(c);
      }),
    );
  }
  return touched;
}

const running = (c: ContainerSummary): boolean => c.status === 'running' || c.status === 'restarting' || c.status === 'paused';

export async function start(
  ctx: EngineContext,
  project: string,
  services?: readonly string[],
  options: { wait?: boolean; waitTimeoutSeconds?: number | undefined; pollIntervalMs?: number; project?: Project | undefined } = {},
): Promise<void> {
  const touched = await apply(ctx, project, services, {
    ing: 'Starting',
    ed: 'Started',
    reverse: false,
    applies: (c) => c.status !== 'running',
    run: async (x, c) => {
      await x.runtime.startContainer(c.id, { signal: x.signal });
      await runContainerHooks(x, options.project, c, 'post_start');
    },
  });
  if (options.wait) {
    const svcs = [...new Set(touched.map(serviceOf))];
    await waitReady(ctx.runtime, project, svcs, ctx.events, {
      signal: ctx.signal,
      intervalMs: options.pollIntervalMs,
      timeoutMs: options.waitTimeoutSeconds === undefined ? undefined : options.waitTimeoutSeconds * 1000,
    });
  }
}

export async function stop(
  ctx: EngineContext,
  project: string,
  services?: readonly string[],
  options: { timeoutSeconds?: number | undefined; project?: Project | undefined } = {},
): Promise<void> {
  await apply(ctx, project, services, {
    ing: 'Stopping',
    ed: 'Stopped',
    reverse: true,
    applies: running,
    run: async (x, c) => {
      // A hook finding the container stopped or gone (NotModified) leaves it as it is, as compose does.
      if (c.status === 'running') await runContainerHooks(x, options.project, c, 'pre_stop');
      await x.runtime.stopContainer(c.id, { signal: x.signal, timeoutSeconds: options.timeoutSeconds });
    },
  });
}

export interface RestartOptions {
  readonly timeoutSeconds?: number | undefined;
  /** `--no-deps`: not the services depending on `services` with `restart: true`. */
  readonly noDeps?: boolean | undefined;
  /** The loaded project: its pre_stop / post_start hooks run around each restart. */
  readonly project?: Project | undefined;
}

/** The containers `restart` restarts: those of `services` (all when none) and of their `restart: true` dependents. */
export async function restartContainers(
  ctx: EngineContext,
  project: string,
  services?: readonly string[],
  options: RestartOptions = {},
): Promise<ContainerSummary[]> {
  const all = await projectContainers(ctx.runtime, project, { signal: ctx.signal });
  if (!services || services.length === 0) return all;
  const selected = options.noDeps ? services : withRestartDependents(all, services);
  return all.filter((c) => selected.includes(serviceOf(c)));
}

export async function restart(ctx: EngineContext, project: string, services?: readonly string[], options: RestartOptions = {}): Promise<void> {
  await applyTo(ctx, await restartContainers(ctx, project, services, options), {
    ing: 'Restarting',
    ed: 'Started',
    reverse: false,
    applies: () => true,
    run: async (x, c) => {
      // compose runs pre_stop hooks for every container it restarts; here only a running one has something to stop.
      if (c.status === 'running') await runContainerHooks(x, options.project, c, 'pre_stop');
      await x.runtime.restartContainer(c.id, { signal: x.signal, timeoutSeconds: options.timeoutSeconds });
      await runContainerHooks(x, options.project, c, 'post_start');
    },
  });
}

export async function kill(
  ctx: EngineContext,
  project: string,
  services?: readonly string[],
  options: { signal?: string | undefined; removeOrphans?: boolean } = {},
): Promise<void> {
  const touched = await apply(ctx, project, services, {
    ing: 'Killing',
    ed: 'Killed',
    reverse: true,
    applies: (c) => c.status === 'running',
    run: (x, c) => x.runtime.killContainer(c.id, { signal: x.signal, killSignal: options.signal }),
  });
  if (touched.length === 0) ctx.events.emit(warning(`Project ${project}`, 'Warning', 'no container to kill'));
}

export async function pause(ctx: EngineContext, project: string, services?: readonly string[]): Promise<void> {
  await apply(ctx, project, services, {
    ing: 'Pausing',
    ed: 'Paused',
    reverse: false,
    applies: (c) => c.status === 'running',
    run: (x, c) => x.runtime.pauseContainer(c.id, { signal: x.signal }),
  });
}

export async function unpause(ctx: EngineContext, project: string, services?: readonly string[]): Promise<void> {
  await apply(ctx, project, services, {
    ing: 'Unpausing',
    ed: 'Unpaused',
    reverse: false,
    applies: (c) => c.status === 'paused',
    run: (x, c) => x.runtime.unpauseContainer(c.id, { signal: x.signal }),
  });
}

export interface RmOptions {
  /** `-s`: stop running containers first. */
  readonly stop?: boolean | undefined;
  /** `-v`: remove anonymous volumes. */
  readonly volumes?: boolean | undefined;
  readonly timeoutSeconds?: number | undefined;
  /** The loaded project: with `stop`, its pre_stop hooks run first. */
  readonly project?: Project | undefined;
}

/** `rm`: stopped containers (with `-s`, running ones after stopping them). Returns the names removed. */
export async function rm(ctx: EngineContext, project: string, services?: readonly string[], options: RmOptions = {}): Promise<string[]> {
  if (options.stop) await stop(ctx, project, services, { timeoutSeconds: options.timeoutSeconds, project: options.project });
  const touched = await apply(ctx, project, services, {
    ing: 'Removing',
    ed: 'Removed',
    reverse: true,
    applies: (c) => !running(c),
    run: (x, c) => x.runtime.removeContainer(c.id, { signal: x.signal, volumes: options.volumes }),
  });
  if (touched.length === 0) ctx.events.emit(warning(`Project ${project}`, 'Warning', 'No stopped containers'));
  return touched.map((c) => c.name);
}

/** The stopped containers `rm` would remove (for its confirmation prompt). */
export async function removableContainers(
  ctx: EngineContext,
  project: string,
  services?: readonly string[],
  includeRunning = false,
): Promise<string[]> {
  const list = await projectContainers(ctx.runtime, project, { services, signal: ctx.signal });
  return list.filter((c) => includeRunning || !running(c)).map((c) => c.name);
}
