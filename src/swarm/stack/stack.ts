/**
 * The stack use cases of `--runtime swarm`: `up` (observe the stack's objects by its namespace label, pin the built
 * images by digest (../images.ts), reconcile, run the plan in depends_on order, and with `wait` until every service
 * converged), `up` of some services only (`scale`: the others, orphans and old secret versions are left alone) and
 * `down` (services, then the stack's secrets, configs and networks; networks are retried while the removed
 * services' tasks let go of them).
 */
import { setTimeout as delay } from 'node:timers/promises';
import { TsComposeError, UsageError } from '../../errors.js';
import { serviceDependencies } from '../../project/dependencies.js';
import type { Project } from '../../project/types.js';
import { isConflict } from '../../runtime/errors.js';
import { LABEL_NAMESPACE } from '../convert-names.js';
import { stackOf, type StackOptions } from '../convert.js';
import { resolvePins, type ImageRegistry } from '../images.js';
import type { SwarmApi } from '../port.js';
import { executeStackPlan, type StackEvents } from './execute.js';
import type { StackPlan, StackWait } from './plan.js';
import { planDeploy, planRemove, type ObservedStack } from './reconcile.js';
import { waitStack, type ServiceProgress, type WaitSettings } from './wait.js';

export interface StackContext {
  readonly api: SwarmApi;
  readonly events: StackEvents;
  readonly signal?: AbortSignal | undefined;
  /** Poll interval of the waits (tests). */
  readonly pollIntervalMs?: number | undefined;
}

export interface StackUpOptions extends StackOptions {
  readonly removeOrphans?: boolean | undefined;
  /** `--wait`: until every service converged (or `waitTimeoutSeconds`). */
  readonly wait?: boolean | undefined;
  readonly waitTimeoutSeconds?: number | undefined;
  /** `--dry-run`: the plan only. */
  readonly dryRun?: boolean | undefined;
  readonly registryAuth?: string | undefined;
  /** Only these compose services (`scale`): the others, orphans and unused secret and config versions stay as they are. */
  readonly services?: readonly string[] | undefined;
  /** Resolves the built services' images not in `pinnedImages` to the digest the registry serves (see ../images.ts). */
  readonly registry?: ImageRegistry | undefined;
}

export class NotASwarmManagerError extends TsComposeError {
  constructor(detail: string) {
    super('TSC_SWARM_NOT_MANAGER', detail, {
      hint: 'point DOCKER_HOST at a manager of the swarm (docker node ls there shows the nodes), or make this engine one: docker swarm init',
    });
  }
}

async function manager(ctx: StackContext): Promise<void> {
  const info = await ctx.api.swarmInfo({ signal: ctx.signal });
  if (!info) throw new NotASwarmManagerError('the Docker Engine is not part of a swarm');
  if (!info.isManager) throw new NotASwarmManagerError('the Docker Engine is a swarm worker, not a manager');
}

/** The stack's objects on the swarm, found by its namespace label. */
export async function observeStack(ctx: StackContext, namespace: string): Promise<ObservedStack> {
  const labels = { [LABEL_NAMESPACE]: namespace };
  const o = { labels, signal: ctx.signal };
  const [services, networks, secrets, configs] = await Promise.all([
    ctx.api.listServices(o),
    ctx.api.listNetworks(o),
    ctx.api.listSecrets(o),
    ctx.api.listConfigs(o),
  ]);
  return { services, networks, secrets, configs };
}

function waitsOf(project: Project): Record<string, StackWait[]> {
  return Object.fromEntries(
    Object.entries(project.services).map(([k, s]) => [
      k,
      [...serviceDependencies(s)].map(([service, d]) => ({ service, condition: d.condition, required: d.required })),
    ]),
  );
}

export async function stackUp(
  ctx: StackContext,
  project: Project,
  options: StackUpOptions = {},
): Promise<{ plan: StackPlan; progress?: ServiceProgress[] }> {
  await manager(ctx);
  for (const s of [...(options.services ?? []), ...Object.keys(options.scale ?? {})])
    if (!project.services[s]) throw new UsageError(`no such service: ${s}`);
  const observed = await observeStack(ctx, project.name);
  const { pins, warnings: imageWarnings } = await resolvePins(project, observed.services, {
    pinned: options.pinnedImages,
    registry: options.registry,
    services: options.services,
    signal: ctx.signal,
  });
  for (const w of imageWarnings) ctx.events.emit({ resource: `Service ${w.service}`, status: 'warning', text: 'Warning', details: w.message });
  const stack = stackOf(project, { ...options, pinnedImages: pins });
  for (const w of stack.warnings) {
    ctx.events.emit({
      resource: w.service ? `Service ${w.service}` : `Project ${project.name}`,
      status: 'warning',
      text: 'Warning',
      details: `${w.key}: ${w.message}`,
    });
  }
  // External secrets and configs are referenced by name: their ids are looked up among all of the swarm's.
  const [allSecrets, allConfigs] = await Promise.all([ctx.api.listSecrets({ signal: ctx.signal }), ctx.api.listConfigs({ signal: ctx.signal })]);
  const { plan, warnings } = planDeploy(stack, waitsOf(project), observed, {
    removeOrphans: options.removeOrphans,
    services: options.services,
  });
  for (const w of warnings) ctx.events.emit({ resource: `Project ${project.name}`, status: 'warning', text: 'Warning', details: w });
  if (options.dryRun) return { plan };
  const wait: WaitSettings = {
    signal: ctx.signal,
    intervalMs: ctx.pollIntervalMs,
    timeoutMs: options.waitTimeoutSeconds === undefined ? undefined : options.waitTimeoutSeconds * 1000,
  };
  await executeStackPlan(
    {
      api: ctx.api,
      events: ctx.events,
      namespace: project.name,
      secretIds: new Map(allSecrets.map((s) => [s.name, s.id])),
      configIds: new Map(allConfigs.map((c) => [c.name, c.id])),
      wait,
      registryAuth: options.registryAuth,
    },
    plan,
  );
  if (!options.wait) return { plan };
  const names = stack.services.filter((s) => !options.services || options.services.includes(s.key)).map((s) => s.name);
  for (const n of names) ctx.events.emit({ resource: `Service ${n}`, status: 'working', text: 'Waiting' });
  const progress = await waitStack(ctx.api, names, wait);
  for (const p of progress) {
    ctx.events.emit({
      resource: `Service ${p.name}`,
      status: 'done',
      text: p.job ? `Completed ${p.completed}/${p.desired}` : `Running ${p.running}/${p.desired}`,
    });
  }
  return { plan, progress };
}

export async function stackDown(ctx: StackContext, namespace: string, options: { readonly dryRun?: boolean | undefined } = {}): Promise<StackPlan> {
  await manager(ctx);
  const observed = await observeStack(ctx, namespace);
  const plan = planRemove(namespace, observed);
  if (options.dryRun || plan.empty) return plan;
  // Networks are held by the removed services' tasks for a moment after: retry those while they are in use.
  const api: SwarmApi = Object.create(ctx.api) as SwarmApi;
  api.removeNetwork = async (id, o) => {
    for (let i = 0; ; i++) {
      try {
        return await ctx.api.removeNetwork(id, o);
      } catch (e) {
        if (!isConflict(e) || i >= 60) throw e;
        await delay(ctx.pollIntervalMs ?? 500, undefined, ctx.signal ? { signal: ctx.signal } : {});
      }
    }
  };
  await executeStackPlan({ api, events: ctx.events, namespace, secretIds: new Map(), configIds: new Map(), wait: { signal: ctx.signal } }, plan);
  // A manager removes a network once its last task let go of it, after the call returned: wait for that, so an `up`
  // right after `down` does not meet the old network.
  const labels = { [LABEL_NAMESPACE]: namespace };
  for (let i = 0; i < 120; i++) {
    const left = await ctx.api.listNetworks({ labels, signal: ctx.signal });
    if (left.length === 0) break;
    if (i === 119) {
      for (const n of left)
        ctx.events.emit({ resource: `Network ${n.name}`, status: 'warning', text: 'Warning', details: 'still being removed by the swarm' });
      break;
    }
    await delay(ctx.pollIntervalMs ?? 250, undefined, ctx.signal ? { signal: ctx.signal } : {});
  }
  return plan;
}
