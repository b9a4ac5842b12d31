/**
 * `tscompose image …` on the in-memory FakeRuntime: each subcommand's behaviour and exact output.
 */
import { afterAll, describe, expect, test } from '@jest/globals';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { imageInspect } from '../../src/cli/commands/image/inspect.js';
import type { ImageIO } from '../../src/cli/commands/image/io.js';
import { imageLoad } from '../../src/cli/commands/image/load.js';
import { imageLs } from '../../src/cli/commands/image/ls.js';
import { imagePrune } from '../../src/cli/commands/image/prune.js';
import { imagePull } from '../../src/cli/commands/image/pull.js';
import { imagePush } from '../../src/cli/commands/image/push.js';
import { imageRm } from '../../src/cli/commands/image/rm.js';
import { imageSave } from '../../src/cli/commands/image/save.js';
import { imageTag } from '../../src/cli/commands/image/tag.js';
import { humanSize, timeAgo } from '../../src/cli/render/images.js';
import { checkReference } from '../../src/engine/image-tools.js';
import { MemorySink } from '../../src/engine/events.js';
import { FileNotFoundError, UsageError } from '../../src/errors.js';
import { ConflictError, NotFoundError, PullError } from '../../src/runtime/errors.js';
import { FakeRuntime } from '../../src/runtime/fake/fake-runtime.js';

const EPOCH = Date.UTC(2020, 0, 1);
const A = 'sha256:' + 'a'.repeat(64);
const B = 'sha256:' + 'b'.repeat(64);
const dir = mkdtempSync(join(tmpdir(), 'tsc-image-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function tty<T extends object>(stream: T, isTTY: boolean): T {
  Object.defineProperty(stream, 'isTTY', { value: isTTY });
  return stream;
}

interface Harness {
  readonly io: ImageIO;
  readonly sink: MemorySink;
  readonly stdin: PassThrough;
  out(): string;
  bytes(): Buffer;
  err(): string;
  opened(): boolean;
}

function harness(rt: FakeRuntime, options: { stdinTTY?: boolean; stdoutTTY?: boolean } = {}): Harness {
  const stdout = tty(new PassThrough(), options.stdoutTTY ?? false);
  const stderr = new PassThrough();
  const stdin = tty(new PassThrough(), options.stdinTTY ?? false);
  const outChunks: Buffer[] = [];
  let err = '';
  stdout.on('data', (d: Buffer) => outChunks.push(d));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const sink = new MemorySink();
  let opened = false;
  const io: ImageIO = {
    session: async () => {
      opened = true;
      return { runtime: rt, events: sink };
    },
    stdout,
    stderr,
    stdin,
    now: () => EPOCH + 3 * 86_400_000,
  };
  return {
    io,
    sink,
    stdin,
    out: () => Buffer.concat(outChunks).toString('utf8'),
    bytes: () => Buffer.concat(outChunks),
    err: () => err,
    opened: () => opened,
  };
}

const images = (): FakeRuntime => new FakeRuntime({ images: { 'busybox:latest': A, 'mine/app:1': A, 'redis:7': B } });

async function archiveOf(rt: FakeRuntime, refs: string[]): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of await rt.saveImage(refs)) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

describe('image helpers', () => {
  test('humanSize: three digits, decimal units, like docker', () => {
    expect([0, 512, 1024, 4_262_700, 131_200_000, 1_230_000_000].map(humanSize)).toEqual(['0B', '512B', '1.02kB', '4.26MB', '131MB', '1.23GB']);
  });

  test('timeAgo: go-units HumanDuration', () => {
    const t = (ms: number): string => timeAgo(0, ms);
    expect(
      [500, 1000, 30_000, 60_000, 600_000, 3_600_000, 5 * 3_600_000, 3 * 86_400_000, 20 * 86_400_000, 90 * 86_400_000, 800 * 86_400_000].map(t),
    ).toEqual([
      'Less than a second ago',
      '1 second ago',
      '30 seconds ago',
      'About a minute ago',
      '10 minutes ago',
      'About an hour ago',
      '5 hours ago',
      '3 days ago',
      '2 weeks ago',
      '3 months ago',
      '2 years ago',
    ]);
  });

  test('checkReference: docker reference grammar', () => {
    for (const ok of [
      'busybox',
      'busybox:1.36',
      'library/busybox:latest',
      '127.0.0.1:5001/a/b:c',
      'localhost/x',
      'a@sha256:' + 'f'.repeat(64),
      'my-app_x/y.z__w',
    ])
      expect(() => checkReference(ok)).not.toThrow();
    expect(() => checkReference('UPPER')).toThrow('invalid reference format: repository name (UPPER) must be lowercase');
    for (const bad of ['', 'a:', 'a::b', '-a', 'a b', 'a:' + 'x'.repeat(200)]) expect(() => checkReference(bad)).toThrow(UsageError);
  });
});

describe('image ls', () => {
  test('a table like docker image ls: one row per tag, untagged as <none>', async () => {
    const rt = images();
    await rt.loadImage(
      Readable.from([await archiveOf(new FakeRuntime({ images: { x: 'sha256:' + 'c'.repeat(64) } }), ['sha256:' + 'c'.repeat(64)])]),
    );
    const h = harness(rt);
    await imageLs(h.io, undefined);
    expect(h.out()).toBe(
      [
        'REPOSITORY   TAG      IMAGE ID       CREATED      SIZE',
        '<none>       <none>   cccccccccccc   3 days ago   1.02kB',
        'busybox      latest   aaaaaaaaaaaa   3 days ago   1.02kB',
        'mine/app     1        aaaaaaaaaaaa   3 days ago   1.02kB',
        'redis        7        bbbbbbbbbbbb   3 days ago   1.02kB',
        '',
      ].join('\n'),
    );
    expect(h.sink.events).toEqual([]);
  });

  test('-q prints each id once; a REPOSITORY[:TAG] argument and --filter narrow the list', async () => {
    let h = harness(images());
    await imageLs(h.io, undefined, { quiet: true });
    expect(h.out()).toBe('aaaaaaaaaaaa\nbbbbbbbbbbbb\n');
    h = harness(images());
    await imageLs(h.io, 'redis', { quiet: true, noTrunc: true });
    expect(h.out()).toBe(`${B}\n`);
    h = harness(images());
    await imageLs(h.io, 'busybox:nope', { quiet: true });
    expect(h.out()).toBe('');
    h = harness(images());
    await imageLs(h.io, undefined, { filter: ['reference=mine/*'], digests: true });
    expect(h.out()).toBe(
      `REPOSITORY   TAG   DIGEST${' '.repeat(68)}IMAGE ID       CREATED      SIZE\nmine/app     1     ${A}   aaaaaaaaaaaa   3 days ago   1.02kB\n`,
    );
    h = harness(images());
    await imageLs(h.io, undefined, { filter: ['dangling=true'], quiet: true });
    expect(h.out()).toBe('');
  });

  test('--format json: one docker-shaped object per line', async () => {
    const h = harness(images());
    await imageLs(h.io, 'redis', { format: 'json' });
    expect(
      h
        .out()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as unknown),
    ).toEqual([
      {
        Containers: 'N/A',
        CreatedAt: '2020-01-01 00:00:00 +0000 UTC',
        CreatedSince: '3 days ago',
        Digest: B,
        ID: 'bbbbbbbbbbbb',
        Repository: 'redis',
        SharedSize: 'N/A',
        Size: '1.02kB',
        Tag: '7',
        UniqueSize: 'N/A',
        VirtualSize: '1.02kB',
      },
    ]);
  });

  test('a bad --format or --filter is a usage error before the engine is asked', async () => {
    const h = harness(images());
    await expect(imageLs(h.io, undefined, { format: '{{.ID}}' })).rejects.toThrow('unsupported --format: {{.ID}} (table or json)');
    await expect(imageLs(h.io, undefined, { filter: ['since=x'] })).rejects.toBeInstanceOf(UsageError);
    await expect(imageLs(h.io, undefined, { filter: ['dangling=maybe'] })).rejects.toBeInstanceOf(UsageError);
    expect(h.opened()).toBe(false);
  });
});

describe('image pull, push, tag', () => {
  test('pull: progress through the renderer events, each ref on stdout', async () => {
    const rt = new FakeRuntime({ registry: { 'busybox:latest': A, 'redis:7': B } });
    const h = harness(rt);
    await imagePull(h.io, ['busybox', 'redis:7', 'busybox:latest']);
    expect(h.out().split('\n').sort()).toEqual(['', 'busybox:latest', 'redis:7']);
    expect(h.sink.lines().filter((l) => l.startsWith('Image busybox'))).toEqual([
      'Image busybox:latest working Pulling',
      'Image busybox:latest working Pulling (Pulling from library)',
      'Image busybox:latest working Pulling (sha256:aaaaa: Pull complete)',
      'Image busybox:latest done Pulled',
    ]);
    expect((await rt.inspectImage('redis:7')).id).toBe(B);
  });

  test('pull: -q keeps layer progress out; a failure fails the command but the others are pulled', async () => {
    const rt = new FakeRuntime({ registry: { 'busybox:latest': A } });
    const h = harness(rt);
    await expect(imagePull(h.io, ['nope:1', 'busybox'], { quiet: true })).rejects.toBeInstanceOf(PullError);
    expect(h.out()).toBe('busybox:latest\n');
    expect(h.sink.lines()).toContain('Image nope:1 error Error (pulling nope:1: manifest unknown)');
    expect(h.sink.lines().some((l) => l.includes('Pull complete'))).toBe(false);
  });

  test('pull: an invalid reference is a usage error, no engine needed', async () => {
    const h = harness(new FakeRuntime());
    await expect(imagePull(h.io, ['Busybox'])).rejects.toThrow('repository name (Busybox) must be lowercase');
    expect(h.opened()).toBe(false);
  });

  test('push: Pushing/Pushed events; a missing image is NotFound', async () => {
    const rt = images();
    const h = harness(rt);
    await imagePush(h.io, 'mine/app:1');
    expect(rt.pushed).toEqual(['mine/app:1']);
    expect(h.sink.lines()).toEqual([
      'Image mine/app:1 working Pushing',
      'Image mine/app:1 working Pushing (aaaaaaaaaaaa: Pushed)',
      'Image mine/app:1 done Pushed',
    ]);
    await expect(imagePush(h.io, 'mine/app:2')).rejects.toBeInstanceOf(NotFoundError);
    expect(h.sink.lines().at(-1)).toBe('Image mine/app:2 error Error (no such image: mine/app:2)');
  });

  test('tag: a new name (default tag latest); a missing source is NotFound; a bad target a usage error', async () => {
    const rt = images();
    const h = harness(rt);
    await imageTag(h.io, 'busybox:latest', 'copy');
    expect((await rt.inspectImage('copy:latest')).id).toBe(A);
    await imageTag(h.io, B, 'r:2');
    expect((await rt.inspectImage('r:2')).id).toBe(B);
    await expect(imageTag(h.io, 'nope', 'x:1')).rejects.toMatchObject({ code: 'TSC_NOT_FOUND', message: 'no such image: nope' });
    await expect(imageTag(h.io, 'busybox:latest', 'bad tag')).rejects.toBeInstanceOf(UsageError);
    expect(h.out()).toBe('');
  });
});

describe('image rm', () => {
  test('a tag of an image with other tags: Untagged only; the last tag: Untagged + Deleted', async () => {
    const rt = images();
    const h = harness(rt);
    await imageRm(h.io, ['mine/app:1']);
    expect(h.out()).toBe('Untagged: mine/app:1\n');
    await imageRm(h.io, ['busybox']);
    expect(h.out()).toBe(`Untagged: mine/app:1\nUntagged: busybox:latest\nUntagged: busybox@${A}\nDeleted: ${A}\n`);
    expect((await rt.listImages()).map((i) => i.repoTags)).toEqual([['redis:7']]);
  });

  test('by id: every tag; referenced in several repositories needs -f', async () => {
    const rt = images();
    const h = harness(rt);
    await expect(imageRm(h.io, ['aaaaaaaaaaaa'])).rejects.toBeInstanceOf(ConflictError);
    expect(h.out()).toBe('');
    await imageRm(h.io, ['aaaaaaaaaaaa'], { force: true });
    expect(h.out()).toBe(`Untagged: busybox:latest\nUntagged: mine/app:1\nUntagged: busybox@${A}\nUntagged: mine/app@${A}\nDeleted: ${A}\n`);
  });

  test('every ref is tried; the failures are reported together', async () => {
    const rt = images();
    const h = harness(rt);
    const err = await imageRm(h.io, ['nope:1', 'redis:7', 'other']).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'TSC_IMAGE_RM', message: 'no such image: nope:1\nno such image: other' });
    expect(h.out()).toBe(`Untagged: redis:7\nUntagged: redis@${B}\nDeleted: ${B}\n`);
    await expect(imageRm(h.io, ['nope:1'])).rejects.toBeInstanceOf(NotFoundError);
  });

  test('an image a container uses: Conflict without -f', async () => {
    const rt = images();
    await rt.createContainer({ name: 'c', image: 'redis:7', labels: {} });
    const h = harness(rt);
    await expect(imageRm(h.io, ['redis:7'])).rejects.toBeInstanceOf(ConflictError);
    await imageRm(h.io, ['redis:7'], { force: true });
    expect(h.out()).toContain('Untagged: redis:7\n');
  });
});

describe('image inspect', () => {
  test('a JSON array with docker keys, 4-space indented', async () => {
    const h = harness(images());
    await imageInspect(h.io, ['redis:7', 'busybox']);
    const parsed = JSON.parse(h.out()) as { Id: string; RepoTags: string[] }[];
    expect(parsed.map((d) => [d.Id, d.RepoTags])).toEqual([
      [B, ['redis:7']],
      [A, ['busybox:latest', 'mine/app:1']],
    ]);
    expect(Object.keys(parsed[0]!)).toEqual(expect.arrayContaining(['Id', 'RepoTags', 'RepoDigests', 'Created', 'Size', 'Config']));
    expect(h.out()).toMatch(/^\[\n {4}\{\n {8}"Id"/);
  });

  test('missing images: what was found is printed, then NotFound', async () => {
    const h = harness(images());
    await expect(imageInspect(h.io, ['nope'])).rejects.toMatchObject({ code: 'TSC_NOT_FOUND', message: 'no such image: nope' });
    expect(h.out()).toBe('[]\n');
    const h2 = harness(images());
    await expect(imageInspect(h2.io, ['nope', 'redis:7', 'gone'])).rejects.toMatchObject({ message: 'no such image: nope\nno such image: gone' });
    expect((JSON.parse(h2.out()) as unknown[]).length).toBe(1);
  });
});

describe('image load and save', () => {
  test('save to a file (no temporary left) and load it back with -i', async () => {
    const rt = images();
    const h = harness(rt);
    const file = join(dir, 'saved.tar');
    await imageSave(h.io, ['mine/app:1', 'redis:7'], { output: file });
    expect(h.out()).toBe('');
    expect(readdirSync(dir).filter((f) => f.includes('saved'))).toEqual(['saved.tar']);
    const other = new FakeRuntime();
    const h2 = harness(other);
    await imageLoad(h2.io, { input: file });
    expect(h2.out()).toBe('Loaded image: mine/app:1\nLoaded image: redis:7\n');
    expect((await other.inspectImage('mine/app:1')).id).toBe(A);
  });

  test('save to stdout when it is not a terminal; load from stdin when it is not a terminal', async () => {
    const h = harness(images());
    await imageSave(h.io, ['busybox']);
    const tar = h.bytes();
    expect(tar.length % 512).toBe(0);
    const other = new FakeRuntime();
    const h2 = harness(other);
    h2.stdin.end(tar);
    await imageLoad(h2.io);
    expect(h2.out()).toBe('Loaded image: busybox:latest\n');
  });

  test('a terminal is refused: save to a TTY stdout, load from a TTY stdin', async () => {
    const h = harness(images(), { stdinTTY: true, stdoutTTY: true });
    await expect(imageSave(h.io, ['busybox'])).rejects.toMatchObject({
      code: 'TSC_USAGE',
      message: 'cowardly refusing to save to a terminal',
      hint: expect.stringContaining('-o'),
    });
    await expect(imageLoad(h.io)).rejects.toMatchObject({
      code: 'TSC_USAGE',
      message: 'requested load from stdin, but stdin is a terminal',
      hint: expect.stringContaining('-i FILE'),
    });
    expect(h.opened()).toBe(false);
    // with -o / -i a terminal does not matter
    const file = join(dir, 'tty.tar');
    await imageSave(h.io, ['busybox'], { output: file });
    await imageLoad(h.io, { input: file });
    expect(h.out()).toBe('Loaded image: busybox:latest\n');
  });

  test('errors: a missing image leaves no file; a missing input file; a bad archive', async () => {
    const h = harness(images());
    const file = join(dir, 'missing.tar');
    await expect(imageSave(h.io, ['busybox', 'nope:1'], { output: file })).rejects.toBeInstanceOf(NotFoundError);
    expect(readdirSync(dir).filter((f) => f.includes('missing'))).toEqual([]);
    await expect(imageSave(h.io, ['busybox'], { output: join(dir, 'no/such/dir/x.tar') })).rejects.toMatchObject({ code: 'TSC_FILE' });
    await expect(imageLoad(h.io, { input: join(dir, 'nope.tar') })).rejects.toBeInstanceOf(FileNotFoundError);
    writeFileSync(join(dir, 'junk.tar'), 'junk');
    await expect(imageLoad(h.io, { input: join(dir, 'junk.tar') })).rejects.toMatchObject({ code: 'TSC_IMAGE_LOAD' });
    expect(existsSync(join(dir, 'junk.tar'))).toBe(true);
    expect(readFileSync(join(dir, 'junk.tar'), 'utf8')).toBe('junk');
  });
});

describe('image prune', () => {
  async function withDangling(): Promise<FakeRuntime> {
    const rt = images();
    await rt.createContainer({ name: 'c', image: 'redis:7', labels: {} });
    // load a newer busybox:latest: the old image keeps the name mine/app:1; a third image loses its only tag
    const C = 'sha256:' + 'c'.repeat(64);
    const D = 'sha256:' + 'd'.repeat(64);
    const src = new FakeRuntime({ images: { 'old:1': C } });
    await rt.loadImage(Readable.from([await archiveOf(src, ['old:1'])]));
    await rt.loadImage(Readable.from([await archiveOf(new FakeRuntime({ images: { 'old:1': D } }), ['old:1'])]));
    return rt;
  }

  test('without -f and without a terminal: a usage error with a hint, nothing removed', async () => {
    const rt = await withDangling();
    const h = harness(rt);
    await expect(imagePrune(h.io)).rejects.toMatchObject({ code: 'TSC_USAGE', hint: 'pass -f (--force) to prune without a prompt' });
    expect(h.opened()).toBe(false);
    expect(rt.calls.some((c) => c.method === 'pruneImages')).toBe(false);
  });

  test('-f: dangling images; -a -f: every unused image; docker output', async () => {
    const rt = await withDangling();
    const h = harness(rt);
    await imagePrune(h.io, { force: true });
    expect(h.out()).toBe(`Deleted Images:\ndeleted: sha256:${'c'.repeat(64)}\n\nTotal reclaimed space: 1.02kB\n`);
    const h2 = harness(rt);
    await imagePrune(h2.io, { force: true });
    expect(h2.out()).toBe('Total reclaimed space: 0B\n');
    const h3 = harness(rt);
    await imagePrune(h3.io, { force: true, all: true });
    expect(h3.out()).toBe(
      `Deleted Images:\nuntagged: busybox:latest\nuntagged: mine/app:1\ndeleted: ${A}\nuntagged: old:1\ndeleted: sha256:${'d'.repeat(64)}\n\nTotal reclaimed space: 2.05kB\n`,
    );
    expect((await rt.listImages()).map((i) => i.repoTags)).toEqual([['redis:7']]);
  });

  test('on a terminal: asks; yes prunes, anything else cancels', async () => {
    const rt = await withDangling();
    const h = harness(rt, { stdinTTY: true });
    h.stdin.write('y\n');
    await imagePrune(h.io, { all: false });
    expect(h.err()).toBe('WARNING! This will remove all dangling images.\nAre you sure you want to continue? [y/N] ');
    expect(h.out()).toContain('Total reclaimed space: 1.02kB');
    const h2 = harness(rt, { stdinTTY: true });
    h2.stdin.write('\n');
    await expect(imagePrune(h2.io, { all: true })).rejects.toMatchObject({ code: 'TSC_PRUNE_CANCELED', message: 'image prune has been cancelled' });
    expect(h2.err()).toContain('without at least one container associated to them');
    expect(h2.out()).toBe('');
    expect((await rt.listImages()).length).toBe(3);
  });
});
