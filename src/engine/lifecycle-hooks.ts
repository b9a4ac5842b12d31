/**
 * Lifecycle hooks for the commands that act on containers one by one (`start`, `stop`, `restart`; ./lifecycle.ts),
 * as docker compose runs them there: `start` runs a container's post_start hooks once it started (compose
 * `startService`), `stop` its pre_stop hooks before stopping it (`stopContainer`), `restart` both around the restart
 * (`restartContainer`). Hooks need the compose file: without a project (`stop -p NAME`) there are none, as compose's
 * project rebuilt from labels has none.
 *
 * Progress as in plans (./progress.ts): `Running <phase> hook`, and each output line as `web-1 -> | line`.
 */
import type { Project } from '../project/types.js';
import type { ContainerSummary } from '../runtime/runtime.js';
import { serviceOf } from './containers.js';
import type { EngineContext } from './events.js';
import { logName } from './logs.js';
import type { HookPhase } from './plan.js';
import { hookExec } from './plan-hooks.js';
import { runHook } from './run-hook.js';

/** Runs the `phase` hooks of `c`'s service, in order; the first failure rejects. */
export async function runContainerHooks(ctx: EngineContext, project: Project | undefined, c: ContainerSummary, phase: HookPhase): Promise<void> {
  const service = serviceOf(c);
  const svc = project?.services[service];
  if (!project || !svc) return;
  const resource = `Container ${c.name}`;
  const source = logName(project.name, c);
  const text = `Running ${phase} hook`;
  for (const hook of svc[phase] ?? []) {
    ctx.events.emit({ resource, status: 'working', text });
    await runHook(
      ctx.runtime,
      { container: c.id, service, phase, exec: hookExec(hook, svc) },
      {
        signal: ctx.signal,
        onOutput: (line) => ctx.events.emit({ resource, status: 'working', text, details: line, log: `${source} -> | ${line}` }),
      },
    );
  }
}
