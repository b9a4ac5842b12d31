/**
 * Plan execution → progress events: one `working` event when an operation starts and one `done`/`error` when it
 * ends, named like docker compose (`Container demo-web-1  Started`). Names and causes come from the node's data.
 *
 * Lifecycle hooks: `Running post_start hook` while one runs, then `Started` (compose reports the container started
 * once its post_start hooks ran) or `Ran pre_stop hook`; each line of a hook's output is a `working` event whose
 * `log` is compose's hook log line, `web-1 -> | line`, and whose `details` is the line.
 */
import type { ExecuteEvent } from './execute.js';
import { done, failed, type EventSink } from './events.js';
import type { Operation, PlanNode } from './plan.js';

const VERBS: Record<Operation['type'], readonly [string, string] | undefined> = {
  CreateNetwork: ['Creating', 'Created'],
  RemoveNetwork: ['Removing', 'Removed'],
  ConnectNetwork: ['Connecting', 'Connected'],
  DisconnectNetwork: ['Disconnecting', 'Disconnected'],
  CreateVolume: ['Creating', 'Created'],
  RemoveVolume: ['Removing', 'Removed'],
  CreateContainer: ['Creating', 'Created'],
  PrepareStart: undefined, // part of the start, reported as its StartContainer
  StartContainer: ['Starting', 'Started'],
  StopContainer: ['Stopping', 'Stopped'],
  RestartContainer: ['Restarting', 'Restarted'],
  RemoveContainer: ['Removing', 'Removed'],
  RenameContainer: undefined,
  RunHook: undefined, // hookVerbs
};

/** `Network demo_default`, `Volume demo_data`, `Container demo-web-1` (the final name, also during a recreate). */
export function nodeResource(node: PlanNode): string {
  switch (node.resource.kind) {
    case 'network':
      return `Network ${node.resource.name}`;
    case 'volume':
      return `Volume ${node.resource.name}`;
    case 'service':
    case 'container':
      return `Container ${node.resource.name}`;
  }
}

const hookVerbs = (phase: 'post_start' | 'pre_stop'): readonly [string, string] =>
  phase === 'post_start' ? ['Running post_start hook', 'Started'] : ['Running pre_stop hook', 'Ran pre_stop hook'];

/** An `onEvent` for `execute` that reports through `sink`. */
export function executeReporter(sink: EventSink): (e: ExecuteEvent) => void {
  return (e) => {
    const { op } = e.node;
    const verbs = op.type === 'RunHook' ? hookVerbs(op.phase) : VERBS[op.type];
    if (!verbs) return;
    const resource = nodeResource(e.node);
    const [ing, ed] = e.node.cause.reason === 'recreate' ? ['Recreate', 'Recreated'] : verbs;
    switch (e.type) {
      case 'output':
        if (op.type === 'RunHook') sink.emit({ resource, status: 'working', text: ing, details: e.line, log: `${op.source} -> | ${e.line}` });
        break;
      case 'start':
        sink.emit({ resource, status: 'working', text: ing });
        break;
      case 'done':
        sink.emit(done(resource, ed));
        break;
      case 'unchanged':
        sink.emit(done(resource, e.node.op.type === 'StartContainer' ? 'Running' : ed));
        break;
      case 'error':
        // Aborted because another operation failed (or Ctrl-C): not this resource's own error.
        if (e.error instanceof Error && e.error.name === 'AbortError') sink.emit({ resource, status: 'warning', text: 'Canceled' });
        else sink.emit(failed(resource, 'Error', e.error instanceof Error ? e.error.message : String(e.error)));
        break;
      case 'skipped':
        break;
    }
  };
}
