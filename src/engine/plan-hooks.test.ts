/**
 * Golden plans with lifecycle hooks: post_start after each start (dependents waiting for the last hook), pre_stop
 * before the stops of down, scale down and restarted dependents; none for a recreate's old container or orphans.
 */
import { afterAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProjectSync } from '../project/load.js';
import type { Project, ServiceConfig } from '../project/types.js';
import { FakeRuntime } from '../runtime/fake/fake-runtime.js';
import { execute } from './execute.js';
import { observe } from './observe.js';
import { planDown } from './plan-down.js';
import { hookExec, hookSource } from './plan-hooks.js';
import { reconcile, type ReconcileOptions } from './reconcile.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function load(yaml: string): Project {
  const dir = mkdtempSync(join(tmpdir(), 'tsc-plan-hooks-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'compose.yaml'), yaml);
  return loadProjectSync({ cwd: dir, env: {}, projectName: 'demo' }).project;
}

const HOOKS = `
services:
  db:
    image: postgres
    post_start:
      - command: sh -c "echo ready"
        user: postgres
      - command: [touch, /ready]
    pre_stop:
      - command: pg_ctl stop
        environment: [MODE=fast]
  web:
    image: nginx
    depends_on:
      db: {condition: service_started, restart: true}
    post_start:
      - command: echo up
    pre_stop:
      - command: echo down
`;

const newRuntime = (): FakeRuntime => new FakeRuntime({ images: { nginx: 'sha256:1111', postgres: 'sha256:2222' } });

async function converge(rt: FakeRuntime, project: Project, options: ReconcileOptions = {}): Promise<void> {
  await execute(rt, reconcile(project, await observe(rt, project), options));
}

describe('plans with lifecycle hooks', () => {
  test('from scratch: post_start hooks after each start, in order; dependents wait for the last one', async () => {
    const rt = newRuntime();
    const project = load(HOOKS);
    expect(reconcile(project, await observe(rt, project)).toString()).toBe(
      [
        '[] -> #1 network:default, CreateNetwork, missing',
        '[1] -> #2 service:db:1, CreateContainer, missing',
        '[2] -> #3 service:db:1, StartContainer, created',
        '[3] -> #4 service:db:1, RunHook post_start[0], created',
        '[4] -> #5 service:db:1, RunHook post_start[1], created',
        '[1,2] -> #6 service:web:1, CreateContainer, missing',
        '[5,6] -> #7 service:web:1, StartContainer, created',
        '[7] -> #8 service:web:1, RunHook post_start[0], created',
      ].join('\n'),
    );
  });

  test('the hook node carries the exec: command, user, working_dir, environment, privileged', async () => {
    const rt = newRuntime();
    const project = load(HOOKS);
    const plan = reconcile(project, await observe(rt, project));
    expect(plan.node(4).op).toEqual({
      type: 'RunHook',
      container: 'demo-db-1',
      service: 'db',
      phase: 'post_start',
      index: 0,
      exec: { cmd: ['sh', '-c', 'echo ready'], user: 'postgres' },
      source: 'db-1',
    });
  });

  test('a container started again runs its post_start hooks; a running one does not', async () => {
    const rt = newRuntime();
    const project = load(HOOKS);
    await converge(rt, project);
    expect(reconcile(project, await observe(rt, project)).toString()).toBe('');
    await rt.stopContainer('demo-web-1');
    expect(reconcile(project, await observe(rt, project)).toString()).toBe(
      ['[] -> #1 service:web:1, StartContainer, not running', '[1] -> #2 service:web:1, RunHook post_start[0], not running'].join('\n'),
    );
  });

  test('recreate: no pre_stop for the old container (compose stops it plainly); post_start after the new start; restart: true dependents get both', async () => {
    const rt = newRuntime();
    await converge(rt, load(HOOKS));
    const changed = load(HOOKS.replace('    image: postgres\n', '    image: postgres\n    environment: {A: "1"}\n'));
    const plan = reconcile(changed, await observe(rt, changed));
    const lines = plan
      .toString()
      .replace(/c[0-9a-f]{11}/g, 'ID')
      .split('\n');
    expect(lines).toEqual([
      '[] -> #1 service:db:1, CreateContainer, config changed (ID_demo-db-1)',
      '[1] -> #2 service:db:1, StopContainer, replaced',
      '[2] -> #3 service:db:1, RemoveContainer, replaced',
      '[3] -> #4 service:db:1, RenameContainer, finalize recreate',
      '[4] -> #5 service:db:1, StartContainer, recreated',
      '[5] -> #6 service:db:1, RunHook post_start[0], recreated',
      '[6] -> #7 service:db:1, RunHook post_start[1], recreated',
      '[7] -> #8 service:web:1, RunHook pre_stop[0], dependency db recreated',
      '[8] -> #9 service:web:1, RestartContainer, dependency db recreated',
      '[9] -> #10 service:web:1, RunHook post_start[0], dependency db recreated',
    ]);
  });

  test('scale down: pre_stop before the stop; orphans (no service) get none', async () => {
    const rt = newRuntime();
    const project = load(HOOKS);
    await converge(rt, project, { scale: { web: 2 } });
    const plan = reconcile(project, await observe(rt, project), { scale: { web: 1 } });
    expect(plan.toString()).toBe(
      [
        '[] -> #1 service:web:2, RunHook pre_stop[0], scale down',
        '[1] -> #2 service:web:2, StopContainer, scale down',
        '[2] -> #3 service:web:2, RemoveContainer, scale down',
      ].join('\n'),
    );
    const dbOnly = load(HOOKS.replace(/\n {2}web:[\s\S]*$/, '\n'));
    expect(reconcile(dbOnly, await observe(rt, dbOnly), { removeOrphans: true }).toString()).toBe(
      [
        '[] -> #1 service:web:1, StopContainer, orphan',
        '[1] -> #2 service:web:1, RemoveContainer, orphan',
        '[] -> #3 service:web:2, StopContainer, orphan',
        '[3] -> #4 service:web:2, RemoveContainer, orphan',
      ].join('\n'),
    );
  });

  test('down: pre_stop hooks before each stop, dependents first; without the compose file there are none', async () => {
    const rt = newRuntime();
    const project = load(HOOKS);
    await converge(rt, project);
    const observed = await observe(rt, project);
    expect(planDown(observed, { project }).toString()).toBe(
      [
        '[] -> #1 service:web:1, RunHook pre_stop[0], down',
        '[1] -> #2 service:web:1, StopContainer, down',
        '[2] -> #3 service:web:1, RemoveContainer, down',
        '[2] -> #4 service:db:1, RunHook pre_stop[0], down',
        '[4] -> #5 service:db:1, StopContainer, down',
        '[5] -> #6 service:db:1, RemoveContainer, down',
        '[3,6] -> #7 network:default, RemoveNetwork, down',
      ].join('\n'),
    );
    expect(planDown(observed, { project }).node(4).op).toMatchObject({ exec: { cmd: ['pg_ctl', 'stop'], env: ['MODE=fast'] } });
    expect(planDown(observed).toString()).not.toContain('RunHook');
    // A stopped container has nothing to stop: no hook.
    await rt.stopContainer('demo-web-1');
    expect(planDown(await observe(rt, project), { project }).toString()).not.toContain('service:web:1, RunHook');
  });
});

describe('hookExec / hookSource', () => {
  const svc: ServiceConfig = { image: 'x' };
  test('environment: KEY=value, a null value as KEY alone (unset, as compose passes it); empty fields left out', () => {
    expect(hookExec({ command: ['a'], environment: { A: '1', B: null } }, svc)).toEqual({ cmd: ['a'], env: ['A=1', 'B'] });
    expect(hookExec({ command: ['a'], user: '1000:1000', working_dir: '/w', privileged: true }, { ...svc, tty: true })).toEqual({
      cmd: ['a'],
      user: '1000:1000',
      workdir: '/w',
      privileged: true,
      tty: true,
    });
    expect(hookExec({ command: ['a'], privileged: false, user: '' }, svc)).toEqual({ cmd: ['a'] });
  });

  test('source: the default name without the project, a container_name as it is', () => {
    expect(hookSource('demo', { kind: 'service', service: 'web', number: 2, name: 'demo-web-2' })).toBe('web-2');
    expect(hookSource('demo', { kind: 'service', service: 'web', number: 1, name: 'my-web' })).toBe('my-web');
    expect(hookSource('demo', { kind: 'container', name: 'demo-web-run-1' })).toBe('demo-web-run-1');
  });
});
