import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  comparePaths,
  decodePacket,
  encodePacket,
  goFileMode,
  listEntries,
  metadataValues,
  serveDiffCopy,
  type FsEntry,
  type PacketStream,
} from './buildkit-filesync.js';
import { readFields, stringFields } from './buildkit-proto.js';

let dir: string;
const paths = (entries: readonly FsEntry[]): string[] => entries.map((e) => e.path);

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tsc-filesync-'));
  await writeFile(path.join(dir, 'Dockerfile'), 'FROM busybox\n');
  await writeFile(path.join(dir, 'a-b'), 'x');
  await mkdir(path.join(dir, 'a'));
  await writeFile(path.join(dir, 'a', 'z.txt'), 'z');
  await mkdir(path.join(dir, 'logs'));
  await writeFile(path.join(dir, 'logs', 'keep.log'), 'k');
  await writeFile(path.join(dir, 'logs', 'drop.log'), 'd');
  await writeFile(path.join(dir, 'run.sh'), '#!/bin/sh\n');
  await chmod(path.join(dir, 'run.sh'), 0o4755);
  await symlink('run.sh', path.join(dir, 'link'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('listEntries', () => {
  test("everything, in fsutil's walk order (a directory before its contents, names bytewise)", async () => {
    const entries = await listEntries({ dir });
    expect(paths(entries)).toEqual(['Dockerfile', 'a', 'a/z.txt', 'a-b', 'link', 'logs', 'logs/drop.log', 'logs/keep.log', 'run.sh']);
    const byPath = new Map(entries.map((e) => [e.path, e]));
    expect(byPath.get('a')?.mode).toBe(2 ** 31 + 0o755);
    expect(byPath.get('run.sh')?.mode).toBe((1 << 23) | 0o755);
    expect(byPath.get('run.sh')?.size).toBe(10);
    expect(byPath.get('link')).toMatchObject({ mode: 2 ** 27 + 0o777, linkname: 'run.sh', source: undefined });
    expect(byPath.get('Dockerfile')?.source).toBe(path.join(dir, 'Dockerfile'));
  });

  test('excludes as .dockerignore; an excluded directory holding an exception is still sent as its parent', async () => {
    const entries = await listEntries({ dir }, { excludes: ['logs', '!logs/keep.log', 'a*', 'link'] });
    expect(paths(entries)).toEqual(['Dockerfile', 'logs', 'logs/keep.log', 'run.sh']);
  });

  test('includes (and followpaths): only the matching paths and their parents', async () => {
    expect(paths(await listEntries({ dir }, { includes: ['Dockerfile', 'Dockerfile.dockerignore'] }))).toEqual(['Dockerfile']);
    expect(paths(await listEntries({ dir }, { includes: ['logs/k*'] }))).toEqual(['logs', 'logs/keep.log']);
    expect(paths(await listEntries({ dir }, { includes: ['a'] }))).toEqual(['a', 'a/z.txt']);
  });

  test('in-memory files join the walk, with their directories, are never excluded, and replace a real file', async () => {
    const files = [
      { path: '.tscompose-heredocs/1/EOF', content: 'hello\n', mode: 0o644 },
      { path: 'Dockerfile', content: 'FROM scratch\n', mode: 0o644 },
    ];
    const entries = await listEntries({ dir, files }, { excludes: ['*', '!a-b'] });
    expect(paths(entries)).toEqual(['.tscompose-heredocs', '.tscompose-heredocs/1', '.tscompose-heredocs/1/EOF', 'Dockerfile', 'a-b']);
    const df = entries.find((e) => e.path === 'Dockerfile');
    expect(df?.source).toEqual(Buffer.from('FROM scratch\n'));
    expect(df?.size).toBe(13);
    // the time follows the content, so that the engine asks again when it changes
    const again = await listEntries({ files: [{ path: 'Dockerfile', content: 'FROM scratch\n', mode: 0o644 }] });
    const changed = await listEntries({ files: [{ path: 'Dockerfile', content: 'FROM busybox\n', mode: 0o644 }] });
    expect(again[0]?.modTime).toBe(df?.modTime);
    expect(changed[0]?.modTime).not.toBe(df?.modTime);
  });
});

test('goFileMode and comparePaths', () => {
  expect(goFileMode(0o100644)).toBe(0o644);
  expect(goFileMode(0o041777)).toBe(2 ** 31 + (1 << 20) + 0o777);
  expect(goFileMode(0o102755)).toBe((1 << 22) | 0o755);
  expect(['a-b', 'a/z', 'a', 'B'].sort(comparePaths)).toEqual(['B', 'a', 'a/z', 'a-b']);
});

test('metadata values: split where HTTP/2 joined them, URL-decoded when flagged', () => {
  expect(metadataValues({ followpaths: ['Dockerfile, Dockerfile.dockerignore'] }, 'followpaths')).toEqual(['Dockerfile', 'Dockerfile.dockerignore']);
  expect(metadataValues({ k: ['a%2Cb, c+d'], 'k-urlencoded': ['true'] }, 'k')).toEqual(['a,b', 'c d']);
  expect(metadataValues({}, 'k')).toEqual([]);
});

describe('serveDiffCopy', () => {
  const REQ = 1;
  const FIN = 3;
  function fakeStream(
    metadata: Record<string, string[]>,
    requests: Buffer[],
  ): { stream: PacketStream; sent: ReturnType<typeof decodePacket>[]; stats: string[] } {
    const sent: ReturnType<typeof decodePacket>[] = [];
    const stats: string[] = [];
    const stream: PacketStream = {
      metadata,
      incoming: (async function* () {
        for (const r of requests) yield r;
      })(),
      write: (b) => {
        const p = decodePacket(b);
        sent.push(p);
        const stat = readFields(b).find((f) => f.no === 2);
        if (stat && 'bytes' in stat) stats.push(stringFields(stat.bytes).get(1) ?? '');
        return Promise.resolve();
      },
    };
    return { stream, sent, stats };
  }

  test('stats, an empty stat, the requested files as DATA then an empty DATA, FIN for FIN', async () => {
    const big = Buffer.alloc(70 * 1024, 7);
    const { stream, sent, stats } = fakeStream({ 'dir-name': ['dockerfile'], followpaths: ['Dockerfile, big'] }, [
      encodePacket(REQ, { id: 1 }),
      encodePacket(REQ, { id: 0 }),
      encodePacket(FIN),
    ]);
    await serveDiffCopy(stream, {
      dockerfile: {
        files: [
          { path: 'Dockerfile', content: 'FROM busybox\n', mode: 0o644 },
          { path: 'big', content: big, mode: 0o644 },
          { path: 'other', content: 'x', mode: 0o644 },
        ],
      },
    });
    expect(stats).toEqual(['Dockerfile', 'big']);
    expect(sent.map((p) => p.type)).toEqual([0, 0, 0, 2, 2, 2, 2, 2, 2, 3]);
    const data = (id: number): Buffer => Buffer.concat(sent.filter((p) => p.type === 2 && p.id === id).map((p) => p.data));
    expect(data(1).equals(big)).toBe(true);
    expect(data(0).toString()).toBe('FROM busybox\n');
  });

  test("the directory's own excludes win unless the engine overrides them; an unknown directory is refused", async () => {
    const dirs = { context: { dir, excludes: ['logs'] } };
    const own = fakeStream({ 'dir-name': ['context'], 'exclude-patterns': ['a*'] }, [encodePacket(FIN)]);
    await serveDiffCopy(own.stream, dirs);
    expect(own.stats).toEqual(['Dockerfile', 'a', 'a/z.txt', 'a-b', 'link', 'run.sh']);
    const over = fakeStream({ 'dir-name': ['context'], 'exclude-patterns': ['a*'], 'override-excludes': ['true'] }, [encodePacket(FIN)]);
    await serveDiffCopy(over.stream, dirs);
    expect(over.stats).toEqual(['Dockerfile', 'link', 'logs', 'logs/drop.log', 'logs/keep.log', 'run.sh']);
    await expect(serveDiffCopy(fakeStream({ 'dir-name': ['nope'] }, []).stream, dirs)).rejects.toThrow('no access allowed to dir "nope"');
  });

  test('an error from the receiver ends the call with it', async () => {
    const { stream } = fakeStream({ 'dir-name': ['d'] }, [encodePacket(4, { data: Buffer.from('disk full') })]);
    await expect(serveDiffCopy(stream, { d: { files: [] } })).rejects.toThrow('error from receiver: disk full');
  });
});
