/**
 * `up` and `create`: images (pull / build) → observe → reconcile → execute, waiting for depends_on conditions
 * before each service starts, then (with `--wait`) for every service to be ready. Reports through events only.
 */
import type { Project } from '../project/types.js';
import { serviceDependencies } from '../project/dependencies.js';
import { projectContainers } from './containers.js';
import { execute } from './execute.js';
import { done, working, type EngineContext } from './events.js';
import { ensureImages, type BuildPolicy, type PullPolicy } from './images.js';
import { observe, type ObservedState } from './observe.js';
import type { Plan } from './plan.js';
import { executeReporter } from './progress.js';
import { reconcile, selectServices, type ReconcileOptions } from './reconcile.js';
import { waitDependencies, waitReady } from './wait.js';

/** `up` takes the reconcile options (services, recreate policy, scale, orphans, …) and adds its own. */
export interface UpOptions extends ReconcileOptions {
  /** `--build` = always, `--no-build` = never. */
  readonly build?: BuildPolicy | undefined;
  /** `--pull`. */
  readonly pull?: PullPolicy | undefined;
  readonly quietPull?: boolean | undefined;
  /** `--wait`. */
  readonly wait?: boolean | undefined;
  readonly waitTimeoutSeconds?: number | undefined;
  /** depends_on / --wait poll interval (tests). */
  readonly pollIntervalMs?: number | undefined;
}

export interface UpResult {
  readonly plan: Plan;
  readonly observed: ObservedState;
  /** Targeted services and their dependencies (those brought up). */
  readonly services: readonly string[];
}

/** Observe + reconcile only: what `up` would do (`--dry-run`). */
export async function planUp(ctx: EngineContext, project: Project, options: UpOptions = {}): Promise<{ plan: Plan; observed: ObservedState }> {
  const observed = await observe(ctx.runtime, project, { signal: ctx.signal });
  return { plan: reconcile(project, observed, options), observed };
}

export async function up(ctx: EngineContext, project: Project, options: UpOptions = {}): Promise<UpResult> {
  const { selected } = selectServices(project, { services: options.services, noDeps: options.noDeps });
  const services = [...selected].sort();
  await ensureImages(ctx, project, services, { build: options.build, pull: options.pull, quiet: options.quietPull });
  const { plan, observed } = await planUp(ctx, project, options);
  for (const w of plan.warnings) ctx.events.emit({ resource: `Project ${project.name}`, status: 'warning', text: 'Warning', details: w });

  const waits = new Map<string, Promise<void>>();
  const waitOpts = { signal: ctx.signal, intervalMs: options.pollIntervalMs, selected };
  await execute(ctx.runtime, plan, {
    concurrency: ctx.concurrency,
    signal: ctx.signal,
    onEvent: executeReporter(ctx.events, observed),
    beforeNode: async (node, signal) => {
      if (node.op.type !== 'StartContainer') return;
      const service = node.resource.split(':')[1];
      if (service === undefined || !node.resource.startsWith('service:')) return;
      let w = waits.get(service);
      if (!w) {
        w = waitDependencies(ctx.runtime, project, service, ctx.events, { ...waitOpts, signal });
        waits.set(service, w);
      }
      await w;
    },
  });

  if (!options.noStart) await restartDependents(ctx, project, plan, selected);

  if (options.wait && !options.noStart) {
    const scaled = services.filter((s) => {
      const svc = project.services[s]!;
      return (options.scale?.[s] ?? svc.scale ?? svc.deploy?.replicas ?? 1) > 0;
    });
    await waitReady(ctx.runtime, project.name, scaled, ctx.events, {
      signal: ctx.signal,
      intervalMs: options.pollIntervalMs,
      timeoutMs: options.waitTimeoutSeconds === undefined ? undefined : options.waitTimeoutSeconds * 1000,
    });
  }
  return { plan, observed, services };
}

/**
 * depends_on `restart: true`: when `up` recreated a dependency, running dependents it did not touch are restarted
 * (compose restarts them so they reconnect).
 */
async function restartDependents(ctx: EngineContext, project: Project, plan: Plan, selected: ReadonlySet<string>): Promise<void> {
  const touched = new Set<string>();
  const recreated = new Set<string>();
  for (const n of plan.nodes) {
    const [kind, service] = n.resource.split(':');
    if (kind !== 'service' || service === undefined) continue;
    touched.add(service);
    if (n.op.type === 'CreateContainer' && n.cause !== 'missing' && n.cause !== 'scale up') recreated.add(service);
  }
  if (recreated.size === 0) return;
  for (const [name, svc] of Object.entries(project.services)) {
    if (touched.has(name) || !selected.has(name)) continue;
    const deps = serviceDependencies(svc);
    if (![...recreated].some((r) => deps.get(r)?.restart === true)) continue;
    for (const c of await projectContainers(ctx.runtime, project.name, { services: [name], runningOnly: true, signal: ctx.signal })) {
      const resource = `Container ${c.name}`;
      ctx.events.emit(working(resource, 'Restarting'));
      await ctx.runtime.restartContainer(c.id, { signal: ctx.signal });
      ctx.events.emit(done(resource, 'Restarted'));
    }
  }
}

/** `create`: `up --no-start`. */
export async function create(ctx: EngineContext, project: Project, options: UpOptions = {}): Promise<UpResult> {
  return up(ctx, project, { ...options, noStart: true, wait: false });
}
