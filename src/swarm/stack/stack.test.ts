/**
 * The stack use cases on the in-memory swarm (../fake/swarm-fake.ts): deploy in depends_on order with health
 * waits, `--wait`, a no-op redeploy, a changed secret rolling its service and the old version removed, `down`
 * leaving nothing of the stack, and the manager check.
 */
import { afterAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProjectSync } from '../../project/load.js';
import type { Project } from '../../project/types.js';
import { SwarmFake } from '../fake/swarm-fake.js';
import { stackDown, stackUp, type StackContext } from './stack.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const COMPOSE = `
services:
  db:
    image: postgres:16
    healthcheck: {test: ["CMD", "pg_isready"], interval: 2s}
    secrets: [dbpass]
  app:
    image: registry.local/app:1
    depends_on: {db: {condition: service_healthy}}
    secrets: [dbpass]
    deploy: {replicas: 2}
  web:
    image: nginx:1
    depends_on: [app]
    ports: ["8080:80"]
secrets:
  dbpass: {file: ./dbpass.txt}
`;

function project(dir: string, secret: string): Project {
  writeFileSync(join(dir, 'compose.yaml'), COMPOSE);
  writeFileSync(join(dir, 'dbpass.txt'), secret);
  return loadProjectSync({ cwd: dir, env: {}, projectName: 'demo' }).project;
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
