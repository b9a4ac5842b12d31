/**
 * Runs a StackPlan against a swarm: each node once its dependencies are done, a service node only once the
 * depends_on conditions of its `waits` hold (started, healthy, completed: ./wait.ts), secret and config ids filled
 * into the specs by name. Removing an old secret or config version a task still holds is a warning, not a failure
 * (swarm refuses it while in use; the next `up` removes it).
 */
import type { ConfigReference, SecretReference, ServiceSpec } from '../api-types.js';
import { isConflict } from '../../runtime/errors.js';
import type { SwarmApi } from '../port.js';
import type { StackNode, StackPlan } from './plan.js';
import { waitServiceCondition, type WaitSettings } from './wait.js';

/** Progress as the CLI's renderers take it (src/engine/events.ts shapes, kept structural here). */
export interface StackEvents {
  emit(event: { resource: string; status: 'working' | 'done' | 'error' | 'warning'; text: string; details?: string }): void;
}

export interface StackExecContext {
  readonly api: SwarmApi;
  readonly events: StackEvents;
  /** The stack's namespace (service `web` is `<namespace>_web`). */
  readonly namespace: string;
  /** Ids of the secrets and configs that exist already, by name. */
  readonly secretIds: ReadonlyMap<string, string>;
  readonly configIds: ReadonlyMap<string, string>;
  readonly wait?: WaitSettings | undefined;
  readonly registryAuth?: string | undefined;
}

function words(n: StackNode): { resource: string; ing: string; ed: string } {
  const op = n.op;
  switch (op.type) {
    case 'CreateNetwork':
      return { resource: `Network ${op.name}`, ing: 'Creating', ed: 'Created' };
    case 'RemoveNetwork':
      return { resource: `Network ${op.name}`, ing: 'Removing', ed: 'Removed' };
    case 'CreateSecret':
      return { resource: `Secret ${op.name}`, ing: 'Creating', ed: 'Created' };
    case 'RemoveSecret':
      return { resource: `Secret ${op.name}`, ing: 'Removing', ed: 'Removed' };
    case 'CreateConfig':
      return { resource: `Config ${op.name}`, ing: 'Creating', ed: 'Created' };
    case 'RemoveConfig':
      return { resource: `Config ${op.name}`, ing: 'Removing', ed: 'Removed' };
    case 'CreateService':
      return { resource: `Service ${op.name}`, ing: 'Creating', ed: 'Created' };
    case 'UpdateService':
      return { resource: `Service ${op.spec.Name ?? op.service}`, ing: 'Updating', ed: 'Updated' };
    case 'RemoveService':
      return { resource: `Service ${op.name}`, ing: 'Removing', ed: 'Removed' };
  }
}

/** The spec with the ids of its secrets and configs (by name). */
function withIds(spec: ServiceSpec, secrets: ReadonlyMap<string, string>, configs: ReadonlyMap<string, string>): ServiceSpec {
  const cs = spec.TaskTemplate?.ContainerSpec;
  if (!cs) return spec;
  const sec = (r: SecretReference): SecretReference => ({ ...r, SecretID: secrets.get(r.SecretName) ?? r.SecretID ?? '' });
  const cfg = (r: ConfigReference): ConfigReference => ({ ...r, ConfigID: configs.get(r.ConfigName) ?? r.ConfigID ?? '' });
  return {
    ...spec,
    TaskTemplate: {
      ...spec.TaskTemplate,
      ContainerSpec: { ...cs, ...(cs.Secrets ? { Secrets: cs.Secrets.map(sec) } : {}), ...(cs.Configs ? { Configs: cs.Configs.map(cfg) } : {}) },
    },
  };
}

export async function executeStackPlan(ctx: StackExecContext, plan: StackPlan): Promise<void> {
  const secretIds = new Map(ctx.secretIds);
  const configIds = new Map(ctx.configIds);
  const api = ctx.api;
  const signal = ctx.wait?.signal;
  const run = async (n: StackNode): Promise<void> => {
    const op = n.op;
    switch (op.type) {
      case 'CreateNetwork':
        await api.createNetwork(op.spec, { signal });
        return;
      case 'RemoveNetwork':
        await api.removeNetwork(op.id, { signal });
        return;
      case 'CreateSecret':
        secretIds.set(op.name, (await api.createSecret(op.spec, { signal })).id);
        return;
      case 'RemoveSecret':
        await api.removeSecret(op.id, { signal });
        return;
      case 'CreateConfig':
        configIds.set(op.name, (await api.createConfig(op.spec, { signal })).id);
        return;
      case 'RemoveConfig':
        await api.removeConfig(op.id, { signal });
        return;
      case 'CreateService':
        await api.createService(withIds(op.spec, secretIds, configIds), { signal, registryAuth: ctx.registryAuth });
        return;
      case 'UpdateService': {
        // A manager bumps a service's version by itself when a rolling update finishes: an update from the version
        // observed a moment ago may be refused as stale; it is retried from the current one.
        let version = op.version;
        for (let attempt = 0; ; attempt++) {
          try {
            await api.updateService(op.id, version, withIds(op.spec, secretIds, configIds), { signal, registryAuth: ctx.registryAuth });
            return;
          } catch (e) {
            if (!isConflict(e) || attempt >= 4) throw e;
            version = (await api.inspectService(op.id, { signal })).version;
          }
        }
      }
      case 'RemoveService':
        await api.removeService(op.id, { signal });
        return;
    }
  };
  const started = new Map<number, Promise<void>>();
  const one = (n: StackNode): Promise<void> => {
    let p = started.get(n.id);
    if (p) return p;
    p = (async () => {
      await Promise.all(n.deps.map((d) => one(plan.nodes[d - 1]!)));
      for (const w of n.waits) {
        if (w.condition === 'service_started') continue;
        const dep = `${ctx.namespace}_${w.service}`;
        ctx.events.emit({ resource: `Service ${dep}`, status: 'working', text: 'Waiting' });
        try {
          await waitServiceCondition(api, dep, w.condition, ctx.wait);
        } catch (e) {
          if (w.required) {
            ctx.events.emit({ resource: `Service ${dep}`, status: 'error', text: 'Error', details: (e as Error).message });
            throw e;
          }
          ctx.events.emit({
            resource: `Service ${dep}`,
            status: 'warning',
            text: 'Skipped',
            details: `optional dependency: ${(e as Error).message}`,
          });
          continue;
        }
        ctx.events.emit({ resource: `Service ${dep}`, status: 'done', text: w.condition === 'service_healthy' ? 'Healthy' : 'Completed' });
      }
      const { resource, ing, ed } = words(n);
      ctx.events.emit({ resource, status: 'working', text: ing });
      try {
        await run(n);
      } catch (e) {
        if ((n.op.type === 'RemoveSecret' || n.op.type === 'RemoveConfig') && n.cause === 'unused old version' && isConflict(e)) {
          ctx.events.emit({ resource, status: 'warning', text: 'Kept', details: 'still in use by a task: removed by a later up' });
          return;
        }
        ctx.events.emit({ resource, status: 'error', text: 'Error', details: (e as Error).message });
        throw e;
      }
      ctx.events.emit({ resource, status: 'done', text: ed });
    })();
    started.set(n.id, p);
    return p;
  };
  const results = await Promise.allSettled(plan.nodes.map(one));
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw failure.reason;
}
