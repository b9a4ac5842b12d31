/**
 * The plan of `down` (compose `pkg/compose/down.go`): the project's containers stopped in reverse dependency order
 * and removed, then its networks (and with `-v` its volumes). Read from labels only, so `down -p NAME` needs no
 * compose file. With the compose file, a running container's `pre_stop` hooks run before its stop (compose
 * `stopContainer`), not for one-off containers and orphans (compose has no service for them).
 */
import { dependencyOrder } from '../project/graph.js';
import type { Project } from '../project/types.js';
import { LABEL_DEPENDS_ON, LABEL_PROJECT, parseDependsOnLabel } from './labels.js';
import type { ObservedState } from './observe.js';
import { Plan, type Cause, type PlanResource } from './plan.js';
import { addPreStopHooks } from './plan-hooks.js';
import { orphanWarning } from './reconcile.js';

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export interface DownOptions {
  /** The project, when a compose file was loaded; without it (`down -p NAME`) everything labelled goes. */
  readonly project?: Project | undefined;
  readonly removeOrphans?: boolean | undefined;
  /** `-v`: remove the project's named volumes and the containers' anonymous volumes. */
  readonly volumes?: boolean | undefined;
  readonly timeoutSeconds?: number | undefined;
  readonly disabledServices?: readonly string[] | undefined;
}

/**
 * The plan of `down`: containers stopped in reverse dependency order (a container stops after the containers of
 * the services depending on it, read from their `depends_on` labels, so no compose file is needed), then
 * removed, then the project's networks (and with `-v` its volumes). Only labelled resources are touched.
 */
const DOWN: Cause = { reason: 'down' };

export function planDown(observed: ObservedState, options: DownOptions = {}): Plan {
  const plan = new Plan();
  const known = options.project ? new Set([...Object.keys(options.project.services), ...(options.disabledServices ?? [])]) : undefined;
  const containers = observed.containers.filter((c) => !known || known.has(c.service) || options.removeOrphans);
  if (known && !options.removeOrphans) {
    const orphans = observed.containers.filter((c) => !c.oneoff && !known.has(c.service)).map((c) => c.name);
    if (orphans.length > 0) plan.warnings.push(orphanWarning(orphans.sort(byName)));
  }
  // service → the services that depend on it.
  const dependents = new Map<string, Set<string>>();
  for (const c of containers) {
    for (const d of parseDependsOnLabel(c.labels[LABEL_DEPENDS_ON] ?? '')) {
      const set = dependents.get(d.service) ?? new Set<string>();
      set.add(c.service);
      dependents.set(d.service, set);
    }
  }
  const graph = new Map<string, Set<string>>();
  for (const c of containers) graph.set(c.service, new Set([...(dependents.get(c.service) ?? [])].filter((s) => s !== c.service)));
  // dependencyOrder over "depends on its dependents" = reverse dependency order; a cycle in labels is ignored.
  let order: string[];
  try {
    order = dependencyOrder(graph);
  } catch {
    order = [...graph.keys()].sort(byName);
  }
  const stopNodes = new Map<string, number[]>();
  const removeNodes: number[] = [];
  for (const s of order) {
    const waitFor = [...(graph.get(s) ?? [])].flatMap((d) => stopNodes.get(d) ?? []);
    const mine: number[] = [];
    stopNodes.set(s, mine);
    for (const c of containers.filter((x) => x.service === s)) {
      const res: PlanResource = c.oneoff
        ? { kind: 'container', name: c.name }
        : { kind: 'service', service: c.service, number: c.number, name: c.name };
      let stop: number | undefined;
      if (c.status === 'running' || c.status === 'paused' || c.status === 'restarting') {
        const svc = c.status === 'running' && !c.oneoff ? options.project?.services[c.service] : undefined;
        stop = plan.add(
          res,
          {
            type: 'StopContainer',
            container: c.id,
            ...(options.timeoutSeconds === undefined ? {} : { timeoutSeconds: options.timeoutSeconds }),
            removing: true,
          },
          DOWN,
          addPreStopHooks(plan, observed.project, svc, res, c.id, DOWN, waitFor),
        );
        mine.push(stop);
      }
      removeNodes.push(
        plan.add(
          res,
          { type: 'RemoveContainer', container: c.id, ...(options.volumes ? { volumes: true } : {}) },
          DOWN,
          stop === undefined ? waitFor : [stop],
        ),
      );
    }
  }
  const owned = (labels: Readonly<Record<string, string>>): boolean => labels[LABEL_PROJECT] === observed.project;
  for (const { id, key, name, labels } of Object.values(observed.networks)) {
    if (owned(labels) && key !== undefined) plan.add({ kind: 'network', key, name }, { type: 'RemoveNetwork', network: id }, DOWN, removeNodes);
  }
  if (options.volumes) {
    for (const { key, name, labels } of Object.values(observed.volumes)) {
      if (owned(labels) && key !== undefined) plan.add({ kind: 'volume', key, name }, { type: 'RemoveVolume', volume: name }, DOWN, removeNodes);
    }
  }
  return plan;
}
