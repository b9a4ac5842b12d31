/**
 * The stack use cases on the in-memory swarm (../fake/swarm-fake.ts): deploy in depends_on order with health
 * waits, `--wait`, a no-op redeploy, a changed secret rolling its service and the old version removed, `down`
 * leaving nothing of the stack, and the manager check.
 */
import { afterAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Project } from '../../project/types.js';
import { loadProjectSync } from '../../project/load.js';
import { demoCompose, loadDemo } from '../__fixtures__/demo-stack.js';
import { SwarmFake } from '../fake/swarm-fake.js';
import { stackDown, stackUp, type StackContext } from './stack.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const COMPOSE = demoCompose('    deploy: {replicas: 2}\n');

function project(dir: string, secret: string): Project {
  return loadDemo(dir, COMPOSE, secret);
}

function context(api: SwarmFake): StackContext & { lines: string[] } {
  const lines: string[] = [];
  return { api, events: { emit: (e) => lines.push(`${e.resource} ${e.text}`) }, pollIntervalMs: 5, lines };
}

describe('stack up/down on the fake swarm', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsc-stack-up-'));
  dirs.push(dir);

  test('deploys in order: app only after db is healthy; --wait reports replicas', async () => {
    const api = new SwarmFake({ healthGated: true });
    const ctx = context(api);
    const p = project(dir, 's3cret');
    // db's tasks turn healthy 50 ms after they exist (again after each update replaced them).
    const healthy = setInterval(() => {
      if (api.calls.some((c) => c.method === 'createService' && c.args[0] === 'demo_db'))
        setTimeout(() => {
          try {
            api.setHealthy('demo_db');
          } catch {
            /* not yet */
          }
        }, 50);
    }, 20);
    const { progress } = await stackUp(ctx, p, { wait: true, waitTimeoutSeconds: 10 }).finally(() => clearInterval(healthy));
    const creates = api.calls.filter((c) => c.method === 'createService').map((c) => c.args[0]);
    expect(creates).toEqual(['demo_db', 'demo_app', 'demo_web']);
    expect(ctx.lines.indexOf('Service demo_db Healthy')).toBeGreaterThan(-1);
    expect(ctx.lines.indexOf('Service demo_app Creating')).toBeGreaterThan(ctx.lines.indexOf('Service demo_db Healthy'));
    expect(progress?.map((x) => `${x.name} ${x.running}/${x.desired}`)).toEqual(['demo_app 2/2', 'demo_db 1/1', 'demo_web 1/1']);

    // A no-op deploy changes nothing.
    const before = api.calls.length;
    const again = await stackUp(context(api), p);
    expect(again.plan.empty).toBe(true);
    expect(api.calls.slice(before).filter((c) => /^(create|update|remove)/.test(c.method))).toEqual([]);

    // A changed secret: a new secret, db and app updated, the old version removed.
    const p2 = project(dir, 'n3w');
    const healthyAgain = setInterval(() => api.setHealthy('demo_db'), 20);
    const rolled = await stackUp(context(api), p2, { waitTimeoutSeconds: 10 }).finally(() => clearInterval(healthyAgain));
    expect(rolled.plan.nodes.map((n) => `${n.op.type} ${n.cause}`)).toEqual([
      'CreateSecret missing',
      'UpdateService content changed',
      'UpdateService content changed',
      'RemoveSecret unused old version',
    ]);
    expect([...api.secrets.values()].map((s) => s.name)).toEqual([
      rolled.plan.nodes[0]!.op.type === 'CreateSecret' ? (rolled.plan.nodes[0]!.op as { name: string }).name : '',
    ]);

    // down: nothing of the stack is left.
    await stackDown(context(api), 'demo');
    expect(await api.listServices({ labels: { 'com.docker.stack.namespace': 'demo' } })).toEqual([]);
    expect(await api.listSecrets({ labels: { 'com.docker.stack.namespace': 'demo' } })).toEqual([]);
    expect(await api.listNetworks({ labels: { 'com.docker.stack.namespace': 'demo' } })).toEqual([]);
  });

  test('a dependency that never gets healthy: the dependents are not deployed, the error says why', async () => {
    const api = new SwarmFake({ healthGated: true });
    const p = project(dir, 'x');
    await expect(stackUp(context(api), p, { waitTimeoutSeconds: 0.1 })).rejects.toThrow(/service demo_db healthy: not done/);
    expect(api.calls.filter((c) => c.method === 'createService').map((c) => c.args[0])).toEqual(['demo_db']);
  });

  test('an engine that is no swarm manager: a typed error with a hint', async () => {
    const api = new SwarmFake({ swarm: false });
    await expect(stackUp(context(api), project(dir, 'x'))).rejects.toMatchObject({ code: 'TSC_SWARM_NOT_MANAGER' });
  });
});

describe('scale on the fake swarm: up --scale and scale SERVICE=N (services)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsc-stack-scale-'));
  dirs.push(dir);
  const replicas = async (api: SwarmFake, name: string): Promise<number | undefined> =>
    (await api.inspectService(name)).spec.Mode.Replicated?.Replicas;
  const running = async (api: SwarmFake, name: string): Promise<number> =>
    (await api.listTasks({ service: name })).filter((t) => t.desiredState === 'running').length;

  test('up --scale overrides deploy.replicas; scale touches only its services; up without --scale goes back', async () => {
    const api = new SwarmFake();
    const p = project(dir, 's');
    await stackUp(context(api), p, { scale: { web: 3 } });
    expect(await replicas(api, 'demo_web')).toBe(3);
    expect(await running(api, 'demo_web')).toBe(3);
    expect(await replicas(api, 'demo_app')).toBe(2);

    // scale app=4: one update, of app; nothing else is looked at or changed, dependencies included.
    const before = api.calls.length;
    const scaled = await stackUp(context(api), p, { scale: { app: 4 }, services: ['app'], wait: true, waitTimeoutSeconds: 5 });
    expect(scaled.plan.toString()).toBe('[] -> #1 service demo_app, UpdateService, spec changed (after db:service_healthy)\n');
    expect(api.calls.slice(before).filter((c) => /^(create|update|remove)/.test(c.method))).toEqual([
      { method: 'updateService', args: [expect.any(String), expect.any(String)] },
    ]);
    expect(scaled.progress?.map((x) => `${x.name} ${x.running}/${x.desired}`)).toEqual(['demo_app 4/4']);
    expect(await running(api, 'demo_app')).toBe(4);
    expect(await replicas(api, 'demo_web')).toBe(3); // untouched by scale app=4

    // scale down
    await stackUp(context(api), p, { scale: { app: 1 }, services: ['app'] });
    expect(await running(api, 'demo_app')).toBe(1);

    // up without --scale: back to the compose file's counts (as docker compose up after scale).
    const back = await stackUp(context(api), p);
    expect(back.plan.nodes.map((n) => `${n.op.type} ${'service' in n.op ? n.op.service : ''}`)).toEqual(['UpdateService app', 'UpdateService web']);
    expect(await replicas(api, 'demo_app')).toBe(2);
    expect(await replicas(api, 'demo_web')).toBeUndefined(); // the compose file names none: swarm's default, 1
    expect(await running(api, 'demo_web')).toBe(1);
  });

  test('scale of a service not deployed yet creates it with what it needs, and nothing else', async () => {
    const api = new SwarmFake();
    const p = project(dir, 's');
    const r = await stackUp(context(api), p, { scale: { web: 2 }, services: ['web'] });
    expect(r.plan.nodes.map((n) => `${n.op.type} ${n.cause}`)).toEqual(['CreateNetwork missing', 'CreateService missing']);
    expect((await api.listServices()).map((s) => s.spec.Name)).toEqual(['demo_web']);
    expect(await running(api, 'demo_web')).toBe(2);
  });

  test('an unknown service, or replicas for a global service: typed errors before anything changes', async () => {
    const api = new SwarmFake();
    await expect(stackUp(context(api), project(dir, 's'), { scale: { nope: 2 }, services: ['nope'] })).rejects.toMatchObject({
      code: 'TSC_USAGE',
      message: 'no such service: nope',
    });
    writeFileSync(join(dir, 'compose.yaml'), 'services:\n  agent: {image: busybox, deploy: {mode: global}}\n');
    const global = loadProjectSync({ cwd: dir, env: {}, projectName: 'demo' }).project;
    await expect(stackUp(context(api), global, { scale: { agent: 2 }, services: ['agent'] })).rejects.toMatchObject({ code: 'TSC_SWARM_CONVERT' });
    expect(api.calls.filter((c) => /^(create|update|remove)/.test(c.method))).toEqual([]);
  });
});
