/** `logs` of a stack (./logs.ts) on the fake swarm: task prefixes, services, --tail, --index, --timestamps, -f. */
import { describe, expect, test } from '@jest/globals';
import type { LogConsumer } from '../../engine/logs.js';
import type { ServiceSpec } from '../api-types.js';
import { SwarmFake } from '../fake/swarm-fake.js';
import { stackLogs, taskPrefix } from './logs.js';

const spec = (name: string, mode: ServiceSpec['Mode'], namespace = 'demo'): ServiceSpec => ({
  Name: `${namespace}_${name}`,
  Labels: { 'com.docker.stack.namespace': namespace },
  TaskTemplate: { ContainerSpec: { Image: 'busybox:latest' } },
  Mode: mode,
});

class Lines implements LogConsumer {
  readonly out: string[] = [];
  readonly registered: string[] = [];
  register(name: string): void {
    this.registered.push(name);
  }
  log(name: string, line: { line: string; timestamp?: string }): void {
    this.out.push(`${name} | ${line.timestamp !== undefined ? 'T ' : ''}${line.line}`);
  }
  status(): void {}
}

async function swarm(): Promise<SwarmFake> {
  const api = new SwarmFake({ nodes: [{ hostname: 'node-1' }, { hostname: 'node-2', role: 'worker' }] });
  await api.createService(spec('app', { Replicated: { Replicas: 2 } }));
  await api.createService(spec('agent', { Global: {} }));
  await api.createService(spec('app', { Replicated: { Replicas: 1 } }, 'other'));
  for (const i of [1, 2, 3]) {
    api.addLog('demo_app', 1, `one ${i}`);
    api.addLog('demo_app', 2, `two ${i}`);
  }
  const nodes = await api.listNodes();
  api.addLog('demo_agent', nodes[1]!.id, 'agent says hi');
  api.addLog('other_app', 1, 'not ours');
  return api;
}

describe('stack logs', () => {
  test('every service of the stack, lines prefixed service-slot (global: service-node), prefixes registered first', async () => {
    const api = await swarm();
    const c = new Lines();
    await stackLogs(api, 'demo', c);
    expect(c.registered).toEqual(['agent-node-1', 'agent-node-2', 'app-1', 'app-2']);
    expect([...c.out].sort()).toEqual([
      'agent-node-2 | agent says hi',
      'app-1 | one 1',
      'app-1 | one 2',
      'app-1 | one 3',
      'app-2 | two 1',
      'app-2 | two 2',
      'app-2 | two 3',
    ]);
  });

  test('services, --tail, --index, --timestamps', async () => {
    const api = await swarm();
    const c = new Lines();
    await stackLogs(api, 'demo', c, { services: ['app'], tail: 2, timestamps: true });
    expect(c.out).toEqual(['app-1 | T one 3', 'app-2 | T two 3']);
    const only2 = new Lines();
    await stackLogs(api, 'demo', only2, { services: ['app'], index: 2 });
    expect(only2.out).toEqual(['app-2 | two 1', 'app-2 | two 2', 'app-2 | two 3']);
    expect(only2.registered).toEqual(['app-2']);
    await expect(stackLogs(api, 'demo', new Lines(), { services: ['nope'] })).rejects.toMatchObject({ code: 'TSC_USAGE' });
  });

  test('-f: lines as they come, from tasks started meanwhile too, until the signal aborts', async () => {
    const api = await swarm();
    const c = new Lines();
    const ac = new AbortController();
    const following = stackLogs(api, 'demo', c, { services: ['app'], follow: true, tail: 0, signal: ac.signal });
    await new Promise((r) => setTimeout(r, 20));
    api.addLog('demo_app', 2, 'later');
    const s = await api.inspectService('demo_app');
    await api.updateService(s.id, s.version, { ...s.spec, Mode: { Replicated: { Replicas: 3 } } });
    api.addLog('demo_app', 3, 'a new replica');
    await new Promise((r) => setTimeout(r, 20));
    ac.abort();
    await following;
    expect(c.out).toEqual(['app-2 | later', 'app-3 | a new replica']);
  });

  test('taskPrefix: slot, else node hostname, else node id', () => {
    const nodes = new Map([['n1', 'host-1']]);
    expect(taskPrefix('web', { id: 't', slot: 2, nodeId: 'n1' }, nodes)).toBe('web-2');
    expect(taskPrefix('web', { id: 't', nodeId: 'n1' }, nodes)).toBe('web-host-1');
    expect(taskPrefix('web', { id: 't', nodeId: 'n9' }, nodes)).toBe('web-n9');
  });
});
