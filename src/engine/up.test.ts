/**
 * The use cases on the in-memory runtime: up / down / run and the depends_on waiting rules.
 */
import { afterAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProjectSync } from '../project/load.js';
import type { Project } from '../project/types.js';
import { FakeRuntime } from '../runtime/fake/fake-runtime.js';
import type { CallOptions, ContainerInspect, HealthStatus } from '../runtime/runtime.js';
import { down } from './down.js';
import { MemorySink, type EngineContext } from './events.js';
import { kill, restart, restartContainers, rm, start, stop } from './lifecycle.js';
import { ls, ps } from './query.js';
import { run } from './run.js';
import { create, up } from './up.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function load(yaml: string, name = 'demo'): Project {
  const dir = mkdtempSync(join(tmpdir(), 'tsc-up-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'compose.yaml'), yaml);
  return loadProjectSync({ cwd: dir, env: {}, projectName: name }).project;
}

/** A fake whose containers report a health status set by the test (by container name). */
class HealthFake extends FakeRuntime {
  readonly health = new Map<string, HealthStatus>();
  override async inspectContainer(idOrName: string, options?: CallOptions): Promise<ContainerInspect> {
    const c = await super.inspectContainer(idOrName, options);
    const h = this.health.get(c.name);
    return h === undefined ? c : { ...c, health: h };
  }
}

const images = { nginx: 'sha256:1111', postgres: 'sha256:2222', busybox: 'sha256:3333' };
const newRuntime = (): HealthFake => new HealthFake({ images });
const context = (rt: FakeRuntime): EngineContext & { events: MemorySink } => ({ runtime: rt, events: new MemorySink() });

/** Calls `f` once a container named `name` exists (polling the fake). */
function whenCreated(rt: FakeRuntime, name: string | RegExp, f: (name: string) => void): void {
  const timer = setInterval(() => {
    void rt.listContainers({ all: true }).then((list) => {
      const c = list.find((x) => (typeof name === 'string' ? x.name === name : name.test(x.name)) && x.status !== 'created');
      if (c) {
        clearInterval(timer);
        f(c.name);
      }
    });
  }, 2);
}

const BASE = `
services:
  web:
    image: nginx
    depends_on: [db]
  db:
    image: postgres
    volumes: [data:/var/lib/postgresql/data, /scratch]
volumes:
  data: {}
  ext:
    external: true
`;

describe('up', () => {
  test('from scratch: network, volume, containers running; events in compose wording', async () => {
    const rt = newRuntime();
    const ctx = context(rt);
    await up(ctx, load(BASE));
    const list = await rt.listContainers({ all: true });
    expect(list.map((c) => [c.name, c.status]).sort()).toEqual([
      ['demo-db-1', 'running'],
      ['demo-web-1', 'running'],
    ]);
    expect(ctx.events.lines()).toContain('Container demo-web-1 done Started');
    expect(ctx.events.lines()).toContain('Network demo_default done Created');
    expect(ctx.events.lines()).toContain('Volume demo_data done Created');
  });

  test('second up is a no-op', async () => {
    const rt = newRuntime();
    const project = load(BASE);
    await up(context(rt), project);
    const before = rt.calls.length;
    const r = await up(context(rt), project);
    expect(r.plan.isEmpty()).toBe(true);
    expect(rt.calls.slice(before).filter((c) => /^(create|start|stop|remove)/.test(c.method))).toEqual([]);
  });

  test('pulls missing images first', async () => {
    const rt = new FakeRuntime({ images: { postgres: 'sha256:2222' } });
    const ctx = context(rt);
    await up(ctx, load(BASE));
    expect(rt.calls.filter((c) => c.method === 'pullImage').map((c) => c.args[0])).toEqual(['nginx']);
    expect(ctx.events.lines()).toContain('Image nginx done Pulled');
  });

  test('warns about an unmet host requirement before anything is pulled or made', async () => {
    const rt = new FakeRuntime({ images, sysctls: { 'vm.max_map_count': '65530' } });
    const ctx = context(rt);
    await up(ctx, load('services:\n  elasticsearch:\n    image: docker.elastic.co/elasticsearch/elasticsearch:8.15.0\n'));
    const first = ctx.events.events[0];
    expect([first?.status, first?.details]).toEqual([
      'warning',
      'service "elasticsearch": Elasticsearch needs vm.max_map_count >= 262144, this host has 65530 (raise it: sysctl -w vm.max_map_count=262144)',
    ]);
    expect(rt.calls.findIndex((c) => c.method === 'hostSysctl')).toBeLessThan(rt.calls.findIndex((c) => c.method === 'pullImage'));
  });

  test('two ups of one project run one after the other: one container per service, the second a no-op', async () => {
    const rt = newRuntime();
    const project = load(BASE);
    const [a, b] = await Promise.all([up(context(rt), project), up(context(rt), project)]);
    expect(rt.lockWaits).toBe(1);
    const names = (await rt.listContainers({ all: true })).map((c) => c.name).sort();
    expect(names).toEqual([...new Set(names)]);
    expect([a.plan.isEmpty(), b.plan.isEmpty()].sort()).toEqual([false, true]);
  });

  test('ups of different projects do not wait for each other; down takes the lock too', async () => {
    const rt = newRuntime();
    await Promise.all([up(context(rt), load(BASE, 'one')), up(context(rt), load(BASE, 'two'))]);
    expect(rt.lockWaits).toBe(0);
    await Promise.all([up(context(rt), load(BASE, 'one')), down(context(rt), 'one')]);
    expect(rt.lockWaits).toBe(1);
  });

  test('depends_on restart: true restarts a running dependent when its dependency is recreated', async () => {
    const yaml = (v: string): string => `
services:
  web:
    image: nginx
    depends_on:
      db: {condition: service_started, restart: true}
  worker:
    image: nginx
    depends_on: [db]
  db:
    image: postgres
    environment: {V: "${v}"}
`;
    const rt = newRuntime();
    await up(context(rt), load(yaml('1')));
    const before = rt.calls.length;
    const ctx = context(rt);
    await up(ctx, load(yaml('2')));
    const restarted = rt.calls.slice(before).filter((c) => c.method === 'restartContainer');
    expect(restarted).toHaveLength(1);
    expect(ctx.events.lines()).toContain('Container demo-web-1 working Restarting');
    expect(ctx.events.lines()).toContain('Container demo-web-1 done Restarted');
    // restart db: its restart: true dependents too (transitively), not the plain ones; --no-deps: db alone.
    const names = async (noDeps?: boolean) => (await restartContainers(context(rt), 'demo', ['db'], { noDeps })).map((c) => c.name);
    expect(await names()).toEqual(['demo-db-1', 'demo-web-1']);
    expect(await names(true)).toEqual(['demo-db-1']);
    const calls = rt.calls.length;
    await restart(context(rt), 'demo', ['db']);
    expect(
      rt.calls
        .slice(calls)
        .filter((c) => c.method === 'restartContainer')
        .map((c) => c.args[0]),
    ).toHaveLength(2);
  });

  test('create makes containers without starting them', async () => {
    const rt = newRuntime();
    await create(context(rt), load(BASE));
    expect((await rt.listContainers({ all: true })).map((c) => c.status)).toEqual(['created', 'created']);
  });
});

describe('down', () => {
  test('leaves nothing but the named volume (no -v)', async () => {
    const rt = newRuntime();
    const project = load(BASE);
    await up(context(rt), project);
    await down(context(rt), 'demo', { project });
    expect(await rt.listContainers({ all: true })).toEqual([]);
    expect(await rt.listNetworks()).toEqual([]);
    const vols = (await rt.listVolumes()).map((v) => v.name);
    expect(vols).toContain('demo_data');
  });

  test('-v removes named and anonymous volumes, never external ones; works from the name alone', async () => {
    const rt = newRuntime();
    await rt.createVolume({ name: 'ext', labels: {} });
    await up(context(rt), load(BASE));
    await down(context(rt), 'demo', { volumes: true });
    expect(await rt.listContainers({ all: true })).toEqual([]);
    expect(await rt.listNetworks()).toEqual([]);
    expect((await rt.listVolumes()).map((v) => v.name)).toEqual(['ext']);
  });

  test('nothing to remove is a warning', async () => {
    const rt = newRuntime();
    const ctx = context(rt);
    await down(ctx, 'nothing');
    expect(ctx.events.events[0]?.status).toBe('warning');
  });

  test('--rmi all removes the service images', async () => {
    const rt = newRuntime();
    const project = load(BASE);
    await up(context(rt), project);
    await down(context(rt), 'demo', { project, rmi: 'all' });
    await expect(rt.inspectImage('nginx')).rejects.toThrow(/no such image/);
  });
});

describe('lifecycle and queries', () => {
  test('stop, start, kill, rm, ps, ls', async () => {
    const rt = newRuntime();
    await up(context(rt), load(BASE));
    await stop(context(rt), 'demo');
    expect(await ps(context(rt), 'demo')).toEqual([]);
    expect((await ps(context(rt), 'demo', { all: true })).map((r) => r.status)).toEqual(['exited', 'exited']);
    await start(context(rt), 'demo', ['db']);
    expect((await ps(context(rt), 'demo')).map((r) => r.name)).toEqual(['demo-db-1']);
    expect((await ls(context(rt))).map((r) => [r.name, r.status])).toEqual([['demo', 'exited(1), running(1)']]);
    await kill(context(rt), 'demo');
    expect(await rm(context(rt), 'demo')).toEqual(['demo-web-1', 'demo-db-1']);
    expect(await rt.listContainers({ all: true })).toEqual([]);
  });
});

describe('depends_on waiting', () => {
  const healthy = (condition: string, required = true): string => `
services:
  web:
    image: nginx
    depends_on:
      db:
        condition: ${condition}
        required: ${required}
  db:
    image: postgres
    healthcheck:
      test: ["CMD", "true"]
`;
  const opts = { pollIntervalMs: 2 };

  test('service_healthy waits until the dependency is healthy', async () => {
    const rt = newRuntime();
    rt.health.set('demo-db-1', 'starting');
    whenCreated(rt, 'demo-db-1', (n) => setTimeout(() => rt.health.set(n, 'healthy'), 20));
    const ctx = context(rt);
    await up(ctx, load(healthy('service_healthy')), opts);
    expect((await rt.inspectContainer('demo-web-1')).status).toBe('running');
    const lines = ctx.events.lines();
    expect(lines.indexOf('Container demo-db-1 done Healthy')).toBeLessThan(lines.indexOf('Container demo-web-1 working Starting'));
  });

  test('unhealthy dependency: error, dependent not started', async () => {
    const rt = newRuntime();
    rt.health.set('demo-db-1', 'unhealthy');
    await expect(up(context(rt), load(healthy('service_healthy')), opts)).rejects.toThrow(
      'dependency failed to start: container demo-db-1 is unhealthy',
    );
    expect((await rt.inspectContainer('demo-web-1')).status).toBe('created');
  });

  test('no healthcheck: error', async () => {
    const rt = newRuntime();
    await expect(up(context(rt), load(healthy('service_healthy')), opts)).rejects.toThrow('container demo-db-1 has no healthcheck configured');
  });

  test('required: false turns the failure into a warning', async () => {
    const rt = newRuntime();
    rt.health.set('demo-db-1', 'unhealthy');
    const ctx = context(rt);
    await up(ctx, load(healthy('service_healthy', false)), opts);
    expect((await rt.inspectContainer('demo-web-1')).status).toBe('running');
    expect(ctx.events.events.some((e) => e.status === 'warning' && e.text === 'Skipped')).toBe(true);
  });

  test('service_completed_successfully: waits for exit 0', async () => {
    const rt = newRuntime();
    whenCreated(rt, 'demo-db-1', (n) => setTimeout(() => rt.exit(n, 0), 10));
    await up(context(rt), load(healthy('service_completed_successfully')), opts);
    expect((await rt.inspectContainer('demo-web-1')).status).toBe('running');
  });

  test('service_completed_successfully: non-zero exit is an error', async () => {
    const rt = newRuntime();
    whenCreated(rt, 'demo-db-1', (n) => setTimeout(() => rt.exit(n, 3), 10));
    await expect(up(context(rt), load(healthy('service_completed_successfully')), opts)).rejects.toThrow(
      `service "db" didn't complete successfully: exit 3`,
    );
  });

  test('up --wait counts a one-shot that exited 0 as done', async () => {
    const rt = newRuntime();
    whenCreated(rt, 'demo-db-1', (n) => setTimeout(() => rt.exit(n, 0), 10));
    const ctx = context(rt);
    await up(ctx, load(healthy('service_completed_successfully')), { ...opts, wait: true, waitTimeoutSeconds: 5 });
    expect(ctx.events.lines()).toContain('Container demo-db-1 done Exited');
    expect(ctx.events.lines()).toContain('Container demo-web-1 done Healthy');
  });

  test('up --wait: a container exiting non-zero fails; --wait-timeout bounds the wait', async () => {
    const rt = newRuntime();
    rt.health.set('demo-db-1', 'starting');
    await expect(up(context(rt), load(healthy('service_started')), { ...opts, wait: true, waitTimeoutSeconds: 0.05 })).rejects.toThrow(
      'application not healthy after',
    );
    const rt2 = newRuntime();
    rt2.health.set('demo-web-1', 'starting');
    whenCreated(rt2, 'demo-web-1', (n) => setTimeout(() => rt2.exit(n, 4), 10));
    await expect(up(context(rt2), load(healthy('service_started')), { ...opts, wait: true })).rejects.toThrow('container demo-web-1 exited (4)');
  });
});

describe('run', () => {
  const RUN = `
services:
  job:
    image: busybox
    command: ["echo", "hi"]
    ports: ["8080:80"]
    depends_on: [db]
  db:
    image: postgres
`;

  test('one-off container with its exit code; --rm removes it; dependencies come up', async () => {
    const rt = newRuntime();
    whenCreated(rt, /^demo-job-run-/, (n) => {
      rt.emitLog(n, 'hello');
      setTimeout(() => rt.exit(n, 7), 5);
    });
    const out: string[] = [];
    const r = await run(context(rt), load(RUN), 'job', { rm: true, slug: 'abcdef0123456789', env: ['A=1'], onOutput: (l) => out.push(l.line) });
    expect(r.exitCode).toBe(7);
    expect(r.name).toBe('demo-job-run-abcdef012345');
    expect(out).toEqual(['hello']);
    const left = await rt.listContainers({ all: true });
    expect(left.map((c) => c.name)).toEqual(['demo-db-1']);
  });

  test('--no-deps, -e, --entrypoint, -w, -u; no ports without --service-ports', async () => {
    const rt = newRuntime();
    const r = await run(context(rt), load(RUN), 'job', {
      noDeps: true,
      detach: true,
      env: ['A=1'],
      entrypoint: ['sh', '-c'],
      command: ['true'],
      workdir: '/w',
      user: 'nobody',
      slug: '0123456789abcdef',
    });
    const c = await rt.inspectContainer(r.name);
    expect(c.labels['com.docker.compose.oneoff']).toBe('True');
    const spec = rt.specOf(r.name);
    expect(spec.env).toContain('A=1');
    expect(spec.entrypoint).toEqual(['sh', '-c']);
    expect(spec.command).toEqual(['true']);
    expect(spec.workingDir).toBe('/w');
    expect(spec.user).toBe('nobody');
    expect(spec.ports).toBeUndefined();
    expect((await rt.listContainers({ all: true })).map((x) => x.name)).toEqual([r.name]);
  });
});
