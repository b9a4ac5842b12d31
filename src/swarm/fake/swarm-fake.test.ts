import { describe, expect, test } from '@jest/globals';
import { isConflict, isNotFound } from '../../runtime/errors.js';
import type { ServiceSpec } from '../api-types.js';
import { NotSwarmManagerError } from '../contract/errors.js';
import { SwarmFake } from './swarm-fake.js';

const spec = (name: string, replicas = 2, extra: Partial<ServiceSpec['TaskTemplate']['ContainerSpec']> = {}): ServiceSpec => ({
  Name: name,
  Labels: { 'com.docker.stack.namespace': 'p' },
  TaskTemplate: { ContainerSpec: { Image: 'busybox:latest', ...extra } },
  Mode: { Replicated: { Replicas: replicas } },
});
const current = async (f: SwarmFake, service: string): Promise<[number | undefined, string][]> =>
  (await f.listTasks({ service })).filter((t) => t.desiredState === 'running').map((t) => [t.slot, t.state]);

describe('SwarmFake', () => {
  test('tasks per replica, spread over the nodes; the test sets their states', async () => {
    const f = new SwarmFake({ nodes: [{ hostname: 'm' }, { hostname: 'w1' }, { hostname: 'w2' }] });
    const { id } = await f.createService(spec('web', 3));
    const tasks = await f.listTasks({ service: id });
    expect(tasks.map((t) => [t.slot, t.state, t.specVersion])).toEqual([
      [1, 'running', 1],
      [2, 'running', 1],
      [3, 'running', 1],
    ]);
    expect(new Set(tasks.map((t) => t.nodeId)).size).toBe(3);
    f.setTaskState('web', 2, 'failed', { error: 'task: non-zero exit (1)', exitCode: 1 });
    expect((await f.listTasks({ service: 'web' }))[1]).toMatchObject({ slot: 2, state: 'failed', error: 'task: non-zero exit (1)', exitCode: 1 });
    const next = f.replaceTask('web', 2);
    const slot2 = (await f.listTasks({ service: 'web' })).filter((t) => t.slot === 2);
    expect(slot2.map((t) => [t.id, t.desiredState])).toEqual([
      [next.id, 'running'],
      [tasks[1]!.id, 'shutdown'],
    ]);
  });

  test('healthGated: tasks with a healthcheck stay starting until the test says healthy; autoStart false: pending', async () => {
    const f = new SwarmFake({ healthGated: true });
    await f.createService(spec('db', 2, { Healthcheck: { Test: ['CMD', 'true'] } }));
    await f.createService(spec('app', 1));
    expect(await current(f, 'db')).toEqual([
      [1, 'starting'],
      [2, 'starting'],
    ]);
    expect(await current(f, 'app')).toEqual([[1, 'running']]);
    f.setHealthy('db', 1);
    expect(await current(f, 'db')).toEqual([
      [1, 'running'],
      [2, 'starting'],
    ]);
    const g = new SwarmFake({ autoStart: false });
    await g.createService(spec('x', 1));
    expect(await current(g, 'x')).toEqual([[1, 'pending']]);
  });

  test('updates: a changed template replaces every task, replicas scale, a stale version conflicts, rollback', async () => {
    const f = new SwarmFake();
    const { id } = await f.createService(spec('web', 2));
    let s = await f.inspectService(id);
    await f.updateService(id, s.version, { ...s.spec, Mode: { Replicated: { Replicas: 3 } } });
    expect((await current(f, id)).map(([slot]) => slot)).toEqual([1, 2, 3]);
    expect((await f.listTasks({ service: id })).length).toBe(3);
    s = await f.inspectService(id);
    await f.updateService(id, s.version, spec('web', 1, { Env: ['A=1'] }));
    const after = await f.inspectService(id);
    expect(after.updateState).toBe('completed');
    expect((await f.listTasks({ service: id })).filter((t) => t.desiredState === 'running').map((t) => [t.slot, t.specVersion])).toEqual([
      [1, after.version],
    ]);
    expect(isConflict(await f.updateService(id, s.version, spec('web', 1)).catch((e: unknown) => e))).toBe(true);
    await f.updateService(id, after.version, after.spec, { rollback: true });
    expect((await f.inspectService(id)).spec.Mode).toEqual({ Replicated: { Replicas: 3 } });
    expect(f.calls.filter((c) => c.method === 'updateService').map((c) => c.args.slice(1))).toEqual([['1'], ['2'], ['2'], ['3', 'rollback']]);
  });

  test('global services get a task per active node; drain moves replicated tasks away', async () => {
    const f = new SwarmFake({ nodes: [{ hostname: 'm' }, { hostname: 'w' }] });
    await f.createService({ ...spec('agent'), Mode: { Global: {} } });
    await f.createService(spec('web', 2));
    const nodes = await f.listNodes();
    expect((await f.listTasks({ service: 'agent' })).map((t) => t.nodeId).sort()).toEqual(nodes.map((n) => n.id).sort());
    const worker = nodes.find((n) => n.role === 'worker')!;
    await f.setNodeAvailability(worker.id, 'drain');
    const web = (await f.listTasks({ service: 'web' })).filter((t) => t.desiredState === 'running');
    expect(web.map((t) => t.nodeId)).toEqual([nodes.find((n) => n.role === 'manager')!.id, nodes.find((n) => n.role === 'manager')!.id]);
    expect((await f.listNodes()).find((n) => n.id === worker.id)?.availability).toBe('drain');
  });

  test('networks in use, missing references, injected failures, logs, no swarm', async () => {
    const f = new SwarmFake();
    await f.createNetwork({ Name: 'front', Driver: 'overlay', Labels: {} });
    await f.createService({ ...spec('web', 1), TaskTemplate: { ContainerSpec: { Image: 'busybox' }, Networks: [{ Target: 'front' }] } });
    expect(isConflict(await f.removeNetwork('front').catch((e: unknown) => e))).toBe(true);
    expect(
      isNotFound(
        await f
          .createService({ ...spec('x', 1), TaskTemplate: { ContainerSpec: { Image: 'b' }, Networks: [{ Target: 'nope' }] } })
          .catch((e: unknown) => e),
      ),
    ).toBe(true);
    f.failNext('listServices', new Error('boom'));
    await expect(f.listServices()).rejects.toThrow('boom');
    expect((await f.listServices()).length).toBe(1);

    const follow = await f.serviceLogs('web', { follow: true });
    const chunks: string[] = [];
    follow.on('data', (c: Buffer) => chunks.push(c.toString()));
    f.addLog('web', 1, 'hello');
    await new Promise((r) => setImmediate(r));
    expect(chunks.join('')).toMatch(
      /^com\.docker\.swarm\.node\.id=\w+,com\.docker\.swarm\.service\.id=\w+,com\.docker\.swarm\.task\.id=\w+ hello\n$/,
    );
    follow.destroy();

    const none = new SwarmFake({ swarm: false });
    expect(await none.swarmInfo()).toBeUndefined();
    await expect(none.listServices()).rejects.toBeInstanceOf(NotSwarmManagerError);
  });
});
