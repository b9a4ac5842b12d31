import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NativeContext } from './context.js';
import { VolumeService } from './volumes.js';

let dir: string;
let n = 0;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsc-volumes-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function fresh(): { ctx: NativeContext; volumes: VolumeService } {
  const k = ++n;
  const ctx = new NativeContext({ TSCOMPOSE_STATE_DIR: join(dir, `state-${k}`), TSCOMPOSE_RUN_DIR: join(dir, `run-${k}`) });
  return { ctx, volumes: new VolumeService(ctx) };
}

function events(ctx: NativeContext): { type: string; action: string; id: string }[] {
  if (!existsSync(ctx.paths.events)) return [];
  return readFileSync(ctx.paths.events, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; action: string; id: string });
}

describe('VolumeService', () => {
  test('create, inspect, list (by label), remove; events recorded', async () => {
    const { ctx, volumes } = fresh();
    const info = await volumes.create({ name: 'data', labels: { app: 'a' } });
    expect(info).toEqual({ name: 'data', driver: 'local', labels: { app: 'a' }, mountpoint: join(ctx.paths.volumes, 'data', '_data') });
    expect(existsSync(info.mountpoint!)).toBe(true);
    await volumes.create({ name: 'other', labels: {} });
    expect((await volumes.list()).map((v) => v.name)).toEqual(['data', 'other']);
    expect((await volumes.list({ labels: { app: 'a' } })).map((v) => v.name)).toEqual(['data']);
    expect(await volumes.inspect('data')).toEqual(info);
    await volumes.remove('data');
    await expect(volumes.inspect('data')).rejects.toMatchObject({ code: 'TSC_NOT_FOUND' });
    expect(events(ctx).map((e) => `${e.action} ${e.id}`)).toEqual(['create data', 'create other', 'destroy data']);
  });

  test('creating an existing volume returns it unchanged (no second event)', async () => {
    const { ctx, volumes } = fresh();
    await volumes.create({ name: 'v', labels: { a: '1' } });
    expect((await volumes.create({ name: 'v', labels: { a: '2' } })).labels).toEqual({ a: '1' });
    expect(events(ctx)).toHaveLength(1);
  });

  (process.getuid?.() === 0 ? test : test.skip)('under a user-namespace remap a new volume belongs to the remapped root', async () => {
    const k = ++n;
    const ctx = new NativeContext({
      TSCOMPOSE_STATE_DIR: join(dir, `state-${k}`),
      TSCOMPOSE_RUN_DIR: join(dir, `run-${k}`),
      TSCOMPOSE_USERNS_REMAP: '100000:200000:65536',
    });
    const info = await new VolumeService(ctx).create({ name: 'remapped', labels: {} });
    expect(statSync(info.mountpoint!)).toMatchObject({ uid: 100000, gid: 200000 });
    const plain = await fresh().volumes.create({ name: 'plain', labels: {} });
    expect(statSync(plain.mountpoint!)).toMatchObject({ uid: 0, gid: 0 });
  });

  test('no state directory yet: an empty list', async () => {
    expect(await fresh().volumes.list()).toEqual([]);
  });

  test('names must be a single path component (Docker rule); only the local driver', async () => {
    const { volumes } = fresh();
    await expect(volumes.create({ name: '../x', labels: {} })).rejects.toMatchObject({ code: 'TSC_INVALID_VOLUME_NAME' });
    await expect(volumes.create({ name: 'x', driver: 'nfs', labels: {} })).rejects.toMatchObject({ code: 'TSC_NATIVE_UNSUPPORTED' });
    await expect(volumes.inspect('../x')).rejects.toMatchObject({ code: 'TSC_NOT_FOUND' });
  });

  test('remove: missing is not-found unless forced; in use by a container is a conflict', async () => {
    const { ctx, volumes } = fresh();
    await expect(volumes.remove('nope')).rejects.toMatchObject({ code: 'TSC_NOT_FOUND' });
    await volumes.remove('nope', { force: true });
    await expect(volumes.remove('../nope')).rejects.toMatchObject({ code: 'TSC_NOT_FOUND' }); // no lock path made of it
    await volumes.create({ name: 'used', labels: {} });
    const id = 'a'.repeat(64);
    await ctx.state.write({
      id,
      name: 'c',
      image: 'alpine',
      imageId: 'sha256:x',
      labels: {},
      created: 0,
      hostname: 'c',
      spec: { name: 'c', image: 'alpine', labels: {} },
      mounts: [{ type: 'volume', source: 'used', target: '/data', readOnly: false }],
      anonymousVolumes: [],
      state: { status: 'created', exitCode: 0, restartCount: 0, stoppedByUser: false, generation: 0 },
    });
    await expect(volumes.remove('used')).rejects.toMatchObject({ code: 'TSC_CONFLICT' });
  });

  test('remove: the data goes before the record: data that cannot all go leaves the volume listed, then it goes', async () => {
    const { volumes } = fresh();
    const info = await volumes.create({ name: 'keep', labels: { app: 'a' } });
    const stuck = join(info.mountpoint!, 'stuck');
    writeFileSync(stuck, 'x');
    // An immutable file stands for a removal cut short (a kill half-way through the data).
    if (spawnSync('chattr', ['+i', stuck]).status !== 0) return;
    try {
      await expect(volumes.remove('keep')).rejects.toThrow();
      expect((await volumes.list()).map((v) => `${v.name} ${JSON.stringify(v.labels)}`)).toEqual(['keep {"app":"a"}']);
    } finally {
      spawnSync('chattr', ['-i', stuck]);
    }
    await volumes.remove('keep');
    expect(await volumes.list()).toEqual([]);
  });
});
