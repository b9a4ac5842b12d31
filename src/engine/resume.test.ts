/**
 * `resume` on the in-memory runtime: what comes back after a simulated reboot (FakeRuntime.crashAll), in which
 * order, after which waits; the plan's text as `--dry-run` prints it.
 */
import { afterAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProjectSync } from '../project/load.js';
import { FakeRuntime } from '../runtime/fake/fake-runtime.js';
import type { CallOptions, ContainerInspect, HealthStatus } from '../runtime/runtime.js';
import { MemorySink, type EngineContext } from './events.js';
import { stop } from './lifecycle.js';
import { resume, resumePlan, resumePlanText } from './resume.js';
import { up } from './up.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Containers report the health the test sets (by container name). */
class HealthFake extends FakeRuntime {
  readonly health = new Map<string, HealthStatus>();
  override async inspectContainer(idOrName: string, options?: CallOptions): Promise<ContainerInspect> {
    const c = await super.inspectContainer(idOrName, options);
    const h = this.health.get(c.name);
    return h === undefined ? c : { ...c, health: h };
  }
}

const context = (rt: FakeRuntime): EngineContext & { events: MemorySink } => ({ runtime: rt, events: new MemorySink() });

async function project(rt: HealthFake, name: string, yaml: string): Promise<void> {
  rt.health.set(`${name}-db-1`, 'healthy'); // for `up`'s own wait
  const dir = mkdtempSync(join(tmpdir(), 'tsc-resume-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'compose.yaml'), yaml);
  const p = loadProjectSync({ cwd: dir, env: {}, projectName: name }).project;
  await up(context(rt), p, { pollIntervalMs: 5 });
}

const THREE = `
services:
  db:
    image: busybox
    restart: always
    healthcheck: {test: ["CMD", "true"]}
  app:
    image: busybox
    restart: unless-stopped
    depends_on: {db: {condition: service_healthy}}
  web:
    image: busybox
    restart: unless-stopped
    depends_on: [app]
  oneshot:
    image: busybox
    restart: "no"
`;

describe('resume', () => {
  test('after a reboot: always and unless-stopped come back in depends_on order, waiting for health', async () => {
    const rt = new HealthFake({ images: { busybox: 'sha256:3333' } });
    await project(rt, 'demo', THREE);
    rt.crashAll();
    const plan = await resumePlan(context(rt));
    expect(resumePlanText(plan)).toBe(
      'demo: start db (demo-db-1)\ndemo: start app (demo-app-1) after db:service_healthy\ndemo: start web (demo-web-1) after app:service_started\n',
    );
    // db turns healthy a moment after it started: app must not start before.
    const order: string[] = [];
    const origStart = rt.startContainer.bind(rt);
    rt.startContainer = async (id: string, o?: CallOptions) => {
      const c = await rt.inspectContainer(id);
      order.push(c.name);
      if (c.name === 'demo-db-1') {
        rt.health.set('demo-db-1', 'starting');
        setTimeout(() => {
          order.push('db healthy');
          rt.health.set('demo-db-1', 'healthy');
        }, 30);
      }
      return origStart(id, o);
    };
    const ctx = context(rt);
    await resume(ctx, { pollIntervalMs: 5 });
    expect(order).toEqual(['demo-db-1', 'db healthy', 'demo-app-1', 'demo-web-1']);
    const states = Object.fromEntries((await rt.listContainers({ all: true })).map((c) => [c.name, c.status]));
    expect(states).toEqual({ 'demo-db-1': 'running', 'demo-app-1': 'running', 'demo-web-1': 'running', 'demo-oneshot-1': 'exited' });
    // Nothing left: a second resume does nothing.
    expect(resumePlanText(await resumePlan(context(rt)))).toBe('nothing to resume\n');
  });

  test('a service the user stopped stays stopped; its dependents start without it, with a warning', async () => {
    const rt = new HealthFake({ images: { busybox: 'sha256:3333' } });
    await project(rt, 'demo', THREE.replace('restart: always', 'restart: unless-stopped'));
    await stop(context(rt), 'demo', ['db']);
    rt.crashAll();
    const ctx = context(rt);
    const plan = await resume(ctx, { pollIntervalMs: 5 });
    expect(resumePlanText(plan)).toBe(
      'demo: start app (demo-app-1) without db (not running)\ndemo: start web (demo-web-1) after app:service_started\n',
    );
    expect(ctx.events.lines().some((l) => l.includes('dependency db is not running'))).toBe(true);
    const states = Object.fromEntries((await rt.listContainers({ all: true })).map((c) => [c.name, c.status]));
    expect(states['demo-db-1']).toBe('exited');
    expect(states['demo-app-1']).toBe('running');
  });

  test('an always container stopped by the user comes back (Docker: restarted when the daemon restarts)', async () => {
    const rt = new HealthFake({ images: { busybox: 'sha256:3333' } });
    await project(rt, 'solo', 'services:\n  a: {image: busybox, restart: always}\n  b: {image: busybox, restart: on-failure}\n');
    await stop(context(rt), 'solo', ['a', 'b']);
    rt.crashAll();
    expect(resumePlanText(await resumePlan(context(rt)))).toBe('solo: start a (solo-a-1)\n');
  });

  test('on-failure containers come back only when their run was cut off', async () => {
    const rt = new HealthFake({ images: { busybox: 'sha256:3333' } });
    await project(rt, 'of', 'services:\n  a: {image: busybox, restart: on-failure}\n  b: {image: busybox, restart: "on-failure:3"}\n');
    rt.exit('of-b-1', 0); // ended on its own, successfully: on-failure leaves it
    rt.crashAll();
    expect(resumePlanText(await resumePlan(context(rt)))).toBe('of: start a (of-a-1)\n');
  });

  test('projects are independent: an unhealthy dependency leaves its dependents down, other projects come back', async () => {
    const rt = new HealthFake({ images: { busybox: 'sha256:3333' } });
    await project(rt, 'bad', THREE);
    await project(rt, 'good', 'services:\n  x: {image: busybox, restart: always}\n');
    rt.crashAll();
    rt.health.set('bad-db-1', 'unhealthy');
    const ctx = context(rt);
    await expect(resume(ctx, { pollIntervalMs: 5 })).rejects.toThrow(/unhealthy/);
    const states = Object.fromEntries((await rt.listContainers({ all: true })).map((c) => [c.name, c.status]));
    expect(states['good-x-1']).toBe('running');
    expect(states['bad-db-1']).toBe('running');
    expect(states['bad-app-1']).toBe('exited');
    expect(states['bad-web-1']).toBe('exited');
  });

  test('a dependency that never gets healthy times out', async () => {
    const rt = new HealthFake({ images: { busybox: 'sha256:3333' } });
    await project(rt, 'slow', THREE);
    rt.crashAll();
    rt.health.set('slow-db-1', 'starting');
    await expect(resume(context(rt), { pollIntervalMs: 5, waitTimeoutSeconds: 0.05 })).rejects.toThrow('slow: service db not healthy after 0.05s');
  });
});
