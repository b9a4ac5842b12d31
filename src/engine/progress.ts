/**
 * Plan execution → progress events: one `working` event when an operation starts and one `done`/`error` when it
 * ends, named like docker compose (`Container demo-web-1  Started`). Names and causes come from the node's data.
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
  StartContainer: ['Starting', 'Started'],
  StopContainer: ['Stopping', 'Stopped'],
  RestartContainer: ['Restarting', 'Restarted'],
  RemoveContainer: ['Removing', 'Removed'],
  RenameContainer: undefined,
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

/** An `onEvent` for `execute` that reports through `sink`. */
export function executeReporter(sink: EventSink): (e: ExecuteEvent) => void {
  return (e) => {
    const verbs = VERBS[e.node.op.type];
    if (!verbs) return;
    const resource = nodeResource(e.node);
    const [ing, ed] = e.node.cause.reason === 'recreate' ? ['Recreate', 'Recreated'] : verbs;
    switch (e.type) {
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
