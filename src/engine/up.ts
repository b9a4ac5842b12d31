/**
 * `up` and `create`: images (pull / build) → observe, reading the digests of the services' input files → reconcile →
 * execute, waiting for depends_on conditions before each service's containers start (or restart, for `restart: true`
 * dependents of a recreated service), then (with `--wait`) for every service to be ready. Reports through events only.
 */
import type { Project } from '../project/types.js';
import { execute } from './execute.js';
import type { EngineContext } from './events.js';
import { hostRequirementWarnings } from './host-requirements.js';
import { keySupportWarnings } from './key-support.js';
import { ensureImages, type BuildPolicy, type PullPolicy } from './images.js';
import { readInputs } from './inputs.js';
import { observe, type ObservedState } from './observe.js';
import { nodeService, type Plan } from './plan.js';
import { executeReporter } from './progress.js';
import { reconcile, type ReconcileOptions } from './reconcile.js';
import { selectServices } from './select.js';
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

/**
 * Observe (with the digests of the selected services' input files, ./inputs.ts) + reconcile only: what `up` would do
 * (`--dry-run`).
 */
export async function planUp(ctx: EngineContext, project: Project, options: UpOptions = {}): Promise<{ plan: Plan; observed: ObservedState }> {
  const { selected } = selectServices(project, { services: options.services, noDeps: options.noDeps });
  const [state, inputs] = await Promise.all([
    observe(ctx.runtime, project, { signal: ctx.signal }),
    readInputs(project, { services: selected, workingDir: options.origin?.workingDir }),
  ]);
  const observed: ObservedState = { ...state, inputs };
  return { plan: reconcile(project, observed, { ...options, prepareStarts: ctx.runtime.prepareStart !== undefined }), observed };
}

export async function up(ctx: EngineContext, project: Project, options: UpOptions = {}): Promise<UpResult> {
  const { selected } = selectServices(project, { services: options.services, noDeps: options.noDeps });
  const services = [...selected].sort();
  // Two commands changing this project run one after the other (the second then finds the first's work done);
  // `--wait` and attaching happen after, without the lock.
  const { plan, observed } = await ctx.runtime.withProjectLock(
    project.name,
    async () => {
      for (const w of await hostRequirementWarnings(ctx.runtime, project, services, { signal: ctx.signal }))
        ctx.events.emit({ resource: `Project ${project.name}`, status: 'warning', text: 'Warning', details: w });
      for (const w of keySupportWarnings(ctx.runtime.kind, project, services))
        ctx.events.emit({ resource: `Project ${project.name}`, status: 'warning', text: 'Warning', details: w });
      await ensureImages(ctx, project, services, { build: options.build, pull: options.pull, quiet: options.quietPull });
      const { plan, observed } = await planUp(ctx, project, options);
      for (const w of plan.warnings) ctx.events.emit({ resource: `Project ${project.name}`, status: 'warning', text: 'Warning', details: w });

      const waits = new Map<string, Promise<void>>();
      const waitOpts = { signal: ctx.signal, intervalMs: options.pollIntervalMs, selected };
      await execute(ctx.runtime, plan, {
        concurrency: ctx.concurrency,
        signal: ctx.signal,
        onEvent: executeReporter(ctx.events),
        beforeNode: async (node, signal) => {
          if (node.op.type !== 'StartContainer' && node.op.type !== 'RestartContainer') return;
          const service = nodeService(node);
          if (service === undefined) return;
          let w = waits.get(service);
          if (!w) {
            w = waitDependencies(ctx.runtime, project, service, ctx.events, { ...waitOpts, signal });
            waits.set(service, w);
          }
          await w;
        },
      });
      return { plan, observed };
    },
    { signal: ctx.signal },
  );

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

/** `create`: `up --no-start`. */
export async function create(ctx: EngineContext, project: Project, options: UpOptions = {}): Promise<UpResult> {
  return up(ctx, project, { ...options, noStart: true, wait: false });
}
