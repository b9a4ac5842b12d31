import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ImageConflictError, ImageNotFoundError, ImagePullError, ImagePushError, LayerRejectedError } from '../../lib/image/errors.js';
import { makeArchive, makeImage } from '../../lib/image/__fixtures__/images.js';
import { ConflictError, NotFoundError, PullError, PushError } from '../errors.js';
import { NativeImages, portError } from './images.js';
import { nativePaths } from './state.js';

let dir: string;
let inUse = new Set<string>();
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsc-native-images-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function service(name: string): NativeImages {
  const paths = nativePaths({ stateDir: join(dir, name), runDir: join(dir, `${name}-run`) });
  const registry = { mirrors: [], insecure: [], daemonJsonPath: undefined, dockerConfigPath: join(dir, 'no-docker-config.json') };
  return new NativeImages({ paths, registry, imagesInUse: async () => inUse });
}

/** A docker-archive of one fixture image tagged `tags`. */
async function archive(tags: string[]): Promise<{ tar: Buffer; id: string; diffIds: string[] }> {
  const img = await makeImage({ layers: [[{ name: 'a.txt', content: 'a' }]] });
  const v1 = 'a'.repeat(64);
  const tar = await makeArchive({
    [`${img.configDigest.slice(7)}.json`]: img.configBytes,
    [`${v1}/layer.tar`]: img.tars[0]!,
    'manifest.json': JSON.stringify([{ Config: `${img.configDigest.slice(7)}.json`, RepoTags: tags, Layers: [`${v1}/layer.tar`] }]),
  });
  return { tar, id: img.configDigest, diffIds: img.diffIds };
}

describe('portError', () => {
  test("the store's errors become the runtime port's; others pass unchanged", () => {
    const cause = new LayerRejectedError('bad');
    const nf = portError(new ImageNotFoundError('x:1', { hint: 'h' }));
    expect(nf).toBeInstanceOf(NotFoundError);
    expect(nf).toMatchObject({ kind: 'image', ref: 'x:1', message: 'no such image: x:1', hint: 'h' });
    expect(portError(new ImageConflictError('abc', 'ambiguous short id'))).toMatchObject({
      constructor: ConflictError,
      message: 'image abc: ambiguous short id',
    });
    const pull = portError(new ImagePullError('x:1', 'boom', { cause, hint: cause.hint }));
    expect(pull).toBeInstanceOf(PullError);
    expect(pull).toMatchObject({ message: 'pulling x:1: boom', cause, hint: cause.hint });
    expect(portError(new ImagePushError('x:1', 'no'))).toBeInstanceOf(PushError);
    const other = new Error('plain');
    expect(portError(other)).toBe(other);
    expect(portError(cause)).toBe(cause);
  });
});

describe('NativeImages', () => {
  test('load, inspect, details, list, tag, remove; a missing image is a NotFoundError', async () => {
    const images = service('basic');
    await expect(images.inspectImage('nope:1')).rejects.toBeInstanceOf(NotFoundError);
    await expect(images.inspectImageDetails('nope:1')).rejects.toMatchObject({ code: 'TSC_NOT_FOUND', kind: 'image', ref: 'nope:1' });
    await expect(images.saveImage(['nope:1'])).rejects.toBeInstanceOf(NotFoundError);
    const { tar, id, diffIds } = await archive(['fix/app:1']);
    expect(await images.loadImage(Readable.from([tar]))).toEqual({ loaded: ['Loaded image: fix/app:1'] });
    expect(await images.inspectImage('fix/app:1')).toEqual({ id, repoTags: ['fix/app:1'], repoDigests: [] });
    expect(await images.inspectImageDetails('fix/app:1')).toEqual({
      id,
      repoTags: ['fix/app:1'],
      repoDigests: [],
      created: '2024-01-02T03:04:05Z',
      architecture: 'amd64',
      os: 'linux',
      sizeBytes: 1,
      config: { user: '', env: ['PATH=/usr/bin:/bin'], cmd: ['/bin/sh'], workingDir: '/', exposedPorts: [], volumes: [], labels: { fixture: 'yes' } },
      layers: diffIds,
    });
    await images.tagImage('fix/app:1', 'other:2');
    await expect(images.tagImage('nope:1', 'x:1')).rejects.toBeInstanceOf(NotFoundError);
    expect((await images.listImages({ labels: { fixture: 'yes' } })).map((i) => i.repoTags)).toEqual([['fix/app:1', 'other:2']]);
    expect(await images.listImages({ labels: { fixture: 'no' } })).toEqual([]);
    await images.removeImage('other:2');
    expect((await images.inspectImage(id)).repoTags).toEqual(['fix/app:1']);
    inUse = new Set([id]);
    await expect(images.removeImage('fix/app:1')).rejects.toBeInstanceOf(ConflictError);
    inUse = new Set();
    await images.removeImage('fix/app:1');
    await expect(images.inspectImage(id)).rejects.toBeInstanceOf(NotFoundError);
    const events = (await readFile(join(dir, 'basic', 'events.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { action: string });
    expect(events.map((e) => e.action)).toEqual(['tag', 'delete', 'delete']);
  });

  test('prune removes unused dangling images, or all unused ones', async () => {
    const images = service('prune');
    const { tar, id } = await archive([]);
    expect((await images.loadImage(Readable.from([tar]))).loaded).toEqual([`Loaded image ID: ${id}`]);
    inUse = new Set([id]);
    expect(await images.pruneImages()).toEqual({ deleted: [], reclaimedBytes: 0 });
    inUse = new Set();
    const res = await images.pruneImages();
    expect(res.deleted).toEqual([id]);
    expect(res.reclaimedBytes).toBeGreaterThan(0);
  });

  test('a failed pull is a PullError, a push of a missing image a NotFoundError', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const closed = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    await new Promise((r) => server.close(r));
    const images = service('pull');
    const err = await images.pullImage(`${closed}/foo:1`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PullError);
    expect((err as PullError).message).toMatch(new RegExp(`^pulling ${closed}/foo:1: .*ECONNREFUSED`));
    expect((err as PullError).hint).toMatch(/reachable/);
    await expect(images.pullImage('Bad:ref')).rejects.toMatchObject({ code: 'TSC_INVALID_REFERENCE' });
    await expect(images.pushImage(`${closed}/foo:1`)).rejects.toBeInstanceOf(NotFoundError);
  });
});
