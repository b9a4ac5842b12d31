/**
 * The images of a stack (./images.ts): registry names, pins, and build → push → deploy pinned by digest on the
 * in-memory runtime and swarm. The runtime stand-in records a digest for an image only once it is pushed, as Docker
 * Engine does (RepoDigests); the registry stand-in answers the digest last pushed for a tag, or fails.
 */
import { afterAll, describe, expect, test } from '@jest/globals';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemorySink } from '../engine/events.js';
import { loadProjectSync } from '../project/load.js';
import type { Project } from '../project/types.js';
import { FakeRuntime } from '../runtime/fake/fake-runtime.js';
import type { CallOptions, ImageInfo, PushProgress } from '../runtime/runtime.js';
import { SwarmFake } from './fake/swarm-fake.js';
import {
  buildForSwarm,
  builtServices,
  deployedPins,
  namesRegistry,
  pinnedImage,
  pushPinned,
  repoDigestOf,
  requirePushable,
  resolvePins,
  type ImageRegistry,
} from './images.js';
import { stackUp, type StackContext } from './stack/stack.js';

const REG = 'registry.local:5000';
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A Docker-like engine: an image gets its RepoDigest (`repo@sha256:…`) when pushed; pushes reach `registry`. */
class PushingRuntime extends FakeRuntime {
  readonly digests = new Map<string, string>();
  constructor(readonly registry: Map<string, string>) {
    super({ images: { 'busybox:latest': 'sha256:' + 'b'.repeat(64) } });
  }
  override async pushImage(ref: string, options?: CallOptions & { onProgress?: ((event: PushProgress) => void) | undefined }): Promise<void> {
    await super.pushImage(ref, options);
    const { id } = await super.inspectImage(ref);
    const digest = `sha256:${createHash('sha256').update(id).digest('hex')}`;
    this.digests.set(id, digest);
    this.registry.set(ref, digest);
  }
  override async inspectImage(ref: string, options?: CallOptions): Promise<ImageInfo> {
    const i = await super.inspectImage(ref, options);
    const d = this.digests.get(i.id);
    return { ...i, repoDigests: d ? [`${ref.replace(/:[^/:]*$/, '')}@${d}`] : [] };
  }
}

/** The registry as the manager's engine sees it: ref → digest of what was pushed last; `down` makes it fail. */
function registryOf(map: Map<string, string>): ImageRegistry & { down: boolean; asked: string[] } {
  const r = {
    down: false,
    asked: [] as string[],
    digestOf: async (ref: string): Promise<string> => {
      r.asked.push(ref);
      const d = map.get(ref);
      if (r.down || d === undefined) throw new Error(r.down ? 'connection refused' : 'manifest unknown');
      return d;
    },
  };
  return r;
}

const COMPOSE = `
services:
  app:
    build: ./app
    image: ${REG}/demo/app:1
    deploy: {replicas: 2}
  worker:
    build: ./app
    image: ${REG}/demo/app:1
  db:
    image: postgres:16
`;

function project(compose = COMPOSE): Project {
  const dir = mkdtempSync(join(tmpdir(), 'tsc-swarm-images-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'app'));
  writeFileSync(join(dir, 'app', 'Dockerfile'), 'FROM busybox:latest\n');
  writeFileSync(join(dir, 'compose.yaml'), compose);
  return loadProjectSync({ cwd: dir, env: {}, projectName: 'demo' }).project;
}

function stackContext(api: SwarmFake): StackContext {
  return { api, events: { emit: () => undefined }, pollIntervalMs: 5 };
}

const imageOf = async (api: SwarmFake, name: string): Promise<string> => (await api.inspectService(name)).spec.TaskTemplate.ContainerSpec.Image;

describe('registry names and pins', () => {
  test('namesRegistry: a first component with a dot, a port or localhost', () => {
    expect(['registry:5000/app', 'reg.example.com/a/b:1', 'localhost/app', '10.0.0.1:5001/x@sha256:' + 'a'.repeat(64)].map(namesRegistry)).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect(['app', 'app:1', 'user/app', 'user/app:1'].map(namesRegistry)).toEqual([false, false, false, false]);
  });

  test('requirePushable: a typed error naming the service and what to do', () => {
    const p = project(`
services:
  app: {build: ./app}
  web: {build: ./app, image: "web:1"}
  ok: {build: ./app, image: "${REG}/ok"}
`);
    expect(() => requirePushable(p, ['ok'])).not.toThrow();
    expect(() => requirePushable(p, ['app'])).toThrow(expect.objectContaining({ code: 'TSC_SWARM_IMAGE', service: 'app' }));
    expect(() => requirePushable(p, ['web'])).toThrow(/service "web": image "web:1" names no registry/);
    try {
      requirePushable(p, ['web']);
    } catch (e) {
      expect((e as { hint?: string }).hint).toMatch(/give it an image: a registry can serve, e\.g\. registry:5000\/web/);
    }
  });

  test('pinnedImage keeps the tag (latest when none), as docker stack deploy pins', () => {
    const d = 'sha256:' + 'c'.repeat(64);
    expect(pinnedImage(`${REG}/app:1`, d)).toBe(`${REG}/app:1@${d}`);
    expect(pinnedImage(`${REG}/app`, d)).toBe(`${REG}/app:latest@${d}`);
    expect(pinnedImage(`${REG}/app:1@sha256:${'0'.repeat(64)}`, d)).toBe(`${REG}/app:1@${d}`);
  });

  test('repoDigestOf: the digest of the same repository only', () => {
    const d = 'sha256:' + 'd'.repeat(64);
    expect(repoDigestOf(`${REG}/demo/app:1`, [`other.io/demo/app@${d}`, `${REG}/demo/app@${d}`])).toBe(d);
    expect(repoDigestOf('user/app:2', [`user/app@${d}`])).toBe(d); // docker.io, familiar either way
    expect(repoDigestOf(`${REG}/demo/app:1`, [`${REG}/demo/other@${d}`, `${REG}/demo/app@sha256:short`])).toBeUndefined();
  });

  test('builtServices: those with build, of the selection', () => {
    const p = project();
    expect(builtServices(p)).toEqual(['app', 'worker']);
    expect(builtServices(p, ['worker', 'db'])).toEqual(['worker']);
  });
});

describe('build, push, deploy pinned by digest (fake engine and swarm)', () => {
  test('up --build: built once per image, pushed, every built service runs name:tag@digest; the others as written', async () => {
    const registry = new Map<string, string>();
    const rt = new PushingRuntime(registry);
    const sink = new MemorySink();
    const p = project();
    const pins = await buildForSwarm({ runtime: rt, events: sink }, p);
    expect(rt.calls.filter((c) => c.method === 'buildImage').map((c) => c.args[0])).toEqual([`${REG}/demo/app:1`]);
    expect(rt.calls.filter((c) => c.method === 'pushImage').map((c) => c.args[0])).toEqual([`${REG}/demo/app:1`]);
    const digest = registry.get(`${REG}/demo/app:1`)!;
    expect(pins).toEqual({ app: `${REG}/demo/app:1@${digest}`, worker: `${REG}/demo/app:1@${digest}` });
    expect(sink.lines()).toContain(`Image ${REG}/demo/app:1 done Pushed (${digest})`);

    const api = new SwarmFake();
    await stackUp(stackContext(api), p, { pinnedImages: pins, registry: registryOf(registry) });
    expect(await imageOf(api, 'demo_app')).toBe(`${REG}/demo/app:1@${digest}`);
    expect(await imageOf(api, 'demo_worker')).toBe(`${REG}/demo/app:1@${digest}`);
    expect(await imageOf(api, 'demo_db')).toBe('postgres:16');
    // the compose image stays in docker stack's label
    expect((await api.inspectService('demo_app')).spec.Labels['com.docker.stack.image']).toBe(`${REG}/demo/app:1`);

    // `up` without --build: the registry's digest of the tag is the deployed one: nothing to do.
    const reg = registryOf(registry);
    expect((await stackUp(stackContext(api), p, { registry: reg })).plan.empty).toBe(true);
    expect(reg.asked).toEqual([`${REG}/demo/app:1`]); // once per image; never for postgres:16

    // The registry does not answer: the deployed pins are kept (no roll), no warning.
    reg.down = true;
    const events: string[] = [];
    const quiet = await stackUp({ ...stackContext(api), events: { emit: (e) => events.push(`${e.resource} ${e.text} ${e.details ?? ''}`) } }, p, {
      registry: reg,
    });
    expect(quiet.plan.empty).toBe(true);
    expect(events.filter((e) => e.includes('could not be resolved'))).toEqual([]);
    reg.down = false;

    // A rebuild pushed a new digest: `up` (no --build) rolls exactly the services running that image.
    writeFileSync(join(p.services.app!.build!.context, 'Dockerfile'), 'FROM busybox:latest\nENV X=2\n');
    const again = await buildForSwarm({ runtime: rt, events: sink }, p, { noCache: true });
    const digest2 = registry.get(`${REG}/demo/app:1`)!;
    expect(digest2).not.toBe(digest);
    expect(again.app).toBe(`${REG}/demo/app:1@${digest2}`);
    const rolled = await stackUp(stackContext(api), p, { registry: registryOf(registry) });
    expect(rolled.plan.nodes.map((n) => `${n.op.type} ${'service' in n.op ? n.op.service : ''} ${n.cause}`)).toEqual([
      'UpdateService app spec changed',
      'UpdateService worker spec changed',
    ]);
    expect(await imageOf(api, 'demo_app')).toBe(`${REG}/demo/app:1@${digest2}`);
  });

  test('a built service never pushed and no registry: deployed by tag with a warning naming it', async () => {
    const api = new SwarmFake();
    const events: string[] = [];
    const ctx: StackContext = { ...stackContext(api), events: { emit: (e) => events.push(`${e.resource} ${e.status} ${e.details ?? ''}`) } };
    await stackUp(ctx, project(), { registry: registryOf(new Map()) });
    expect(await imageOf(api, 'demo_app')).toBe(`${REG}/demo/app:1`);
    expect(events.filter((e) => /could not be resolved/.test(e)).map((e) => e.split(' ').slice(0, 3).join(' '))).toEqual([
      'Service app warning',
      'Service worker warning',
    ]);
  });

  test('deployedPins: only a pin of the same compose image', async () => {
    const p = project();
    const api = new SwarmFake();
    const d = 'sha256:' + 'e'.repeat(64);
    await stackUp(stackContext(api), p, { pinnedImages: { app: `${REG}/demo/app:1@${d}`, worker: `${REG}/demo/app:1@${d}` } });
    const deployed = await api.listServices();
    expect(deployedPins(p, deployed)).toEqual({ app: `${REG}/demo/app:1@${d}`, worker: `${REG}/demo/app:1@${d}` });
    const changed = project(COMPOSE.replace(/demo\/app:1/g, 'demo/app:2'));
    expect(deployedPins(changed, deployed)).toEqual({});
    const r = await resolvePins(changed, deployed, { registry: registryOf(new Map()) });
    expect(r.pins).toEqual({});
    expect(r.warnings.map((w) => w.service)).toEqual(['app', 'worker']);
  });

  test('a push failure is an error naming the image; --ignore-push-failures goes on with a warning', async () => {
    const rt = new PushingRuntime(new Map());
    const p = project();
    await rt.buildImage({ context: p.services.app!.build!.context, tags: [`${REG}/demo/app:1`] });
    rt.failNext('pushImage', new Error('connection refused'));
    await expect(pushPinned({ runtime: rt, events: new MemorySink() }, p, ['app'])).rejects.toThrow('connection refused');
    rt.failNext('pushImage', new Error('connection refused'));
    const sink = new MemorySink();
    expect(await pushPinned({ runtime: rt, events: sink }, p, ['app'], { ignorePushFailures: true })).toEqual({});
    expect(sink.lines()).toContain(`Image ${REG}/demo/app:1 error Error (connection refused)`);
  });

  test('build refuses a built service without a registry name before building anything', async () => {
    const rt = new PushingRuntime(new Map());
    const p = project(`
services:
  app: {build: ./app, image: "${REG}/app:1"}
  web: {build: ./app}
`);
    await expect(buildForSwarm({ runtime: rt, events: new MemorySink() }, p)).rejects.toMatchObject({ code: 'TSC_SWARM_IMAGE', service: 'web' });
    expect(rt.calls.filter((c) => c.method === 'buildImage')).toEqual([]);
  });
});

test('resolvePins asks no registry for a built image that names none: deployed as written, with a warning', async () => {
  const p = project(`
services:
  app: {build: ./app, image: "app:1"}
`);
  const reg = registryOf(new Map());
  const r = await resolvePins(p, [], { registry: reg });
  expect(reg.asked).toEqual([]);
  expect(r.pins).toEqual({});
  expect(r.warnings).toEqual([
    { service: 'app', message: expect.stringMatching(/^image app:1 names no registry: only a node that built it has it/) },
  ]);
});
