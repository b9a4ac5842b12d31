/**
 * The executor (compose `executor.go`): runs every plan node as soon as all its dependencies are done, at most
 * `concurrency` at a time (p-queue, through `traverse`), under one AbortController. The first failure aborts
 * everything not yet started; operations already running are awaited. Reports through `onEvent`; never prints.
 */
import { traverse } from '../project/graph.js';
import { isNotModified } from '../runtime/errors.js';
import type { Runtime } from '../runtime/runtime.js';
import type { Operation, Plan, PlanNode } from './plan.js';
import { runHook } from './run-hook.js';
import { traced } from '../util/trace.js';

export type ExecuteEvent =
  | { readonly type: 'start'; readonly node: PlanNode }
  | { readonly type: 'done'; readonly node: PlanNode }
  /** The runtime said there was nothing to do (already started / stopped). */
  | { readonly type: 'unchanged'; readonly node: PlanNode }
  | { readonly type: 'error'; readonly node: PlanNode; readonly error: unknown }
  /** Not run because an earlier operation failed or the run was aborted. */
  | { readonly type: 'skipped'; readonly node: PlanNode }
  /** A line of output of a running operation (a RunHook's command). */
  | { readonly type: 'output'; readonly node: PlanNode; readonly line: string };

export interface ExecuteOptions {
  /** Operations running at once; undefined or <= 0 = unlimited. */
  readonly concurrency?: number | undefined;
  /** Aborting it stops the run like a failure. */
  readonly signal?: AbortSignal | undefined;
  readonly onEvent?: ((event: ExecuteEvent) => void) | undefined;
  /** Awaited before a node runs (waiting for depends_on conditions); a rejection fails the node. */
  readonly beforeNode?: ((node: PlanNode, signal: AbortSignal) => Promise<void>) | undefined;
}

/** Performs one operation: exactly one runtime call (a RunHook: one exec, its output lines to `onOutput`). */
export async function runOperation(runtime: Runtime, op: Operation, signal?: AbortSignal, onOutput?: (line: string) => void): Promise<void> {
  const o = { signal };
  switch (op.type) {
    case 'CreateNetwork':
      await runtime.createNetwork(op.spec, o);
      return;
    case 'RemoveNetwork':
      return runtime.removeNetwork(op.network, o);
    case 'ConnectNetwork':
      return runtime.connectNetwork(op.network, op.container, op.endpoint, o);
    case 'DisconnectNetwork':
      return runtime.disconnectNetwork(op.network, op.container, o);
    case 'CreateVolume':
      await runtime.createVolume(op.spec, o);
      return;
    case 'RemoveVolume':
      return runtime.removeVolume(op.volume, o);
    case 'CreateContainer':
      await runtime.createContainer(op.spec, o);
      return;
    case 'PrepareStart':
      return runtime.prepareStart?.(op.container, o);
    case 'StartContainer':
      return runtime.startContainer(op.container, o);
    case 'StopContainer':
      return runtime.stopContainer(op.container, { ...o, timeoutSeconds: op.timeoutSeconds, removing: op.removing });
    case 'RestartContainer':
      return runtime.restartContainer(op.container, { ...o, timeoutSeconds: op.timeoutSeconds });
    case 'RemoveContainer':
      return runtime.removeContainer(op.container, { ...o, volumes: op.volumes });
    case 'RenameContainer':
      return runtime.renameContainer(op.container, op.name, o);
    case 'RunHook':
      return runHook(runtime, op, { signal, onOutput });
  }
}

/** Runs `plan`; rejects with the first error after everything already running has settled. */
export async function execute(runtime: Runtime, plan: Plan, options: ExecuteOptions = {}): Promise<void> {
  const emit = options.onEvent ?? (() => undefined);
  const graph = new Map<string, Set<string>>();
  for (const n of plan.nodes) graph.set(String(n.id), new Set(n.deps.map(String)));
  const finished = new Set<number>();
  const failed = new Set<number>();
  try {
    await traverse(
      graph,
      async (key, signal) => {
        const node = plan.node(Number(key));
        signal.throwIfAborted();
        if (options.beforeNode) {
          try {
            await options.beforeNode(node, signal);
          } catch (error) {
            failed.add(node.id);
            throw error;
          }
        }
        emit({ type: 'start', node });
        try {
          await traced(`plan.${node.op.type}`, () => runOperation(runtime, node.op, signal, (line) => emit({ type: 'output', node, line })));
          emit({ type: 'done', node });
        } catch (error) {
          if (!isNotModified(error)) {
            failed.add(node.id);
            emit({ type: 'error', node, error });
            throw error;
          }
          emit({ type: 'unchanged', node });
        }
        finished.add(node.id);
      },
      { concurrency: options.concurrency, signal: options.signal },
    );
  } catch (error) {
    for (const n of plan.nodes) if (!finished.has(n.id) && !failed.has(n.id)) emit({ type: 'skipped', node: n });
    throw error;
  } finally {
    // Prepared starts whose start did not come (a failure, Ctrl-C) are released, not left holding their resources.
    if (runtime.discardPreparedStarts && plan.nodes.some((n) => n.op.type === 'PrepareStart')) await runtime.discardPreparedStarts();
  }
}
