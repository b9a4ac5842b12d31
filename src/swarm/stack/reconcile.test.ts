/**
 * Stack reconcile on plain data: the first deploy, a no-op deploy, a changed secret rolling exactly its service
 * and removing the old version, orphans, and `down`.
 */
import { afterAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serviceDependencies } from '../../project/dependencies.js';
import type { Project } from '../../project/types.js';
import { stackOf } from '../convert.js';
import { loadProjectSync } from '../../project/load.js';
import { demoCompose, loadDemo } from '../__fixtures__/demo-stack.js';
import type { SwarmObject, SwarmService } from '../port.js';
import type { StackPlan, StackWait } from './plan.js';
import { planDeploy, planRemove, type ObservedStack } from './reconcile.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const COMPOSE = demoCompose('    configs: [appconf]\n', 'configs:\n  appconf: {content: "debug=false"}\n');

function load(dir: string, secret: string, extra = ''): Project {
  return loadDemo(dir, COMPOSE + extra, secret);
}

function waitsOf(p: Project): Record<string, StackWait[]> {
  return Object.fromEntries(
    Object.entries(p.services).map(([k, s]) => [
      k,
      [...serviceDependencies(s)].map(([service, d]) => ({ service, condition: d.condition, required: d.required })),
    ]),
  );
}

/** What the swarm has after `plan` ran on `before` (ids from names, versions counting up). */
function apply(before: ObservedStack, plan: StackPlan): ObservedStack {
  const services: SwarmService[] = [...before.services];
  let networks = [...before.networks];
  let secrets: SwarmObject[] = [...before.secrets];
  let configs: SwarmObject[] = [...before.configs];
  const at = '2026-01-01T00:00:00Z';
  for (const n of plan.nodes) {
    const op = n.op;
    switch (op.type) {
      case 'CreateNetwork':
        networks.push({ id: `n-${op.name}`, name: op.name, driver: 'overlay', scope: 'swarm', labels: op.spec.Labels ?? {} });
        break;
      case 'CreateSecret':
        secrets.push({ id: `s-${op.name}`, name: op.name, labels: op.spec.Labels ?? {}, createdAt: at });
        break;
      case 'CreateConfig':
        configs.push({ id: `c-${op.name}`, name: op.name, labels: op.spec.Labels ?? {}, createdAt: at });
        break;
      case 'CreateService':
        services.push({ id: `v-${op.name}`, version: 1, spec: op.spec, createdAt: at, updatedAt: at });
        break;
      case 'UpdateService': {
        const i = services.findIndex((s) => s.id === op.id);
        services[i] = { ...services[i]!, version: op.version + 1, spec: op.spec };
        break;
      }
      case 'RemoveService':
        services.splice(
          services.findIndex((s) => s.id === op.id),
          1,
        );
        break;
      case 'RemoveSecret':
        secrets = secrets.filter((s) => s.id !== op.id);
        break;
      case 'RemoveConfig':
        configs = configs.filter((c) => c.id !== op.id);
        break;
      case 'RemoveNetwork':
        networks = networks.filter((x) => x.id !== op.id);
        break;
    }
  }
  return { services, networks, secrets, configs };
}

const EMPTY: ObservedStack = { services: [], networks: [], secrets: [], configs: [] };

describe('stack reconcile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsc-stack-'));
  dirs.push(dir);

  test('first deploy: networks, secrets, configs, then services in depends_on order with their waits', () => {
    const p = load(dir, 's3cret');
    const { plan, warnings } = planDeploy(stackOf(p), waitsOf(p), EMPTY);
    expect(warnings).toEqual([]);
    const text = plan.toString().replace(/-[0-9a-f]{10}\b/g, '-<hash>');
    expect(text).toBe(
      [
        '[] -> #1 network demo_default, CreateNetwork, missing',
        '[] -> #2 secret demo_dbpass-<hash>, CreateSecret, missing',
        '[] -> #3 config demo_appconf-<hash>, CreateConfig, missing',
        '[1,2,3] -> #4 service demo_db, CreateService, missing',
        '[1,2,3,4] -> #5 service demo_app, CreateService, missing (after db:service_healthy)',
        '[1,2,3,5] -> #6 service demo_web, CreateService, missing',
        '',
      ].join('\n'),
    );
  });

  test('a no-op deploy changes nothing; a changed secret rolls its services and removes the old version', () => {
    const p1 = load(dir, 's3cret');
    const s1 = apply(EMPTY, planDeploy(stackOf(p1), waitsOf(p1), EMPTY).plan);
    expect(planDeploy(stackOf(p1), waitsOf(p1), s1).plan.empty).toBe(true);

    const p2 = load(dir, 'n3w');
    const { plan } = planDeploy(stackOf(p2), waitsOf(p2), s1);
    const text = plan.toString().replace(/-[0-9a-f]{10}\b/g, '-<hash>');
    expect(text).toBe(
      [
        '[] -> #1 secret demo_dbpass-<hash>, CreateSecret, missing',
        '[1] -> #2 service demo_db, UpdateService, content changed',
        '[1,2] -> #3 service demo_app, UpdateService, content changed (after db:service_healthy)',
        '[2,3] -> #4 secret demo_dbpass-<hash>, RemoveSecret, unused old version',
        '',
      ].join('\n'),
    );
    const s2 = apply(s1, plan);
    expect(s2.secrets).toHaveLength(1);
    expect(planDeploy(stackOf(p2), waitsOf(p2), s2).plan.empty).toBe(true);
  });

  test('a changed image updates only that service, as a spec change; orphans stay unless asked', () => {
    const base = load(dir, 'x');
    const s1 = apply(EMPTY, planDeploy(stackOf(base), waitsOf(base), EMPTY).plan);
    writeFileSync(join(dir, 'compose.yaml'), COMPOSE.replace('nginx:1', 'nginx:2'));
    const p2 = loadProjectSync({ cwd: dir, env: {}, projectName: 'demo' }).project;
    expect(planDeploy(stackOf(p2), waitsOf(p2), s1).plan.toString()).toBe('[] -> #1 service demo_web, UpdateService, spec changed\n');

    // web removed from the project: an orphan, kept with a warning, removed with --remove-orphans
    writeFileSync(join(dir, 'compose.yaml'), COMPOSE.replace(/\n {2}web:[\s\S]*?(?=\nsecrets:)/, ''));
    const p3 = loadProjectSync({ cwd: dir, env: {}, projectName: 'demo' }).project;
    const kept = planDeploy(stackOf(p3), waitsOf(p3), s1);
    expect(kept.plan.empty).toBe(true);
    expect(kept.warnings).toEqual(['Found orphan service demo_web for this project: run with --remove-orphans to remove it']);
    expect(planDeploy(stackOf(p3), waitsOf(p3), s1, { removeOrphans: true }).plan.toString()).toBe(
      '[] -> #1 service demo_web, RemoveService, orphan\n',
    );
  });

  test('down removes the services, then the secrets, configs and networks of the stack only', () => {
    const p = load(dir, 'x');
    const s = apply(EMPTY, planDeploy(stackOf(p), waitsOf(p), EMPTY).plan);
    const other: ObservedStack = {
      ...s,
      secrets: [...s.secrets, { id: 'foreign', name: 'other_secret', labels: { 'com.docker.stack.namespace': 'other' }, createdAt: '' }],
    };
    const text = planRemove('demo', other)
      .toString()
      .replace(/-[0-9a-f]{10}\b/g, '-<hash>');
    expect(text).toBe(
      [
        '[] -> #1 service demo_app, RemoveService, down',
        '[] -> #2 service demo_db, RemoveService, down',
        '[] -> #3 service demo_web, RemoveService, down',
        '[1,2,3] -> #4 secret demo_dbpass-<hash>, RemoveSecret, down',
        '[1,2,3] -> #5 config demo_appconf-<hash>, RemoveConfig, down',
        '[1,2,3] -> #6 network demo_default, RemoveNetwork, down',
        '',
      ].join('\n'),
    );
  });
});
