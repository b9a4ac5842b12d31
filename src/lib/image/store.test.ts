import { describe, expect, test } from '@jest/globals';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { ImageNotFoundError, ImagePullError } from './errors.js';
import { parsePlatform, selectManifest, type ImageProgress } from './store.js';
import { makeImage } from './__fixtures__/images.js';
import { MT } from './types.js';
import { collect, useStoreEnv } from './__fixtures__/store-env.js';

const env = useStoreEnv();

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
    const digest = env.reg.addImage('auth/app', 'v1', img);
    env.reg.requireAuth = true;
    env.reg.redirectBlobs = true;
    try {
      const store = env.newStore();
      const events: ImageProgress[] = [];
      const got = await store.pull(`${env.reg.host}/auth/app:v1`, { onProgress: (e) => events.push(e) });
      expect(got.id).toBe(img.configDigest);
      expect(got.repoTags).toEqual([`${env.reg.host}/auth/app:v1`]);
      expect(got.repoDigests).toEqual([`${env.reg.host}/auth/app@${digest}`]);
      expect(got.config.config?.Cmd).toEqual(['/bin/sh']);
      expect(got.layers.map((l) => l.diffId)).toEqual(img.diffIds);
      expect(got.layers.map((l) => l.chainId)).toEqual(img.chainIds);
      expect(got.created).toBe(Date.parse('2024-01-02T03:04:05Z'));
      expect(got.size).toBe(10 + 26 + 2);
      const [l0, l1] = store.layerDirs(got);
      expect(await readFile(join(l0!, 'bin/busybox'), 'utf8')).toBe('#!/bin/sh\n');
      expect(existsSync(join(l1!, 'etc/.wh.passwd'))).toBe(false);
      expect(env.reg.tokenScopes).toContain('repository:auth/app:pull');
      expect(env.reg.storageAuth.length).toBeGreaterThan(0);
      expect(env.reg.storageAuth.every((a) => a === undefined)).toBe(true);
      const statuses = events.map((e) => e.status);
      expect(statuses[0]).toBe('Pulling from ' + `${env.reg.host}/auth/app`);
      expect(statuses).toContain('Pull complete');
      expect(statuses).toContain(`Digest: ${digest}`);
      expect(statuses[statuses.length - 1]).toBe(`Status: Downloaded newer image for ${env.reg.host}/auth/app:v1`);
      // Blobs are stored by digest; nothing left in tmp.
      expect(existsSync(join(store.root, 'blobs/sha256', img.manifest.layers[0]!.digest.slice(7)))).toBe(true);
      expect(await readdir(join(store.root, 'tmp'))).toEqual([]);

      // Again: everything is there already.
      const again: ImageProgress[] = [];
      await store.pull(`${env.reg.host}/auth/app:v1`, { onProgress: (e) => again.push(e) });
      expect(again.filter((e) => e.layer).every((e) => e.status === 'Already exists')).toBe(true);
      expect(again[again.length - 1]!.status).toMatch(/Image is up to date/);
    } finally {
      env.reg.requireAuth = false;
      env.reg.redirectBlobs = false;
    }
  });

  test('manifest list: default platform and --platform linux/arm64', async () => {
    const amd = await makeImage({ arch: 'amd64', layers: [[{ name: 'arch', content: 'amd64' }]] });
    const arm = await makeImage({ arch: 'arm64', oci: true, layers: [[{ name: 'arch', content: 'arm64' }]] });
    const indexDigest = env.reg.addIndex('multi', 'latest', [amd, arm]);
    const store = env.newStore();
    const a = await store.pull(`${env.reg.host}/multi`, { platform: 'linux/amd64' });
    expect(a.config.architecture).toBe('amd64');
    expect(a.repoDigests).toEqual([`${env.reg.host}/multi@${indexDigest}`]);
    const b = await store.pull(`${env.reg.host}/multi`, { platform: 'linux/arm64' });
    expect(b.config.architecture).toBe('arm64');
    expect(await readFile(join(store.layerDirs(b)[0]!, 'arch'), 'utf8')).toBe('arm64');
    // The tag moved to the arm64 image.
    expect((await store.resolve(`${env.reg.host}/multi:latest`))?.id).toBe(arm.configDigest);
    await expect(store.pull(`${env.reg.host}/multi`, { platform: 'linux/s390x' })).rejects.toThrow(/no matching manifest for linux\/s390x/);
  });

  test('a blob whose bytes do not match its digest is rejected', async () => {
    const img = await makeImage({ layers: [[{ name: 'f', content: 'genuine' }]] });
    env.reg.addImage('bad/digest', 'v1', img);
    // Same tar, different gzip bytes: the DiffID matches, the blob digest does not.
    env.reg.corrupt.set(img.manifest.layers[0]!.digest, gzipSync(img.tars[0]!, { level: 1 }));
    const store = env.newStore();
    const err = await store.pull(`${env.reg.host}/bad/digest:v1`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImagePullError);
    expect((err as Error).message).toMatch(/digest mismatch/);
    expect(await readdir(join(store.root, 'layers'))).toEqual([]);
    expect(await readdir(join(store.root, 'tmp'))).toEqual([]);
    expect(await store.resolve(`${env.reg.host}/bad/digest:v1`)).toBeUndefined();

    // Other content entirely: the DiffID check fails.
    const other = await makeImage({ layers: [[{ name: 'f', content: 'evil' }]] });
    env.reg.corrupt.set(img.manifest.layers[0]!.digest, other.blobs[0]!);
    await expect(store.pull(`${env.reg.host}/bad/digest:v1`)).rejects.toThrow(/digest mismatch/);
    env.reg.corrupt.clear();
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
      env.reg.addImage('evil/img', 'latest', img);
      const store = env.newStore();
      const err = await store.pull(`${env.reg.host}/evil/img`).catch((e: unknown) => e);
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
    const store = env.newStore();
    await expect(store.pull(`${env.reg.host}/library/busybox:nope`)).rejects.toThrow(
      `pulling ${env.reg.host}/library/busybox:nope: manifest for ${env.reg.host}/library/busybox:nope not found: manifest unknown`,
    );
    const err = await store.pull(`${env.closed}/foo:1`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImagePullError);
    expect((err as Error).message).toBe(
      `pulling ${env.closed}/foo:1: Get "http://${env.closed}/v2/foo/manifests/1": connect ECONNREFUSED ${env.closed}`,
    );
  });

  test('docker.io names go to mirrors first (library/ prefix), then to the hub', async () => {
    const img = await makeImage({ layers: [[{ name: 'bb', content: 'busybox' }]] });
    env.reg.addImage('library/mirrored', 'latest', img);
    const viaMirror = env.newStore({ mirrors: [`http://${env.closed}`, env.reg.url], dockerHubUrl: `http://${env.closed}` });
    const a = await viaMirror.pull('mirrored');
    expect(a.repoTags).toEqual(['mirrored:latest']);
    expect(a.repoDigests).toEqual([`mirrored@${img.manifestDigest}`]);
    expect(env.reg.log).toContain('GET /v2/library/mirrored/manifests/latest');
    expect((await viaMirror.resolve('docker.io/library/mirrored:latest'))?.id).toBe(img.configDigest);

    const viaHub = env.newStore({ mirrors: [`http://${env.closed}`], dockerHubUrl: env.reg.url });
    expect((await viaHub.pull('mirrored')).id).toBe(img.configDigest);

    const nowhere = env.newStore({ mirrors: [env.reg.url], dockerHubUrl: `http://${env.closed}` });
    await expect(nowhere.pull('notthere')).rejects.toThrow(/manifest for notthere:latest not found: manifest unknown .*tried/);
  });

  test('concurrent pulls of images sharing layers', async () => {
    const base: { name: string; content: string }[] = [{ name: 'base', content: 'shared' }];
    const one = await makeImage({ layers: [base, [{ name: 'one', content: '1' }]] });
    const two = await makeImage({ layers: [base, [{ name: 'two', content: '2' }]], cmd: ['two'] });
    env.reg.addImage('share/one', 'latest', one);
    env.reg.addImage('share/two', 'latest', two);
    const store = env.newStore();
    const [a, b, c] = await Promise.all([
      store.pull(`${env.reg.host}/share/one`),
      store.pull(`${env.reg.host}/share/two`),
      store.pull(`${env.reg.host}/share/one`),
    ]);
    expect(a.layers[0]!.chainId).toBe(b.layers[0]!.chainId);
    expect(c.id).toBe(a.id);
    expect((await readdir(join(store.root, 'layers'))).length).toBe(3);
    expect(await readdir(join(store.root, 'tmp'))).toEqual([]);
  });

  test('a layer in place without its link (an install killed in between): a pull or load makes the link again', async () => {
    const img = await makeImage({ layers: [[{ name: 'a', content: 'a' }], [{ name: 'b', content: 'b' }]] });
    env.reg.addImage('links/img', 'latest', img);
    const store = env.newStore();
    const pulled = await store.pull(`${env.reg.host}/links/img`);
    const links = store
      .overlayLowerdir(pulled)
      .lowerdir.split(':')
      .map((p) => join(store.root, p));
    const expectLinks = async (): Promise<void> => {
      for (const l of links) expect(await readlink(l)).toMatch(/^\.\.\/layers\/[a-f0-9]{64}\/diff$/);
    };
    await expectLinks();
    for (const l of links) await rm(l);
    await store.pull(`${env.reg.host}/links/img`); // every layer "Already exists"
    await expectLinks();
    // a load of the same layers (load-save.ts), through content.installLayer
    const archive = await collect(await store.save([`${env.reg.host}/links/img`]));
    await rm(links[0]!);
    await store.load(Readable.from([archive]));
    await expectLinks();
  });
});

describe('names, resolve, gc', () => {
  test('resolve spellings, tag, untag, removeImage, gc', async () => {
    const img = await makeImage({ layers: [[{ name: 'x', content: 'x'.repeat(1000) }]] });
    env.reg.addImage('library/names', 'latest', img);
    const store = env.newStore({ mirrors: [env.reg.url], dockerHubUrl: `http://${env.closed}` });
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
    env.reg.addImage('gc/a', '1', a);
    const store = env.newStore();
    const img = await store.pull(`${env.reg.host}/gc/a:1`);
    expect(await store.gc()).toBe(0);
    expect(store.layerDirs(img).every((d) => existsSync(d))).toBe(true);
  });
});
