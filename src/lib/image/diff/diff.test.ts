import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { appendFile, chmod, chown, link, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import tarStream from 'tar-stream';
import { sha256 } from '../digest.js';
import { unpackLayer } from '../layer.js';
import { writeLayer } from './diff.js';
import { LayerDiffError } from './errors.js';
import { comparable, isRoot, mountOverlay, unmount, unmountAll, walkTree } from './__fixtures__/overlay.js';
import { scanUpperDir } from './upper.js';

interface Got {
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  linkname?: string;
  mtime: number;
  pax: Record<string, string>;
}

async function readTar(b: Buffer): Promise<{ names: string[]; byName: Map<string, Got> }> {
  const ex = tarStream.extract();
  const names: string[] = [];
  const byName = new Map<string, Got>();
  const done = (async () => {
    for await (const e of ex) {
      const h = e.header;
      names.push(h.name);
      byName.set(h.name, {
        type: h.type,
        mode: h.mode,
        uid: h.uid,
        gid: h.gid,
        size: h.size,
        mtime: h.mtime.getTime() / 1000,
        pax: (h.pax ?? {}) as Record<string, string>,
        ...(h.linkname ? { linkname: h.linkname } : {}),
      });
      for await (const _ of e) void _;
    }
  })();
  ex.end(b);
  await done;
  return { names, byName };
}

const LONG = `deep/${'d'.repeat(60)}/${'e'.repeat(60)}/file-with-a-long-name.txt`;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsc-diff-'));
});
afterEach(() => unmountAll());
afterAll(async () => {
  unmountAll();
  await rm(dir, { recursive: true, force: true });
});

test("an empty upper directory is the empty layer (Docker's well-known DiffID of two zero blocks)", async () => {
  const up = join(dir, 'empty');
  await mkdir(up);
  const r = await writeLayer(up, join(dir, 'empty.tar'));
  expect(r).toMatchObject({ entries: 0, tarSize: 1024, diffId: 'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef' });
  await expect(writeLayer(join(dir, 'missing'), join(dir, 'missing.tar'))).rejects.toThrow(LayerDiffError);
});

const maybe = isRoot ? describe : describe.skip;

maybe('an overlay upper directory as a layer (root)', () => {
  test('the tar has the changes; applied over the lower it gives the same merged view', async () => {
    const lower = join(dir, 'lower');
    const upper = join(dir, 'upper');
    const work = join(dir, 'work');
    const merged = join(dir, 'merged');
    for (const d of ['etc', 'olddir/sub', 'data', 'bin', 'tmp']) await mkdir(join(lower, d), { recursive: true });
    await chmod(join(lower, 'tmp'), 0o1777);
    await writeFile(join(lower, 'etc/keep'), 'keep\n', { mode: 0o644 });
    await writeFile(join(lower, 'etc/mod'), 'one\n');
    await writeFile(join(lower, 'etc/gone'), 'gone\n');
    await writeFile(join(lower, 'olddir/a'), 'a');
    await writeFile(join(lower, 'olddir/sub/b'), 'b');
    await writeFile(join(lower, 'data/owned'), 'owned');
    await writeFile(join(lower, 'bin/tool'), '#!/bin/sh\n', { mode: 0o755 });
    await mkdir(upper);
    await mkdir(work);
    await mountOverlay(merged, [lower], { upper, work });

    const m = (p: string): string => join(merged, p);
    await mkdir(m('new/dir'), { recursive: true });
    await writeFile(m('new/file.txt'), 'new file\n');
    await link(m('new/file.txt'), m('new/hard.txt'));
    await writeFile(m('new/suid'), 'x', { mode: 0o755 });
    await chmod(m('new/suid'), 0o4755);
    await writeFile(m('new/zero'), 'z');
    await chmod(m('new/zero'), 0);
    await writeFile(m('new/é-ünï.txt'), 'utf8 name');
    await mkdir(m(LONG.slice(0, LONG.lastIndexOf('/'))), { recursive: true });
    await writeFile(m(LONG), 'long');
    expect(spawnSync('mkfifo', [m('new/pipe')]).status).toBe(0);
    await appendFile(m('etc/mod'), 'two\n');
    await chmod(m('etc/keep'), 0o600);
    await chown(m('data/owned'), 1234, 5678);
    await rm(m('etc/gone'));
    await rm(m('olddir'), { recursive: true });
    await mkdir(m('olddir'));
    await writeFile(m('olddir/c'), 'c');
    await mkdir(m('links'));
    await symlink('../etc/mod', m('links/rel'));
    await symlink('/bin/tool', m('links/abs'));
    await writeFile(m('tmp/t'), 't');
    const before = await walkTree(merged);
    unmount(merged);

    const file = join(dir, 'layer.tar');
    const r = await writeLayer(upper, file);
    const tar = await readFile(file);
    expect(r.diffId).toBe(sha256(tar));
    expect(r.digest).toBe(r.diffId);
    expect(r.tarSize).toBe(tar.length);
    expect(tar.includes('trusted.overlay')).toBe(false);
    const { names, byName } = await readTar(tar);
    expect(names).toEqual([
      'data/',
      'data/owned',
      'deep/',
      `${LONG.split('/').slice(0, 2).join('/')}/`,
      `${LONG.split('/').slice(0, 3).join('/')}/`,
      LONG,
      'etc/',
      'etc/.wh.gone',
      'etc/keep',
      'etc/mod',
      'links/',
      'links/abs',
      'links/rel',
      'new/',
      'new/dir/',
      'new/file.txt',
      'new/hard.txt',
      'new/pipe',
      'new/suid',
      'new/zero',
      'new/é-ünï.txt',
      'olddir/',
      'olddir/.wh..wh..opq',
      'olddir/c',
      'tmp/',
      'tmp/t',
    ]);
    const g = (n: string): Got => byName.get(n)!;
    expect(g('etc/.wh.gone')).toMatchObject({ type: 'file', size: 0, mode: 0o600 });
    expect(g('olddir/.wh..wh..opq')).toMatchObject({ type: 'file', size: 0, mode: 0o755 });
    expect(g('etc/keep').mode).toBe(0o600);
    expect(g('etc/mod')).toMatchObject({ type: 'file', size: 8 });
    expect(g('data/owned')).toMatchObject({ uid: 1234, gid: 5678 });
    expect(g('new/suid').mode).toBe(0o4755);
    expect(g('new/zero').mode).toBe(0);
    expect(g('tmp/').mode).toBe(0o1777);
    expect(g('new/hard.txt')).toMatchObject({ type: 'link', linkname: 'new/file.txt' });
    expect(g('links/rel')).toMatchObject({ type: 'symlink', linkname: '../etc/mod' });
    expect(g('new/pipe').type).toBe('fifo');
    for (const [name, e] of byName) {
      expect(Object.keys(e.pax).filter((k) => k.startsWith('SCHILY.xattr.'))).toEqual([]);
      expect(name.startsWith('PaxHeaders')).toBe(false);
    }

    // Apply: the store's unpacker turns the whiteouts back into overlay ones; lower + layer = the merged view.
    const layerDir = join(dir, 'layer');
    const u = await unpackLayer(createReadStream(file), layerDir, { expectedDiffId: r.diffId });
    expect(u.diffId).toBe(r.diffId);
    const view = join(dir, 'view');
    await mountOverlay(view, [layerDir, lower]);
    const after = await walkTree(view);
    unmount(view);
    expect(comparable(after)).toEqual(comparable(before));
    expect(after.get('new/hard.txt')!.ino).toBe(after.get('new/file.txt')!.ino);
    expect(after.has('etc/gone')).toBe(false);
    expect(after.has('olddir/a')).toBe(false);
    expect(after.get('olddir/c')?.type).toBe('file');

    // The same upper directory always gives the same layer; gzip gives a blob digest of its own.
    const again = await writeLayer(upper, join(dir, 'again.tar'));
    expect(again.diffId).toBe(r.diffId);
    const gz = await writeLayer(upper, join(dir, 'layer.tar.gz'), { compression: 'gzip' });
    const gzBytes = await readFile(join(dir, 'layer.tar.gz'));
    expect(gz).toMatchObject({
      diffId: r.diffId,
      digest: sha256(gzBytes),
      size: gzBytes.length,
      mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
    });
    expect(sha256(gunzipSync(gzBytes))).toBe(r.diffId);

    // SOURCE_DATE_EPOCH clamps every newer mtime.
    const clamped = await writeLayer(upper, join(dir, 'clamped.tar'), { sourceDateEpoch: 1_000_000 });
    const ct = await readTar(await readFile(join(dir, 'clamped.tar')));
    for (const e of ct.byName.values()) expect(e.mtime).toBe(1_000_000);
    expect(clamped.diffId).not.toBe(r.diffId);
  });

  test('xattrs: security.capability by default, user.* with "all", never the overlay private ones', async () => {
    const up = join(dir, 'xupper');
    await mkdir(join(up, 'd'), { recursive: true });
    await writeFile(join(up, 'd/f'), 'f');
    expect(spawnSync('setfattr', ['-n', 'user.note', '-v', 'hello', join(up, 'd/f')]).status).toBe(0);
    expect(spawnSync('setfattr', ['-n', 'trusted.overlay.origin', '-v', '0x00ff', join(up, 'd/f')]).status).toBe(0);
    expect(spawnSync('setfattr', ['-n', 'user.overlay.opaque', '-v', 'y', join(up, 'd')]).status).toBe(0);
    const cap = Buffer.from('0100000200200000000000000000000000000000', 'hex'); // cap_net_raw, permitted+effective
    expect(spawnSync('setfattr', ['-n', 'security.capability', '-v', `0x${cap.toString('hex')}`, join(up, 'd/f')]).status).toBe(0);
    const def = await scanUpperDir(up);
    expect(def.find((e) => e.path === 'd/f')!.xattrs).toEqual([['security.capability', cap]]);
    expect(def.find((e) => e.path === 'd')!.opaque).toBeUndefined();
    const all = await scanUpperDir(up, { xattrs: 'all' });
    expect(all.find((e) => e.path === 'd/f')!.xattrs.map(([k]) => k)).toEqual(['security.capability', 'user.note']);
    expect((await scanUpperDir(up, { userxattr: true })).find((e) => e.path === 'd')!.opaque).toBe(true);
    const file = join(dir, 'x.tar');
    await writeLayer(up, file, { xattrs: 'all' });
    const tar = await readFile(file);
    expect(tar.includes(Buffer.concat([Buffer.from('SCHILY.xattr.security.capability='), cap, Buffer.from('\n')]))).toBe(true);
    expect(tar.includes('user.overlay')).toBe(false);
    expect(tar.includes('trusted.overlay')).toBe(false);
    const out = join(dir, 'xlayer');
    await unpackLayer(createReadStream(file), out);
    const got = spawnSync('getfattr', ['-h', '-d', '-m', '-', '-e', 'hex', join(out, 'd/f')], { encoding: 'utf8' }).stdout;
    expect(got).toContain(`security.capability=0x${cap.toString('hex')}`);
    expect(got).toContain('user.note=0x68656c6c6f');
  });

  test('an opaque directory with a long path keeps its marker in it (pax path), with the owner of the directory', async () => {
    const up = join(dir, 'oupper');
    const long = `${'o'.repeat(120)}/${'p'.repeat(120)}`;
    await mkdir(join(up, long), { recursive: true });
    await chown(join(up, long), 300000, 300001);
    expect(spawnSync('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', join(up, long)]).status).toBe(0);
    const file = join(dir, 'o.tar');
    await writeLayer(up, file);
    const { names, byName } = await readTar(await readFile(file));
    expect(names).toEqual([`${long.split('/')[0]}/`, `${long}/`, `${long}/.wh..wh..opq`]);
    // tar-stream's reader leaves pax uid/gid in `pax`; GNU tar (the unpacker) applies them.
    expect(byName.get(`${long}/.wh..wh..opq`)).toMatchObject({
      type: 'file',
      mode: 0o755,
      pax: { path: `${long}/.wh..wh..opq`, uid: '300000', gid: '300001' },
    });
    const out = join(dir, 'olayer');
    await unpackLayer(createReadStream(file), out);
    const got = spawnSync('getfattr', ['-h', '-n', 'trusted.overlay.opaque', join(out, long)], { encoding: 'utf8' }).stdout;
    expect(got).toContain('trusted.overlay.opaque="y"');
    expect(await stat(join(out, long))).toMatchObject({ uid: 300000, gid: 300001 });
    expect(spawnSync('getfattr', ['-h', '-n', 'trusted.overlay.opaque', out]).status).not.toBe(0);
  });

  test('redirect_dir and metacopy are refused', async () => {
    const up = join(dir, 'rupper');
    await mkdir(join(up, 'moved'), { recursive: true });
    expect(spawnSync('setfattr', ['-n', 'trusted.overlay.redirect', '-v', '/orig', join(up, 'moved')]).status).toBe(0);
    await expect(scanUpperDir(up)).rejects.toThrow(LayerDiffError);
    await rm(up, { recursive: true });
  });
});
