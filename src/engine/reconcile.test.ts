/**
 * Golden plans: each test brings the fake runtime into a state by really running earlier plans against it,
 * changes the project, and checks the exact `plan.toString()`.
 */
import { afterAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProjectSync } from '../project/load.js';
import type { Project } from '../project/types.js';
import { FakeRuntime } from '../runtime/fake/fake-runtime.js';
import { execute } from './execute.js';
import { observe } from './observe.js';
import { planDown } from './plan-down.js';
import { reconcile, type ReconcileOptions } from './reconcile.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function load(yaml: string, name = 'demo'): Project {
  const dir = mkdtempSync(join(tmpdir(), 'tsc-reconcile-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'compose.yaml'), yaml);
  return loadProjectSync({ cwd: dir, env: {}, projectName: name }).project;
}

const BASE = `
services:
  web:
    image: nginx
    depends_on: [db]
    ports: ["8080:80"]
  db:
    image: postgres
    environment:
      POSTGRES_PASSWORD: secret
    volumes: [data:/var/lib/postgresql/data]
volumes:
  data: {}
`;

const newRuntime = (): FakeRuntime => new FakeRuntime({ images: { nginx: 'sha256:1111', postgres: 'sha256:2222', redis: 'sha256:3333' } });

async function plan(rt: FakeRuntime, project: Project, options: ReconcileOptions = {}) {
  return reconcile(project, await observe(rt, project), options);
}

async function up(rt: FakeRuntime, project: Project, options: ReconcileOptions = {}): Promise<void> {
  await execute(rt, await plan(rt, project, options));
}

const SCALED = BASE.replace('image: nginx', 'image: nginx\n    scale: 3');

/** The expected plan text, one argument per line. */
const lines = (...l: string[]): string => l.join('\n');

describe('reconcile golden plans', () => {
  test('from scratch', async () => {
    const rt = newRuntime();
    const p = await plan(rt, load(BASE));
    expect(p.toString()).toBe(
      lines(
        '[] -> #1 network:default, CreateNetwork, missing',
        '[] -> #2 volume:data, CreateVolume, missing',
        '[1,2] -> #3 service:db:1, CreateContainer, missing',
        '[3] -> #4 service:db:1, StartContainer, created',
        '[1,3] -> #5 service:web:1, CreateContainer, missing',
        '[4,5] -> #6 service:web:1, StartContainer, created',
      ),
    );
    expect(p.warnings).toEqual([]);
  });

  test('no change', async () => {
    const rt = newRuntime();
    const project = load(BASE);
    await up(rt, project);
    const p = await plan(rt, load(BASE));
    expect(p.toString()).toBe('');
    expect(p.isEmpty()).toBe(true);
  });

  test('stopped container is started again', async () => {
    const rt = newRuntime();
    await up(rt, load(BASE));
    rt.exit('demo-web-1', 0);
    expect((await plan(rt, load(BASE))).toString()).toBe('[] -> #1 service:web:1, StartContainer, not running');
  });

  test('config change recreates only the changed service', async () => {
    const rt = newRuntime();
    await up(rt, load(BASE));
    const p = await plan(rt, load(BASE.replace('POSTGRES_PASSWORD: secret', 'POSTGRES_PASSWORD: other')));
    expect(p.toString()).toBe(
      lines(
        '[] -> #1 service:db:1, CreateContainer, config changed (c00000000001_demo-db-1)',
        '[1] -> #2 service:db:1, StopContainer, replaced',
        '[2] -> #3 service:db:1, RemoveContainer, replaced',
        '[3] -> #4 service:db:1, RenameContainer, finalize recreate',
        '[4] -> #5 service:db:1, StartContainer, recreated',
      ),
    );
  });

  test('changes that are not hashed do not recreate (depends_on, pull_policy)', async () => {
    const rt = newRuntime();
    await up(rt, load(BASE));
    const p = await plan(rt, load(BASE.replace('depends_on: [db]', 'depends_on: [db]\n    pull_policy: always')));
    expect(p.toString()).toBe('');
  });

  test('image change recreates', async () => {
    const rt = newRuntime();
    await up(rt, load(BASE));
    rt.setImage('nginx', 'sha256:9999');
    expect((await plan(rt, load(BASE))).toString()).toBe(
      lines(
        '[] -> #1 service:web:1, CreateContainer, image changed (c00000000002_demo-web-1)',
        '[1] -> #2 service:web:1, StopContainer, replaced',
        '[2] -> #3 service:web:1, RemoveContainer, replaced',
        '[3] -> #4 service:web:1, RenameContainer, finalize recreate',
        '[4] -> #5 service:web:1, StartContainer, recreated',
      ),
    );
  });

  test('missing network attachment recreates', async () => {
    const rt = newRuntime();
    await up(rt, load(BASE));
    await rt.disconnectNetwork('demo_default', 'demo-web-1');
    expect((await plan(rt, load(BASE))).toString()).toBe(
      lines(
        '[] -> #1 service:web:1, CreateContainer, network changed (c00000000002_demo-web-1)',
        '[1] -> #2 service:web:1, StopContainer, replaced',
        '[2] -> #3 service:web:1, RemoveContainer, replaced',
        '[3] -> #4 service:web:1, RenameContainer, finalize recreate',
        '[4] -> #5 service:web:1, StartContainer, recreated',
      ),
    );
  });

  test('network_mode: service:X joins X and is recreated when X gets a new container', async () => {
    const SIDECAR = `
services:
  vpn:
    image: redis
  app:
    image: nginx
    network_mode: service:vpn
`;
    const rt = newRuntime();
    const first = await plan(rt, load(SIDECAR));
    const create = first.nodes.find((n) => n.op.type === 'CreateContainer' && n.op.service === 'app');
    expect(create?.op.type === 'CreateContainer' && create.op.spec.networkMode).toBe('container:demo-vpn-1');
    await execute(rt, first);
    expect((await plan(rt, load(SIDECAR))).toString()).toBe('');
    expect((await plan(rt, load(SIDECAR.replace('image: redis', 'image: redis\n    environment: {X: "1"}')))).toString()).toBe(
      lines(
        '[] -> #1 service:vpn:1, CreateContainer, config changed (c00000000001_demo-vpn-1)',
        '[1] -> #2 service:vpn:1, StopContainer, replaced',
        '[2] -> #3 service:vpn:1, RemoveContainer, replaced',
        '[3] -> #4 service:vpn:1, RenameContainer, finalize recreate',
        '[4] -> #5 service:vpn:1, StartContainer, recreated',
        '[5] -> #6 service:app:1, CreateContainer, network parent recreated (c00000000002_demo-app-1)',
        '[6] -> #7 service:app:1, StopContainer, replaced',
        '[7] -> #8 service:app:1, RemoveContainer, replaced',
        '[8] -> #9 service:app:1, RenameContainer, finalize recreate',
        '[9] -> #10 service:app:1, StartContainer, recreated',
      ),
    );
  });

  test('scale up uses max(number)+1', async () => {
    const rt = newRuntime();
    await up(rt, load(BASE));
    expect((await plan(rt, load(SCALED))).toString()).toBe(
      lines(
        '[] -> #1 service:web:2, CreateContainer, scale up',
        '[1] -> #2 service:web:2, StartContainer, created',
        '[] -> #3 service:web:3, CreateContainer, scale up',
        '[3] -> #4 service:web:3, StartContainer, created',
      ),
    );
  });

  test('scale down removes the highest numbers', async () => {
    const rt = newRuntime();
    await up(rt, load(SCALED));
    expect((await plan(rt, load(BASE))).toString()).toBe(
      lines(
        '[] -> #1 service:web:2, StopContainer, scale down',
        '[1] -> #2 service:web:2, RemoveContainer, scale down',
        '[] -> #3 service:web:3, StopContainer, scale down',
        '[3] -> #4 service:web:3, RemoveContainer, scale down',
      ),
    );
    expect((await plan(rt, load(SCALED), { scale: { web: 2 } })).toString()).toBe(
      lines('[] -> #1 service:web:3, StopContainer, scale down', '[1] -> #2 service:web:3, RemoveContainer, scale down'),
    );
  });

  test('orphans are reported, and removed with removeOrphans', async () => {
    const rt = newRuntime();
    await up(rt, load(BASE.replace('services:\n', 'services:\n  cache:\n    image: redis\n')));
    const kept = await plan(rt, load(BASE));
    expect(kept.toString()).toBe('');
    expect(kept.warnings).toEqual([
      'Found orphan containers ([demo-cache-1]) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.',
    ]);
    const removed = await plan(rt, load(BASE), { removeOrphans: true });
    expect(removed.toString()).toBe(lines('[] -> #1 service:cache:1, StopContainer, orphan', '[1] -> #2 service:cache:1, RemoveContainer, orphan'));
    expect(removed.warnings).toEqual([]);
    // A service disabled by a profile is not an orphan.
    expect((await plan(rt, load(BASE), { removeOrphans: true, disabledServices: ['cache'] })).toString()).toBe('');
  });

  test('forceRecreate recreates everything', async () => {
    const rt = newRuntime();
    await up(rt, load(BASE));
    expect((await plan(rt, load(BASE), { forceRecreate: true })).toString()).toBe(
      lines(
        '[] -> #1 service:db:1, CreateContainer, forced (c00000000001_demo-db-1)',
        '[1] -> #2 service:db:1, StopContainer, replaced',
        '[2] -> #3 service:db:1, RemoveContainer, replaced',
        '[3] -> #4 service:db:1, RenameContainer, finalize recreate',
        '[4] -> #5 service:db:1, StartContainer, recreated',
        '[5] -> #6 service:web:1, CreateContainer, forced (c00000000002_demo-web-1)',
        '[6] -> #7 service:web:1, StopContainer, replaced',
        '[7] -> #8 service:web:1, RemoveContainer, replaced',
        '[8] -> #9 service:web:1, RenameContainer, finalize recreate',
        '[9] -> #10 service:web:1, StartContainer, recreated',
      ),
    );
  });

  test('forceRecreate of one service leaves its dependencies alone', async () => {
    const rt = newRuntime();
    await up(rt, load(BASE));
    expect((await plan(rt, load(BASE), { forceRecreate: true, services: ['web'] })).toString()).toBe(
      lines(
        '[] -> #1 service:web:1, CreateContainer, forced (c00000000002_demo-web-1)',
        '[1] -> #2 service:web:1, StopContainer, replaced',
        '[2] -> #3 service:web:1, RemoveContainer, replaced',
        '[3] -> #4 service:web:1, RenameContainer, finalize recreate',
        '[4] -> #5 service:web:1, StartContainer, recreated',
      ),
    );
  });

  test('noRecreate keeps changed containers', async () => {
    const rt = newRuntime();
    await up(rt, load(BASE));
    rt.exit('demo-db-1', 0);
    const changed = load(BASE.replace('POSTGRES_PASSWORD: secret', 'POSTGRES_PASSWORD: other'));
    expect((await plan(rt, changed, { noRecreate: true })).toString()).toBe('[] -> #1 service:db:1, StartContainer, not running');
  });

  test('noDeps brings up only the named service', async () => {
    const rt = newRuntime();
    expect((await plan(rt, load(BASE), { services: ['web'], noDeps: true })).toString()).toBe(
      lines(
        '[] -> #1 network:default, CreateNetwork, missing',
        '[1] -> #2 service:web:1, CreateContainer, missing',
        '[2] -> #3 service:web:1, StartContainer, created',
      ),
    );
    expect((await plan(rt, load(BASE), { services: ['web'] })).toString()).toBe(
      lines(
        '[] -> #1 network:default, CreateNetwork, missing',
        '[] -> #2 volume:data, CreateVolume, missing',
        '[1,2] -> #3 service:db:1, CreateContainer, missing',
        '[3] -> #4 service:db:1, StartContainer, created',
        '[1,3] -> #5 service:web:1, CreateContainer, missing',
        '[4,5] -> #6 service:web:1, StartContainer, created',
      ),
    );
  });

  test('noStart only creates, in dependency order (as compose: a service:X mode names X’s container)', async () => {
    const rt = newRuntime();
    expect((await plan(rt, load(BASE), { noStart: true })).toString()).toBe(
      lines(
        '[] -> #1 network:default, CreateNetwork, missing',
        '[] -> #2 volume:data, CreateVolume, missing',
        '[1,2] -> #3 service:db:1, CreateContainer, missing',
        '[1,3] -> #4 service:web:1, CreateContainer, missing',
      ),
    );
    const joined = `services:\n  web:\n    image: nginx\n    pid: "service:db"\n  db:\n    image: postgres\n`;
    expect((await plan(rt, load(joined), { noStart: true })).toString()).toContain('[1,2] -> #3 service:web:1, CreateContainer, missing');
  });

  test('a new container is created before its dependencies start, unless it joins their namespaces (a volume subpath waits only at the start)', async () => {
    const rt = newRuntime();
    const deps = (extra: string) => `
services:
  seed:
    image: busybox
    volumes: [data:/data]
  reader:
    image: busybox
    depends_on: {seed: {condition: service_completed_successfully}}
${extra}volumes: {data: {}}
`;
    // Created once seed is created; started once seed has started (its condition is waited for before the start).
    expect((await plan(rt, load(deps('')))).toString()).toContain('[1,3] -> #5 service:reader:1, CreateContainer, missing');
    expect((await plan(rt, load(deps('')))).toString()).toContain('[4,5] -> #6 service:reader:1, StartContainer, created');
    // The subpath is a directory seed makes: runtimes check it at the start (after seed's condition), so the create
    // does not wait for seed either.
    const subpath = deps('    volumes: [{type: volume, source: data, target: /site, volume: {subpath: site}}]\n');
    expect((await plan(rt, load(subpath))).toString()).toContain('[1,2,3] -> #5 service:reader:1, CreateContainer, missing');
    const joined = deps('    network_mode: "service:seed"\n');
    expect((await plan(rt, load(joined))).toString()).toContain('[4] -> #5 service:reader:1, CreateContainer, missing');
  });
});

describe('depends_on restart: true', () => {
  const RESTART = `
services:
  web:
    image: nginx
    scale: 2
    depends_on:
      db: {condition: service_started, restart: true}
  worker:
    image: nginx
    depends_on: [db]
  db:
    image: postgres
`;
  const changedDb = (yaml: string): string => yaml.replace('image: postgres', 'image: postgres\n    environment: {V: "2"}');

  test('running dependents are restarted after their recreated dependency has started again', async () => {
    const rt = newRuntime();
    await up(rt, load(RESTART));
    const p = await plan(rt, load(changedDb(RESTART)), { timeoutSeconds: 3 });
    expect(p.toString()).toBe(
      lines(
        '[] -> #1 service:db:1, CreateContainer, config changed (c00000000001_demo-db-1)',
        '[1] -> #2 service:db:1, StopContainer, replaced',
        '[2] -> #3 service:db:1, RemoveContainer, replaced',
        '[3] -> #4 service:db:1, RenameContainer, finalize recreate',
        '[4] -> #5 service:db:1, StartContainer, recreated',
        '[5] -> #6 service:web:1, RestartContainer, dependency db recreated',
        '[5] -> #7 service:web:2, RestartContainer, dependency db recreated',
      ),
    );
    expect(p.node(6)).toMatchObject({
      resource: { kind: 'service', service: 'web', number: 1, name: 'demo-web-1' },
      op: { type: 'RestartContainer', timeoutSeconds: 3 },
      cause: { reason: 'dependency recreated', dependencies: ['db'] },
    });
    await execute(rt, p);
    expect((await plan(rt, load(changedDb(RESTART)))).toString()).toBe('');
  });

  test('a dependent that is started, recreated or scaled is not restarted as well', async () => {
    const rt = newRuntime();
    await up(rt, load(RESTART));
    rt.exit('demo-web-1', 0);
    const changed = changedDb(RESTART)
      .replace('scale: 2', 'scale: 3')
      .replace('image: nginx\n    scale', 'image: nginx\n    environment: {W: "1"}\n    scale');
    const p = await plan(rt, load(changed));
    expect(p.nodes.filter((n) => n.op.type === 'RestartContainer')).toEqual([]);
    // web's containers start after db is up again: a recreate's create waits for it (the old container stops after),
    // a new one's start does.
    const dbStart = p.nodes.find((n) => n.op.type === 'StartContainer' && n.resource.kind === 'service' && n.resource.service === 'db');
    const webCreates = p.nodes.filter((n) => n.op.type === 'CreateContainer' && n.resource.kind === 'service' && n.resource.service === 'web');
    expect(webCreates).toHaveLength(3);
    const webStarts = p.nodes.filter((n) => n.op.type === 'StartContainer' && n.resource.kind === 'service' && n.resource.service === 'web');
    for (const n of webCreates) {
      const start = webStarts.find((s) => s.deps.includes(n.id));
      expect(n.cause.reason === 'recreate' ? n.deps : (start?.deps ?? [])).toContain(dbStart?.id);
    }
    // Only the stopped one without a config change: started, not restarted.
    const fresh = await plan(rt, load(changedDb(RESTART)));
    expect(fresh.toString()).toContain('[5] -> #6 service:web:1, StartContainer, not running');
    expect(fresh.toString()).toContain('[5] -> #7 service:web:2, RestartContainer, dependency db recreated');
  });

  test('nothing is restarted without a start (create / --no-start), nor when the dependency was only created', async () => {
    const rt = newRuntime();
    await up(rt, load(RESTART));
    expect((await plan(rt, load(changedDb(RESTART)), { noStart: true })).toString()).not.toContain('RestartContainer');
    await rt.stopContainer('demo-db-1');
    await rt.removeContainer('demo-db-1');
    expect((await plan(rt, load(RESTART))).toString()).toBe(
      lines('[] -> #1 service:db:1, CreateContainer, missing', '[1] -> #2 service:db:1, StartContainer, created'),
    );
  });

  test('implicit restart: true dependencies (links) count too', async () => {
    const LINKS = RESTART.replace('depends_on:\n      db: {condition: service_started, restart: true}', 'links: [db]');
    const rt = newRuntime();
    await up(rt, load(LINKS));
    expect((await plan(rt, load(changedDb(LINKS)))).toString()).toContain('service:web:1, RestartContainer, dependency db recreated');
  });
});

describe('down plans', () => {
  const WITH_CACHE = BASE.replace('services:\n', 'services:\n  cache:\n    image: redis\n');

  test('stops dependents first, removes containers, then networks; volumes only with -v', async () => {
    const rt = newRuntime();
    const project = load(BASE);
    await up(rt, project);
    const observed = await observe(rt, project);
    expect(planDown(observed, { project }).toString()).toBe(
      lines(
        '[] -> #1 service:web:1, StopContainer, down',
        '[1] -> #2 service:web:1, RemoveContainer, down',
        '[1] -> #3 service:db:1, StopContainer, down',
        '[3] -> #4 service:db:1, RemoveContainer, down',
        '[2,4] -> #5 network:default, RemoveNetwork, down',
      ),
    );
    expect(planDown(observed, { project, volumes: true }).toString()).toContain('[2,4] -> #6 volume:data, RemoveVolume, down');
  });

  test('down leaves nothing, and works without a compose file', async () => {
    const rt = newRuntime();
    const project = load(WITH_CACHE);
    await up(rt, project);
    await execute(rt, planDown(await observe(rt, 'demo'), { volumes: true }));
    const after = await observe(rt, 'demo');
    expect(after.containers).toEqual([]);
    expect(after.networks).toEqual({});
    expect(after.volumes).toEqual({});
  });

  test('orphans are kept (with a warning) unless removeOrphans', async () => {
    const rt = newRuntime();
    await up(rt, load(WITH_CACHE));
    const project = load(BASE);
    const kept = planDown(await observe(rt, project), { project });
    expect(kept.toString()).not.toContain('cache');
    expect(kept.warnings).toHaveLength(1);
    const removed = planDown(await observe(rt, project), { project, removeOrphans: true });
    expect(removed.toString()).toContain('service:cache:1, RemoveContainer, down');
    expect(removed.warnings).toEqual([]);
  });
});
