/** The image store: archives (docker save/load, OCI layouts), push, overlay lower dirs. */
import { describe, expect, test } from '@jest/globals';
import { readdir, readFile, readlink, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { sha256 } from './digest.js';
import { ImageNotFoundError } from './errors.js';
import { parsePlatform, type ImageProgress } from './store.js';
import { makeArchive, makeImage, makeTar } from './__fixtures__/images.js';
import { MT } from './types.js';
import { collect, untar, useStoreEnv } from './__fixtures__/store-env.js';

const env = useStoreEnv();

describe('archives', () => {
  async function dockerArchive(): Promise<{ tar: Buffer; img: Awaited<ReturnType<typeof makeImage>> }> {
    const img = await makeImage({
      layers: [
        [{ name: 'bin/sh', content: 'sh', mode: 0o755 }],
        [{ name: 'app/main', content: 'main' }],
        [{ name: 'bin/sh', content: 'sh', mode: 0o755 }],
      ],
    });
    // Docker 20.10 layout; the third layer equals the first: a symlink to it, as docker save writes.
    const v1 = ['a'.repeat(64), 'b'.repeat(64), 'c'.repeat(64)];
    const tar = await makeArchive(
      {
        [`${img.configDigest.slice(7)}.json`]: img.configBytes,
        [`${v1[0]}/layer.tar`]: img.tars[0]!,
        [`${v1[0]}/VERSION`]: '1.0',
        [`${v1[1]}/layer.tar`]: img.tars[1]!,
        'manifest.json': JSON.stringify([
          { Config: `${img.configDigest.slice(7)}.json`, RepoTags: ['fixture/app:1', 'localhost/other:2'], Layers: v1.map((v) => `${v}/layer.tar`) },
        ]),
        repositories: JSON.stringify({ 'fixture/app': { '1': v1[2] } }),
      },
      { [`${v1[2]}/layer.tar`]: `../${v1[0]}/layer.tar` },
    );
    return { tar, img };
  }

  test('docker-archive load, save, load again', async () => {
    const { tar, img } = await dockerArchive();
    const store = env.newStore();
    expect(await store.load(Readable.from([tar]))).toEqual(['Loaded image: fixture/app:1', 'Loaded image: localhost/other:2']);
    const loaded = await store.resolve('fixture/app:1');
    expect(loaded?.id).toBe(img.configDigest);
    expect(loaded?.layers.map((l) => l.chainId)).toEqual(img.chainIds);
    expect(await readFile(join(store.layerDirs(loaded!)[1]!, 'app/main'), 'utf8')).toBe('main');

    const saved = await collect(await store.save(['fixture/app:1']));
    const files = await untar(saved);
    const manifest = JSON.parse(files.get('manifest.json')!.body.toString()) as { Config: string; RepoTags: string[]; Layers: string[] }[];
    expect(manifest).toHaveLength(1);
    expect(manifest[0]!.RepoTags).toEqual(['fixture/app:1']);
    expect(manifest[0]!.Layers).toEqual(img.chainIds.map((c) => `${c.slice(7)}/layer.tar`));
    expect(sha256(files.get(manifest[0]!.Config)!.body)).toBe(img.configDigest);
    manifest[0]!.Layers.forEach((l, i) => expect(sha256(files.get(l)!.body)).toBe(img.diffIds[i]));
    expect(JSON.parse(files.get('repositories')!.body.toString())).toEqual({ 'fixture/app': { '1': img.chainIds[2]!.slice(7) } });

    // Gzipped archive into a fresh store.
    const other = env.newStore();
    expect(await other.load(Readable.from([gzipSync(saved)]))).toEqual(['Loaded image: fixture/app:1']);
    expect((await other.resolve('fixture/app:1'))?.id).toBe(img.configDigest);

    // save by id gives all names.
    const byId = await untar(await collect(await store.save([img.configDigest])));
    expect(JSON.parse(byId.get('manifest.json')!.body.toString())[0].RepoTags).toEqual(['fixture/app:1', 'localhost/other:2']);
    await expect(store.save(['nope:1'])).rejects.toThrow(ImageNotFoundError);
  });

  test('save of a pulled (gzip) image has plain layer tars', async () => {
    const img = await makeImage({ layers: [[{ name: 'p', content: 'pulled' }]] });
    env.reg.addImage('save/pulled', 'latest', img);
    const store = env.newStore();
    await store.pull(`${env.reg.host}/save/pulled`);
    const files = await untar(await collect(await store.save([`${env.reg.host}/save/pulled`])));
    const m = JSON.parse(files.get('manifest.json')!.body.toString())[0] as { Layers: string[]; RepoTags: string[] };
    expect(m.RepoTags).toEqual([`${env.reg.host}/save/pulled:latest`]);
    expect(files.get(m.Layers[0]!)!.body.equals(img.tars[0]!)).toBe(true);
  });

  test('OCI layout with a nested index, full and tag-only ref names; Docker 25 style too', async () => {
    const amd = await makeImage({ oci: true, arch: parsePlatform().architecture, layers: [[{ name: 'oci', content: 'yes' }]] });
    const arm = await makeImage({ oci: true, arch: 'arm64-other', layers: [[{ name: 'oci', content: 'no' }]] });
    const nested = {
      schemaVersion: 2,
      mediaType: MT.ociIndex,
      manifests: [arm, amd].map((i) => ({
        mediaType: MT.ociManifest,
        digest: i.manifestDigest,
        size: i.manifestBytes.length,
        platform: { os: 'linux', architecture: i.config.architecture },
      })),
    };
    const nestedBytes = Buffer.from(JSON.stringify(nested));
    const blobs: Record<string, Buffer | string> = {};
    for (const i of [amd, arm]) {
      blobs[`blobs/sha256/${i.configDigest.slice(7)}`] = i.configBytes;
      blobs[`blobs/sha256/${i.manifestDigest.slice(7)}`] = i.manifestBytes;
      i.blobs.forEach((b, k) => (blobs[`blobs/sha256/${i.manifest.layers[k]!.digest.slice(7)}`] = b));
    }
    blobs[`blobs/sha256/${sha256(nestedBytes).slice(7)}`] = nestedBytes;
    const index = {
      schemaVersion: 2,
      manifests: [
        {
          mediaType: MT.ociIndex,
          digest: sha256(nestedBytes),
          size: nestedBytes.length,
          annotations: { 'org.opencontainers.image.ref.name': 'localhost/oci:latest' },
        },
        {
          mediaType: MT.ociManifest,
          digest: amd.manifestDigest,
          size: amd.manifestBytes.length,
          annotations: { 'org.opencontainers.image.ref.name': 'v2' },
        },
      ],
    };
    const tar = await makeArchive({ 'oci-layout': '{"imageLayoutVersion":"1.0.0"}', 'index.json': JSON.stringify(index), ...blobs });
    const store = env.newStore();
    expect(await store.load(Readable.from([tar]))).toEqual(['Loaded image: localhost/oci:latest', `Loaded image ID: ${amd.configDigest}`]);
    const img = await store.resolve('localhost/oci');
    expect(img?.id).toBe(amd.configDigest);
    expect(await readFile(join(store.layerDirs(img!)[0]!, 'oci'), 'utf8')).toBe('yes');

    // Docker ≥ 25: OCI layout + manifest.json pointing into blobs/ (uncompressed layers).
    const d25 = await makeImage({ layers: [[{ name: 'd25', content: '25' }]] });
    const tar25 = await makeArchive({
      'oci-layout': '{"imageLayoutVersion":"1.0.0"}',
      'index.json': JSON.stringify({ schemaVersion: 2, manifests: [] }),
      [`blobs/sha256/${d25.configDigest.slice(7)}`]: d25.configBytes,
      [`blobs/sha256/${d25.diffIds[0]!.slice(7)}`]: d25.tars[0]!,
      'manifest.json': JSON.stringify([
        { Config: `blobs/sha256/${d25.configDigest.slice(7)}`, RepoTags: ['d25:latest'], Layers: [`blobs/sha256/${d25.diffIds[0]!.slice(7)}`] },
      ]),
    });
    expect(await store.load(Readable.from([tar25]))).toEqual(['Loaded image: d25:latest']);
  });

  test('bad archives', async () => {
    const store = env.newStore();
    await expect(store.load(Readable.from([await makeArchive({ 'hello.txt': 'hi' })]))).rejects.toThrow(/neither manifest.json/);
    await expect(store.load(Readable.from([await makeTar([{ name: '../x', content: 'x' }])]))).rejects.toThrow(/invalid image archive/);
    const { img } = await dockerArchive();
    const wrong = await makeArchive({
      'c.json': img.configBytes,
      'l0.tar': img.tars[1]!,
      'l1.tar': img.tars[1]!,
      'l2.tar': img.tars[1]!,
      'manifest.json': JSON.stringify([{ Config: 'c.json', RepoTags: ['wrong:1'], Layers: ['l0.tar', 'l1.tar', 'l2.tar'] }]),
    });
    await expect(store.load(Readable.from([wrong]))).rejects.toThrow(/digest mismatch/);
    expect(await store.resolve('wrong:1')).toBeUndefined();
    expect(await readdir(join(store.root, 'tmp'))).toEqual([]);
  });
});

describe('push', () => {
  test('a loaded image (plain tar layers) is pushed gzipped and pulls back identical', async () => {
    const img = await makeImage({ layers: [[{ name: 'pushed', content: 'p'.repeat(3000) }], [{ name: 'second', content: 's' }]] });
    const archive = await makeArchive({
      'c.json': img.configBytes,
      'l0.tar': img.tars[0]!,
      'l1.tar': img.tars[1]!,
      'manifest.json': JSON.stringify([{ Config: 'c.json', RepoTags: ['local/pushme:1'], Layers: ['l0.tar', 'l1.tar'] }]),
    });
    const store = env.newStore();
    await store.load(Readable.from([archive]));
    const target = `${env.reg.host}/tscompose-test/x:1`;
    await store.tag('local/pushme:1', target);
    env.reg.requireAuth = true;
    try {
      const events: ImageProgress[] = [];
      await store.push(target, { onProgress: (e) => events.push(e) });
      expect(env.reg.tokenScopes).toContain('repository:tscompose-test/x:pull,push');
      const pushed = env.reg.manifests.get('tscompose-test/x:1')!;
      expect(pushed.mediaType).toBe(MT.dockerManifest);
      const m = JSON.parse(pushed.bytes.toString()) as { config: { digest: string }; layers: { mediaType: string; digest: string }[] };
      expect(m.config.digest).toBe(img.configDigest);
      expect(m.layers.every((l) => l.mediaType === MT.dockerLayerGzip)).toBe(true);
      for (const l of m.layers)
        expect(
          env.reg.blobs
            .get(l.digest)!
            .subarray(0, 2)
            .equals(Buffer.from([0x1f, 0x8b])),
        ).toBe(true);
      expect(events.map((e) => e.status)).toContain('Pushed');
      expect(events[events.length - 1]!.status).toBe(`1: digest: ${sha256(pushed.bytes)} size: ${pushed.bytes.length}`);
      expect((await store.resolve(target))?.repoDigests).toEqual([`${env.reg.host}/tscompose-test/x@${sha256(pushed.bytes)}`]);

      // Pushing again: the blobs exist.
      const again: ImageProgress[] = [];
      await store.push(target, { onProgress: (e) => again.push(e) });
      expect(again.filter((e) => e.layer && e.status !== 'Preparing').every((e) => e.status === 'Layer already exists')).toBe(true);

      const fresh = env.newStore();
      const back = await fresh.pull(target);
      expect(back.id).toBe(img.configDigest);
      expect(await readFile(join(fresh.layerDirs(back)[0]!, 'pushed'), 'utf8')).toBe('p'.repeat(3000));
      // A pulled image pushes its original manifest to another repository.
      await fresh.tag(target, `${env.reg.host}/tscompose-test/copy:2`);
      await fresh.push(`${env.reg.host}/tscompose-test/copy:2`);
      expect(env.reg.manifests.get('tscompose-test/copy:2')!.bytes.equals(pushed.bytes)).toBe(true);
    } finally {
      env.reg.requireAuth = false;
    }
    await expect(store.push(`${env.reg.host}/not/local:1`)).rejects.toThrow(ImageNotFoundError);
  });
});

describe('overlay lower dirs', () => {
  test('150 layers fit one page, top first, links resolve to the layer dirs', async () => {
    const layers = Array.from({ length: 150 }, (_, i) => [{ name: `f${i}`, content: String(i) }]);
    const img = await makeImage({ layers });
    const files: Record<string, Buffer> = { 'c.json': img.configBytes };
    img.tars.forEach((t, i) => (files[`l${i}.tar`] = t));
    files['manifest.json'] = Buffer.from(JSON.stringify([{ Config: 'c.json', RepoTags: ['many:1'], Layers: img.tars.map((_, i) => `l${i}.tar`) }]));
    const store = env.newStore();
    await store.load(Readable.from([await makeArchive(files)]));
    const stored = (await store.resolve('many:1'))!;
    const { cwd, lowerdir } = store.overlayLowerdir(stored);
    expect(cwd).toBe(store.root);
    const option = `lowerdir=${lowerdir},upperdir=/var/lib/tscompose/containers/0123456789abcdef/upper,workdir=/var/lib/tscompose/containers/0123456789abcdef/work`;
    expect(option.length).toBeLessThan(4096);
    const parts = lowerdir.split(':');
    expect(parts).toHaveLength(150);
    const dirs = store.layerDirs(stored);
    expect(await realpath(join(cwd, parts[0]!))).toBe(await realpath(dirs[149]!));
    expect(await realpath(join(cwd, parts[149]!))).toBe(await realpath(dirs[0]!));
    expect(await readlink(join(cwd, parts[0]!))).toMatch(/^\.\.\/layers\/[a-f0-9]{64}\/diff$/);
  });
});

test('zstd layer blobs give a clear error', async () => {
  const img = await makeImage();
  const zstd = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3, 4]);
  const d = env.reg.addBlob(zstd);
  const manifest = { ...img.manifest, layers: [{ mediaType: MT.ociLayerZstd, digest: d, size: zstd.length }] };
  env.reg.addBlob(img.configBytes);
  env.reg.addManifest('zstd/img', 'latest', MT.ociManifest, Buffer.from(JSON.stringify(manifest)));
  await expect(env.newStore().pull(`${env.reg.host}/zstd/img`)).rejects.toThrow(/zstd-compressed/);
});
