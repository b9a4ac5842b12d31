/**
 * Stack reconcile, pure: the stack a project deploys as (../convert.ts) against what the swarm has (observed by the
 * stack's namespace label) → a StackPlan. As compose's container reconcile uses a config hash, a service is updated
 * only when the hash of its desired spec (a label on the service) differs from the one it carries, so a no-op `up`
 * changes nothing, while a changed secret (a new content-hashed name in the spec) rolls exactly the services using
 * it. Old secret and config versions no service uses any more are removed after the updates.
 */
import { createHash } from 'node:crypto';
import type { ServiceSpec } from '../api-types.js';
import { LABEL_NAMESPACE, LABEL_OBJECT_KEY } from '../convert-names.js';
import type { Stack } from '../convert.js';
import type { SwarmNetwork, SwarmObject, SwarmService } from '../port.js';
import { StackPlan, type StackWait } from './plan.js';

/** The hash of the spec a service was deployed from (compose's config-hash, for swarm services). */
export const LABEL_SPEC_HASH = 'io.tscompose.swarm.spec-hash';
/** The hash of that spec without its secrets and configs: equal before and after, the update is a content change. */
export const LABEL_BASE_HASH = 'io.tscompose.swarm.base-hash';

export interface ObservedStack {
  readonly services: readonly SwarmService[];
  readonly networks: readonly SwarmNetwork[];
  readonly secrets: readonly SwarmObject[];
  readonly configs: readonly SwarmObject[];
}

export interface DeployOptions {
  /** `--remove-orphans`: remove the stack's services the project no longer has. */
  readonly removeOrphans?: boolean | undefined;
  /**
   * Only these compose services (`scale`): the networks, secrets and configs they need are created if missing; the
   * other services (dependencies included), orphans and unused old secret and config versions are left alone.
   */
  readonly services?: readonly string[] | undefined;
}

/** JSON with sorted keys: the same spec always hashes the same. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** sha256 of the spec without its own hash label (and without secret/config ids, which the executor fills in). */
export function specHash(spec: ServiceSpec, opts: { withoutFiles?: boolean } = {}): string {
  const { [LABEL_SPEC_HASH]: _h, [LABEL_BASE_HASH]: _b, ...labels } = spec.Labels ?? {};
  const cs = spec.TaskTemplate?.ContainerSpec;
  const strip = <T extends { SecretID?: string; ConfigID?: string }>(refs: readonly T[] | undefined): T[] | undefined =>
    opts.withoutFiles ? undefined : refs?.map(({ SecretID: _s, ConfigID: _c, ...r }) => r as T);
  const bare = {
    ...spec,
    Labels: labels,
    ...(spec.TaskTemplate
      ? {
          TaskTemplate: {
            ...spec.TaskTemplate,
            ...(cs ? { ContainerSpec: { ...cs, Secrets: strip(cs.Secrets), Configs: strip(cs.Configs) } } : {}),
          },
        }
      : {}),
  };
  return createHash('sha256').update(canonical(bare)).digest('hex');
}

/** The spec as deployed: labelled with its hashes. */
export function withSpecHash(spec: ServiceSpec): ServiceSpec {
  return { ...spec, Labels: { ...spec.Labels, [LABEL_SPEC_HASH]: specHash(spec), [LABEL_BASE_HASH]: specHash(spec, { withoutFiles: true }) } };
}

const inStack = (namespace: string, labels: Readonly<Record<string, string>>): boolean => labels[LABEL_NAMESPACE] === namespace;

/** Secret and config names the specs reference. */
function referenced(specs: readonly ServiceSpec[]): { secrets: Set<string>; configs: Set<string> } {
  const secrets = new Set<string>();
  const configs = new Set<string>();
  for (const s of specs) {
    for (const r of s.TaskTemplate?.ContainerSpec?.Secrets ?? []) if (r.SecretName) secrets.add(r.SecretName);
    for (const r of s.TaskTemplate?.ContainerSpec?.Configs ?? []) if (r.ConfigName) configs.add(r.ConfigName);
  }
  return { secrets, configs };
}

/**
 * The deploy plan: missing networks, secrets and configs first; then services in depends_on order, each created
 * or updated when its spec hash changed, each waiting for its dependencies' conditions; then orphans (with
 * `removeOrphans`) and the stack's secrets and configs no remaining service references. `waits`: per compose
 * service, its depends_on conditions (from the project). Warnings name orphans that stay.
 */
export function planDeploy(
  stack: Stack,
  waits: Readonly<Record<string, readonly StackWait[]>>,
  observed: ObservedStack,
  options: DeployOptions = {},
): { plan: StackPlan; warnings: string[] } {
  const plan = new StackPlan();
  const warnings: string[] = [];
  const prepared: number[] = [];
  const only = options.services ? new Set(options.services) : undefined;
  const selected = (key: string): boolean => !only || only.has(key);
  // With `services`, only the objects their specs name.
  const needs = only ? referenced(stack.services.filter((s) => only.has(s.key)).map((s) => s.spec)) : undefined;
  const needNets = only
    ? new Set(stack.services.filter((s) => only.has(s.key)).flatMap((s) => (s.spec.TaskTemplate.Networks ?? []).map((n) => n.Target)))
    : undefined;
  const haveNet = new Set(observed.networks.map((n) => n.name));
  for (const n of stack.networks) {
    if (n.external || haveNet.has(n.name) || (needNets && !needNets.has(n.name))) continue;
    prepared.push(plan.add({ type: 'CreateNetwork', name: n.name, spec: n.spec }, 'missing'));
  }
  const haveSecret = new Set(observed.secrets.map((s) => s.name));
  for (const s of stack.secrets) {
    if (s.external || haveSecret.has(s.name) || (needs && !needs.secrets.has(s.name))) continue;
    prepared.push(plan.add({ type: 'CreateSecret', name: s.name, spec: s.spec }, 'missing'));
  }
  const haveConfig = new Set(observed.configs.map((c) => c.name));
  for (const c of stack.configs) {
    if (c.external || haveConfig.has(c.name) || (needs && !needs.configs.has(c.name))) continue;
    prepared.push(plan.add({ type: 'CreateConfig', name: c.name, spec: c.spec }, 'missing'));
  }

  // Services, dependencies first (the stack is sorted by name; dependsOn gives the order).
  const byKey = new Map(stack.services.map((s) => [s.key, s]));
  const nodeOf = new Map<string, number>();
  const done = new Set<string>();
  const visiting = new Set<string>();
  const serviceNodes: number[] = [];
  const current = new Map(observed.services.map((s) => [s.spec.Name, s]));
  const visit = (key: string): void => {
    if (done.has(key) || visiting.has(key)) return; // a cycle was refused by the loader
    visiting.add(key);
    const svc = byKey.get(key)!;
    for (const d of svc.dependsOn) if (byKey.has(d) && selected(d)) visit(d);
    const spec = withSpecHash(svc.spec);
    const deps = [...prepared, ...svc.dependsOn.map((d) => nodeOf.get(d)).filter((x): x is number => x !== undefined)];
    const w = (waits[key] ?? []).filter((x) => byKey.has(x.service));
    const have = current.get(svc.name);
    if (!have) {
      const id = plan.add({ type: 'CreateService', service: key, name: svc.name, spec }, 'missing', deps, w);
      nodeOf.set(key, id);
      serviceNodes.push(id);
    } else if (have.spec.Labels?.[LABEL_SPEC_HASH] !== spec.Labels?.[LABEL_SPEC_HASH]) {
      // Compared by label: the engine fills defaults into the specs it returns, so they never hash as sent.
      const base = have.spec.Labels?.[LABEL_BASE_HASH];
      const onlyFiles = base !== undefined && base === spec.Labels?.[LABEL_BASE_HASH];
      const id = plan.add(
        { type: 'UpdateService', service: key, id: have.id, version: have.version, spec },
        onlyFiles ? 'content changed' : 'spec changed',
        deps,
        w,
      );
      nodeOf.set(key, id);
      serviceNodes.push(id);
    }
    visiting.delete(key);
    done.add(key);
  };
  for (const s of stack.services) if (selected(s.key)) visit(s.key);
  if (only) return { plan, warnings };

  // Orphans: services of this stack the project no longer has.
  const desired = new Set(stack.services.map((s) => s.name));
  const kept: ServiceSpec[] = stack.services.map((s) => s.spec);
  for (const s of observed.services) {
    if (!inStack(stack.namespace, s.spec.Labels ?? {}) || desired.has(s.spec.Name ?? '')) continue;
    const key = s.spec.Labels?.['com.docker.stack.service'] ?? (s.spec.Name ?? '').slice(stack.namespace.length + 1);
    if (options.removeOrphans) serviceNodes.push(plan.add({ type: 'RemoveService', service: key, id: s.id, name: s.spec.Name ?? s.id }, 'orphan'));
    else {
      kept.push(s.spec);
      warnings.push(`Found orphan service ${s.spec.Name} for this project: run with --remove-orphans to remove it`);
    }
  }

  // Secret and config versions of this stack that no service references any more.
  const used = referenced(kept);
  for (const s of observed.secrets) {
    if (!inStack(stack.namespace, s.labels) || s.labels[LABEL_OBJECT_KEY] === undefined || used.secrets.has(s.name)) continue;
    plan.add({ type: 'RemoveSecret', id: s.id, name: s.name }, 'unused old version', serviceNodes);
  }
  for (const c of observed.configs) {
    if (!inStack(stack.namespace, c.labels) || c.labels[LABEL_OBJECT_KEY] === undefined || used.configs.has(c.name)) continue;
    plan.add({ type: 'RemoveConfig', id: c.id, name: c.name }, 'unused old version', serviceNodes);
  }
  return { plan, warnings };
}

/** `down`: the stack's services, then its secrets, configs and networks (external ones are never the stack's). */
export function planRemove(namespace: string, observed: ObservedStack): StackPlan {
  const plan = new StackPlan();
  const services: number[] = [];
  for (const s of [...observed.services].sort((a, b) => ((a.spec.Name ?? '') < (b.spec.Name ?? '') ? -1 : 1))) {
    if (!inStack(namespace, s.spec.Labels ?? {})) continue;
    const name = s.spec.Name ?? s.id;
    services.push(plan.add({ type: 'RemoveService', service: name.slice(namespace.length + 1), id: s.id, name }, 'down'));
  }
  const byName = <T extends { name: string }>(xs: readonly T[]): T[] => [...xs].sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const s of byName(observed.secrets))
    if (inStack(namespace, s.labels)) plan.add({ type: 'RemoveSecret', id: s.id, name: s.name }, 'down', services);
  for (const c of byName(observed.configs))
    if (inStack(namespace, c.labels)) plan.add({ type: 'RemoveConfig', id: c.id, name: c.name }, 'down', services);
  for (const n of byName(observed.networks))
    if (inStack(namespace, n.labels)) plan.add({ type: 'RemoveNetwork', id: n.id, name: n.name }, 'down', services);
  return plan;
}
