/**
 * The reconciler (compose `pkg/compose/reconcile.go`): PURE — project + observed state + options in, Plan
 * out; no runtime call, no clock, no randomness. Recreate rules (`mustRecreate`), in order: --no-recreate keeps,
 * --force-recreate recreates (targeted services; dependencies only with --always-recreate-deps), config hash
 * changed (with the digests of the input files, ./inputs.ts, which name the changed ones), image digest changed,
 * parent of `network_mode: service:X` recreated, running container missing an expected network. Running dependents
 * declared with depends_on `restart: true` are restarted (a plan node each) after the dependencies recreated here
 * have started again.
 *
 * Recreate = CreateContainer under `<oldID[:12]>_<name>` → StopContainer(old) → RemoveContainer(old) →
 * RenameContainer(tmp → name) → StartContainer. Images are not pulled or built here: `up` does that before
 * observing, and the expected digest is the local image's id.
 */
import { serviceDependencies } from '../project/dependencies.js';
import { dependencyOrder } from '../project/graph.js';
import { serviceConfigHash } from '../project/hash.js';
import type { Project, ServiceConfig } from '../project/types.js';
import { NotFoundError } from '../runtime/errors.js';
import type { NetworkSpec, VolumeSpec } from '../runtime/runtime.js';
import { containerSpec, networkParent, serviceNetworkKeys, serviceVolumeKeys } from './container-spec.js';
import { configChange, digestsOf, type ServiceInputs } from './inputs.js';
import {
  LABEL_CONFIG_HASH,
  LABEL_CONTAINER_NUMBER,
  LABEL_DEPENDS_ON,
  LABEL_IMAGE,
  LABEL_INPUTS,
  LABEL_NETWORK,
  LABEL_ONEOFF,
  LABEL_REPLACE,
  LABEL_SERVICE,
  LABEL_VOLUME,
  containerName,
  dependsOnLabel,
  inputsLabel,
  networkName,
  projectLabels,
  resourceConfigHash,
  serviceImage,
  volumeName,
  type ProjectOrigin,
} from './labels.js';
import type { ObservedContainer, ObservedState } from './observe.js';
import { Plan, type Cause, type PlanResource, type RecreateReason } from './plan.js';
import { addPostStartHooks, addPreStopHooks } from './plan-hooks.js';
import { selectServices, type ServiceSelection } from './select.js';

export interface ReconcileOptions extends ServiceSelection {
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
  /**
   * The runtime can prepare a start (Runtime.prepareStart): a container whose start waits for dependencies gets a
   * PrepareStart that does the rest of its start meanwhile, when nothing of it needs them (see `preparable`).
   */
  readonly prepareStarts?: boolean | undefined;
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function desiredScale(name: string, svc: ServiceConfig, options: ReconcileOptions = {}): number {
  return options.scale?.[name] ?? svc.scale ?? svc.deploy?.replicas ?? 1;
}

/**
 * Project + observed state + options → Plan. One method per concern, in the order compose's reconciler runs
 * them: networks, volumes, the containers of each service in dependency order (scale down, recreate or start,
 * scale up, then the restarts of `restart: true` dependents), orphans.
 */
export function reconcile(project: Project, observed: ObservedState, options: ReconcileOptions = {}): Plan {
  return new Reconciler(project, observed, options).run();
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

class Reconciler {
  private readonly plan = new Plan();
  private readonly targets: ReadonlySet<string>;
  private readonly selected: ReadonlySet<string>;
  /** The selected services, dependencies first. */
  private readonly order: readonly string[];
  private readonly base: Record<string, string>;
  /** Compose network key → its CreateNetwork node. */
  private readonly networkNodes = new Map<string, number>();
  /** Compose network key → the id of the existing network. */
  private readonly networkIds = new Map<string, string>();
  /** Compose volume key → its CreateVolume node. */
  private readonly volumeNodes = new Map<string, number>();
  /** Service → the nodes that bring its containers up (starts and restarts): what its dependents wait for. */
  private readonly startNodes = new Map<string, number[]>();
  /** Service → the CreateContainer nodes of its new containers (not of recreates). */
  private readonly createNodes = new Map<string, number[]>();
  /** Services that get a new container in this plan (created, recreated or scaled up). */
  private readonly newContainers = new Set<string>();
  /** Services with a container recreated by this plan. */
  private readonly recreated = new Set<string>();
  private readonly byService = new Map<string, ObservedContainer[]>();

  constructor(
    private readonly project: Project,
    private readonly observed: ObservedState,
    private readonly options: ReconcileOptions,
  ) {
    const { targets, selected } = selectServices(project, options);
    this.targets = targets;
    this.selected = selected;
    const graph = new Map<string, Set<string>>();
    for (const [name, svc] of Object.entries(project.services)) graph.set(name, new Set(serviceDependencies(svc).keys()));
    this.order = dependencyOrder(graph).filter((s) => selected.has(s));
    this.base = projectLabels(project, options.origin);
    for (const c of observed.containers) {
      if (c.oneoff) continue;
      const list = this.byService.get(c.service) ?? [];
      list.push(c);
      this.byService.set(c.service, list);
    }
  }

  run(): Plan {
    this.reconcileNetworks();
    this.reconcileVolumes();
    for (const s of this.order) this.reconcileService(s);
    this.reconcileOrphans();
    return this.plan;
  }

  /** The networks the selected services use: missing ones are created; a missing external one is an error. */
  private reconcileNetworks(): void {
    const keys = new Set(this.order.flatMap((s) => serviceNetworkKeys(this.project.services[s]!)));
    for (const key of [...keys].sort(byName)) {
      const cfg = this.project.networks?.[key];
      const name = networkName(this.project.name, key, cfg);
      const found = this.observed.networks[name];
      if (found) {
        this.networkIds.set(key, found.id);
        continue;
      }
      if (cfg?.external)
        throw new NotFoundError('network', name, { hint: `network ${name} declared as external, but could not be found; create it first` });
      const spec: Mutable<NetworkSpec> = {
        name,
        labels: { ...cfg?.labels, ...this.base, [LABEL_NETWORK]: key, [LABEL_CONFIG_HASH]: resourceConfigHash(cfg) },
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
      this.networkNodes.set(key, this.plan.add({ kind: 'network', key, name }, { type: 'CreateNetwork', spec }, { reason: 'missing' }));
    }
  }

  /** The volumes the selected services use: missing ones are created; a missing external one is an error. */
  private reconcileVolumes(): void {
    const keys = new Set(this.order.flatMap((s) => serviceVolumeKeys(this.project, this.project.services[s]!)));
    for (const key of [...keys].sort(byName)) {
      const cfg = this.project.volumes?.[key];
      const name = volumeName(this.project.name, key, cfg);
      if (this.observed.volumes[name]) continue;
      if (cfg?.external)
        throw new NotFoundError('volume', name, { hint: `volume ${name} declared as external, but could not be found; create it first` });
      const spec: Mutable<VolumeSpec> = {
        name,
        labels: { ...cfg?.labels, ...this.base, [LABEL_VOLUME]: key, [LABEL_CONFIG_HASH]: resourceConfigHash(cfg) },
      };
      if (cfg?.driver !== undefined) spec.driver = cfg.driver;
      if (cfg?.driver_opts !== undefined) spec.driverOpts = cfg.driver_opts;
      this.volumeNodes.set(key, this.plan.add({ kind: 'volume', key, name }, { type: 'CreateVolume', spec }, { reason: 'missing' }));
    }
  }

  /** One service: scale down, then each kept container recreated, started or restarted, then scale up. */
  private reconcileService(s: string): void {
    const svc = this.project.services[s]!;
    const ctx = this.serviceContext(s, svc);
    const existing = this.byService.get(s) ?? [];
    const causes = new Map(existing.map((c) => [c, this.mustRecreate(ctx, c)]));
    const desired = desiredScale(s, svc, this.options);
    // Scale down: obsolete containers first, then the highest numbers.
    const removalOrder = [...existing].sort(
      (a, b) => Number(causes.get(a) === undefined) - Number(causes.get(b) === undefined) || b.number - a.number,
    );
    const removed = new Set(removalOrder.slice(0, Math.max(0, existing.length - desired)));
    for (const c of [...removed].sort((a, b) => a.number - b.number)) this.planRemove(observedResource(c), c, { reason: 'scale down' }, svc);

    const restartFor = this.recreatedRestartDependencies(svc);
    const kept = existing.filter((c) => !removed.has(c)).sort((a, b) => a.number - b.number);
    for (const c of kept) {
      const cause = causes.get(c);
      if (cause !== undefined) this.planRecreate(ctx, c, cause);
      else if (this.options.noStart) continue;
      else if (c.status !== 'running')
        ctx.starts.push(this.postStart(ctx, this.addStart(ctx, observedResource(c), c.id, { reason: 'not running' }, ctx.resourceDeps)));
      else if (restartFor.length > 0) this.planDependentRestart(ctx, c, restartFor);
    }

    const maxNumber = existing.reduce((m, c) => Math.max(m, c.number), 0);
    for (let number = maxNumber + 1, i = kept.length; i < desired; i++, number++) {
      const resource = ctx.resource(number);
      const spec = containerSpec({ project: this.project, service: s, svc, name: resource.name, labels: ctx.labels(number) });
      // Created without waiting for its dependencies to start (compose creates every container before starting any),
      // unless it joins one of their namespaces; its start waits for them.
      const create = this.plan.add(
        resource,
        { type: 'CreateContainer', service: s, number, spec },
        { reason: existing.length === 0 ? 'missing' : 'scale up' },
        ctx.freshCreateDeps,
      );
      ctx.creates.push(create);
      this.newContainers.add(s);
      if (!this.options.noStart) ctx.starts.push(this.postStart(ctx, this.addStart(ctx, resource, resource.name, { reason: 'created' }, [create])));
      // Without starts (create, up --no-start) the dependents' creations wait for this one, as compose creates in
      // dependency order: `network_mode`/`pid`/`ipc: service:X` and `volumes_from` name X's container.
      else ctx.starts.push(create);
    }
  }

  /**
   * The StartContainer of `container`, after `own` (what makes it startable) and its dependencies' starts. With
   * `prepareStarts`, when it waits for dependencies and nothing of its start needs them, a PrepareStart after `own`
   * does the rest of the start meanwhile (the native runtime: endpoints, monitor, the OCI runtime's create).
   */
  private addStart(ctx: ServiceContext, resource: PlanResource, container: string, cause: Cause, own: readonly number[]): number {
    let deps = own;
    if (this.options.prepareStarts && ctx.depStarts.length > 0 && preparable(ctx.svc))
      deps = [this.plan.add(resource, { type: 'PrepareStart', container }, cause, own)];
    return this.plan.add(resource, { type: 'StartContainer', container }, cause, [...deps, ...ctx.depStarts]);
  }

  /** What the plan of one service needs to know about it. */
  private serviceContext(s: string, svc: ServiceConfig): ServiceContext {
    const digest = this.observed.images[serviceImage(this.project.name, s, svc)]?.id;
    const inputs = this.observed.inputs?.[s];
    const digests = inputs === undefined ? undefined : digestsOf(inputs);
    const hash = serviceConfigHash(svc, digests);
    const resourceDeps = [
      ...serviceNetworkKeys(svc).map((k) => this.networkNodes.get(k)),
      ...serviceVolumeKeys(this.project, svc).map((k) => this.volumeNodes.get(k)),
    ].filter((x): x is number => x !== undefined);
    const deps = [...serviceDependencies(svc).keys()].filter((d) => this.selected.has(d));
    const depStarts = deps.flatMap((d) => this.startNodes.get(d) ?? []);
    const depCreates = deps.flatMap((d) => this.createNodes.get(d) ?? []);
    const starts: number[] = [];
    this.startNodes.set(s, starts);
    const creates: number[] = [];
    this.createNodes.set(s, creates);
    return {
      service: s,
      svc,
      hash,
      inputs,
      digest,
      resourceDeps,
      depStarts,
      createDeps: [...resourceDeps, ...depStarts],
      freshCreateDeps: [...resourceDeps, ...(needsDependenciesAtCreate(svc) ? depStarts : depCreates)],
      starts,
      creates,
      resource: (number) => ({ kind: 'service', service: s, number, name: containerName(this.project.name, s, number, svc) }),
      labels: (number, replace) => ({
        ...svc.labels,
        ...this.base,
        [LABEL_SERVICE]: s,
        [LABEL_CONTAINER_NUMBER]: String(number),
        [LABEL_ONEOFF]: 'False',
        [LABEL_CONFIG_HASH]: hash,
        ...(digests === undefined ? {} : { [LABEL_INPUTS]: inputsLabel(digests) }),
        ...(digest === undefined ? {} : { [LABEL_IMAGE]: digest }),
        [LABEL_DEPENDS_ON]: dependsOnLabel(svc),
        ...(replace === undefined ? {} : { [LABEL_REPLACE]: replace }),
      }),
    };
  }

  /** Compose's `mustRecreate`: why container `c` must be replaced, or undefined when it can stay. */
  private mustRecreate(ctx: ServiceContext, c: ObservedContainer): RecreateReason | undefined {
    const { options } = this;
    if (options.noRecreate) return undefined;
    if (options.forceRecreate && this.targets.has(ctx.service)) return 'forced';
    if (options.alwaysRecreateDeps && !this.targets.has(ctx.service)) return 'forced';
    const changed = configChange(ctx.svc, c, ctx.inputs);
    if (changed !== undefined) return changed;
    if (ctx.digest !== undefined && c.imageDigest !== ctx.digest) return 'image changed';
    // Joined to a parent's network namespace (`network_mode: service:X`): a new X container leaves this one
    // attached to a removed container (compose's rule, issue #13878).
    const parent = networkParent(ctx.svc);
    if (parent !== undefined && this.newContainers.has(parent)) return 'network parent recreated';
    if (c.status === 'running') {
      for (const key of serviceNetworkKeys(ctx.svc)) {
        const name = networkName(this.project.name, key, this.project.networks?.[key]);
        const id = this.networkIds.get(key);
        if (id === undefined || c.networks[name] !== id) return 'network changed';
      }
    }
    return undefined;
  }

  /**
   * Recreate = CreateContainer under `<oldID[:12]>_<name>` → StopContainer(old) → RemoveContainer(old) →
   * RenameContainer(tmp → name) → StartContainer.
   */
  private planRecreate(ctx: ServiceContext, c: ObservedContainer, why: RecreateReason): void {
    const resource = ctx.resource(c.number);
    const tmpName = `${c.id.slice(0, 12)}_${resource.name}`;
    const spec = containerSpec({
      project: this.project,
      service: ctx.service,
      svc: ctx.svc,
      name: tmpName,
      labels: ctx.labels(c.number, c.id),
      inheritVolumesFrom: this.options.renewAnonVolumes ? undefined : c.id,
    });
    const create = this.plan.add(
      resource,
      { type: 'CreateContainer', service: ctx.service, number: c.number, spec },
      { reason: 'recreate', why, tmpName },
      ctx.createDeps,
    );
    this.newContainers.add(ctx.service);
    this.recreated.add(ctx.service);
    const old = observedResource(c);
    const stop = c.status === 'running' ? this.plan.add(old, this.stopOp(c), { reason: 'replaced' }, [create]) : undefined;
    const remove = this.plan.add(old, { type: 'RemoveContainer', container: c.id }, { reason: 'replaced' }, [stop ?? create]);
    const rename = this.plan.add(resource, { type: 'RenameContainer', container: tmpName, name: resource.name }, { reason: 'finalize recreate' }, [
      remove,
    ]);
    if (!this.options.noStart)
      ctx.starts.push(
        this.postStart(ctx, this.plan.add(resource, { type: 'StartContainer', container: resource.name }, { reason: 'recreated' }, [rename])),
      );
    else ctx.starts.push(rename);
  }

  /** The dependencies of `svc` declared with `restart: true` that this plan recreates (sorted). */
  private recreatedRestartDependencies(svc: ServiceConfig): string[] {
    return [...serviceDependencies(svc)]
      .filter(([d, dep]) => dep.restart === true && this.recreated.has(d))
      .map(([d]) => d)
      .sort(byName);
  }

  /**
   * depends_on `restart: true`: a running container this plan leaves alone is restarted once the recreated
   * dependencies have started again, so it reconnects to them (compose stops such dependents before the
   * recreate and starts them after; one restart here).
   */
  private planDependentRestart(ctx: ServiceContext, c: ObservedContainer, dependencies: readonly string[]): void {
    const op = {
      type: 'RestartContainer',
      container: c.id,
      ...(this.options.timeoutSeconds === undefined ? {} : { timeoutSeconds: this.options.timeoutSeconds }),
    } as const;
    const after = dependencies.flatMap((d) => this.startNodes.get(d) ?? []);
    const cause: Cause = { reason: 'dependency recreated', dependencies };
    const hooks = addPreStopHooks(this.plan, this.project.name, ctx.svc, observedResource(c), c.id, cause, after);
    ctx.starts.push(this.postStart(ctx, this.plan.add(observedResource(c), op, cause, hooks)));
  }

  /** Containers of services the project does not know: removed with removeOrphans, else a warning. */
  private reconcileOrphans(): void {
    const known = new Set([...Object.keys(this.project.services), ...(this.options.disabledServices ?? [])]);
    const orphans = this.observed.containers.filter((c) => !c.oneoff && !known.has(c.service)).sort((a, b) => byName(a.name, b.name));
    if (orphans.length === 0) return;
    if (!this.options.removeOrphans) {
      this.plan.warnings.push(orphanWarning(orphans.map((c) => c.name)));
      return;
    }
    for (const c of orphans) this.planRemove(observedResource(c), c, { reason: 'orphan' });
  }

  /** Stop (when running) and remove a container that goes away. */
  private planRemove(resource: PlanResource, c: ObservedContainer, cause: Cause, svc?: ServiceConfig): void {
    const stop =
      c.status === 'running'
        ? this.plan.add(
            resource,
            { ...this.stopOp(c), removing: true },
            cause,
            addPreStopHooks(this.plan, this.project.name, svc, resource, c.id, cause, []),
          )
        : undefined;
    this.plan.add(resource, { type: 'RemoveContainer', container: c.id }, cause, stop === undefined ? [] : [stop]);
  }

  /** The post_start hooks after start (or restart) node `id`; the node that ends bringing the container up. */
  private postStart(ctx: ServiceContext, id: number): number {
    return addPostStartHooks(this.plan, this.project.name, ctx.svc, id);
  }

  private stopOp(c: ObservedContainer) {
    return {
      type: 'StopContainer',
      container: c.id,
      ...(this.options.timeoutSeconds === undefined ? {} : { timeoutSeconds: this.options.timeoutSeconds }),
    } as const;
  }
}

interface ServiceContext {
  readonly service: string;
  readonly svc: ServiceConfig;
  readonly hash: string;
  /** The digests of its input files (./inputs.ts), when `up` read them. */
  readonly inputs: ServiceInputs | undefined;
  /** The local image's id, the digest containers are labelled with. */
  readonly digest: string | undefined;
  /** The CreateNetwork/CreateVolume nodes of the networks and volumes it uses. */
  readonly resourceDeps: readonly number[];
  /** The nodes bringing up its (selected) dependencies. */
  readonly depStarts: readonly number[];
  /** What a recreate's CreateContainer waits for: its resources and its dependencies started. */
  readonly createDeps: readonly number[];
  /**
   * What a new container's CreateContainer waits for: its resources and its dependencies' new containers created
   * (compose's create order), or started when it joins one's namespaces (`network_mode`/`pid`/`ipc`/`uts: service:…`).
   */
  readonly freshCreateDeps: readonly number[];
  /**
   * Its own start and restart nodes, filled while planning it (= `startNodes.get(service)`); without starts
   * (`noStart`) the nodes that create (or finish recreating) its containers.
   */
  readonly starts: number[];
  /** Its new containers' CreateContainer nodes (= `createNodes.get(service)`). */
  readonly creates: number[];
  readonly resource: (number: number) => PlanResource & { readonly kind: 'service' };
  readonly labels: (number: number, replace?: string) => Record<string, string>;
}

/**
 * Whether creating its container needs its dependencies up: it joins one's namespaces. (A volume subpath a dependency
 * makes is checked at start, on every runtime, as Docker does.)
 */
const needsDependenciesAtCreate = (svc: ServiceConfig): boolean =>
  [svc.network_mode, svc.pid, svc.ipc, svc.uts].some((m) => typeof m === 'string' && (m.startsWith('service:') || m.startsWith('container:')));

/**
 * Whether a start can be prepared before the dependencies are up: not when it joins one's namespaces, when its
 * `links` name them (their addresses go into its view of the network), when a volume subpath may be one a
 * dependency makes, or with a terminal or an open stdin (an attach may still give the start its stdin).
 */
const preparable = (svc: ServiceConfig): boolean =>
  !needsDependenciesAtCreate(svc) &&
  (svc.links ?? []).length === 0 &&
  !(svc.volumes ?? []).some((v) => v.volume?.subpath !== undefined) &&
  svc.tty !== true &&
  svc.stdin_open !== true;

/** A node acting on an observed container: named as it is now. */
const observedResource = (c: ObservedContainer): PlanResource => ({ kind: 'service', service: c.service, number: c.number, name: c.name });

export const orphanWarning = (names: readonly string[]): string =>
  `Found orphan containers ([${names.join(' ')}]) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.`;
