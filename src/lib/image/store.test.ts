import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, readlink, realpath, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import tarStream from 'tar-stream';
import { sha256 } from './digest.js';
import { ImageNotFoundError, ImagePullError } from './errors.js';
import { FakeRegistry } from './__fixtures__/fake-registry.js';
import { ImageStore, parsePlatform, selectManifest, type ImageProgress } from './store.js';
import { makeArchive, makeImage, makeTar } from './__fixtures__/images.js';
import { MT } from './types.js';

let dir: string;
let reg: FakeRegistry;
/** A local port nobody listens on. */
let closed: string;
let n = 0;
const newStore = (extra: Partial<ConstructorParameters<typeof ImageStore>[1]> = {}): ImageStore =>
  new ImageStore(join(dir, `store-${n++}`), { mirrors: [], insecure: [], dockerConfigPath: join(dir, 'no-docker-config.json'), ...extra });

async function collect(r: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function untar(b: Buffer): Promise<Map<string, { type: string; body: Buffer; linkname?: string }>> {
  const out = new Map<string, { type: string; body: Buffer; linkname?: string }>();
  const ex = tarStream.extract();
  const done = (async () => {
    for await (const e of ex) {
      out.set(e.header.name, {
        type: e.header.type ?? 'file',
        body: await collect(e),
        ...(e.header.linkname ? { linkname: e.header.linkname } : {}),
      });
    }
  })();
  ex.end(b);
  await done;
  return out;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsc-store-'));
  reg = await new FakeRegistry().start();
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  closed = `127.0.0.1:${(srv.address() as AddressInfo).port}`;
  await new Promise((r) => srv.close(r));
});
afterAll(async () => {
  await reg.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('platforms', () => {
  test('parsePlatform and selectManifest', () => {
    expect(parsePlatform('linux/arm64')).toEqual({ os: 'linux', architecture: 'arm64' });
    expect(parsePlatform('linux/arm/v7')).toEqual({ os: 'linux', architecture: 'arm', variant: 'v7' });
    expect(parsePlatform().os).toBe('linux');
    if (process.arch === 'x64') expect(parsePlatform().architecture).toBe('amd64');
    const d = (architecture: string, variant?: string) => ({
      mediaType: MT.dockerManifest,
      digest: `sha256:${architecture}${variant ?? ''}`,
      size: 1,
      platform: { os: 'linux', architecture, ...(variant ? { variant } : {}) },
    });
    const index = { schemaVersion: 2 as const, manifests: [d('amd64'), d('arm', 'v6'), d('arm', 'v7'), d('arm64', 'v8')] };
    expect(selectManifest(index, { os: 'linux', architecture: 'amd64' })?.digest).toBe('sha256:amd64');
    expect(selectManifest(index, { os: 'linux', architecture: 'arm', variant: 'v7' })?.digest).toBe('sha256:armv7');
    expect(selectManifest(index, { os: 'linux', architecture: 'arm64' })?.digest).toBe('sha256:arm64v8');
    expect(selectManifest(index, { os: 'linux', architecture: 's390x' })).toBeUndefined();
  });
});

describe('pull', () => {
  test('token auth, cross-origin blob redirect without the token, files and metadata', async () => {
    const img = await makeImage({
      layers: [
        [
          { name: 'bin/', type: 'directory' },
          { name: 'bin/busybox', content: '#!/bin/sh\n', mode: 0o755 },
          { name: 'etc/passwd', content: 'root:x:0:0::/root:/bin/sh\n' },
        ],
        [{ name: 'etc/.wh.passwd' }, { name: 'etc/hostname', content: 'x\n' }],
      ],
    });
    const digest = reg.addImage('auth/app', 'v1', img);
    reg.requireAuth = true;
    reg.redirectBlobs = true;
    try {
      const store = newStore();
      const events: ImageProgress[] = [];
      const got = await store.pull(`${reg.host}/auth/app:v1`, { onProgress: (e) => events.push(e) });
      expect(got.id).toBe(img.configDigest);
      expect(got.repoTags).toEqual([`${reg.host}/auth/app:v1`]);
      expect(got.repoDigests).toEqual([`${reg.host}/auth/app@${digest}`]);
      expect(got.config.config?.Cmd).toEqual(['/bin/sh']);
      expect(got.layers.map((l) => l.diffId)).toEqual(img.diffIds);
      expect(got.layers.map((l) => l.chainId)).toEqual(img.chainIds);
      expect(got.created).toBe(Date.parse('2024-01-02T03:04:05Z'));
      expect(got.size).toBe(10 + 26 + 2);
      const [l0, l1] = store.layerDirs(got);
      expect(await readFile(join(l0!, 'bin/busybox'), 'utf8')).toBe('#!/bin/sh\n');
      expect(existsSync(join(l1!, 'etc/.wh.passwd'))).toBe(false);
      expect(reg.tokenScopes).toContain('repository:auth/app:pull');
      expect(reg.storageAuth.length).toBeGreaterThan(0);
      expect(reg.storageAuth.every((a) => a === undefined)).toBe(true);
      const statuses = events.map((e) => e.status);
      expect(statuses[0]).toBe('Pulling from ' + `${reg.host}/auth/app`);
      expect(statuses).toContain('Pull complete');
      expect(statuses).toContain(`Digest: ${digest}`);
      expect(statuses[statuses.length - 1]).toBe(`Status: Downloaded newer image for ${reg.host}/auth/app:v1`);
      // Blobs are stored by digest; nothing left in tmp.
      expect(existsSync(join(store.root, 'blobs/sha256', img.manifest.layers[0]!.digest.slice(7)))).toBe(true);
      expect(await readdir(join(store.root, 'tmp'))).toEqual([]);

      // Again: everything is there already.
      const again: ImageProgress[] = [];
      await store.pull(`${reg.host}/auth/app:v1`, { onProgress: (e) => again.push(e) });
      expect(again.filter((e) => e.layer).every((e) => e.status === 'Already exists')).toBe(true);
      expect(again[again.length - 1]!.status).toMatch(/Image is up to date/);
    } finally {
      reg.requireAuth = false;
      reg.redirectBlobs = false;
    }
  });

  test('manifest list: default platform and --platform linux/arm64', async () => {
    const amd = await makeImage({ arch: 'amd64', layers: [[{ name: 'arch', content: 'amd64' }]] });
    const arm = await makeImage({ arch: 'arm64', oci: true, layers: [[{ name: 'arch', content: 'arm64' }]] });
    const indexDigest = reg.addIndex('multi', 'latest', [amd, arm]);
    const store = newStore();
    const a = await store.pull(`${reg.host}/multi`, { platform: 'linux/amd64' });
    expect(a.config.architecture).toBe('amd64');
    expect(a.repoDigests).toEqual([`${reg.host}/multi@${indexDigest}`]);
    const b = await store.pull(`${reg.host}/multi`, { platform: 'linux/arm64' });
    expect(b.config.architecture).toBe('arm64');
    expect(await readFile(join(store.layerDirs(b)[0]!, 'arch'), 'utf8')).toBe('arm64');
    // The tag moved to the arm64 image.
    expect((await store.resolve(`${reg.host}/multi:latest`))?.id).toBe(arm.configDigest);
    await expect(store.pull(`${reg.host}/multi`, { platform: 'linux/s390x' })).rejects.toThrow(/no matching manifest for linux\/s390x/);
  });

  test('a blob whose bytes do not match its digest is rejected', async () => {
    const img = await makeImage({ layers: [[{ name: 'f', content: 'genuine' }]] });
    reg.addImage('bad/digest', 'v1', img);
    // Same tar, different gzip bytes: the DiffID matches, the blob digest does not.
    reg.corrupt.set(img.manifest.layers[0]!.digest, gzipSync(img.tars[0]!, { level: 1 }));
    const store = newStore();
    const err = await store.pull(`${reg.host}/bad/digest:v1`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImagePullError);
    expect((err as Error).message).toMatch(/digest mismatch/);
    expect(await readdir(join(store.root, 'layers'))).toEqual([]);
    expect(await readdir(join(store.root, 'tmp'))).toEqual([]);
    expect(await store.resolve(`${reg.host}/bad/digest:v1`)).toBeUndefined();

    // Other content entirely: the DiffID check fails.
    const other = await makeImage({ layers: [[{ name: 'f', content: 'evil' }]] });
    reg.corrupt.set(img.manifest.layers[0]!.digest, other.blobs[0]!);
    await expect(store.pull(`${reg.host}/bad/digest:v1`)).rejects.toThrow(/digest mismatch/);
    reg.corrupt.clear();
  });

  test('a malicious layer fails the pull and writes nothing outside', async () => {
    const outside = await mkdtemp(join(tmpdir(), 'outside-'));
    try {
      const img = await makeImage({
        layers: [
          [
            { name: 'a', type: 'symlink', linkname: outside },
            { name: 'a/pwned', content: 'x' },
          ],
        ],
      });
      reg.addImage('evil/img', 'latest', img);
      const store = newStore();
      const err = await store.pull(`${reg.host}/evil/img`).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ImagePullError);
      expect((err as ImagePullError).message).toMatch(/layer rejected: path goes through the symlink "a": "a\/pwned"/);
      expect(((err as ImagePullError).cause as { code: string }).code).toBe('TSC_IMAGE_LAYER_REJECTED');
      expect(await readdir(outside)).toEqual([]);
      expect(await readdir(join(store.root, 'layers'))).toEqual([]);
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });

  test('registry errors read like Docker', async () => {
    const store = newStore();
    await expect(store.pull(`${reg.host}/library/busybox:nope`)).rejects.toThrow(
      `pulling ${reg.host}/library/busybox:nope: manifest for ${reg.host}/library/busybox:nope not found: manifest unknown`,
    );
    const err = await store.pull(`${closed}/foo:1`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImagePullError);
    expect((err as Error).message).toBe(`pulling ${closed}/foo:1: Get "http://${closed}/v2/foo/manifests/1": connect ECONNREFUSED ${closed}`);
  });

  test('docker.io names go to mirrors first (library/ prefix), then to the hub', async () => {
    const img = await makeImage({ layers: [[{ name: 'bb', content: 'busybox' }]] });
    reg.addImage('library/mirrored', 'latest', img);
    const viaMirror = newStore({ mirrors: [`http://${closed}`, reg.url], dockerHubUrl: `http://${closed}` });
    const a = await viaMirror.pull('mirrored');
    expect(a.repoTags).toEqual(['mirrored:latest']);
    expect(a.repoDigests).toEqual([`mirrored@${img.manifestDigest}`]);
    expect(reg.log).toContain('GET /v2/library/mirrored/manifests/latest');
    expect((await viaMirror.resolve('docker.io/library/mirrored:latest'))?.id).toBe(img.configDigest);

    const viaHub = newStore({ mirrors: [`http://${closed}`], dockerHubUrl: reg.url });
    expect((await viaHub.pull('mirrored')).id).toBe(img.configDigest);

    const nowhere = newStore({ mirrors: [reg.url], dockerHubUrl: `http://${closed}` });
    await expect(nowhere.pull('notthere')).rejects.toThrow(/manifest for notthere:latest not found: manifest unknown .*tried/);
  });

  test('concurrent pulls of images sharing layers', async () => {
    const base: { name: string; content: string }[] = [{ name: 'base', content: 'shared' }];
    const one = await makeImage({ layers: [base, [{ name: 'one', content: '1' }]] });
    const two = await makeImage({ layers: [base, [{ name: 'two', content: '2' }]], cmd: ['two'] });
    reg.addImage('share/one', 'latest', one);
    reg.addImage('share/two', 'latest', two);
    const store = newStore();
    const [a, b, c] = await Promise.all([
      store.pull(`${reg.host}/share/one`),
      store.pull(`${reg.host}/share/two`),
      store.pull(`${reg.host}/share/one`),
    ]);
    expect(a.layers[0]!.chainId).toBe(b.layers[0]!.chainId);
    expect(c.id).toBe(a.id);
    expect((await readdir(join(store.root, 'layers'))).length).toBe(3);
    expect(await readdir(join(store.root, 'tmp'))).toEqual([]);
  });
});

describe('names, resolve, gc', () => {
  test('resolve spellings, tag, untag, removeImage, gc', async () => {
    const img = await makeImage({ layers: [[{ name: 'x', content: 'x'.repeat(1000) }]] });
    reg.addImage('library/names', 'latest', img);
    const store = newStore({ mirrors: [reg.url], dockerHubUrl: `http://${closed}` });
    const pulled = await store.pull('names');
    const hex = pulled.id.slice(7);
    for (const s of [
      'names',
      'names:latest',
      'docker.io/library/names',
      'library/names:latest',
      pulled.id,
      hex,
      hex.slice(0, 12),
      'sha256:' + hex.slice(0, 5),
      `names@${img.manifestDigest}`,
    ]) {
      expect((await store.resolve(s))?.id).toBe(pulled.id);
    }
    expect(await store.resolve('names:other')).toBeUndefined();
    expect(await store.resolve(hex.slice(0, 11))).toBeUndefined();

    await store.tag('names', 'localhost:5000/copy:1');
    expect((await store.resolve('localhost:5000/copy:1'))?.repoTags).toEqual(['localhost:5000/copy:1', 'names:latest']);
    await expect(store.tag('nothere', 'x')).rejects.toThrow(ImageNotFoundError);
    expect(await store.list()).toHaveLength(1);

    expect(await store.untag('names')).toEqual({ untagged: ['names:latest'] });
    await expect(store.untag('names')).rejects.toThrow(ImageNotFoundError);
    expect(await store.untag('localhost:5000/copy:1')).toEqual({
      untagged: ['localhost:5000/copy:1', `names@${img.manifestDigest}`],
      deletedId: pulled.id,
    });
    expect(await store.list()).toEqual([]);
    const freed = await store.gc();
    expect(freed).toBeGreaterThanOrEqual(1000);
    expect(await readdir(join(store.root, 'layers'))).toEqual([]);
    expect(await readdir(join(store.root, 'blobs/sha256'))).toEqual([]);
    expect(await readdir(join(store.root, 'l'))).toEqual([]);

    // removeImage drops every name.
    await store.pull('names');
    await store.tag('names', 'other:2');
    await store.removeImage(hex.slice(0, 12));
    expect(await store.resolve('other:2')).toBeUndefined();
    await expect(store.removeImage('nothere')).rejects.toThrow(ImageNotFoundError);
    expect(await store.gc()).toBeGreaterThan(0);
  });

  test('gc keeps what images use', async () => {
    const a = await makeImage({ layers: [[{ name: 'a', content: 'a' }], [{ name: 'b', content: 'b' }]] });
    reg.addImage('gc/a', '1', a);
    const store = newStore();
    const img = await store.pull(`${reg.host}/gc/a:1`);
    expect(await store.gc()).toBe(0);
    expect(store.layerDirs(img).every((d) => existsSync(d))).toBe(true);
  });
});

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
    const store = newStore();
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
    const other = newStore();
    expect(await other.load(Readable.from([gzipSync(saved)]))).toEqual(['Loaded image: fixture/app:1']);
    expect((await other.resolve('fixture/app:1'))?.id).toBe(img.configDigest);

    // save by id gives all names.
    const byId = await untar(await collect(await store.save([img.configDigest])));
    expect(JSON.parse(byId.get('manifest.json')!.body.toString())[0].RepoTags).toEqual(['fixture/app:1', 'localhost/other:2']);
    await expect(store.save(['nope:1'])).rejects.toThrow(ImageNotFoundError);
  });

  test('save of a pulled (gzip) image has plain layer tars', async () => {
    const img = await makeImage({ layers: [[{ name: 'p', content: 'pulled' }]] });
    reg.addImage('save/pulled', 'latest', img);
    const store = newStore();
    await store.pull(`${reg.host}/save/pulled`);
    const files = await untar(await collect(await store.save([`${reg.host}/save/pulled`])));
    const m = JSON.parse(files.get('manifest.json')!.body.toString())[0] as { Layers: string[]; RepoTags: string[] };
    expect(m.RepoTags).toEqual([`${reg.host}/save/pulled:latest`]);
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
    const store = newStore();
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
    const store = newStore();
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
    const store = newStore();
    await store.load(Readable.from([archive]));
    const target = `${reg.host}/tscompose-test/x:1`;
    await store.tag('local/pushme:1', target);
    reg.requireAuth = true;
    try {
      const events: ImageProgress[] = [];
      await store.push(target, { onProgress: (e) => events.push(e) });
      expect(reg.tokenScopes).toContain('repository:tscompose-test/x:pull,push');
      const pushed = reg.manifests.get('tscompose-test/x:1')!;
      expect(pushed.mediaType).toBe(MT.dockerManifest);
      const m = JSON.parse(pushed.bytes.toString()) as { config: { digest: string }; layers: { mediaType: string; digest: string }[] };
      expect(m.config.digest).toBe(img.configDigest);
      expect(m.layers.every((l) => l.mediaType === MT.dockerLayerGzip)).toBe(true);
      for (const l of m.layers)
        expect(
          reg.blobs
            .get(l.digest)!
            .subarray(0, 2)
            .equals(Buffer.from([0x1f, 0x8b])),
        ).toBe(true);
      expect(events.map((e) => e.status)).toContain('Pushed');
      expect(events[events.length - 1]!.status).toBe(`1: digest: ${sha256(pushed.bytes)} size: ${pushed.bytes.length}`);
      expect((await store.resolve(target))?.repoDigests).toEqual([`${reg.host}/tscompose-test/x@${sha256(pushed.bytes)}`]);

      // Pushing again: the blobs exist.
      const again: ImageProgress[] = [];
      await store.push(target, { onProgress: (e) => again.push(e) });
      expect(again.filter((e) => e.layer && e.status !== 'Preparing').every((e) => e.status === 'Layer already exists')).toBe(true);

      const fresh = newStore();
      const back = await fresh.pull(target);
      expect(back.id).toBe(img.configDigest);
      expect(await readFile(join(fresh.layerDirs(back)[0]!, 'pushed'), 'utf8')).toBe('p'.repeat(3000));
      // A pulled image pushes its original manifest to another repository.
      await fresh.tag(target, `${reg.host}/tscompose-test/copy:2`);
      await fresh.push(`${reg.host}/tscompose-test/copy:2`);
      expect(reg.manifests.get('tscompose-test/copy:2')!.bytes.equals(pushed.bytes)).toBe(true);
    } finally {
      reg.requireAuth = false;
    }
    await expect(store.push(`${reg.host}/not/local:1`)).rejects.toThrow(ImageNotFoundError);
  });
});

describe('overlay lower dirs', () => {
  test('150 layers fit one page, top first, links resolve to the layer dirs', async () => {
    const layers = Array.from({ length: 150 }, (_, i) => [{ name: `f${i}`, content: String(i) }]);
    const img = await makeImage({ layers });
    const files: Record<string, Buffer> = { 'c.json': img.configBytes };
    img.tars.forEach((t, i) => (files[`l${i}.tar`] = t));
    files['manifest.json'] = Buffer.from(JSON.stringify([{ Config: 'c.json', RepoTags: ['many:1'], Layers: img.tars.map((_, i) => `l${i}.tar`) }]));
    const store = newStore();
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
  const d = reg.addBlob(zstd);
  const manifest = { ...img.manifest, layers: [{ mediaType: MT.ociLayerZstd, digest: d, size: zstd.length }] };
  reg.addBlob(img.configBytes);
  reg.addManifest('zstd/img', 'latest', MT.ociManifest, Buffer.from(JSON.stringify(manifest)));
  await expect(newStore().pull(`${reg.host}/zstd/img`)).rejects.toThrow(/zstd-compressed/);
});
