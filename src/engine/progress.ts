/**
 * Plan execution → progress events: one `working` event when an operation starts and one `done`/`error` when it
 * ends, named like docker compose (`Container demo-web-1  Started`).
 */
import type { ExecuteEvent } from './execute.js';
import { done, failed, type EventSink } from './events.js';
import type { ObservedState } from './observe.js';
import type { Operation } from './plan.js';

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
  RemoveContainer: ['Removing', 'Removed'],
  RenameContainer: undefined,
};

/** Strips the `<id12>_` prefix of a container created under a temporary name during a recreate. */
export const finalContainerName = (name: string): string => name.replace(/^[0-9a-f]{12}_/, '');

/** Names for ids found in the observed state (containers and networks are addressed by id in plans). */
export function nameResolver(observed: ObservedState | undefined): (kind: 'container' | 'network', ref: string) => string {
  const containers = new Map<string, string>();
  const networks = new Map<string, string>();
  for (const c of observed?.containers ?? []) containers.set(c.id, c.name);
  for (const n of Object.values(observed?.networks ?? {})) networks.set(n.id, n.name);
  return (kind, ref) => (kind === 'container' ? (containers.get(ref) ?? finalContainerName(ref)) : (networks.get(ref) ?? ref));
}

export function operationResource(op: Operation, name: (kind: 'container' | 'network', ref: string) => string): string {
  switch (op.type) {
    case 'CreateNetwork':
      return `Network ${op.spec.name}`;
    case 'RemoveNetwork':
      return `Network ${name('network', op.network)}`;
    case 'ConnectNetwork':
    case 'DisconnectNetwork':
      return `Container ${name('container', op.container)}`;
    case 'CreateVolume':
      return `Volume ${op.spec.name}`;
    case 'RemoveVolume':
      return `Volume ${op.volume}`;
    case 'CreateContainer':
      return `Container ${finalContainerName(op.spec.name)}`;
    case 'StartContainer':
    case 'StopContainer':
    case 'RemoveContainer':
    case 'RenameContainer':
      return `Container ${name('container', op.container)}`;
  }
}

/** An `onEvent` for `execute` that reports through `sink`. */
export function executeReporter(sink: EventSink, observed?: ObservedState): (e: ExecuteEvent) => void {
  const name = nameResolver(observed);
  return (e) => {
    const verbs = VERBS[e.node.op.type];
    if (!verbs) return;
    const resource = operationResource(e.node.op, name);
    const recreate = e.node.op.type === 'CreateContainer' && /^[0-9a-f]{12}_/.test(e.node.op.spec.name);
    const [ing, ed] = recreate ? ['Recreate', 'Recreated'] : verbs;
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
