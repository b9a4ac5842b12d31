/**
 * Content-aware recreate on the in-memory runtime (issue 17): `up` reads the digests of the services' input files,
 * labels the containers with them, and a changed file recreates exactly the services that use it, the plan naming
 * the file. Containers made before (no inputs label) are left alone.
 */
import { afterAll, describe, expect, test } from '@jest/globals';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProjectSync } from '../project/load.js';
import type { Project } from '../project/types.js';
import { FakeRuntime } from '../runtime/fake/fake-runtime.js';
import { MemorySink, type EngineContext } from './events.js';
import { execute } from './execute.js';
import { LABEL_CONFIG_HASH, LABEL_INPUTS } from './labels.js';
import { observe } from './observe.js';
import { reconcile } from './reconcile.js';
import { planUp, up } from './up.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const COMPOSE = `
services:
  s1:
    image: busybox
    secrets: [a]
  s2:
    image: busybox
    secrets: [b]
    env_file: s2.env
secrets:
  a: { file: ./secrets/a.txt }
  b: { file: ./secrets/b.txt }
`;

function setup(): { dir: string; load: () => Project; write: (f: string, text: string) => void } {
  const dir = mkdtempSync(join(tmpdir(), 'tsc-reconcile-inputs-'));
  dirs.push(dir);
  const write = (f: string, text: string): void => {
    mkdirSync(join(dir, f, '..'), { recursive: true });
    writeFileSync(join(dir, f), text);
  };
  write('compose.yaml', COMPOSE);
  write('secrets/a.txt', 'A1');
  write('secrets/b.txt', 'B1');
  write('s2.env', 'X=1\n');
  return { dir, write, load: () => loadProjectSync({ cwd: dir, env: {}, projectName: 'demo' }).project };
}

const newRuntime = (): FakeRuntime => new FakeRuntime({ images: { busybox: 'sha256:3333' } });
const context = (rt: FakeRuntime): EngineContext => ({ runtime: rt, events: new MemorySink() });
const sha = (s: string): string => createHash('sha256').update(s).digest('hex');
/** The recreate of `service`'s container `c0000000000<n>` (the fake's ids count creations). */
const recreateOf = (service: string, n: number, why: string): string[] => [
  `[] -> #1 service:${service}:1, CreateContainer, ${why} (c0000000000${n}_demo-${service}-1)`,
  `[1] -> #2 service:${service}:1, StopContainer, replaced`,
  `[2] -> #3 service:${service}:1, RemoveContainer, replaced`,
  `[3] -> #4 service:${service}:1, RenameContainer, finalize recreate`,
  `[4] -> #5 service:${service}:1, StartContainer, recreated`,
];

describe('content-aware recreate', () => {
  test('containers carry the inputs label; nothing changed: empty plan', async () => {
    const { dir, load } = setup();
    const rt = newRuntime();
    const origin = { workingDir: dir };
    await up(context(rt), load(), { origin });
    const s2 = await rt.inspectContainer('demo-s2-1');
    expect(JSON.parse(s2.labels[LABEL_INPUTS]!)).toEqual({ 's2.env': sha('X=1\n'), 'secrets/b.txt': sha('B1') });
    expect((await planUp(context(rt), load(), { origin })).plan.toString()).toBe('');
  });

  test('changing a secret file recreates the one service that uses it, the plan naming the file; then up to date', async () => {
    const { dir, load, write } = setup();
    const rt = newRuntime();
    const origin = { workingDir: dir };
    await up(context(rt), load(), { origin });
    write('secrets/a.txt', 'A2');
    const { plan } = await planUp(context(rt), load(), { origin });
    expect(plan.toString()).toBe(recreateOf('s1', 1, 'secrets/a.txt changed').join('\n'));
    await up(context(rt), load(), { origin });
    expect(JSON.parse((await rt.inspectContainer('demo-s1-1')).labels[LABEL_INPUTS]!)).toEqual({ 'secrets/a.txt': sha('A2') });
    expect((await planUp(context(rt), load(), { origin })).plan.toString()).toBe('');
  });

  test('an env_file edit that changes no variable still recreates its service, naming the file', async () => {
    const { dir, load, write } = setup();
    const rt = newRuntime();
    const origin = { workingDir: dir };
    await up(context(rt), load(), { origin });
    write('s2.env', '# a comment\nX=1\n');
    expect((await planUp(context(rt), load(), { origin })).plan.toString()).toBe(recreateOf('s2', 2, 's2.env changed').join('\n'));
  });

  test('upgrade: containers made without the inputs label are not recreated for it', async () => {
    const { dir, load, write } = setup();
    const rt = newRuntime();
    const project = load();
    // What an earlier version did: no inputs read, the hash of the service alone.
    await execute(rt, reconcile(project, await observe(rt, project), { origin: { workingDir: dir } }));
    expect((await rt.inspectContainer('demo-s1-1')).labels[LABEL_INPUTS]).toBeUndefined();
    expect((await planUp(context(rt), load(), { origin: { workingDir: dir } })).plan.toString()).toBe('');
    // Their content changes go unnoticed until they are recreated for another reason.
    write('secrets/a.txt', 'A2');
    expect((await planUp(context(rt), load(), { origin: { workingDir: dir } })).plan.toString()).toBe('');
    const forced = await planUp(context(rt), load(), { origin: { workingDir: dir }, forceRecreate: true, services: ['s1'] });
    expect(forced.plan.toString()).toContain('CreateContainer, forced');
    await up(context(rt), load(), { origin: { workingDir: dir }, forceRecreate: true, services: ['s1'] });
    const s1 = await rt.inspectContainer('demo-s1-1');
    expect(JSON.parse(s1.labels[LABEL_INPUTS]!)).toEqual({ 'secrets/a.txt': sha('A2') });
    expect(s1.labels[LABEL_CONFIG_HASH]).toMatch(/^[0-9a-f]{64}$/);
    write('secrets/a.txt', 'A3');
    expect((await planUp(context(rt), load(), { origin: { workingDir: dir } })).plan.toString()).toContain('secrets/a.txt changed');
  });
});
