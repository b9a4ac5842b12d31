import { describe, expect, test } from '@jest/globals';
import { existsSync } from 'node:fs';
import { lutimes, mkdir, readdir, readFile, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { collect, useStoreEnv } from '../__fixtures__/store-env.js';
import { digestLayer, writeLayer } from './diff.js';

const env = useStoreEnv();

async function upperDir(name: string): Promise<string> {
  const d = join(env.dir, name);
  await mkdir(join(d, 'app/sub'), { recursive: true });
  await writeFile(join(d, 'app/a.txt'), 'alpha\n');
  await writeFile(join(d, 'app/sub/b.bin'), Buffer.alloc(70_000, 7));
  await symlink('a.txt', join(d, 'app/link'));
  // fixed times: the tar (and so the DiffID) holds mtimes, and two directories made a second apart would differ
  const t = new Date('2026-01-01T00:00:00Z');
  await lutimes(join(d, 'app/link'), t, t);
  for (const f of ['app/a.txt', 'app/sub/b.bin', 'app/sub', 'app', '.']) await utimes(join(d, f), t, t);
  return d;
}

describe('adopting an upper directory as a layer', () => {
  test('the directory moves into the store; its tar (for save and push) hashes to the DiffID computed before', async () => {
    const store = env.newStore();
    const upper = await upperDir('up1');
    // the same DiffID as writing the tar would give
    const written = await writeLayer(await upperDir('up1-copy'), join(env.dir, 'l.tar'));
    expect((await digestLayer(upper)).diffId).toBe(written.diffId);

    const layer = (await store.adoptLayer(upper))!;
    expect(layer.diffId).toBe(written.diffId);
    expect(layer.chainId).toBe(layer.diffId);
    expect(layer.size).toBe(6 + 70_000);
    expect(existsSync(upper)).toBe(false);
    expect(await readFile(join(store.layerDirs({ layers: [layer] })[0]!, 'app/a.txt'), 'utf8')).toBe('alpha\n');

    const config = {
      architecture: 'amd64',
      os: 'linux',
      config: { Cmd: ['/app/a.txt'] },
      rootfs: { type: 'layers', diff_ids: [layer.diffId] },
      history: [{ created_by: 'COPY . /app # buildkit' }],
    };
    await store.addImage(config, ['adopted/app:1']);

    // save → load into another store: the tar made from the directory verifies
    const archive = await collect(await store.save(['adopted/app:1']));
    const other = env.newStore();
    await other.load(Readable.from([archive]));
    expect((await other.resolve('adopted/app:1'))!.config.rootfs.diff_ids).toEqual([layer.diffId]);

    // push: a gzip blob is made on the way and recorded
    await store.tag('adopted/app:1', `${env.reg.host}/adopted/app:1`);
    await store.push(`${env.reg.host}/adopted/app:1`);
    expect(env.reg.manifests.has('adopted/app:1')).toBe(true);
    expect((await readdir(join(store.root, 'distribution'))).length).toBe(1);
  });

  test('a layer the store already has leaves the directory where it was', async () => {
    const store = env.newStore();
    const first = (await store.adoptLayer(await upperDir('up2')))!;
    const again = await upperDir('up3');
    expect((await store.adoptLayer(again))!.chainId).toBe(first.chainId);
    expect(existsSync(again)).toBe(true);
  });
});
