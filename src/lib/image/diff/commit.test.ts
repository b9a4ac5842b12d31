import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { hexOf, sha256 } from '../digest.js';
import { ImageStore } from '../store.js';
import { makeArchive, makeImage } from '../__fixtures__/images.js';
import { buildkitHistory, commitImage, commitLayer, imageConfigFor } from './commit.js';
import { ImageCommitError } from './errors.js';
import { comparable, isRoot, mountOverlay, unmount, unmountAll, walkTree } from './__fixtures__/overlay.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsc-commit-'));
});
afterEach(() => unmountAll());
afterAll(async () => {
  unmountAll();
  await rm(dir, { recursive: true, force: true });
});

const newStore = (name: string): ImageStore =>
  new ImageStore(join(dir, name), { mirrors: [], insecure: [], dockerConfigPath: join(dir, 'no-docker-config.json') });

/** A parent image loaded from a docker-archive of the fixtures. */
async function loadParent(store: ImageStore): Promise<string> {
  const img = await makeImage({
    layers: [
      [
        { name: 'etc/', type: 'directory' },
        { name: 'etc/os-release', content: 'ID=fixture\n' },
        { name: 'bin/sh', content: 'sh', mode: 0o755 },
      ],
    ],
  });
  const v1 = 'a'.repeat(64);
  const tar = await makeArchive({
    [`${hexOf(img.configDigest)}.json`]: img.configBytes,
    [`${v1}/layer.tar`]: img.tars[0]!,
    'manifest.json': JSON.stringify([{ Config: `${hexOf(img.configDigest)}.json`, RepoTags: ['fixture/base:1'], Layers: [`${v1}/layer.tar`] }]),
  });
  await store.load(Readable.from([tar]));
  return 'fixture/base:1';
}

describe('image configs', () => {
  test('history as BuildKit writes it; layers and history must add up', () => {
    expect(buildkitHistory('RUN /bin/sh -c apt-get update')).toEqual({
      created_by: 'RUN /bin/sh -c apt-get update # buildkit',
      comment: 'buildkit.dockerfile.v0',
    });
    expect(buildkitHistory('ENV A=b', { emptyLayer: true })).toEqual({ created_by: 'ENV A=b', comment: 'buildkit.dockerfile.v0', empty_layer: true });
    const layer = { diffId: sha256('x'), chainId: sha256('x'), size: 1 };
    const c = imageConfigFor({ layers: [layer], created: '2025-01-01T00:00:00Z', history: [buildkitHistory('COPY a /a')], config: { Cmd: ['/a'] } });
    expect(c.rootfs.diff_ids).toEqual([layer.diffId]);
    expect(c.history).toEqual([{ created: '2025-01-01T00:00:00Z', created_by: 'COPY a /a # buildkit', comment: 'buildkit.dockerfile.v0' }]);
    expect(c.config).toEqual({ Cmd: ['/a'] });
    expect(() => imageConfigFor({ layers: [layer], history: [buildkitHistory('ENV A=b', { emptyLayer: true })] })).toThrow(ImageCommitError);
  });
});

const maybe = isRoot ? describe : describe.skip;

maybe('commit into the store (root)', () => {
  test('a RUN-like step over a parent image: layer, image, tags, and a mountable result', async () => {
    const store = newStore('store');
    const parent = (await store.resolve(await loadParent(store)))!;
    expect(parent).toBeDefined();

    // The step: an overlay of the parent's layers with a fresh upper directory.
    const upper = join(dir, 'upper');
    const work = join(dir, 'work');
    const merged = join(dir, 'merged');
    await mkdir(upper);
    await mkdir(work);
    await mountOverlay(merged, store.layerDirs(parent).reverse(), { upper, work });
    await writeFile(join(merged, 'etc/app.conf'), 'port=80\n');
    await rm(join(merged, 'bin/sh'));
    const expected = comparable(await walkTree(merged));
    unmount(merged);

    const lease = await store.lease();
    const layer = await commitLayer(store, upper, parent.layers, { compression: 'gzip' });
    await lease.add(layer.chainId, layer.diffId, layer.blob.digest);
    expect(layer.chainId).toBe(sha256(`${parent.layers[0]!.chainId} ${layer.diffId}`));
    expect(layer.blob.digest).not.toBe(layer.diffId);
    expect(layer.blob.diffId).toBe(layer.diffId);
    expect(existsSync(join(store.root, 'blobs/sha256', hexOf(layer.blob.digest)))).toBe(true);
    const dist = JSON.parse(await readFile(join(store.root, 'distribution', `${hexOf(layer.diffId)}.json`), 'utf8')) as unknown[];
    expect(dist).toEqual([{ digest: layer.blob.digest, mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: layer.blob.size }]);

    const history = [buildkitHistory('ENV A=b', { emptyLayer: true }), buildkitHistory('RUN /bin/sh -c echo port=80 > /etc/app.conf && rm /bin/sh')];
    const img = await commitImage(store, {
      parent,
      layers: [layer],
      config: { ...parent.config.config, Env: ['A=b'] },
      history,
      created: '2025-06-01T12:00:00Z',
      tags: ['built/app:1', 'built/app:latest'],
    });
    await lease.release();
    const back = (await store.resolve('built/app:1'))!;
    expect(back.id).toBe(img.id);
    expect(back.repoTags).toEqual(['built/app:1', 'built/app:latest']);
    expect(back.config.rootfs.diff_ids).toEqual([...parent.config.rootfs.diff_ids, layer.diffId]);
    expect(back.config.history!.slice(-2)).toEqual([
      { created: '2025-06-01T12:00:00Z', created_by: 'ENV A=b', comment: 'buildkit.dockerfile.v0', empty_layer: true },
      {
        created: '2025-06-01T12:00:00Z',
        created_by: 'RUN /bin/sh -c echo port=80 > /etc/app.conf && rm /bin/sh # buildkit',
        comment: 'buildkit.dockerfile.v0',
      },
    ]);
    expect(back.config.config?.Env).toEqual(['A=b']);
    expect(back.created).toBe(Date.parse('2025-06-01T12:00:00Z'));
    expect(sha256(await readFile(join(store.root, 'blobs/sha256', hexOf(img.id))))).toBe(img.id);

    // The new image mounts (through the store's l/ links) to what the step saw.
    const { cwd, lowerdir } = store.overlayLowerdir(back);
    const view = join(dir, 'view');
    await mountOverlay(
      view,
      lowerdir.split(':').map((l) => join(cwd, l)),
    );
    expect(comparable(await walkTree(view))).toEqual(expected);
    unmount(view);

    // gc keeps it; a second identical commit reuses the layer.
    await store.gc();
    const again = await commitLayer(store, upper, parent.layers);
    expect(again.chainId).toBe(layer.chainId);
    expect((await store.resolve('built/app:1'))!.layers.map((l) => l.chainId)).toContain(layer.chainId);
  });

  test('a failed commit leaves no layer, image or scratch; scratch → a first layer', async () => {
    const store = newStore('store2');
    await expect(commitLayer(store, join(dir, 'no-such-upper'), undefined)).rejects.toThrow();
    await expect(commitImage(store, { layers: [{ diffId: sha256('nope'), chainId: sha256('nope'), size: 0 }], tags: ['x:1'] })).rejects.toThrow(
      ImageCommitError,
    );
    expect(await readdir(join(store.root, 'layers'))).toEqual([]);
    expect(await readdir(join(store.root, 'images'))).toEqual([]);
    expect(await readdir(join(store.root, 'tmp'))).toEqual([]);
    expect(await store.resolve('x:1')).toBeUndefined();

    const upper = join(dir, 'scratch-upper');
    await mkdir(join(upper, 'app'), { recursive: true });
    await writeFile(join(upper, 'app/run'), 'run');
    const [a, b] = await Promise.all([commitLayer(store, upper, undefined), commitLayer(store, upper, [])]);
    expect(a.chainId).toBe(a.diffId);
    expect(b.chainId).toBe(a.chainId);
    const imgs = await Promise.all([
      commitImage(store, { layers: [a], history: [buildkitHistory('COPY app /app')], created: '2025-01-01T00:00:00Z', tags: ['s:1'] }),
      commitImage(store, { layers: [a], history: [buildkitHistory('COPY app /app')], created: '2025-01-02T00:00:00Z', tags: ['s:2'] }),
    ]);
    expect((await store.list()).map((i) => i.repoTags).sort()).toEqual([['s:1'], ['s:2']]);
    expect(imgs[0].config.config).toBeUndefined();
    expect(await readdir(join(store.root, 'tmp'))).toEqual([]);
  });
});
