/**
 * The reconciler (compose `pkg/compose/reconcile.go`): PURE — project + observed state + options in, Plan
 * out; no runtime call, no clock, no randomness. Recreate rules (`mustRecreate`), in order: --no-recreate keeps,
 * --force-recreate recreates (targeted services; dependencies only with --always-recreate-deps), config hash
 * changed, image digest changed, running container missing an expected network.
 *
 * Recreate = CreateContainer under `<oldID[:12]>_<name>` → StopContainer(old) → RemoveContainer(old) →
 * RenameContainer(tmp → name) → StartContainer. Images are not pulled or built here: `up` does that before
 * observing, and the expected digest is the local image's id.
 */
import { UsageError } from '../errors.js';
import { serviceDependencies } from '../project/dependencies.js';
import { dependencyOrder } from '../project/graph.js';
import { serviceConfigHash } from '../project/hash.js';
import type { Project, ServiceConfig } from '../project/types.js';
import { NotFoundError } from '../runtime/errors.js';
import type { NetworkSpec, VolumeSpec } from '../runtime/runtime.js';
import { containerSpec, networkParent, serviceNetworkKeys, serviceVolumeKeys } from './container-spec.js';
import {
  LABEL_CONFIG_HASH,
  LABEL_CONTAINER_NUMBER,
  LABEL_DEPENDS_ON,
  LABEL_IMAGE,
  LABEL_NETWORK,
  LABEL_ONEOFF,
  LABEL_PROJECT,
  LABEL_REPLACE,
  LABEL_SERVICE,
  LABEL_VOLUME,
  containerName,
  dependsOnLabel,
  networkName,
  parseDependsOnLabel,
  projectLabels,
  resourceConfigHash,
  serviceImage,
  volumeName,
  type ProjectOrigin,
} from './labels.js';
import type { ObservedContainer, ObservedState } from './observe.js';
import { Plan } from './plan.js';

export interface ReconcileOptions {
  /** Services named on the command line; default: all. */
  readonly services?: readonly string[] | undefined;
  /** Do not bring up the dependencies of `services`. */
  readonly noDeps?: boolean | undefined;
  readonly forceRecreate?: boolean | undefined;
  readonly noRecreate?: boolean | undefined;
  readonly alwaysRecreateDeps?: boolean | undefined;
  readonly removeOrphans?: boolean | undefined;
  /** `up --no-start` / `create`: no StartContainer operations. */
  readonly noStart?: boolean | undefined;
  /** `-V`: recreated containers get fresh anonymous volumes. */
  readonly renewAnonVolumes?: boolean | undefined;
  /** `--scale service=N`. */
  readonly scale?: Readonly<Record<string, number>> | undefined;
  /** `-t`: stop timeout in seconds. */
  readonly timeoutSeconds?: number | undefined;
  readonly origin?: ProjectOrigin | undefined;
  /** Services known but not enabled (profiles): their containers are not orphans. */
  readonly disabledServices?: readonly string[] | undefined;
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function desiredScale(name: string, svc: ServiceConfig, options: ReconcileOptions = {}): number {
  return options.scale?.[name] ?? svc.scale ?? svc.deploy?.replicas ?? 1;
}

/** The targeted services and the ones they (transitively) depend on, unless noDeps. */
export function selectServices(project: Project, options: ReconcileOptions): { targets: Set<string>; selected: Set<string> } {
  const all = Object.keys(project.services);
  if (!options.services || options.services.length === 0) return { targets: new Set(all), selected: new Set(all) };
  for (const s of options.services) if (!project.services[s]) throw new UsageError(`no such service: ${s}`);
  const targets = new Set(options.services);
  const selected = new Set(targets);
  if (!options.noDeps) {
    const stack = [...targets];
    while (stack.length > 0) {
      const s = stack.pop()!;
      for (const dep of serviceDependencies(project.services[s]!).keys()) {
        if (project.services[dep] && !selected.has(dep)) {
          selected.add(dep);
          stack.push(dep);
        }
      }
    }
  }
  return { targets, selected };
}

export function reconcile(project: Project, observed: ObservedState, options: ReconcileOptions = {}): Plan {
  const plan = new Plan();
  const { targets, selected } = selectServices(project, options);
  const graph = new Map<string, Set<string>>();
  for (const [name, svc] of Object.entries(project.services)) graph.set(name, new Set(serviceDependencies(svc).keys()));
  const order = dependencyOrder(graph).filter((s) => selected.has(s));
  const base = projectLabels(project, options.origin);

  // Networks and volumes the selected services use.
  const networkNodes = new Map<string, number>();
  const networkIds = new Map<string, string>();
  const netKeys = new Set<string>();
  const volKeys = new Set<string>();
  for (const s of order) {
    for (const k of serviceNetworkKeys(project.services[s]!)) netKeys.add(k);
    for (const k of serviceVolumeKeys(project, project.services[s]!)) volKeys.add(k);
  }
  for (const key of [...netKeys].sort(byName)) {
    const cfg = project.networks?.[key];
    const name = networkName(project.name, key, cfg);
    const found = observed.networks[name];
    if (found) {
      networkIds.set(key, found.id);
      continue;
    }
    if (cfg?.external) throw new NotFoundError('network', name, { hint: `network ${name} declared as external, but could not be found; create it first` });
    const spec: { -readonly [K in keyof NetworkSpec]: NetworkSpec[K] } = {
      name,
      labels: { ...cfg?.labels, ...base, [LABEL_NETWORK]: key, [LABEL_CONFIG_HASH]: resourceConfigHash(cfg) },
    };
    if (cfg?.driver !== undefined) spec.driver = cfg.driver;
    if (cfg?.driver_opts !== undefined) spec.driverOpts = cfg.driver_opts;
    if (cfg?.internal !== undefined) spec.internal = cfg.internal;
    if (cfg?.attachable !== undefined) spec.attachable = cfg.attachable;
    if (cfg?.enable_ipv6 !== undefined) spec.enableIpv6 = cfg.enable_ipv6;
    if (cfg?.ipam.driver !== undefined || cfg?.ipam.config !== undefined) {
      spec.ipam = {
        ...(cfg.ipam.driver === undefined ? {} : { driver: cfg.ipam.driver }),
        ...(cfg.ipam.config === undefined
          ? {}
          : {
              config: cfg.ipam.config.map((p) => ({
                ...(p.subnet === undefined ? {} : { subnet: p.subnet }),
                ...(p.gateway === undefined ? {} : { gateway: p.gateway }),
                ...(p.ip_range === undefined ? {} : { ipRange: p.ip_range }),
              })),
            }),
      };
    }
    networkNodes.set(key, plan.add(`network:${key}`, { type: 'CreateNetwork', spec }, 'missing'));
  }
  const volumeNodes = new Map<string, number>();
  for (const key of [...volKeys].sort(byName)) {
    const cfg = project.volumes?.[key];
    const name = volumeName(project.name, key, cfg);
    if (observed.volumes[name]) continue;
    if (cfg?.external) throw new NotFoundError('volume', name, { hint: `volume ${name} declared as external, but could not be found; create it first` });
    const spec: { -readonly [K in keyof VolumeSpec]: VolumeSpec[K] } = {
      name,
      labels: { ...cfg?.labels, ...base, [LABEL_VOLUME]: key, [LABEL_CONFIG_HASH]: resourceConfigHash(cfg) },
    };
    if (cfg?.driver !== undefined) spec.driver = cfg.driver;
    if (cfg?.driver_opts !== undefined) spec.driverOpts = cfg.driver_opts;
    volumeNodes.set(key, plan.add(`volume:${key}`, { type: 'CreateVolume', spec }, 'missing'));
  }

  const startNodes = new Map<string, number[]>();
  /** Services that get a new container in this plan (created, recreated or scaled up). */
  const newContainers = new Set<string>();
  const byService = new Map<string, ObservedContainer[]>();
  for (const c of observed.containers) {
    if (c.oneoff) continue;
    const list = byService.get(c.service) ?? [];
    list.push(c);
    byService.set(c.service, list);
  }

  for (const s of order) {
    const svc = project.services[s]!;
    const hash = serviceConfigHash(svc);
    const image = serviceImage(project.name, s, svc);
    const digest = observed.images[image]?.id;
    const netKeysOfSvc = serviceNetworkKeys(svc);
    const resourceDeps = [
      ...netKeysOfSvc.map((k) => networkNodes.get(k)),
      ...serviceVolumeKeys(project, svc).map((k) => volumeNodes.get(k)),
    ].filter((x): x is number => x !== undefined);
    const depStarts = [...serviceDependencies(svc).keys()].filter((d) => selected.has(d)).flatMap((d) => startNodes.get(d) ?? []);
    const createDeps = [...resourceDeps, ...depStarts];
    const starts: number[] = [];
    startNodes.set(s, starts);
    const labels = (number: number, replace?: string): Record<string, string> => ({
      ...svc.labels,
      ...base,
      [LABEL_SERVICE]: s,
      [LABEL_CONTAINER_NUMBER]: String(number),
      [LABEL_ONEOFF]: 'False',
      [LABEL_CONFIG_HASH]: hash,
      ...(digest === undefined ? {} : { [LABEL_IMAGE]: digest }),
      [LABEL_DEPENDS_ON]: dependsOnLabel(svc),
      ...(replace === undefined ? {} : { [LABEL_REPLACE]: replace }),
    });
    const stopOp = (c: ObservedContainer) =>
      ({ type: 'StopContainer', container: c.id, ...(options.timeoutSeconds === undefined ? {} : { timeoutSeconds: options.timeoutSeconds }) }) as const;

    const mustRecreate = (c: ObservedContainer): string | undefined => {
      if (options.noRecreate) return undefined;
      if (options.forceRecreate && targets.has(s)) return 'forced';
      if (options.alwaysRecreateDeps && !targets.has(s)) return 'forced';
      if (c.configHash !== hash) return 'config changed';
      if (digest !== undefined && c.imageDigest !== digest) return 'image changed';
      // Joined to a parent's network namespace (`network_mode: service:X`): a new X container leaves this one
      // attached to a removed container (compose's rule, issue #13878).
      const parent = networkParent(svc);
      if (parent !== undefined && newContainers.has(parent)) return 'network parent recreated';
      if (c.status === 'running') {
        for (const key of netKeysOfSvc) {
          const name = networkName(project.name, key, project.networks?.[key]);
          const id = networkIds.get(key);
          if (id === undefined || c.networks[name] !== id) return 'network changed';
        }
      }
      return undefined;
    };

    const existing = byService.get(s) ?? [];
    const causes = new Map(existing.map((c) => [c, mustRecreate(c)]));
    const desired = desiredScale(s, svc, options);
    const maxNumber = existing.reduce((m, c) => Math.max(m, c.number), 0);
    // Scale down: obsolete containers first, then the highest numbers.
    const removalOrder = [...existing].sort((a, b) => Number(causes.get(a) === undefined) - Number(causes.get(b) === undefined) || b.number - a.number);
    const removed = new Set(removalOrder.slice(0, Math.max(0, existing.length - desired)));
    for (const c of [...removed].sort((a, b) => a.number - b.number)) {
      const res = `service:${s}:${c.number}`;
      const stop = c.status === 'running' ? plan.add(res, { ...stopOp(c), removing: true }, 'scale down') : undefined;
      plan.add(res, { type: 'RemoveContainer', container: c.id }, 'scale down', stop === undefined ? [] : [stop]);
    }

    const kept = existing.filter((c) => !removed.has(c)).sort((a, b) => a.number - b.number);
    for (const c of kept) {
      const res = `service:${s}:${c.number}`;
      const cause = causes.get(c);
      if (cause !== undefined) {
        const name = containerName(project.name, s, c.number, svc);
        const tmpName = `${c.id.slice(0, 12)}_${name}`;
        const spec = containerSpec({
          project,
          service: s,
          svc,
          name: tmpName,
          labels: labels(c.number, c.id),
          inheritVolumesFrom: options.renewAnonVolumes ? undefined : c.id,
        });
        const create = plan.add(res, { type: 'CreateContainer', service: s, number: c.number, spec }, `${cause} (${tmpName})`, createDeps);
        newContainers.add(s);
        const stop = c.status === 'running' ? plan.add(res, stopOp(c), 'replaced', [create]) : undefined;
        const remove = plan.add(res, { type: 'RemoveContainer', container: c.id }, 'replaced', [stop ?? create]);
        const rename = plan.add(res, { type: 'RenameContainer', container: tmpName, name }, 'finalize recreate', [remove]);
        if (!options.noStart) starts.push(plan.add(res, { type: 'StartContainer', container: name }, 'recreated', [rename]));
      } else if (c.status !== 'running' && !options.noStart) {
        starts.push(plan.add(res, { type: 'StartContainer', container: c.id }, 'not running', [...resourceDeps, ...depStarts]));
      }
    }

    let next = maxNumber + 1;
    for (let i = kept.length; i < desired; i++) {
      const number = next++;
      const res = `service:${s}:${number}`;
      const name = containerName(project.name, s, number, svc);
      const spec = containerSpec({ project, service: s, svc, name, labels: labels(number) });
      const create = plan.add(res, { type: 'CreateContainer', service: s, number, spec }, existing.length === 0 ? 'missing' : 'scale up', createDeps);
      newContainers.add(s);
      if (!options.noStart) starts.push(plan.add(res, { type: 'StartContainer', container: name }, 'created', [create]));
    }
  }

  // Orphans: containers of services the project does not know.
  const known = new Set([...Object.keys(project.services), ...(options.disabledServices ?? [])]);
  const orphans = observed.containers.filter((c) => !c.oneoff && !known.has(c.service)).sort((a, b) => byName(a.name, b.name));
  if (orphans.length > 0) {
    if (options.removeOrphans) {
      for (const c of orphans) {
        const res = `service:${c.service}:${c.number}`;
        const stop =
          c.status === 'running'
            ? plan.add(res, { type: 'StopContainer', container: c.id, ...(options.timeoutSeconds === undefined ? {} : { timeoutSeconds: options.timeoutSeconds }), removing: true }, 'orphan')
            : undefined;
        plan.add(res, { type: 'RemoveContainer', container: c.id }, 'orphan', stop === undefined ? [] : [stop]);
      }
    } else {
      plan.warnings.push(
        `Found orphan containers ([${orphans.map((c) => c.name).join(' ')}]) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.`,
      );
    }
  }
  return plan;
}

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
export function planDown(observed: ObservedState, options: DownOptions = {}): Plan {
  const plan = new Plan();
  const known = options.project ? new Set([...Object.keys(options.project.services), ...(options.disabledServices ?? [])]) : undefined;
  const containers = observed.containers.filter((c) => !known || known.has(c.service) || options.removeOrphans);
  if (known && !options.removeOrphans) {
    const orphans = observed.containers.filter((c) => !c.oneoff && !known.has(c.service)).map((c) => c.name);
    if (orphans.length > 0)
      plan.warnings.push(
        `Found orphan containers ([${orphans.sort(byName).join(' ')}]) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.`,
      );
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
      const res = c.oneoff ? `container:${c.name}` : `service:${c.service}:${c.number}`;
      let stop: number | undefined;
      if (c.status === 'running' || c.status === 'paused' || c.status === 'restarting') {
        stop = plan.add(
          res,
          { type: 'StopContainer', container: c.id, ...(options.timeoutSeconds === undefined ? {} : { timeoutSeconds: options.timeoutSeconds }), removing: true },
          'down',
          waitFor,
        );
        mine.push(stop);
      }
      removeNodes.push(
        plan.add(res, { type: 'RemoveContainer', container: c.id, ...(options.volumes ? { volumes: true } : {}) }, 'down', stop === undefined ? waitFor : [stop]),
      );
    }
  }
  const owned = (labels: Readonly<Record<string, string>>): boolean => labels[LABEL_PROJECT] === observed.project;
  for (const n of Object.values(observed.networks).filter((x) => owned(x.labels) && x.key !== undefined)) {
    plan.add(`network:${n.key}`, { type: 'RemoveNetwork', network: n.id }, 'down', removeNodes);
  }
  if (options.volumes) {
    for (const v of Object.values(observed.volumes).filter((x) => owned(x.labels) && x.key !== undefined)) {
      plan.add(`volume:${v.key}`, { type: 'RemoveVolume', volume: v.name }, 'down', removeNodes);
    }
  }
  return plan;
}
