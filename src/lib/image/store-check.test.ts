import { describe, expect, test } from '@jest/globals';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readlink, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pidAlive } from '../fs/proc.js';
import { hexOf, shortLinkName } from './digest.js';
import { makeImage } from './__fixtures__/images.js';
import { useStoreEnv } from './__fixtures__/store-env.js';
import { StoreLayout } from './layout.js';
import { checkImageStore } from './store-check.js';
import { findLeftovers, tempOwner } from './store-check-scan.js';

const env = useStoreEnv();

/** A pid no process has. */
function deadPid(): number {
  for (let p = 4_000_000; ; p--) if (!pidAlive(p)) return p;
}

async function pulledStore(tag: string) {
  const img = await makeImage({
    layers: [
      [
        { name: 'bin/', type: 'directory' },
        { name: 'bin/sh', content: '#!/bin/sh\n', mode: 0o755 },
      ],
      [{ name: 'etc/hostname', content: 'x\n' }],
    ],
  });
  env.reg.addImage('check/app', tag, img);
  const store = env.newStore();
  const ref = `${env.reg.host}/check/app:${tag}`;
  await store.pull(ref);
  return { store, img, ref, root: store.root };
}

describe('checkImageStore', () => {
  test('a store that was never made, and a clean one, have no problems', async () => {
    expect((await checkImageStore(join(env.dir, 'nothing'))).issues).toEqual([]);
    const { root } = await pulledStore('clean');
    const r = await checkImageStore(root);
    expect(r.issues).toEqual([]);
    expect(r.counts.images).toBe(1);
    expect(r.counts.layers).toBe(2);
    expect(r.counts.blobs).toBeGreaterThanOrEqual(4);
  });

  test('leftovers of dead writers are found and removed; those of live ones are kept', async () => {
    const { root } = await pulledStore('leftovers');
    const dead = deadPid();
    await mkdir(join(root, 'tmp', `${dead}-abc`, 'diff'), { recursive: true });
    await writeFile(join(root, 'tmp', `${dead}-def.blob`), 'partial');
    await writeFile(join(root, 'tmp', `${process.pid}-live.blob`), 'in progress');
    await writeFile(join(root, 'leases', `${dead}-0a.json`), '["sha256:x"]');
    await writeFile(join(root, `.repositories.json.tmp-${dead}-0abc`), '{"tags":');
    await writeFile(join(root, 'blobs', 'sha256', `.${'a'.repeat(64)}.tmp-${dead}-0abc`), 'half');
    await writeFile(join(root, 'images', `.${'b'.repeat(64)}.json.tmp-${process.pid}-0abc`), 'mine');
    expect(tempOwner(`.x.json.tmp-${dead}-00ff`)).toBe(dead);
    const found = await checkImageStore(root);
    expect(found.issues.map((i) => i.subject).sort()).toEqual(
      [
        `tmp/${dead}-abc`,
        `tmp/${dead}-def.blob`,
        `leases/${dead}-0a.json`,
        `.repositories.json.tmp-${dead}-0abc`,
        `blobs/sha256/.${'a'.repeat(64)}.tmp-${dead}-0abc`,
      ].sort(),
    );
    expect(found.issues.every((i) => i.kind === 'leftover' && !i.repaired)).toBe(true);
    const fixed = await checkImageStore(root, { repair: true });
    expect(fixed.issues.every((i) => i.repaired)).toBe(true);
    expect(await findLeftovers(root)).toEqual([]);
    expect(existsSync(join(root, 'tmp', `${process.pid}-live.blob`))).toBe(true);
    expect((await checkImageStore(root)).issues).toEqual([]);
  });

  test("the store's own sweep removes dead writers' temp files (a write cut off by a full disk)", async () => {
    const { root } = await pulledStore('sweep');
    const dead = deadPid();
    await writeFile(join(root, `.repositories.json.tmp-${dead}-0abc`), '{"tags":');
    await writeFile(join(root, 'images', `.${'b'.repeat(64)}.json.tmp-${dead}-0abc`), '');
    expect((await checkImageStore(root)).issues.map((i) => i.kind)).toEqual(['leftover', 'leftover']);
    await new StoreLayout(root).sweep();
    expect((await checkImageStore(root)).issues).toEqual([]);
  });

  test('a corrupt layer blob is removed on repair; the image keeps working (its unpacked layer stays)', async () => {
    const { store, img, root, ref } = await pulledStore('corrupt-blob');
    const layerBlob = img.manifest.layers[0]!.digest;
    await writeFile(join(root, 'blobs', 'sha256', hexOf(layerBlob)), 'garbage');
    const found = await checkImageStore(root);
    expect(found.issues).toEqual([expect.objectContaining({ kind: 'blob', subject: layerBlob, repaired: false })]);
    expect(found.brokenImages).toEqual([]);
    const fixed = await checkImageStore(root, { repair: true });
    expect(fixed.issues[0]!.repaired).toBe(true);
    expect(existsSync(join(root, 'blobs', 'sha256', hexOf(layerBlob)))).toBe(false);
    expect((await checkImageStore(root)).issues).toEqual([]);
    expect((await store.resolve(ref))?.id).toBe(img.configDigest);
  });

  test('a corrupt config blob is written again from the record when that reproduces it', async () => {
    const { img, root } = await pulledStore('config-restored');
    await writeFile(join(root, 'blobs', 'sha256', hexOf(img.configDigest)), '{"truncated');
    const fixed = await checkImageStore(root, { repair: true });
    expect(fixed.issues.map((i) => [i.kind, i.repaired])).toEqual([
      ['blob', true],
      ['image', true],
    ]);
    expect(await readFile(join(root, 'blobs', 'sha256', hexOf(img.configDigest)))).toEqual(img.configBytes);
    expect((await checkImageStore(root)).issues).toEqual([]);
  });

  test('a corrupt config blob that cannot be made again: removed, the image reported broken until pulled again', async () => {
    const { store, img, root, ref } = await pulledStore('corrupt-config');
    await writeFile(join(root, 'blobs', 'sha256', hexOf(img.configDigest)), '{"truncated');
    // a config whose bytes are not JSON.stringify's output of the record's (keys in another order)
    const record = join(root, 'images', `${hexOf(img.configDigest)}.json`);
    const r = JSON.parse(await readFile(record, 'utf8')) as { config: Record<string, unknown> };
    r.config = Object.fromEntries(Object.entries(r.config).reverse());
    await writeFile(record, JSON.stringify(r));
    const fixed = await checkImageStore(root, { repair: true });
    expect(fixed.issues.find((i) => i.kind === 'blob')).toEqual(expect.objectContaining({ subject: img.configDigest, repaired: true }));
    const left = fixed.issues.filter((i) => !i.repaired);
    expect(left.length).toBeGreaterThan(0);
    expect(left.every((i) => i.hint?.includes('pull or build'))).toBe(true);
    expect(fixed.brokenImages).toEqual([img.configDigest]);
    await store.pull(ref);
    expect((await checkImageStore(root)).issues).toEqual([]);
  });

  test('an incomplete layer is removed, its image reported; a pull brings it back', async () => {
    const { store, img, root, ref } = await pulledStore('incomplete-layer');
    const top = img.chainIds[1]!;
    await rm(join(root, 'layers', hexOf(top), 'layer.json'));
    const found = await checkImageStore(root);
    expect(found.issues.map((i) => [i.kind, i.repaired])).toEqual(
      expect.arrayContaining([
        ['layer', false],
        ['link', false],
        ['image', false],
      ]),
    );
    expect(found.brokenImages).toEqual([img.configDigest]);
    const fixed = await checkImageStore(root, { repair: true });
    expect(existsSync(join(root, 'layers', hexOf(top)))).toBe(false);
    expect(existsSync(join(root, 'l', shortLinkName(top)))).toBe(false);
    expect(fixed.issues.filter((i) => !i.repaired).map((i) => i.kind)).toEqual(['image']);
    await store.pull(ref);
    expect((await checkImageStore(root)).issues).toEqual([]);
  });

  test('links, names, records and build cache entries', async () => {
    const { img, root } = await pulledStore('metadata');
    const bottom = img.chainIds[0]!;
    await unlink(join(root, 'l', shortLinkName(bottom)));
    const names = JSON.parse(await readFile(join(root, 'repositories.json'), 'utf8')) as { tags: Record<string, string> };
    names.tags['docker.io/library/gone:1'] = `sha256:${'c'.repeat(64)}`;
    await writeFile(join(root, 'repositories.json'), JSON.stringify(names));
    const record = join(root, 'images', `${hexOf(img.configDigest)}.json`);
    const good = JSON.parse(await readFile(record, 'utf8')) as { layers: unknown };
    await writeFile(record, '{"id": "sha256:');
    await mkdir(join(root, 'buildcache'), { recursive: true });
    await writeFile(join(root, 'buildcache', `${'d'.repeat(64)}.json`), JSON.stringify({ layers: [{ chainId: `sha256:${'e'.repeat(64)}` }] }));
    await writeFile(join(root, 'buildcache', `${'f'.repeat(64)}.json`), JSON.stringify({ layers: [{ chainId: bottom, diffId: img.diffIds[0] }] }));
    await writeFile(
      join(root, 'buildcache', `image-sha256:${'a'.repeat(64)}.json`),
      JSON.stringify({ created: '2024-01-01T00:00:00Z', history: [] }),
    );
    const found = await checkImageStore(root);
    expect(found.issues.map((i) => i.kind).sort()).toEqual(['buildcache', 'image', 'link', 'name']);
    const fixed = await checkImageStore(root, { repair: true });
    expect(fixed.issues.every((i) => i.repaired)).toBe(true);
    expect(await readlink(join(root, 'l', shortLinkName(bottom)))).toBe(`../layers/${hexOf(bottom)}/diff`);
    expect((JSON.parse(await readFile(record, 'utf8')) as { layers: unknown }).layers).toEqual(good.layers);
    expect(existsSync(join(root, 'buildcache', `${'f'.repeat(64)}.json`))).toBe(true);
    expect(existsSync(join(root, 'buildcache', `image-sha256:${'a'.repeat(64)}.json`))).toBe(true);
    expect((await checkImageStore(root)).issues).toEqual([]);
  });
});
