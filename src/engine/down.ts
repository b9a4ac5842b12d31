/**
 * `down`: stop and remove the project's containers (reverse dependency order), its networks and, with `-v`, its
 * volumes (named ones it created — never external — and the containers' anonymous ones); `--rmi` removes images.
 * Works from the project name alone: everything is found by label.
 */
import type { Project } from '../project/types.js';
import { isNotFound } from '../runtime/errors.js';
import { execute } from './execute.js';
import { done, failed, warning, working, type EngineContext } from './events.js';
import { LABEL_PROJECT, LABEL_SERVICE, serviceImage } from './labels.js';
import { observe } from './observe.js';
import type { Plan } from './plan.js';
import { executeReporter } from './progress.js';
import { planDown } from './plan-down.js';

export interface DownOptions {
  readonly project?: Project | undefined;
  readonly volumes?: boolean | undefined;
  readonly rmi?: 'local' | 'all' | undefined;
  readonly removeOrphans?: boolean | undefined;
  readonly timeoutSeconds?: number | undefined;
  readonly disabledServices?: readonly string[] | undefined;
}

export async function downPlan(
  ctx: EngineContext,
  projectName: string,
  options: DownOptions = {},
): Promise<{ plan: Plan; observed: Awaited<ReturnType<typeof observe>> }> {
  const observed = await observe(ctx.runtime, options.project ?? projectName, { signal: ctx.signal });
  const plan = planDown(observed, {
    project: options.project,
    volumes: options.volumes,
    removeOrphans: options.removeOrphans,
    timeoutSeconds: options.timeoutSeconds,
    disabledServices: options.disabledServices,
  });
  return { plan, observed };
}

export async function down(ctx: EngineContext, projectName: string, options: DownOptions = {}): Promise<Plan> {
  // After an `up` of the same project that is still starting it, not in the middle of it.
  return ctx.runtime.withProjectLock(projectName, () => downLocked(ctx, projectName, options), { signal: ctx.signal });
}

async function downLocked(ctx: EngineContext, projectName: string, options: DownOptions): Promise<Plan> {
  const { plan } = await downPlan(ctx, projectName, options);
  for (const w of plan.warnings) ctx.events.emit(warning(`Project ${projectName}`, 'Warning', w));

  // Images to remove, gathered before the containers go.
  const imageRefs = new Set<string>();
  if (options.rmi) {
    if (options.project) {
      for (const [name, svc] of Object.entries(options.project.services)) {
        if (options.rmi === 'all' || !svc.image) imageRefs.add(serviceImage(projectName, name, svc));
      }
    } else {
      const containers = await ctx.runtime.listContainers({ all: true, labels: { [LABEL_PROJECT]: projectName }, signal: ctx.signal });
      for (const c of containers) {
        const local = c.image === `${projectName}-${c.labels[LABEL_SERVICE] ?? ''}`;
        if (options.rmi === 'all' || local) imageRefs.add(c.image);
      }
    }
  }
  if (plan.isEmpty() && imageRefs.size === 0) {
    ctx.events.emit(warning(`Project ${projectName}`, 'Warning', `No resource found to remove for project "${projectName}".`));
    return plan;
  }
  await execute(ctx.runtime, plan, { concurrency: ctx.concurrency, signal: ctx.signal, onEvent: executeReporter(ctx.events) });
  for (const ref of [...imageRefs].sort()) {
    const resource = `Image ${ref}`;
    ctx.events.emit(working(resource, 'Removing'));
    try {
      await ctx.runtime.removeImage(ref, { signal: ctx.signal });
      ctx.events.emit(done(resource, 'Removed'));
    } catch (e) {
      if (isNotFound(e)) {
        ctx.events.emit(done(resource, 'Removed'));
        continue;
      }
      ctx.events.emit(failed(resource, 'Error', e instanceof Error ? e.message : String(e)));
      throw e;
    }
  }
  return plan;
}
