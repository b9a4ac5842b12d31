/**
 * `resume`: after the machine came back (a reboot), the containers their restart policy wants running are started
 * again — across projects, each project's services in `depends_on` order, each service once its dependencies'
 * conditions hold (`service_started`, `service_healthy`, `service_completed_successfully`, read from the containers'
 * depends_on labels). What to bring back is the runtime's call (Runtime.listResumable: `always`, `unless-stopped`
 * not stopped by a user, `on-failure` cut off); the order is ours. dockerd restarts its containers in no order
 * (moby#29514, docker/compose#10859): this is what it lacks.
 *
 * `planResume` is pure (golden-tested, printed by `--dry-run`); `resume` runs a plan: projects in parallel, each under
 * its project lock (a concurrent `up`/`down` waits), services as soon as their dependencies allow.
 */
import { dependencyOrder } from '../project/graph.js';
import type { ContainerSummary } from '../runtime/runtime.js';
import { isNotModified } from '../runtime/errors.js';
import { isOneoff, numberOf, serviceOf } from './containers.js';
import { done, failed, warning, working, type EngineContext } from './events.js';
import { LABEL_DEPENDS_ON, LABEL_PROJECT, parseDependsOnLabel } from './labels.js';
import { DependencyError, serviceContainers, waitCondition } from './wait.js';

/** One service of a project to bring back: its containers, after the waits on its dependencies. */
export interface ResumeStep {
  readonly service: string;
  /** Container names, in number order. */
  readonly containers: readonly { readonly id: string; readonly name: string }[];
  /** Dependencies to wait for first (those that are or will be running, or that completed). */
  readonly waitFor: readonly { readonly service: string; readonly condition: string }[];
  /** Dependencies that stay down (stopped by a user, no restart policy): started without them, with a warning. */
  readonly missing: readonly string[];
}

export interface ResumeProject {
  readonly project: string;
  /** In dependency order (dependencies first). */
  readonly steps: readonly ResumeStep[];
}

export interface ResumePlan {
  readonly projects: readonly ResumeProject[];
  /** Containers outside any compose project (started as they are). */
  readonly loose: readonly { readonly id: string; readonly name: string }[];
}

/** A container as `planResume` reads it: the exit code matters for `service_completed_successfully`. */
export type ResumeCandidate = ContainerSummary & { readonly exitCode?: number | undefined };

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * What `resume` does, from every container of the backend (`all`, any status) and the ids the runtime wants back.
 * A service's dependencies come from its containers' depends_on labels; dependencies without a container are not
 * waited for (compose `required: false`, or removed since).
 */
export function planResume(all: readonly ResumeCandidate[], resumable: ReadonlySet<string>): ResumePlan {
  const byProject = new Map<string, ResumeCandidate[]>();
  const loose: { id: string; name: string }[] = [];
  for (const c of all) {
    const project = c.labels[LABEL_PROJECT];
    if (project === undefined || serviceOf(c) === '' || isOneoff(c)) {
      if (resumable.has(c.id)) loose.push({ id: c.id, name: c.name });
      continue;
    }
    byProject.set(project, [...(byProject.get(project) ?? []), c]);
  }
  const projects: ResumeProject[] = [];
  for (const project of [...byProject.keys()].sort(byName)) {
    const containers = byProject.get(project)!;
    if (!containers.some((c) => resumable.has(c.id))) continue;
    const services = new Map<string, ResumeCandidate[]>();
    for (const c of containers) services.set(serviceOf(c), [...(services.get(serviceOf(c)) ?? []), c]);
    const deps = new Map<string, { service: string; condition: string }[]>();
    for (const [s, cs] of services) {
      const label = cs.find((c) => c.labels[LABEL_DEPENDS_ON] !== undefined)?.labels[LABEL_DEPENDS_ON] ?? '';
      deps.set(
        s,
        parseDependsOnLabel(label).filter((d) => d.service !== s && services.has(d.service)),
      );
    }
    let order: string[];
    try {
      order = dependencyOrder(new Map([...deps].map(([s, ds]) => [s, new Set(ds.map((d) => d.service))])));
    } catch {
      order = [...services.keys()].sort(byName);
    }
    // Up after the resume: running now, or brought back by it.
    const up = (s: string): boolean => services.get(s)!.some((c) => c.status === 'running' || c.status === 'restarting' || resumable.has(c.id));
    const completed = (s: string): boolean => services.get(s)!.some((c) => c.status === 'exited' && c.exitCode === 0);
    const steps: ResumeStep[] = [];
    for (const s of order) {
      const mine = services
        .get(s)!
        .filter((c) => resumable.has(c.id))
        .sort((a, b) => numberOf(a) - numberOf(b) || byName(a.name, b.name));
      if (mine.length === 0) continue;
      const waitFor: { service: string; condition: string }[] = [];
      const missing: string[] = [];
      for (const d of deps.get(s) ?? []) {
        if (d.condition === 'service_completed_successfully' && !up(d.service) && completed(d.service)) continue; // done before the reboot
        if (up(d.service)) waitFor.push({ service: d.service, condition: d.condition });
        else missing.push(d.service);
      }
      steps.push({ service: s, containers: mine.map((c) => ({ id: c.id, name: c.name })), waitFor, missing });
    }
    projects.push({ project, steps });
  }
  return { projects, loose: loose.sort((a, b) => byName(a.name, b.name)) };
}

/** `project: service (names) after dep:condition, …` lines, for `--dry-run` and golden tests. */
export function resumePlanText(plan: ResumePlan): string {
  const lines: string[] = [];
  for (const p of plan.projects) {
    for (const st of p.steps) {
      const waits = st.waitFor.map((w) => `${w.service}:${w.condition}`);
      lines.push(
        `${p.project}: start ${st.service} (${st.containers.map((c) => c.name).join(', ')})` +
          (waits.length > 0 ? ` after ${waits.join(', ')}` : '') +
          (st.missing.length > 0 ? ` without ${st.missing.join(', ')} (not running)` : ''),
      );
    }
  }
  for (const c of plan.loose) lines.push(`start ${c.name}`);
  return lines.length === 0 ? 'nothing to resume\n' : lines.join('\n') + '\n';
}

export interface ResumeOptions {
  /** How long to wait for one dependency's condition (default 600 s). */
  readonly waitTimeoutSeconds?: number | undefined;
  /** Poll interval of the waits (tests). */
  readonly pollIntervalMs?: number | undefined;
}

export class ResumeError extends DependencyError {}

/** The plan for what the backend holds now. */
export async function resumePlan(ctx: EngineContext): Promise<ResumePlan> {
  const ids = new Set(await ctx.runtime.listResumable({ signal: ctx.signal }));
  if (ids.size === 0) return { projects: [], loose: [] };
  const all: ResumeCandidate[] = await ctx.runtime.listContainers({ all: true, signal: ctx.signal });
  // Exit codes of the stopped containers of projects with something to resume (service_completed_successfully).
  const projects = new Set(all.filter((c) => ids.has(c.id)).map((c) => c.labels[LABEL_PROJECT]));
  const withExits = await Promise.all(
    all.map(async (c) =>
      c.status === 'exited' && projects.has(c.labels[LABEL_PROJECT])
        ? { ...c, exitCode: (await ctx.runtime.inspectContainer(c.id, { signal: ctx.signal })).exitCode }
        : c,
    ),
  );
  return planResume(withExits, ids);
}

/**
 * Brings back what `resumePlan` finds. A project whose dependency fails (unhealthy, exited non-zero, timed out)
 * leaves its dependents down and the others go on; the first failure is thrown at the end.
 */
export async function resume(ctx: EngineContext, options: ResumeOptions = {}): Promise<ResumePlan> {
  const plan = await resumePlan(ctx);
  const failures: unknown[] = [];
  const startOne = async (c: { id: string; name: string }): Promise<void> => {
    const resource = `Container ${c.name}`;
    ctx.events.emit(working(resource, 'Starting'));
    try {
      await ctx.runtime.startContainer(c.id, { signal: ctx.signal });
    } catch (e) {
      if (!isNotModified(e)) {
        ctx.events.emit(failed(resource, 'Error', e instanceof Error ? e.message : String(e)));
        throw e;
      }
    }
    ctx.events.emit(done(resource, 'Started'));
  };
  await Promise.all([
    ...plan.loose.map((c) => startOne(c).catch((e: unknown) => void failures.push(e))),
    ...plan.projects.map((p) =>
      ctx.runtime
        .withProjectLock(p.project, () => resumeProject(ctx, p, startOne, options), { signal: ctx.signal })
        .catch((e: unknown) => void failures.push(e)),
    ),
  ]);
  if (failures.length > 0) throw failures[0];
  return plan;
}

async function resumeProject(
  ctx: EngineContext,
  p: ResumeProject,
  startOne: (c: { id: string; name: string }) => Promise<void>,
  options: ResumeOptions,
): Promise<void> {
  // Each service starts once the services it waits for are started (and their conditions hold): independent
  // services of a project start side by side.
  const started = new Map<string, Promise<void>>();
  const timeoutMs = (options.waitTimeoutSeconds ?? 600) * 1000;
  for (const st of p.steps) {
    const before = st.waitFor.map((w) => started.get(w.service)).filter((x): x is Promise<void> => x !== undefined);
    started.set(
      st.service,
      (async () => {
        await Promise.all(before);
        for (const m of st.missing)
          ctx.events.emit(
            warning(
              `Service ${st.service}`,
              'Warning',
              `dependency ${m} is not running (stopped by a user, or no restart policy): starting without it`,
            ),
          );
        await Promise.all(st.waitFor.map((w) => waitFor(ctx, p.project, w, timeoutMs, options.pollIntervalMs)));
        await Promise.all(st.containers.map(startOne));
      })(),
    );
  }
  // Failures are thrown once every branch settled (a failed dependency leaves only its dependents down).
  const results = await Promise.allSettled(started.values());
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw failure.reason;
}

async function waitFor(
  ctx: EngineContext,
  project: string,
  w: { service: string; condition: string },
  timeoutMs: number,
  intervalMs: number | undefined,
): Promise<void> {
  if (w.condition === 'service_started') return;
  // Reported per container, as `up` reports its dependency waits (compose's progress lines).
  const names = (await serviceContainers(ctx.runtime, project, w.service, ctx.signal)).map((c) => `Container ${c.name}`);
  for (const n of names) ctx.events.emit(working(n, 'Waiting'));
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = ctx.signal ? AbortSignal.any([ctx.signal, timeout]) : timeout;
  try {
    await waitCondition(ctx.runtime, project, w.service, w.condition, { signal, intervalMs });
  } catch (e) {
    const err =
      timeout.aborted && !ctx.signal?.aborted
        ? new ResumeError(`${project}: service ${w.service} not ${conditionWord(w.condition)} after ${timeoutMs / 1000}s`)
        : e;
    for (const n of names) ctx.events.emit(failed(n, 'Error', err instanceof Error ? err.message : String(err)));
    throw err;
  }
  for (const n of names) ctx.events.emit(done(n, w.condition === 'service_healthy' ? 'Healthy' : 'Exited'));
}

const conditionWord = (condition: string): string => (condition === 'service_healthy' ? 'healthy' : 'completed');
