/**
 * The plan: a DAG of operations, each exactly one runtime call (compose `pkg/compose/plan.go`). Built by
 * `reconcile`, run by `execute`, printed by `--dry-run`. Every node says what it acts on (`resource`) and why
 * (`cause`) as data; `toString()` renders them, deterministically, one line per node:
 * `[deps] -> #id resource, Op, cause`.
 */
import type { ContainerSpec, EndpointSpec, ExecSpec, NetworkSpec, VolumeSpec } from '../runtime/runtime.js';

/** When a lifecycle hook runs: right after the container starts, or before it is stopped. */
export type HookPhase = 'post_start' | 'pre_stop';

export type Operation =
  | { readonly type: 'CreateNetwork'; readonly spec: NetworkSpec }
  | { readonly type: 'RemoveNetwork'; readonly network: string }
  | { readonly type: 'ConnectNetwork'; readonly network: string; readonly container: string; readonly endpoint?: Omit<EndpointSpec, 'network'> }
  | { readonly type: 'DisconnectNetwork'; readonly network: string; readonly container: string }
  | { readonly type: 'CreateVolume'; readonly spec: VolumeSpec }
  | { readonly type: 'RemoveVolume'; readonly volume: string }
  | { readonly type: 'CreateContainer'; readonly service: string; readonly number: number; readonly spec: ContainerSpec }
  /**
   * Ahead of its StartContainer, while its dependencies start: what of the start needs nothing of them
   * (Runtime.prepareStart). `container` as StartContainer's.
   */
  | { readonly type: 'PrepareStart'; readonly container: string }
  /** `container` is an id (existing containers) or a name (containers created by this plan). */
  | { readonly type: 'StartContainer'; readonly container: string }
  | { readonly type: 'StopContainer'; readonly container: string; readonly timeoutSeconds?: number; readonly removing?: true }
  /** Stop (with the timeout) and start again: a depends_on `restart: true` dependent of a recreated service. */
  | { readonly type: 'RestartContainer'; readonly container: string; readonly timeoutSeconds?: number }
  | { readonly type: 'RemoveContainer'; readonly container: string; readonly volumes?: boolean }
  | { readonly type: 'RenameContainer'; readonly container: string; readonly name: string }
  /**
   * Hook `index` of the service's `phase` hooks, exec'd in `container` (compose `runHook`); a non-zero exit fails it.
   * `source` names the container in the hook's output lines (`web-1 -> | …`).
   */
  | {
      readonly type: 'RunHook';
      readonly container: string;
      readonly service: string;
      readonly phase: HookPhase;
      readonly index: number;
      readonly exec: Omit<ExecSpec, 'stdin'>;
      readonly source: string;
    };

export type OperationType = Operation['type'];

/**
 * What a node acts on. `name` is the engine name shown to the user: the network or volume name, the container's
 * final name (also while a recreate works on it under a temporary name).
 */
export type PlanResource =
  | { readonly kind: 'network'; readonly key: string; readonly name: string }
  | { readonly kind: 'volume'; readonly key: string; readonly name: string }
  /** Container `number` of a service. */
  | { readonly kind: 'service'; readonly service: string; readonly number: number; readonly name: string }
  /** A container outside the service numbering (one-off `run` containers). */
  | { readonly kind: 'container'; readonly name: string };

/** Why a container is recreated (compose `mustRecreate`); `<input names> changed` names changed input files (./inputs.ts). */
export type RecreateReason = 'forced' | 'config changed' | 'image changed' | 'network parent recreated' | 'network changed' | `${string} changed`;

/** Why a node is in the plan. */
export type Cause =
  | {
      readonly reason:
        'missing' | 'scale up' | 'scale down' | 'created' | 'not running' | 'replaced' | 'finalize recreate' | 'recreated' | 'orphan' | 'down';
    }
  /** The CreateContainer of a recreate, under the temporary name `tmpName`. */
  | { readonly reason: 'recreate'; readonly why: RecreateReason; readonly tmpName: string }
  /** depends_on `restart: true`: `dependencies` (sorted) were recreated. */
  | { readonly reason: 'dependency recreated'; readonly dependencies: readonly string[] };

export type Reason = Cause['reason'];

export interface PlanNode {
  /** 1-based, in insertion order. */
  readonly id: number;
  /** Ids of the nodes that must finish first (all smaller than `id`). */
  readonly deps: readonly number[];
  readonly resource: PlanResource;
  readonly op: Operation;
  readonly cause: Cause;
}

/** `network:default`, `volume:data`, `service:web:1`, `container:demo-web-run-0123`. */
export function resourceId(r: PlanResource): string {
  switch (r.kind) {
    case 'network':
    case 'volume':
      return `${r.kind}:${r.key}`;
    case 'service':
      return `service:${r.service}:${r.number}`;
    case 'container':
      return `container:${r.name}`;
  }
}

/** `missing`, `config changed (c00000000001_demo-db-1)`, `dependency db recreated`, … */
export function describeCause(c: Cause): string {
  switch (c.reason) {
    case 'recreate':
      return `${c.why} (${c.tmpName})`;
    case 'dependency recreated':
      return `dependency ${c.dependencies.join(', ')} recreated`;
    default:
      return c.reason;
  }
}

/** `StartContainer`, `RunHook post_start[0]`: the operation as the plan's text shows it. */
export function describeOperation(op: Operation): string {
  return op.type === 'RunHook' ? `RunHook ${op.phase}[${op.index}]` : op.type;
}

/** The service a node works on, if any. */
export const nodeService = (n: PlanNode): string | undefined => (n.resource.kind === 'service' ? n.resource.service : undefined);

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
  add(resource: PlanResource, op: Operation, cause: Cause, deps: Iterable<number> = []): number {
    const id = this.list.length + 1;
    const sorted = [...new Set(deps)].sort((a, b) => a - b);
    for (const d of sorted) if (d < 1 || d >= id) throw new RangeError(`plan node #${id}: bad dependency #${d}`);
    this.list.push({ id, deps: sorted, resource, op, cause });
    return id;
  }

  toString(): string {
    return this.list
      .map((n) => `[${n.deps.join(',')}] -> #${n.id} ${resourceId(n.resource)}, ${describeOperation(n.op)}, ${describeCause(n.cause)}`)
      .join('\n');
  }
}
