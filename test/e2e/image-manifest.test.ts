/**
 * image-manifest.ts over layers made here: whiteouts, opaque directories, a file replacing a directory, hard links
 * (within a layer and to a lower one, broken by a later layer), implicit parents, gzip; config fields. No engine.
 */
import { describe, expect, test } from '@jest/globals';
import { gzipSync } from 'node:zlib';
import tarStream from 'tar-stream';
import { applyLayers, configFields, diffConfigs, diffManifests, manifestLine } from './image-manifest.js';

type Spec = { name: string; type?: 'file' | 'directory' | 'symlink' | 'link'; body?: string; mode?: number; uid?: number; linkname?: string };

async function layer(entries: Spec[]): Promise<Buffer> {
  const pack = tarStream.pack();
  for (const e of entries) {
    const type = e.type ?? 'file';
    const header = { name: e.name, type, mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644), uid: e.uid ?? 0, gid: 0 };
    if (type === 'file') pack.entry(header, e.body ?? '');
    else pack.entry({ ...header, linkname: e.linkname ?? '' });
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('applyLayers', () => {
  test('whiteouts, opaque directories, replaced directories, hard links, implicit parents', async () => {
    const l1 = await layer([
      { name: 'a/', type: 'directory', mode: 0o750, uid: 7 },
      { name: 'a/f', body: 'f1' },
      { name: 'a/g', body: 'g' },
      { name: 'a/h', type: 'link', linkname: 'a/f' },
      { name: 'd/', type: 'directory' },
      { name: 'd/x', body: 'x' },
      { name: 'd/sub/y', body: 'y' },
      { name: 'r/', type: 'directory' },
      { name: 'r/inner', body: 'i' },
      { name: 's', type: 'symlink', linkname: 'a/f' },
    ]);
    const l2 = await layer([
      { name: 'a/.wh.g' },
      { name: 'd/.wh..wh..opq' },
      { name: 'd/new', body: 'n' },
      { name: 'r', body: 'now a file', mode: 0o600 },
      { name: 'deep/er/z', body: 'z' },
      { name: 'k', type: 'link', linkname: 'a/f' },
    ]);
    const l3 = await layer([{ name: 'a/h', body: 'h copied up' }]);
    const fs = await applyLayers([l1, gzipSync(l2), l3]);
    expect(fs.map(manifestLine).map((l) => l.replace(/sha256:\w+ /, ''))).toEqual([
      '/a dir 0750 7:0',
      '/a/f file 0644 0:0 2B hardlink=/a/f',
      '/a/h file 0644 0:0 11B',
      '/d dir 0755 0:0',
      '/d/new file 0644 0:0 1B',
      '/deep dir 0755 0:0',
      '/deep/er dir 0755 0:0',
      '/deep/er/z file 0644 0:0 1B',
      '/k file 0644 0:0 2B hardlink=/a/f',
      '/r file 0600 0:0 10B',
      '/s symlink 0644 0:0 -> a/f',
    ]);
    expect(fs.find((e) => e.path === '/deep')?.implicit).toBe(true);
  });

  test('diffs name both sides; a skipped path is left out', async () => {
    const a = await applyLayers([
      await layer([
        { name: 'x', body: '1' },
        { name: 'y', body: '1' },
      ]),
    ]);
    const b = await applyLayers([await layer([{ name: 'x', body: '1', mode: 0o755 }])]);
    expect(diffManifests(a, b, ['native', 'docker'])).toEqual([
      expect.stringMatching(/^native: \/x file 0644/),
      expect.stringMatching(/^docker: \/x file 0755/),
      expect.stringMatching(/^native: \/y file/),
      'docker: (no /y)',
    ]);
    expect(diffManifests(a, b, ['a', 'b'], (p) => p === '/y')).toHaveLength(2);
  });
});

test('configFields drops null and empty strings; diffConfigs ignores key order', () => {
  const a = configFields({ config: { User: '', WorkingDir: null, Labels: { b: '1', a: '2' }, Cmd: ['sh'], Hostname: 'x' } });
  expect(a).toEqual({ Labels: { b: '1', a: '2' }, Cmd: ['sh'] });
  expect(diffConfigs(a, { Labels: { a: '2', b: '1' }, Cmd: ['sh'] })).toEqual([]);
  expect(diffConfigs(a, { Cmd: ['bash'] }, ['n', 'd'])).toEqual(['Cmd: n ["sh"] | d ["bash"]', 'Labels: n {"a":"2","b":"1"} | d (unset)']);
});
