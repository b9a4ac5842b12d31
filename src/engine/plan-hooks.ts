/**
 * Lifecycle hooks as plan nodes (compose-spec `post_start` / `pre_stop`; docker compose `pkg/compose/hook.go`,
 * `convergence.go` startService, `down.go` stopContainer, `restart.go`). Each hook is one RunHook node (one exec in
 * the container), so `--dry-run` shows them:
 *
 * - post_start: after the node that starts the container (StartContainer, or RestartContainer for a depends_on
 *   `restart: true` dependent), one after the other in the order written. What waits for the container to be up
 *   (its dependents' starts) waits for the last hook, as compose starts a dependent only once the dependency's
 *   hooks have run.
 * - pre_stop: before the StopContainer (or RestartContainer) of a running container, in order: on `down`, on a
 *   scale down and for a restarted dependent. As compose, not for the old container of a recreate (compose stops it
 *   with a plain ContainerStop) nor for orphans (compose knows no service for them).
 *
 * A hook node takes the cause of the operation it belongs to.
 */
import type { ServiceConfig, ServiceHook } from '../project/types.js';
import type { ExecSpec } from '../runtime/runtime.js';
import type { Cause, HookPhase, Plan, PlanResource } from './plan.js';

/** The exec of one hook: compose passes user, privileged, working_dir and environment (`KEY` alone for a null value). */
export function hookExec(hook: ServiceHook, svc: ServiceConfig): Omit<ExecSpec, 'stdin'> {
  const env = Object.entries(hook.environment ?? {}).map(([k, v]) => (v === null ? k : `${k}=${v}`));
  return {
    cmd: [...hook.command],
    ...(env.length > 0 ? { env } : {}),
    ...(hook.user ? { user: hook.user } : {}),
    ...(hook.working_dir ? { workdir: hook.working_dir } : {}),
    ...(hook.privileged ? { privileged: true } : {}),
    ...(svc.tty ? { tty: true } : {}),
  };
}

/**
 * How hook output names the container (compose `getContainerNameWithoutProject`): `web-1` for the default name
 * `<project>-web-1`, the name itself for a `container_name`.
 */
export function hookSource(project: string, resource: PlanResource): string {
  if (resource.kind !== 'service') return resource.name;
  const defaultName = `${project}-${resource.service}-${resource.number}`;
  return resource.name === defaultName ? resource.name.slice(project.length + 1) : resource.name;
}

function addHooks(
  plan: Plan,
  project: string,
  svc: ServiceConfig,
  phase: HookPhase,
  resource: PlanResource,
  container: string,
  cause: Cause,
  deps: readonly number[],
): number[] {
  const hooks = svc[phase] ?? [];
  const service = resource.kind === 'service' ? resource.service : resource.name;
  const source = hookSource(project, resource);
  let last = [...deps];
  hooks.forEach((hook, index) => {
    last = [plan.add(resource, { type: 'RunHook', container, service, phase, index, exec: hookExec(hook, svc), source }, cause, last)];
  });
  return last;
}

/**
 * The post_start hooks of the container node `startId` starts (or restarts), after it. Returns the node that
 * finishes bringing the container up: the last hook, or `startId` when the service has none.
 */
export function addPostStartHooks(plan: Plan, project: string, svc: ServiceConfig, startId: number): number {
  const start = plan.node(startId);
  if (start.op.type !== 'StartContainer' && start.op.type !== 'RestartContainer') throw new TypeError(`plan node #${startId} starts no container`);
  return addHooks(plan, project, svc, 'post_start', start.resource, start.op.container, start.cause, [startId])[0]!;
}

/**
 * The pre_stop hooks of `container`, after `deps`; `svc` undefined (a container of no known service) = none.
 * Returns what the stop (or restart) must wait for: the last hook, or `deps` when there is none.
 */
export function addPreStopHooks(
  plan: Plan,
  project: string,
  svc: ServiceConfig | undefined,
  resource: PlanResource,
  container: string,
  cause: Cause,
  deps: readonly number[],
): number[] {
  return svc ? addHooks(plan, project, svc, 'pre_stop', resource, container, cause, deps) : [...deps];
}
