/**
 * The plan: a DAG of operations, each exactly one runtime call (compose `pkg/compose/plan.go`). Built by
 * `reconcile`, run by `execute`, printed by `--dry-run`. `toString()` is deterministic, one line per node:
 * `[deps] -> #id resource, Op, cause`.
 */
import type { ContainerSpec, EndpointSpec, NetworkSpec, VolumeSpec } from '../runtime/runtime.js';

export type Operation =
  | { readonly type: 'CreateNetwork'; readonly spec: NetworkSpec }
  | { readonly type: 'RemoveNetwork'; readonly network: string }
  | { readonly type: 'ConnectNetwork'; readonly network: string; readonly container: string; readonly endpoint?: Omit<EndpointSpec, 'network'> }
  | { readonly type: 'DisconnectNetwork'; readonly network: string; readonly container: string }
  | { readonly type: 'CreateVolume'; readonly spec: VolumeSpec }
  | { readonly type: 'RemoveVolume'; readonly volume: string }
  | { readonly type: 'CreateContainer'; readonly service: string; readonly number: number; readonly spec: ContainerSpec }
  /** `container` is an id (existing containers) or a name (containers created by this plan). */
  | { readonly type: 'StartContainer'; readonly container: string }
  | { readonly type: 'StopContainer'; readonly container: string; readonly timeoutSeconds?: number; readonly removing?: true }
  | { readonly type: 'RemoveContainer'; readonly container: string; readonly volumes?: boolean }
  | { readonly type: 'RenameContainer'; readonly container: string; readonly name: string };

export type OperationType = Operation['type'];

export interface PlanNode {
  /** 1-based, in insertion order. */
  readonly id: number;
  /** Ids of the nodes that must finish first (all smaller than `id`). */
  readonly deps: readonly number[];
  /** `network:default`, `volume:data`, `service:web:1`, `container:tp-old-1`. */
  readonly resource: string;
  readonly op: Operation;
  /** Why: `missing`, `config changed`, `scale down`, … */
  readonly cause: string;
  readonly group?: string;
}

export class Plan {
  private readonly list: PlanNode[] = [];
  /** Things the user should hear about that need no operation (orphans kept, …). */
  readonly warnings: string[] = [];

  get nodes(): readonly PlanNode[] {
    return this.list;
  }

  get size(): number {
    return this.list.length;
  }

  isEmpty(): boolean {
    return this.list.length === 0;
  }

  node(id: number): PlanNode {
    const n = this.list[id - 1];
    if (!n) throw new RangeError(`no plan node #${id}`);
    return n;
  }

  /** Adds a node and returns its id. Deps are deduplicated and sorted; unknown ids are a programming error. */
  add(resource: string, op: Operation, cause: string, deps: Iterable<number> = [], group?: string): number {
    const id = this.list.length + 1;
    const sorted = [...new Set(deps)].sort((a, b) => a - b);
    for (const d of sorted) if (d < 1 || d >= id) throw new RangeError(`plan node #${id}: bad dependency #${d}`);
    this.list.push({ id, deps: sorted, resource, op, cause, ...(group === undefined ? {} : { group }) });
    return id;
  }

  toString(): string {
    return this.list
      .map((n) => `[${n.deps.join(',')}] -> #${n.id} ${n.resource}, ${n.op.type}, ${n.cause}${n.group === undefined ? '' : ` [${n.group}]`}`)
      .join('\n');
  }
}
