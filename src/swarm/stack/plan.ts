/**
 * The plan of a stack deploy or removal: one node per Engine API call, with the dependencies between them as data,
 * in the spirit of the container engine's plan (src/engine/plan.ts) and printed the same way by `--dry-run`:
 * `[deps] -> #id resource, Operation, cause`. Service nodes carry the depends_on conditions the executor waits for
 * before making the call (what `docker stack deploy` lacks).
 */
import type { ConfigSpec, NetworkCreateRequest, SecretSpec, ServiceSpec } from '../api-types.js';

export type StackOperation =
  | { readonly type: 'CreateNetwork'; readonly name: string; readonly spec: NetworkCreateRequest }
  | { readonly type: 'RemoveNetwork'; readonly id: string; readonly name: string }
  | { readonly type: 'CreateSecret'; readonly name: string; readonly spec: SecretSpec }
  | { readonly type: 'RemoveSecret'; readonly id: string; readonly name: string }
  | { readonly type: 'CreateConfig'; readonly name: string; readonly spec: ConfigSpec }
  | { readonly type: 'RemoveConfig'; readonly id: string; readonly name: string }
  | { readonly type: 'CreateService'; readonly service: string; readonly name: string; readonly spec: ServiceSpec }
  | { readonly type: 'UpdateService'; readonly service: string; readonly id: string; readonly version: number; readonly spec: ServiceSpec }
  | { readonly type: 'RemoveService'; readonly service: string; readonly id: string; readonly name: string };

/** A depends_on condition to hold before a service node runs. */
export interface StackWait {
  readonly service: string;
  readonly condition: 'service_started' | 'service_healthy' | 'service_completed_successfully';
  readonly required: boolean;
}

export type StackCause = 'missing' | 'spec changed' | 'content changed' | 'orphan' | 'unused old version' | 'down';

export interface StackNode {
  readonly id: number;
  readonly deps: readonly number[];
  readonly op: StackOperation;
  readonly cause: StackCause;
  /** Service nodes: conditions of the services it depends on. */
  readonly waits: readonly StackWait[];
}

export class StackPlan {
  readonly nodes: StackNode[] = [];

  add(op: StackOperation, cause: StackCause, deps: readonly number[] = [], waits: readonly StackWait[] = []): number {
    const id = this.nodes.length + 1;
    this.nodes.push({ id, deps: [...new Set(deps)].sort((a, b) => a - b), op, cause, waits });
    return id;
  }

  get empty(): boolean {
    return this.nodes.length === 0;
  }

  /** One line per node, deterministic (golden tests, `--dry-run`). */
  toString(): string {
    return this.nodes.map((n) => `[${n.deps.join(',')}] -> #${n.id} ${describe(n)}`).join('\n') + (this.nodes.length > 0 ? '\n' : '');
  }
}

function resourceOf(op: StackOperation): string {
  switch (op.type) {
    case 'CreateNetwork':
    case 'RemoveNetwork':
      return `network ${op.name}`;
    case 'CreateSecret':
    case 'RemoveSecret':
      return `secret ${op.name}`;
    case 'CreateConfig':
    case 'RemoveConfig':
      return `config ${op.name}`;
    case 'CreateService':
    case 'RemoveService':
      return `service ${op.name}`;
    case 'UpdateService':
      return `service ${op.spec.Name}`;
  }
}

function describe(n: StackNode): string {
  const waits = n.waits.filter((w) => w.condition !== 'service_started').map((w) => `${w.service}:${w.condition}`);
  return `${resourceOf(n.op)}, ${n.op.type}, ${n.cause}${waits.length > 0 ? ` (after ${waits.join(', ')})` : ''}`;
}
