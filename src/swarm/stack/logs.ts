/**
 * `logs` of a stack (`--runtime swarm`): the output of the stack's services (SwarmApi.serviceLogs, the text of
 * ../contract/log-format.ts: stdout and stderr merged by the engine), each line prefixed by the task that printed it
 * as docker compose prefixes containers: `<service>-<slot>` for a replica, `<service>-<node hostname>` for a task
 * of a global service (docker service logs says `<stack>_<service>.<slot>`). The prefixes of the running tasks are
 * registered first so the columns line up; a task met later (an old one, or a new one while following) is looked
 * up then. Every service is read at once and lines go out as they arrive; `tail` counts per task, as the engine
 * applies it. With `follow`, until the signal aborts (then it just ends).
 */
import { UsageError } from '../../errors.js';
import type { LogConsumer } from '../../engine/logs.js';
import { TASK_ID, parseServiceLogLine } from '../contract/log-format.js';
import { LABEL_NAMESPACE } from '../convert-names.js';
import type { SwarmApi, SwarmNode, SwarmTask } from '../port.js';

export interface StackLogsOptions {
  /** Compose service names (all of the stack's when empty). */
  readonly services?: readonly string[] | undefined;
  readonly follow?: boolean | undefined;
  /** Lines from the end of each task's output. */
  readonly tail?: number | undefined;
  readonly timestamps?: boolean | undefined;
  /** Only the replica of this slot (`--index`). */
  readonly index?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** `web-2` (replica 2 of `web`), or `agent-node-3` (global `agent` on node `node-3`). */
export function taskPrefix(service: string, task: Pick<SwarmTask, 'slot' | 'nodeId' | 'id'>, nodes: ReadonlyMap<string, string>): string {
  if (task.slot !== undefined) return `${service}-${task.slot}`;
  return `${service}-${(task.nodeId !== undefined ? nodes.get(task.nodeId) : undefined) ?? task.nodeId ?? task.id.slice(0, 12)}`;
}

/** Splits a stream into lines (the last one without its newline too). */
async function* lines(stream: AsyncIterable<unknown>): AsyncGenerator<string> {
  let rest = '';
  for await (const chunk of stream) {
    rest += typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
    let nl: number;
    while ((nl = rest.indexOf('\n')) >= 0) {
      yield rest.slice(0, nl);
      rest = rest.slice(nl + 1);
    }
  }
  if (rest !== '') yield rest;
}

export async function stackLogs(api: SwarmApi, namespace: string, consumer: LogConsumer, options: StackLogsOptions = {}): Promise<void> {
  const signal = options.signal;
  const deployed = await api.listServices({ labels: { [LABEL_NAMESPACE]: namespace }, signal });
  const keyOf = (name: string): string => (name.startsWith(`${namespace}_`) ? name.slice(namespace.length + 1) : name);
  const wanted = options.services ?? [];
  for (const s of wanted) if (!deployed.some((d) => keyOf(d.spec.Name) === s)) throw new UsageError(`no such service: ${s}`);
  const services = deployed.filter((d) => wanted.length === 0 || wanted.includes(keyOf(d.spec.Name)));
  if (services.length === 0) return;

  const [tasks, nodeList] = await Promise.all([api.listTasks({ signal }), api.listNodes({ signal })]);
  const nodes = new Map(nodeList.map((n: SwarmNode) => [n.id, n.hostname]));
  const serviceOf = new Map(services.map((s) => [s.id, s]));
  const taskInfo = new Map<string, SwarmTask>();
  const learn = (list: readonly SwarmTask[]): void => {
    for (const t of list) if (serviceOf.has(t.serviceId)) taskInfo.set(t.id, t);
  };
  learn(tasks);
  const prefixOf = (t: SwarmTask): string => taskPrefix(keyOf(serviceOf.get(t.serviceId)!.spec.Name), t, nodes);
  for (const t of [...taskInfo.values()].filter((x) => x.desiredState === 'running').sort((a, b) => (prefixOf(a) < prefixOf(b) ? -1 : 1)))
    if (options.index === undefined || t.slot === options.index) consumer.register(prefixOf(t));

  // A task not seen yet: the service's tasks once more (one lookup at a time per service).
  const refreshing = new Map<string, Promise<void>>();
  const lookUp = async (serviceId: string, taskId: string): Promise<SwarmTask | undefined> => {
    if (!taskInfo.has(taskId)) {
      let p = refreshing.get(serviceId);
      if (!p) {
        p = api.listTasks({ service: serviceId, signal }).then(learn, () => undefined);
        refreshing.set(serviceId, p);
        void p.finally(() => refreshing.delete(serviceId));
      }
      await p;
    }
    return taskInfo.get(taskId);
  };

  await Promise.all(
    services.map(async (svc) => {
      const key = keyOf(svc.spec.Name);
      const stream = await api.serviceLogs(svc.id, { follow: options.follow, tail: options.tail, timestamps: options.timestamps, signal });
      try {
        for await (const text of lines(stream)) {
          const line = parseServiceLogLine(text);
          const taskId = line.details[TASK_ID];
          const task = taskId !== undefined ? await lookUp(svc.id, taskId) : undefined;
          if (options.index !== undefined && task?.slot !== options.index) continue;
          const name = task ? taskPrefix(key, task, nodes) : key;
          consumer.log(name, {
            stream: 'stdout',
            line: line.message,
            ...(options.timestamps && line.timestamp !== undefined ? { timestamp: line.timestamp } : {}),
          });
        }
      } catch (e) {
        // Ctrl-C while following ends the streams as they are.
        if (!signal?.aborted) throw e;
      } finally {
        stream.destroy();
      }
    }),
  );
}
