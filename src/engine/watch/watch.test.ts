/**
 * The watch loop on the in-memory runtime with real files: each action's effect, ignores, deletions, a burst giving
 * one sync, a rebuild recreating the container, and the refusals.
 */
import { afterAll, afterEach, describe, expect, test } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tarStream from 'tar-stream';
import { loadProjectSync } from '../../project/load.js';
import type { Project } from '../../project/types.js';
import type { ExecSpec } from '../../runtime/runtime.js';
import { FakeRuntime } from '../../runtime/fake/fake-runtime.js';
import { MemorySink, type EngineContext } from '../events.js';
import { up } from '../up.js';
import { startWatch, watchedServices, type RunningWatch } from './watch.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
let running: RunningWatch | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

function load(yaml: string, files: Record<string, string> = {}): { project: Project; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tsc-watch-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'compose.yaml'), yaml);
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(join(dir, f, '..'), { recursive: true });
    writeFileSync(join(dir, f), text);
  }
  return { project: loadProjectSync({ cwd: dir, env: {}, projectName: 'w' }).project, dir };
}

async function tarNames(rt: FakeRuntime, container: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const extract = tarStream.extract();
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => void chunks.push(c as Buffer));
      stream.on('end', () => {
        out[header.name] = Buffer.concat(chunks).toString();
        next();
      });
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  (await rt.copyFromContainer(container, '/')).pipe(extract);
  await done;
  return out;
}

const until = async (cond: () => boolean, ms = 3000): Promise<void> => {
  for (const end = Date.now() + ms; !cond();) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

/** `fn`'s result once it stops throwing (within 3 s). */
async function eventually<T>(fn: () => Promise<T>, ms = 3000): Promise<T> {
  for (const end = Date.now() + ms; ; await new Promise((r) => setTimeout(r, 20))) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > end) throw e;
    }
  }
}

async function setUp(yaml: string, files: Record<string, string> = {}, debounceMs = 20) {
  const { project, dir } = load(yaml, files);
  const execs: ExecSpec[] = [];
  const rt = new FakeRuntime({
    images: { busybox: 'sha256:bb' },
    onExec: (_c, spec) => {
      execs.push(spec);
      return { exitCode: 0, stdout: spec.cmd[0] === 'echo' ? `${spec.cmd.slice(1).join(' ')}\n` : '', stderr: '' };
    },
  });
  const ctx: EngineContext = { runtime: rt, events: new MemorySink() };
  await up(ctx, project);
  const lines: string[] = [];
  running = await startWatch(ctx, project, { log: (l) => lines.push(l), debounceMs });
  const calls = (method: string) => rt.calls.filter((c) => c.method === method);
  return { project, dir, rt, ctx, lines, calls, execs };
}

describe('watch', () => {
  test('sync: changed files copied under target, ignored ones not, deletions removed; a burst is one sync', async () => {
    const { dir, rt, lines, calls, execs } = await setUp(
      `services:
  web:
    image: busybox
    develop:
      watch:
        - { path: ./src, target: /app, action: sync, ignore: [tmp/] }
`,
      { 'src/a.py': 'a1' },
      // A long quiet period: a loaded machine may pause the burst of writes below for more than 20 ms.
      200,
    );
    for (let i = 0; i < 50; i++) writeFileSync(join(dir, 'src', `f${i}.py`), `v${i}`);
    writeFileSync(join(dir, 'src', 'a.py'), 'a2');
    mkdirSync(join(dir, 'src', 'tmp'));
    writeFileSync(join(dir, 'src', 'tmp', 'x'), 'ignored');
    // The call is recorded before its archive is read: wait for the copy to be there.
    await until(() => lines.some((l) => l.startsWith('Syncing')));
    const files = await eventually(() => tarNames(rt, 'w-web-1'));
    await new Promise((r) => setTimeout(r, 300));
    expect(calls('copyToContainer')).toHaveLength(1);
    expect(files['app/a.py']).toBe('a2');
    expect(files['app/f49.py']).toBe('v49');
    expect(Object.keys(files).some((f) => f.includes('tmp'))).toBe(false);
    expect(lines).toContain('Syncing service "web" after 51 changes were detected');

    rmSync(join(dir, 'src', 'a.py'));
    await until(() => calls('exec').length > 0);
    expect(execs[0]).toMatchObject({ cmd: ['rm', '-rf', '--', '/app/a.py'] });
  });

  test('sync+restart restarts once; sync+exec runs its command with user, workdir and environment', async () => {
    const { dir, lines, calls, execs } = await setUp(
      `services:
  web:
    image: busybox
    develop:
      watch:
        - { path: ./cfg, target: /etc/web, action: sync+restart }
        - path: ./hooks
          target: /hooks
          action: sync+exec
          exec: { command: echo reloaded, user: "1000", working_dir: /hooks, environment: { MODE: dev } }
`,
      {},
      200,
    );
    mkdirSync(join(dir, 'cfg'));
    writeFileSync(join(dir, 'cfg', 'a.ini'), 'x');
    writeFileSync(join(dir, 'cfg', 'b.ini'), 'y');
    await until(() => calls('restartContainer').length > 0);
    mkdirSync(join(dir, 'hooks'));
    writeFileSync(join(dir, 'hooks', 'h.sh'), 'x');
    await until(() => calls('exec').length > 0);
    expect(calls('restartContainer')).toHaveLength(1);
    expect(execs[0]).toMatchObject({ cmd: ['echo', 'reloaded'], user: '1000', workdir: '/hooks', env: ['MODE=dev'] });
    await until(() => lines.includes('web -> | reloaded'));
  });

  test('rebuild: builds the image and recreates the container', async () => {
    const { dir, rt, calls } = await setUp(
      `services:
  app:
    build: .
    develop:
      watch:
        - { path: ./requirements.txt, action: rebuild }
`,
      { Dockerfile: 'FROM busybox\n', 'requirements.txt': 'flask\n' },
    );
    const before = (await rt.listContainers()).map((c) => c.id);
    writeFileSync(join(dir, 'requirements.txt'), 'flask\nredis\n');
    await until(() => calls('buildImage').length >= 2);
    await until(() => calls('startContainer').length >= 2);
    const after = (await rt.listContainers()).map((c) => c.id);
    expect(after).toHaveLength(1);
    expect(after[0]).not.toBe(before[0]);
  });

  test('a burst of saves on rebuild paths is one rebuild', async () => {
    const { dir, calls } = await setUp(
      `services:
  app:
    build: .
    develop:
      watch:
        - { path: ., action: rebuild }
`,
      { Dockerfile: 'FROM busybox\n' },
      200,
    );
    for (let i = 0; i < 40; i++) writeFileSync(join(dir, `m${i % 8}.py`), `v${i}`);
    await until(() => calls('startContainer').length >= 2);
    await new Promise((r) => setTimeout(r, 300));
    expect(calls('buildImage')).toHaveLength(2); // the up's, then one rebuild
  });

  test('initial_sync copies what changed since the container was made, before watching', async () => {
    const { rt, lines } = await setUp(
      `services:
  web:
    image: busybox
    develop:
      watch:
        - { path: ./src, target: /app, action: sync, initial_sync: true, ignore: [cache/] }
`,
      { 'src/a.py': 'a', 'src/cache/big': 'no' },
    );
    expect(lines[0]).toMatch(/^Initial sync of service "web": 1 file from .*\/src$/);
    expect(await eventually(() => tarNames(rt, 'w-web-1'))).toEqual({ 'app/a.py': 'a' });
  });
});

test('a sync path under a bind mount is not watched (compose warns the same)', async () => {
  const { lines, dir } = await setUp(
    `services:
  web:
    image: busybox
    volumes: [./src:/app]
    develop:
      watch:
        - { path: ./src/lib, target: /app/lib, action: sync }
        - { path: ./conf, target: /conf, action: sync }
`,
  );
  expect(lines[0]).toBe(`path '${join(dir, 'src', 'lib')}' also declared by a bind mount volume, this path won't be monitored!`);
  expect(lines[1]).toBe('Watch enabled for "web"');
});

describe('watchedServices', () => {
  test('refuses a project with nothing to watch, a sync without target, a rebuild without build', () => {
    expect(() => watchedServices(load('services: { a: { image: busybox } }').project)).toThrow(
      /none of the selected services is configured for watch/,
    );
    expect(() => watchedServices(load('services: { a: { image: busybox, develop: { watch: [{ path: ., action: sync }] } } }').project)).toThrow(
      /needs a target/,
    );
    expect(() => watchedServices(load('services: { a: { image: busybox, develop: { watch: [{ path: ., action: rebuild }] } } }').project)).toThrow(
      /needs a build section/,
    );
  });
});
