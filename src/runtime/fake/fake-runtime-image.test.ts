import { describe, expect, test } from '@jest/globals';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { extract, pack } from 'tar-stream';
import { ConflictError, NotFoundError } from '../errors.js';
import { FakeRuntime } from './fake-runtime.js';

async function bytes(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(Buffer.isBuffer(c) ? c : Buffer.from(c as string));
  return Buffer.concat(parts);
}

async function entries(tar: Buffer): Promise<Map<string, string>> {
  const ex = extract();
  Readable.from([tar]).pipe(ex);
  const out = new Map<string, string>();
  for await (const e of ex) out.set(e.header.name, (await bytes(e as unknown as Readable)).toString('utf8'));
  return out;
}

/** A docker-archive as `docker save` (Docker ≥ 25: config under blobs/sha256) would write it. */
async function archive(images: { hex: string; tags: string[] | null; labels?: Record<string, string> }[]): Promise<Buffer> {
  const p = pack();
  for (const i of images) p.entry({ name: `blobs/sha256/${i.hex}` }, JSON.stringify({ config: { Labels: i.labels ?? null } }));
  p.entry({ name: 'manifest.json' }, JSON.stringify(images.map((i) => ({ Config: `blobs/sha256/${i.hex}`, RepoTags: i.tags, Layers: [] }))));
  p.finalize();
  return bytes(Readable.from(p as unknown as AsyncIterable<Buffer>));
}

const HEX = (c: string): string => c.repeat(64);

describe('FakeRuntime image tools', () => {
  test('save writes a docker-archive that load reads back (same id, tags)', async () => {
    const rt = new FakeRuntime({ images: { 'busybox:latest': 'sha256:' + HEX('a'), 'redis:7': 'sha256:' + HEX('b') } });
    await rt.tagImage('busybox:latest', 'mine:1');
    const tar = await bytes(await rt.saveImage(['busybox', 'mine:1']));
    const files = await entries(tar);
    expect(JSON.parse(files.get('manifest.json')!)).toEqual([{ Config: `${HEX('a')}.json`, RepoTags: ['busybox:latest', 'mine:1'], Layers: [] }]);
    expect(JSON.parse(files.get('repositories')!)).toEqual({ busybox: { latest: HEX('a') }, mine: { '1': HEX('a') } });
    expect(files.has(`${HEX('a')}.json`)).toBe(true);

    const other = new FakeRuntime();
    expect(await other.loadImage(Readable.from([tar]))).toEqual({ loaded: ['Loaded image: busybox:latest', 'Loaded image: mine:1'] });
    expect((await other.inspectImage('mine:1')).id).toBe('sha256:' + HEX('a'));
    expect(other.eventLog.map((e) => `${e.type} ${e.action}`)).toEqual(['image load']);
    // gzip-compressed archives load too
    const third = new FakeRuntime();
    expect((await third.loadImage(Readable.from([gzipSync(tar)]))).loaded).toHaveLength(2);
  });

  test('save: NotFound for a missing image; an id saves without RepoTags', async () => {
    const rt = new FakeRuntime({ images: { 'busybox:latest': 'sha256:' + HEX('a') } });
    await expect(rt.saveImage(['busybox', 'nope:1'])).rejects.toBeInstanceOf(NotFoundError);
    const files = await entries(await bytes(await rt.saveImage([HEX('a').slice(0, 12)])));
    expect(JSON.parse(files.get('manifest.json')!)[0].RepoTags).toBeNull();
  });

  test('load: Docker ≥ 25 layout, untagged images, a moved tag leaves the old image dangling', async () => {
    const rt = new FakeRuntime({ images: { 'app:1': 'sha256:' + HEX('1') } });
    const res = await rt.loadImage(
      Readable.from([
        await archive([
          { hex: HEX('2'), tags: ['app:1'], labels: { a: 'b' } },
          { hex: HEX('3'), tags: null },
        ]),
      ]),
    );
    expect(res.loaded).toEqual(['Loaded image: app:1', `Loaded image ID: sha256:${HEX('3')}`]);
    expect((await rt.inspectImage('app:1')).id).toBe('sha256:' + HEX('2'));
    const listed = await rt.listImages();
    expect(listed.map((i) => [i.id, i.repoTags])).toEqual([
      ['sha256:' + HEX('2'), ['app:1']],
      ['sha256:' + HEX('1'), []],
      ['sha256:' + HEX('3'), []],
    ]);
    expect(listed[0]!.labels).toEqual({ a: 'b' });
  });

  test('load: not a tar, or a tar without manifest.json, is TSC_IMAGE_LOAD', async () => {
    const rt = new FakeRuntime();
    await expect(rt.loadImage(Readable.from([Buffer.from('hello')]))).rejects.toMatchObject({ code: 'TSC_IMAGE_LOAD' });
    const p = pack();
    p.entry({ name: 'x' }, 'y');
    p.finalize();
    const tar = await bytes(Readable.from(p as unknown as AsyncIterable<Buffer>));
    await expect(rt.loadImage(Readable.from([tar]))).rejects.toMatchObject({
      code: 'TSC_IMAGE_LOAD',
      message: expect.stringContaining('manifest.json'),
    });
  });

  test('prune: dangling ones only; with all, every image no container uses', async () => {
    const rt = new FakeRuntime({ images: { 'used:1': 'sha256:' + HEX('1'), 'idle:1': 'sha256:' + HEX('2') } });
    await rt.createContainer({ name: 'c', image: 'used:1', labels: {} });
    await rt.loadImage(Readable.from([await archive([{ hex: HEX('3'), tags: null }])]));
    expect(await rt.pruneImages()).toEqual({ deleted: ['sha256:' + HEX('3')], reclaimedBytes: 1024 });
    expect(await rt.pruneImages()).toEqual({ deleted: [], reclaimedBytes: 0 });
    expect(await rt.pruneImages({ all: true })).toEqual({ deleted: ['idle:1', 'sha256:' + HEX('2')], reclaimedBytes: 1024 });
    expect((await rt.listImages()).map((i) => i.repoTags)).toEqual([['used:1']]);
  });

  test('inspectImageDetails: by name, id or short id; NotFound', async () => {
    const rt = new FakeRuntime({ images: { 'busybox:latest': 'sha256:' + HEX('a') } });
    await rt.tagImage('busybox:latest', 'mine:1');
    const d = await rt.inspectImageDetails('busybox');
    expect(d).toMatchObject({
      id: 'sha256:' + HEX('a'),
      repoTags: ['busybox:latest', 'mine:1'],
      sizeBytes: 1024,
      created: '2020-01-01T00:00:00.000Z',
      config: { labels: {} },
    });
    expect((await rt.inspectImageDetails(HEX('a').slice(0, 12))).id).toBe(d.id);
    await expect(rt.inspectImageDetails('nope')).rejects.toBeInstanceOf(NotFoundError);
  });

  test('removeImage by id removes every name; refused without force across repositories', async () => {
    const rt = new FakeRuntime({
      images: { 'a:1': 'sha256:' + HEX('a'), 'a:2': 'sha256:' + HEX('a'), 'b:1': 'sha256:' + HEX('b'), 'c:latest': 'sha256:' + HEX('b') },
    });
    await rt.removeImage(HEX('a').slice(0, 12));
    await expect(rt.inspectImage('a:1')).rejects.toBeInstanceOf(NotFoundError);
    await expect(rt.removeImage('sha256:' + HEX('b'))).rejects.toBeInstanceOf(ConflictError);
    await rt.removeImage('c');
    expect((await rt.listImages()).map((i) => i.repoTags)).toEqual([['b:1']]);
    await rt.removeImage('sha256:' + HEX('b'), { force: true });
    expect(await rt.listImages()).toEqual([]);
  });
});
