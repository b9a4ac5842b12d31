import { afterAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProjectSync } from '../project/load.js';
import { serviceConfigHash } from '../project/hash.js';
import type { Project } from '../project/types.js';
import { ConflictError, NotFoundError } from '../runtime/errors.js';
import { FakeRuntime } from '../runtime/fake/fake-runtime.js';
import { execute, type ExecuteEvent } from './execute.js';
import { observe } from './observe.js';
import { Plan, resourceId } from './plan.js';
import { reconcile, type ReconcileOptions } from './reconcile.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function load(yaml: string): Project {
  const dir = mkdtempSync(join(tmpdir(), 'tsc-execute-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'compose.yaml'), yaml);
  return loadProjectSync({ cwd: dir, env: {}, projectName: 'demo' }).project;
}

const BASE = `
services:
  web:
    image: nginx
    depends_on:
      db:
        condition: service_healthy
        restart: true
    networks: [front, back]
  db:
    image: postgres
    networks: [back]
    volumes: [data:/var/lib/postgresql/data, /scratch]
  worker:
    image: nginx
    scale: 2
volumes:
  data: {}
networks:
  front: {}
  back: {}
`;

const newRuntime = (): FakeRuntime => new FakeRuntime({ images: { nginx: 'sha256:1111', postgres: 'sha256:2222' } });

async function converge(rt: FakeRuntime, project: Project, options: ReconcileOptions = {}, onEvent?: (e: ExecuteEvent) => void): Promise<Plan> {
  const plan = reconcile(project, await observe(rt, project), options);
  await execute(rt, plan, { onEvent, concurrency: 4 });
  return plan;
}

describe('execute', () => {
  test('from scratch, then nothing left to do', async () => {
    const rt = newRuntime();
    const project = load(BASE);
    const events: string[] = [];
    const plan = await converge(rt, project, {}, (e) => events.push(`${e.type} #${e.node.id}`));
    expect(plan.size).toBe(12);
    expect(events.filter((e) => e.startsWith('done'))).toHaveLength(12);
    // Every node started only after its dependencies were done.
    for (const n of plan.nodes) {
      const started = events.indexOf(`start #${n.id}`);
      for (const d of n.deps) expect(events.indexOf(`done #${d}`)).toBeLessThan(started);
    }
    const state = await observe(rt, project);
    expect(state.containers.map((c) => `${c.name} ${c.status}`)).toEqual([
      'demo-db-1 running',
      'demo-web-1 running',
      'demo-worker-1 running',
      'demo-worker-2 running',
    ]);
    expect(Object.keys(state.networks)).toEqual(['demo_back', 'demo_default', 'demo_front']);
    expect(Object.keys(state.volumes).filter((v) => v.startsWith('demo_'))).toEqual(['demo_data']);
    expect(reconcile(project, state).toString()).toBe('');

    const web = await rt.inspectContainer('demo-web-1');
    expect(web.labels).toMatchObject({
      'com.docker.compose.project': 'demo',
      'com.docker.compose.service': 'web',
      'com.docker.compose.container-number': '1',
      'com.docker.compose.oneoff': 'False',
      'com.docker.compose.config-hash': serviceConfigHash(project.services['web']!),
      'com.docker.compose.image': 'sha256:1111',
      'com.docker.compose.depends_on': 'db:service_healthy:true',
    });
    expect(Object.keys(web.networks)).toEqual(['demo_back', 'demo_front']);
    expect(web.networks['demo_back']?.aliases).toEqual(['web']);
    const net = await rt.inspectNetwork('demo_front');
    expect(net.labels).toMatchObject({ 'com.docker.compose.project': 'demo', 'com.docker.compose.network': 'front' });
  });

  test('recreate keeps the name and the anonymous volumes, and converges', async () => {
    const rt = newRuntime();
    await converge(rt, load(BASE));
    const before = await rt.inspectContainer('demo-db-1');
    const changed = load(BASE.replace('networks: [back]\n', 'networks: [back]\n    environment: {A: "1"}\n'));
    const plan = await converge(rt, changed);
    expect(plan.nodes.map((n) => `${resourceId(n.resource)} ${n.op.type}`)).toEqual([
      'service:db:1 CreateContainer',
      'service:db:1 StopContainer',
      'service:db:1 RemoveContainer',
      'service:db:1 RenameContainer',
      'service:db:1 StartContainer',
      // web depends on db with restart: true.
      'service:web:1 RestartContainer',
    ]);
    const after = await rt.inspectContainer('demo-db-1');
    expect(after.id).not.toBe(before.id);
    expect(after.labels['com.docker.compose.replace']).toBe(before.id);
    expect(after.mounts).toEqual(before.mounts);
    expect(reconcile(changed, await observe(rt, changed)).toString()).toBe('');
  });

  test('-V gives recreated containers fresh anonymous volumes', async () => {
    const rt = newRuntime();
    await converge(rt, load(BASE));
    const before = await rt.inspectContainer('demo-db-1');
    await converge(rt, load(BASE), { forceRecreate: true, services: ['db'], renewAnonVolumes: true });
    const after = await rt.inspectContainer('demo-db-1');
    expect(after.mounts.find((m) => m.target === '/scratch')?.source).not.toBe(before.mounts.find((m) => m.target === '/scratch')?.source);
    expect(after.mounts.find((m) => m.target === '/var/lib/postgresql/data')?.source).toBe('demo_data');
  });

  test('a failing operation aborts the rest', async () => {
    const rt = newRuntime();
    const project = load(BASE);
    const boom = new ConflictError('container', 'demo-db-1', 'name already in use');
    rt.failNext('createContainer', boom, (args) => args[0] === 'demo-db-1');
    const events: ExecuteEvent[] = [];
    const plan = reconcile(project, await observe(rt, project));
    await expect(execute(rt, plan, { onEvent: (e) => events.push(e), concurrency: 1 })).rejects.toBe(boom);
    const errors = events.filter((e) => e.type === 'error');
    expect(errors.map((e) => resourceId(e.node.resource))).toEqual(['service:db:1']);
    const skipped = events.filter((e) => e.type === 'skipped').map((e) => resourceId(e.node.resource));
    expect(skipped).toContain('service:web:1');
    // Nothing depending on db ran; every node is accounted for exactly once.
    expect(rt.calls.some((c) => c.method === 'createContainer' && c.args[0] === 'demo-web-1')).toBe(false);
    const settled = events
      .filter((e) => e.type !== 'start')
      .map((e) => e.node.id)
      .sort((a, b) => a - b);
    expect(settled).toEqual(plan.nodes.map((n) => n.id));
  });

  test('an aborted signal stops the run', async () => {
    const rt = newRuntime();
    const project = load(BASE);
    const controller = new AbortController();
    controller.abort(new Error('interrupted'));
    const plan = reconcile(project, await observe(rt, project));
    await expect(execute(rt, plan, { signal: controller.signal })).rejects.toThrow('interrupted');
    expect(rt.calls.filter((c) => c.method.startsWith('create'))).toEqual([]);
  });

  test('already started containers count as done (304)', async () => {
    const rt = newRuntime();
    const project = load(BASE);
    await converge(rt, project);
    const plan = new Plan();
    plan.add(
      { kind: 'service', service: 'web', number: 1, name: 'demo-web-1' },
      { type: 'StartContainer', container: 'demo-web-1' },
      { reason: 'not running' },
    );
    const events: string[] = [];
    await execute(rt, plan, { onEvent: (e) => events.push(e.type) });
    expect(events).toEqual(['start', 'unchanged']);
  });

  test('external resources must exist', async () => {
    const rt = newRuntime();
    const project = load(BASE.replace('  front: {}', '  front:\n    external: true'));
    expect(() => reconcile(project, { project: 'demo', containers: [], networks: {}, volumes: {}, images: {} })).toThrow(NotFoundError);
    await rt.createNetwork({ name: 'front', labels: {} });
    const plan = reconcile(project, await observe(rt, project));
    expect(plan.nodes.filter((n) => n.op.type === 'CreateNetwork').map((n) => resourceId(n.resource))).toEqual(['network:back', 'network:default']);
    await execute(rt, plan);
    expect(Object.keys((await rt.inspectContainer('demo-web-1')).networks)).toEqual(['demo_back', 'front']);
  });

  test('scale down removes obsolete containers first', async () => {
    const rt = newRuntime();
    await converge(rt, load(BASE.replace('scale: 2', 'scale: 3')));
    // worker-2 becomes obsolete by a config change made behind our back: simulate by recreating it by hand.
    await rt.stopContainer('demo-worker-2');
    await rt.removeContainer('demo-worker-2');
    const spec = rt.specOf('demo-worker-1');
    await rt.createContainer({
      ...spec,
      name: 'demo-worker-2',
      labels: { ...spec.labels, 'com.docker.compose.container-number': '2', 'com.docker.compose.config-hash': 'old' },
    });
    const project = load(BASE);
    const plan = reconcile(project, await observe(rt, project));
    expect(plan.toString()).toBe(['[] -> #1 service:worker:2, RemoveContainer, scale down'].join('\n'));
  });
});
