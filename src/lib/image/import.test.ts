import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { lstat, mkdtemp, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import tarStream from 'tar-stream';
import { sha256 } from './digest.js';
import { applyChange, checkImportPlatform, importRootfs, parseChanges, splitWords } from './import.js';
import { ImageStore } from './store.js';
import type { OciContainerConfig } from './types.js';

interface Entry {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link';
  body?: string;
  linkname?: string;
  mode?: number;
}

async function makeTar(entries: readonly Entry[]): Promise<Buffer> {
  const pack = tarStream.pack();
  for (const e of entries) {
    await new Promise<void>((resolve, reject) => {
      const { body, ...header } = e;
      pack.entry({ mode: e.type === 'directory' ? 0o755 : 0o644, mtime: new Date(0), ...header }, body ?? '', (err) =>
        err ? reject(err) : resolve(),
      );
    });
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack as unknown as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

const ROOTFS: Entry[] = [
  { name: 'bin/', type: 'directory' },
  { name: 'bin/hello', body: '#!/bin/sh\necho hi\n', mode: 0o755 },
  { name: 'etc/', type: 'directory' },
  { name: 'etc/motd', body: 'welcome\n' },
  { name: 'usr/bin', type: 'symlink', linkname: '../bin' },
  { name: 'etc/motd2', type: 'link', linkname: 'etc/motd' },
];

let dir: string;
let n = 0;
const storeRoot = (): string => join(dir, `store-${n++}`);
const open = (root: string): ImageStore => new ImageStore(root, { mirrors: [], insecure: [], dockerConfigPath: join(dir, 'none.json') });
const canRun = process.getuid?.() === 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsc-import-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('--change', () => {
  test('CMD and ENTRYPOINT: JSON (exec) form and shell form', () => {
    expect(parseChanges(['CMD ["/bin/busybox", "echo", "hi"]']).Cmd).toEqual(['/bin/busybox', 'echo', 'hi']);
    expect(parseChanges(['cmd echo $HOME']).Cmd).toEqual(['/bin/sh', '-c', 'echo $HOME']);
    expect(parseChanges(['ENTRYPOINT [bad json']).Entrypoint).toEqual(['/bin/sh', '-c', '[bad json']);
    const c = parseChanges(['CMD ["a"]', 'ENTRYPOINT ["/e"]']);
    expect(c).toEqual({ Cmd: ['a'], Entrypoint: ['/e'] });
  });

  test('ENV: key=value pairs with quotes, the legacy `ENV key value`, a later value replaces', () => {
    const c = parseChanges(['ENV A=1 B="two words" C=\'x y\' D=a\\ b', 'ENV PATH /usr/bin:/bin', 'ENV A=3']);
    expect(c.Env).toEqual(['A=3', 'B=two words', 'C=x y', 'D=a b', 'PATH=/usr/bin:/bin']);
    expect(() => parseChanges(['ENV lonely'])).toThrow(/must have a value/);
    expect(() => parseChanges(['ENV A="open'])).toThrow(/unterminated quote/);
  });

  test('LABEL, EXPOSE (ranges, protocols), VOLUME (both forms), USER, WORKDIR (relative), STOPSIGNAL', () => {
    const c = parseChanges([
      'LABEL a=b "c d"=e',
      'EXPOSE 80 53/udp 9000-9001',
      'VOLUME ["/data", "/logs"]',
      'VOLUME /cache',
      'USER 1000:1000',
      'WORKDIR /app',
      'WORKDIR sub/../src',
      'STOPSIGNAL SIGTERM',
    ]);
    const want: OciContainerConfig = {
      Labels: { a: 'b', 'c d': 'e' },
      ExposedPorts: { '80/tcp': {}, '53/udp': {}, '9000/tcp': {}, '9001/tcp': {} },
      Volumes: { '/data': {}, '/logs': {}, '/cache': {} },
      User: '1000:1000',
      WorkingDir: '/app/src',
      StopSignal: 'SIGTERM',
    };
    expect(c).toEqual(want);
    expect(parseChanges(['WORKDIR rel']).WorkingDir).toBe('/rel');
  });

  test('refused: unknown or unsupported instructions (docker wording), missing arguments, bad ports', () => {
    expect(() => parseChanges(['RUN echo hi'])).toThrow('run is not a valid change command');
    expect(() => parseChanges(['FROM scratch'])).toThrow('from is not a valid change command');
    expect(() => parseChanges(['BOGUS x'])).toThrow('bogus is not a valid change command');
    expect(() => parseChanges(['CMD'])).toThrow('CMD requires at least one argument');
    expect(() => parseChanges(['EXPOSE http'])).toThrow(/invalid port/);
    expect(() => parseChanges(['LABEL novalue'])).toThrow(/key=value/);
    expect(() => applyChange({}, '   ')).toThrow(/empty/);
  });

  test('variables expand from the Env so far as dockerd does (not in CMD/ENTRYPOINT; not after \\$ or in single quotes)', () => {
    // What `docker import -c …` gave on Docker 27 for the same changes.
    const c = parseChanges(['ENV A=1', 'ENV B=$A:${A}x C=$NOPE', 'LABEL l=$A', 'WORKDIR /w/$A', 'CMD echo $A', 'USER $A', 'ENV D="q $A" E=\\$A']);
    expect(c).toEqual({
      Env: ['A=1', 'B=1:1x', 'C=', 'D=q 1', 'E=$A'],
      Cmd: ['/bin/sh', '-c', 'echo $A'],
      WorkingDir: '/w/1',
      Labels: { l: '1' },
      User: '1',
    });
    expect(parseChanges(['ENV A=1', "ENV X='$A' Y=${A:+set} Z=${NOPE:-dflt} W=${A:-dflt}"]).Env).toEqual(['A=1', 'X=$A', 'Y=set', 'Z=dflt', 'W=1']);
    expect(() => parseChanges(['ENV X=${A'])).toThrow(/missing '}'/);
  });

  test('splitWords', () => {
    expect(splitWords(` a  "b c" 'd\\e' f\\ g `, 'X')).toEqual(['a', 'b c', 'd\\e', 'f g']);
  });

  test('--platform: the host only', () => {
    expect(() => checkImportPlatform(undefined)).not.toThrow();
    expect(() => checkImportPlatform(`linux/${process.arch === 'x64' ? 'amd64' : process.arch}`)).not.toThrow();
    expect(() => checkImportPlatform('windows/amd64')).toThrow(/platform windows\/amd64 is not supported/);
  });
});

(canRun ? describe : describe.skip)('importRootfs (root: unpacks with owners)', () => {
  test('a plain tar: files, a dir, a symlink, a hardlink; config, history, tag, gzip blob', async () => {
    const root = storeRoot();
    const tar = await makeTar(ROOTFS);
    const now = new Date('2026-01-02T03:04:05.000Z');
    const r = await importRootfs(root, Readable.from([tar]), {
      tag: 'myimg:1',
      changes: ['CMD ["/bin/hello"]', 'ENV A=b'],
      message: 'from test',
      now,
    });
    expect(r.diffId).toBe(sha256(tar));
    expect(r.tag).toBe('docker.io/library/myimg:1');
    const img = (await open(root).resolve('myimg:1'))!;
    expect(img.id).toBe(r.id);
    expect(img.repoTags).toEqual(['myimg:1']);
    expect(img.layers.map((l) => l.diffId)).toEqual([r.diffId]);
    expect(img.config).toMatchObject({
      os: 'linux',
      created: now.toISOString(),
      comment: 'from test',
      config: { Cmd: ['/bin/hello'], Env: ['A=b'] },
      rootfs: { type: 'layers', diff_ids: [r.diffId] },
      history: [{ created: now.toISOString(), comment: 'from test' }],
    });
    // the config blob is the id; the layer blob is gzip of the tar
    const blobs = join(root, 'blobs', 'sha256');
    expect(sha256(await readFile(join(blobs, r.id.slice(7))))).toBe(r.id);
    const gz = await readFile(join(blobs, r.blob.digest.slice(7)));
    expect(sha256(gz)).toBe(r.blob.digest);
    expect(sha256(gunzipSync(gz))).toBe(r.diffId);
    const [layer] = open(root).layerDirs(img);
    expect(await readFile(join(layer!, 'bin/hello'), 'utf8')).toBe('#!/bin/sh\necho hi\n');
    expect((await lstat(join(layer!, 'bin/hello'))).mode & 0o777).toBe(0o755);
    expect(await readlink(join(layer!, 'usr/bin'))).toBe('../bin');
    expect((await lstat(join(layer!, 'etc/motd2'))).ino).toBe((await lstat(join(layer!, 'etc/motd'))).ino);
    // save (docker-archive) reads the layer back through the gzip blob
    const saved = await open(root).save(['myimg:1']);
    for await (const c of saved) void c;
  });

  test('gzip, xz, bzip2 and zstd tarballs give the same DiffID; no message means `Imported from -`', async () => {
    const tar = await makeTar(ROOTFS);
    const root = storeRoot();
    const a = await importRootfs(root, Readable.from([gzipSync(tar)]));
    expect(a.diffId).toBe(sha256(tar));
    expect(a.config.history).toEqual([{ created: a.config.created, comment: 'Imported from -' }]);
    for (const cmd of ['xz', 'bzip2', 'zstd']) {
      let packed: Buffer;
      try {
        packed = execFileSync(cmd, ['-c'], { input: tar, stdio: ['pipe', 'pipe', 'ignore'] });
      } catch {
        continue; // that compressor is not installed here
      }
      const r = await importRootfs(root, Readable.from([packed]), { tag: `c:${cmd}` });
      expect(r.diffId).toBe(sha256(tar));
    }
  });

  test('refused: escaping entries (the scanner), not a tar (named), a digest tag, another platform; nothing left behind', async () => {
    const root = storeRoot();
    const evil = [
      [{ name: '../escape', body: 'x' }],
      [{ name: 'a', type: 'symlink', linkname: '/etc' } as Entry, { name: 'a/passwd', body: 'x' }],
      [{ name: 'h', type: 'link', linkname: '../../etc/shadow' } as Entry],
    ];
    for (const entries of evil) {
      await expect(importRootfs(root, Readable.from([await makeTar(entries)]), { tag: 'evil:1' })).rejects.toMatchObject({
        code: 'TSC_IMAGE_LAYER_REJECTED',
      });
    }
    await expect(importRootfs(root, Readable.from([Buffer.from('hello, not a tar\n'.repeat(100))]), { source: 'notes.txt' })).rejects.toMatchObject({
      code: 'TSC_IMAGE_IMPORT_NOT_TAR',
      message: expect.stringContaining('notes.txt') as unknown,
    });
    await expect(importRootfs(root, Readable.from([Buffer.from('short')]))).rejects.toMatchObject({ code: 'TSC_IMAGE_IMPORT_NOT_TAR' });
    await expect(importRootfs(root, Readable.from([gzipSync(Buffer.alloc(600, 7))]))).rejects.toMatchObject({ code: 'TSC_IMAGE_IMPORT_NOT_TAR' });
    const tar = await makeTar(ROOTFS);
    await expect(importRootfs(root, Readable.from([tar]), { tag: `x@sha256:${'a'.repeat(64)}` })).rejects.toMatchObject({
      code: 'TSC_IMAGE_IMPORT_CHANGE',
    });
    await expect(importRootfs(root, Readable.from([tar]), { platform: 'linux/s390x-nope' })).rejects.toMatchObject({
      code: 'TSC_IMAGE_IMPORT_PLATFORM',
    });
    await expect(importRootfs(root, Readable.from([tar]), { changes: ['RUN x'] })).rejects.toMatchObject({ code: 'TSC_IMAGE_IMPORT_CHANGE' });
    const store = open(root);
    expect(await store.list()).toEqual([]);
    expect(execFileSync('find', [join(root, 'tmp'), '-mindepth', '1']).toString()).toBe('');
  });
});
