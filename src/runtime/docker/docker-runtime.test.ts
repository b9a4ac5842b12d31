/**
 * Integration tests against a real Docker Engine (DOCKER_HOST or /var/run/docker.sock). Skipped when the engine
 * does not answer; fail with a clear message when it answers but `busybox:latest` cannot be pulled (the engine
 * environment — scripts/engine-env.sh, `npm run engine:setup` — is not set up). Everything created carries the
 * label `tscompose.test=<run id>` and is removed in afterAll.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { extract } from 'tar-stream';
import { BuildError, ConflictError, NotFoundError, NotModifiedError, PullError, PushError } from '../errors.js';
import type { BuildProgress, LogLine, RuntimeEvent } from '../runtime.js';
import { DockerRuntime } from './docker-runtime.js';
import { loadedLines, toPruneResult } from './images.js';

const rt = new DockerRuntime();
const available = await rt.ping();
if (!available) console.warn('Docker Engine not answering: skipping DockerRuntime integration tests');
const maybe = available ? describe : describe.skip;

// A value per run: clean-up by label must not remove what another run (another checkout, CI) is using.
const run = Math.random().toString(16).slice(2, 8);
const TEST_LABELS = { 'tscompose.test': run };
const n = (s: string): string => `tsc-it-${run}-${s}`;
const IMAGE = 'busybox:latest';
const sleeper = (name: string, extra: object = {}) => ({
  name: n(name),
  image: IMAGE,
  labels: TEST_LABELS,
  command: ['sleep', '300'],
  stopTimeoutSeconds: 1,
  ...extra,
});

async function readAll(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(Buffer.isBuffer(c) ? c : Buffer.from(c as string));
  return Buffer.concat(parts);
}

/** The manifest.json of a docker-archive tarball. */
async function manifestOf(tar: Buffer): Promise<{ Config: string; RepoTags: string[] | null }[]> {
  const ex = extract();
  Readable.from([tar]).pipe(ex);
  let manifest: string | undefined;
  for await (const entry of ex) {
    const body = await readAll(entry as unknown as Readable);
    if (entry.header.name === 'manifest.json') manifest = body.toString('utf8');
  }
  return JSON.parse(manifest ?? 'null') as { Config: string; RepoTags: string[] | null }[];
}

describe('DockerRuntime image tools (stubbed engine)', () => {
  test('load: the Loaded image lines of the stream; an error in the stream is TSC_IMAGE_LOAD', async () => {
    const lines = (...msgs: object[]) => Readable.from([msgs.map((m) => JSON.stringify(m)).join('\r\n') + '\r\n']);
    const stub = { loadImage: async () => lines({ stream: 'Loaded image: busybox:latest\n' }, { stream: 'Loaded image ID: sha256:abc\n' }) };
    const rt2 = new DockerRuntime({ docker: stub as unknown as Docker });
    expect(await rt2.loadImage(Readable.from([Buffer.from('x')]))).toEqual({
      loaded: ['Loaded image: busybox:latest', 'Loaded image ID: sha256:abc'],
    });
    const bad = new DockerRuntime({
      docker: { loadImage: async () => lines({ errorDetail: { message: 'unexpected EOF' }, error: 'unexpected EOF' }) } as unknown as Docker,
    });
    await expect(bad.loadImage(Readable.from([Buffer.from('x')]))).rejects.toMatchObject({
      code: 'TSC_IMAGE_LOAD',
      message: 'loading images: unexpected EOF',
    });
    expect(loadedLines({ status: 'Loading layer' })).toEqual([]);
  });

  test('prune: untagged refs and deleted ids in order, dangling filter unless all', async () => {
    const seen: object[] = [];
    const stub = {
      pruneImages: async (o: object) => {
        seen.push(o);
        return { ImagesDeleted: [{ Untagged: 'a:1' }, { Deleted: 'sha256:1' }], SpaceReclaimed: 42 };
      },
    };
    const rt2 = new DockerRuntime({ docker: stub as unknown as Docker });
    expect(await rt2.pruneImages()).toEqual({ deleted: ['a:1', 'sha256:1'], reclaimedBytes: 42 });
    await rt2.pruneImages({ all: true });
    expect(seen).toEqual([{ filters: { dangling: ['true'] } }, { filters: { dangling: ['false'] } }]);
    expect(toPruneResult({ ImagesDeleted: null })).toEqual({ deleted: [], reclaimedBytes: 0 });
  });
});

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

maybe('DockerRuntime (integration)', () => {
  beforeAll(async () => {
    try {
      await rt.pullImage(IMAGE);
    } catch (e) {
      throw new Error(
        `the engine environment is not set up: pulling ${IMAGE} failed (${(e as Error).message}); run \`npm run engine:setup\` (scripts/engine-env.sh)`,
        { cause: e },
      );
    }
  }, 120_000);

  afterAll(async () => {
    for (const c of await rt.listContainers({ labels: TEST_LABELS }))
      await rt.removeContainer(c.id, { force: true, volumes: true }).catch(() => undefined);
    for (const net of await rt.listNetworks({ labels: TEST_LABELS })) await rt.removeNetwork(net.id).catch(() => undefined);
    for (const v of await rt.listVolumes({ labels: TEST_LABELS })) await rt.removeVolume(v.name, { force: true }).catch(() => undefined);
    for (const i of await rt.listImages({ labels: TEST_LABELS })) await rt.removeImage(i.id, { force: true }).catch(() => undefined);
  }, 60_000);

  test('container lifecycle with labels and typed errors', async () => {
    const { id } = await rt.createContainer(
      sleeper('life', {
        env: ['FOO=bar'],
        ports: [
          { containerPort: 80, protocol: 'tcp', hostIp: '127.0.0.1' },
          { containerPort: 81, protocol: 'udp', hostIp: '127.0.0.1', hostPort: { start: 39400, end: 39410 } },
        ],
      }),
    );
    await expect(rt.createContainer(sleeper('life'))).rejects.toBeInstanceOf(ConflictError);
    await expect(rt.createContainer({ name: n('noimg'), image: 'tscompose-no-such-image:1', labels: TEST_LABELS })).rejects.toMatchObject({
      kind: 'image',
    });
    let info = await rt.inspectContainer(n('life'));
    expect(info).toMatchObject({ id, name: n('life'), image: IMAGE, status: 'created', labels: TEST_LABELS });
    await rt.startContainer(id);
    await expect(rt.startContainer(id)).rejects.toBeInstanceOf(NotModifiedError);
    info = await rt.inspectContainer(id);
    expect(info.status).toBe('running');
    expect(info.startedAt).toBeDefined();
    expect(info.publishedPorts?.[0]).toMatchObject({ containerPort: 80, protocol: 'tcp', hostIp: '127.0.0.1' });
    expect(info.publishedPorts?.[0]?.hostPort).toBeGreaterThan(0);
    // A host range onto one container port: one port of the range, Docker's pick.
    const udp = info.publishedPorts?.find((p) => p.protocol === 'udp');
    expect(udp).toMatchObject({ containerPort: 81, hostIp: '127.0.0.1' });
    expect(udp?.hostPort).toBeGreaterThanOrEqual(39400);
    expect(udp?.hostPort).toBeLessThanOrEqual(39410);
    expect((await rt.exec(id, { cmd: ['sh', '-c', 'echo $FOO'] })).stdout.trim()).toBe('bar');
    const listed = await rt.listContainers({ labels: { ...TEST_LABELS } });
    expect(listed.map((c) => c.name)).toContain(n('life'));
    expect(await rt.listContainers({ labels: { 'tscompose.test': 'no-such-value' } })).toEqual([]);
    await expect(rt.removeContainer(id)).rejects.toBeInstanceOf(ConflictError);
    await rt.stopContainer(id, { timeoutSeconds: 1 });
    await expect(rt.stopContainer(id)).rejects.toBeInstanceOf(NotModifiedError);
    await rt.renameContainer(id, n('life2'));
    expect((await rt.inspectContainer(id)).name).toBe(n('life2'));
    await rt.removeContainer(id);
    await expect(rt.inspectContainer(id)).rejects.toBeInstanceOf(NotFoundError);
  });

  test('networks with aliases: create, connect on create and after, remove', async () => {
    const a = await rt.createNetwork({ name: n('neta'), labels: TEST_LABELS });
    await rt.createNetwork({ name: n('netb'), labels: TEST_LABELS });
    await expect(rt.createNetwork({ name: n('neta'), labels: TEST_LABELS })).rejects.toBeInstanceOf(ConflictError);
    const { id } = await rt.createContainer(
      sleeper('net', {
        networks: [
          { network: n('neta'), aliases: ['alpha'] },
          { network: n('netb'), aliases: ['beta'] },
        ],
      }),
    );
    await rt.startContainer(id);
    const info = await rt.inspectContainer(id);
    expect(Object.keys(info.networks).sort()).toEqual([n('neta'), n('netb')]);
    expect(info.networks[n('neta')]?.aliases).toContain('alpha');
    expect(info.networks[n('netb')]?.aliases).toContain('beta');
    expect(info.networks[n('neta')]?.networkId).toBe(a.id);
    // the aliases resolve from a peer on the network
    const peer = await rt.createContainer(sleeper('peer', { networks: [{ network: n('neta') }] }));
    await rt.startContainer(peer.id);
    expect((await rt.exec(peer.id, { cmd: ['ping', '-c', '1', '-W', '2', 'alpha'] })).exitCode).toBe(0);
    expect((await rt.inspectNetwork(n('neta'))).containers).toEqual([id, peer.id].sort());
    await expect(rt.removeNetwork(n('neta'))).rejects.toBeInstanceOf(ConflictError);
    await rt.disconnectNetwork(n('netb'), id);
    await rt.connectNetwork(n('netb'), id, { aliases: ['gamma'] });
    expect((await rt.inspectContainer(id)).networks[n('netb')]?.aliases).toContain('gamma');
    await rt.removeContainer(id, { force: true });
    await rt.removeContainer(peer.id, { force: true });
    await rt.removeNetwork(n('neta'));
    await rt.removeNetwork(n('netb'));
    await expect(rt.inspectNetwork(n('neta'))).rejects.toBeInstanceOf(NotFoundError);
  });

  test('a missing network: NotFound, and no half-created container left behind', async () => {
    await rt.createNetwork({ name: n('only'), labels: TEST_LABELS });
    await expect(rt.createContainer(sleeper('missing-first', { networks: [{ network: n('absent') }] }))).rejects.toMatchObject({ kind: 'network' });
    const err = await rt
      .createContainer(sleeper('missing-second', { networks: [{ network: n('only') }, { network: n('absent') }] }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    await expect(rt.inspectContainer(n('missing-second'))).rejects.toBeInstanceOf(NotFoundError);
    await rt.removeNetwork(n('only'));
  });

  test('volumes: create, mount, in use, remove', async () => {
    const v = await rt.createVolume({ name: n('vol'), labels: TEST_LABELS });
    expect(v).toMatchObject({ name: n('vol'), driver: 'local', labels: TEST_LABELS });
    expect((await rt.listVolumes({ labels: TEST_LABELS })).map((x) => x.name)).toContain(n('vol'));
    const { id } = await rt.createContainer(
      sleeper('vol', {
        mounts: [
          { type: 'volume', source: n('vol'), target: '/data' },
          { type: 'volume', target: '/anon' },
        ],
      }),
    );
    const info = await rt.inspectContainer(id);
    expect(info.mounts.find((m) => m.target === '/data')).toEqual({ type: 'volume', source: n('vol'), target: '/data', readOnly: false });
    const anon = info.mounts.find((m) => m.target === '/anon')?.source;
    expect(anon).toMatch(/^[0-9a-f]{64}$/);
    // recreate carrying the anonymous volume over
    const next = await rt.createContainer(sleeper('vol-next', { mounts: [{ type: 'volume', target: '/anon' }], inheritVolumesFrom: id }));
    expect((await rt.inspectContainer(next.id)).mounts[0]?.source).toBe(anon);
    await expect(rt.removeVolume(n('vol'))).rejects.toBeInstanceOf(ConflictError);
    await rt.removeContainer(next.id, { volumes: true }); // the volume is not anonymous for this one: kept
    expect((await rt.inspectVolume(anon!)).name).toBe(anon);
    await rt.removeContainer(id, { volumes: true });
    await rt.removeVolume(n('vol'));
    await expect(rt.inspectVolume(n('vol'))).rejects.toBeInstanceOf(NotFoundError);
    await expect(rt.inspectVolume(anon!)).rejects.toBeInstanceOf(NotFoundError);
  });

  test('exec: exit codes, output, env, workdir, user, tty, stdin', async () => {
    const { id } = await rt.createContainer(sleeper('exec'));
    await expect(rt.exec(id, { cmd: ['true'] })).rejects.toBeInstanceOf(ConflictError);
    await rt.startContainer(id);
    expect(await rt.exec(id, { cmd: ['sh', '-c', 'echo out; echo err >&2; exit 3'] })).toEqual({ exitCode: 3, stdout: 'out\n', stderr: 'err\n' });
    expect(await rt.exec(id, { cmd: ['sh', '-c', 'echo $X $(pwd) $(id -u)'], env: ['X=hello'], workdir: '/tmp', user: '1234' })).toMatchObject({
      exitCode: 0,
      stdout: 'hello /tmp 1234\n',
    });
    const tty = await rt.exec(id, { cmd: ['sh', '-c', 'echo err >&2'], tty: true });
    expect(tty.stdout).toBe('err\r\n');
    expect((await rt.exec(id, { cmd: ['no-such-binary'] })).exitCode).toBeGreaterThanOrEqual(126);
    const { Readable } = await import('node:stream');
    const session = await rt.execStream(id, { cmd: ['cat'], stdin: Readable.from([Buffer.from('piped\n')]) });
    let text = '';
    for await (const c of session.stdout) text += String(c);
    expect(text).toBe('piped\n');
    expect(await session.wait()).toBe(0);
    await rt.removeContainer(id, { force: true });
  });

  test('logs: tail, stderr, timestamps, follow to the end; wait; pause; top', async () => {
    const { id } = await rt.createContainer({
      name: n('logs'),
      image: IMAGE,
      labels: TEST_LABELS,
      command: ['sh', '-c', 'for i in 1 2 3 4 5; do echo line$i; done; sleep 0.5; echo oops >&2; sleep 4; echo last; exit 4'],
    });
    await rt.startContainer(id);
    const following: Promise<LogLine[]> = collect(rt.containerLogs(id, { follow: true }));
    for (let i = 0; i < 100 && (await collect(rt.containerLogs(id))).length < 6; i++) await new Promise((r) => setTimeout(r, 50));
    const tail = await collect(rt.containerLogs(id, { tail: 2 }));
    expect(tail.map((l) => `${l.stream}:${l.line}`)).toEqual(['stdout:line5', 'stderr:oops']);
    const stamped = await collect(rt.containerLogs(id, { tail: 1, timestamps: true }));
    expect(stamped[0]?.timestamp).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(stamped[0]?.line).toBe('oops');
    expect((await rt.topContainer(id)).processes.length).toBeGreaterThan(0);
    await rt.pauseContainer(id);
    expect((await rt.inspectContainer(id)).status).toBe('paused');
    await expect(rt.pauseContainer(id)).rejects.toBeInstanceOf(ConflictError);
    await rt.unpauseContainer(id);
    expect(await rt.waitContainer(id)).toBe(4);
    const all = await following;
    expect(all.map((l) => l.line)).toEqual(['line1', 'line2', 'line3', 'line4', 'line5', 'oops', 'last']);
    expect((await rt.inspectContainer(id)).exitCode).toBe(4);
    await rt.removeContainer(id);
    await expect(collect(rt.containerLogs(id))).rejects.toBeInstanceOf(NotFoundError);
  });

  test('following logs ends quietly when the signal aborts', async () => {
    const { id } = await rt.createContainer({
      name: n('follow'),
      image: IMAGE,
      labels: TEST_LABELS,
      command: ['sh', '-c', 'echo hi; sleep 300'],
      tty: true,
    });
    await rt.startContainer(id);
    const ac = new AbortController();
    const seen: LogLine[] = [];
    for await (const l of rt.containerLogs(id, { follow: true, signal: ac.signal })) {
      seen.push(l);
      ac.abort();
    }
    expect(seen).toEqual([{ stream: 'stdout', line: 'hi' }]);
    await rt.removeContainer(id, { force: true });
  });

  test('events: filtered by label, ended by abort', async () => {
    const ac = new AbortController();
    const got: RuntimeEvent[] = [];
    const label = { 'tscompose.test.events': run };
    const listening = (async () => {
      for await (const e of rt.events({ labels: label, types: ['container'], signal: ac.signal })) {
        got.push(e);
        if (e.action === 'start') ac.abort();
      }
    })();
    await new Promise((r) => setTimeout(r, 300));
    const { id } = await rt.createContainer(sleeper('events', { labels: { ...TEST_LABELS, ...label } }));
    await rt.startContainer(id);
    await listening;
    expect(got.map((e) => e.action)).toEqual(['create', 'start']);
    expect(got[0]).toMatchObject({ type: 'container', id, attributes: { name: n('events'), 'tscompose.test.events': run } });
    await rt.removeContainer(id, { force: true });
  });

  test('cp: a tar into the container and back out', async () => {
    const tar = (await import('tar-fs')).default;
    const src = await mkdtemp(path.join(tmpdir(), 'tsc-it-cp-'));
    const dst = await mkdtemp(path.join(tmpdir(), 'tsc-it-cp-out-'));
    try {
      await writeFile(path.join(src, 'hello.txt'), 'hello cp\n');
      const { id } = await rt.createContainer(sleeper('cp'));
      await rt.startContainer(id);
      await rt.copyToContainer(id, '/tmp', tar.pack(src) as unknown as Readable);
      expect((await rt.exec(id, { cmd: ['cat', '/tmp/hello.txt'] })).stdout).toBe('hello cp\n');
      await expect(rt.copyToContainer(id, '/no/such/dir', tar.pack(src) as unknown as Readable)).rejects.toBeInstanceOf(NotFoundError);
      const out = await rt.copyFromContainer(id, '/tmp/hello.txt');
      await new Promise<void>((resolve, reject) => {
        const x = tar.extract(dst);
        x.on('finish', resolve);
        x.on('error', reject);
        out.pipe(x);
      });
      const { readFile } = await import('node:fs/promises');
      expect(await readFile(path.join(dst, 'hello.txt'), 'utf8')).toBe('hello cp\n');
      await expect(rt.copyFromContainer(id, '/no/such/file')).rejects.toBeInstanceOf(NotFoundError);
      await rt.removeContainer(id, { force: true });
    } finally {
      await rm(src, { recursive: true, force: true });
      await rm(dst, { recursive: true, force: true });
    }
  });

  test('a failing push rejects with PushError; a missing image with NotFound', async () => {
    const ref = `127.0.0.1:1/tscompose-it/${run}:latest`;
    await rt.tagImage(IMAGE, ref);
    try {
      await expect(rt.pushImage(ref)).rejects.toBeInstanceOf(PushError);
    } finally {
      await rt.removeImage(ref);
    }
    await expect(rt.pushImage(`127.0.0.1:1/tscompose-it/${run}:missing`)).rejects.toBeInstanceOf(NotFoundError);
  }, 60_000);

  test('a failing pull rejects with PullError', async () => {
    await expect(rt.pullImage('127.0.0.1:1/tscompose/no-such-image:latest')).rejects.toBeInstanceOf(PullError);
    const err = await rt.pullImage('busybox:tscompose-no-such-tag').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PullError);
    expect((err as PullError).message).toMatch(/busybox:tscompose-no-such-tag/);
  }, 60_000);

  test('image tools: details, save, load back, NotFound for missing images', async () => {
    const tag = `tsc-it-${run}-img:saved`;
    await rt.tagImage(IMAGE, tag);
    try {
      const d = await rt.inspectImageDetails(tag);
      expect(d.id).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(d.repoTags).toContain(tag);
      expect(d.layers.length).toBeGreaterThan(0);
      await expect(rt.inspectImageDetails('tscompose-no-such-image:1')).rejects.toMatchObject({
        code: 'TSC_NOT_FOUND',
        kind: 'image',
        ref: 'tscompose-no-such-image:1',
      });
      await expect(rt.saveImage([tag, 'tscompose-no-such-image:1'])).rejects.toMatchObject({
        code: 'TSC_NOT_FOUND',
        message: 'no such image: tscompose-no-such-image:1',
      });
      const archive = await readAll(await rt.saveImage([tag]));
      const manifest = await manifestOf(archive);
      expect(manifest.flatMap((m) => m.RepoTags ?? [])).toEqual([tag]);
      await rt.removeImage(tag);
      await expect(rt.inspectImage(tag)).rejects.toBeInstanceOf(NotFoundError);
      const res = await rt.loadImage(Readable.from([archive]));
      expect(res.loaded).toEqual([`Loaded image: ${tag}`]);
      expect((await rt.inspectImage(tag)).id).toBe(d.id);
      await expect(rt.loadImage(Readable.from([Buffer.from('not a tar archive')]))).rejects.toMatchObject({ code: 'TSC_IMAGE_LOAD' });
    } finally {
      await rt.removeImage(tag).catch(() => undefined);
    }
  }, 120_000);

  describe('builds', () => {
    let ctx: string;
    beforeAll(async () => {
      ctx = await mkdtemp(path.join(tmpdir(), 'tsc-it-build-'));
      await writeFile(path.join(ctx, 'Dockerfile'), `FROM ${IMAGE}\nARG GREETING=none\nCOPY . /ctx\nRUN echo "$GREETING" > /greeting\n`);
      await writeFile(path.join(ctx, '.dockerignore'), 'Dockerfile\n*.log\n');
      await writeFile(path.join(ctx, 'app.txt'), 'app');
      await writeFile(path.join(ctx, 'debug.log'), 'ignored');
    });
    afterAll(async () => {
      await rm(ctx, { recursive: true, force: true });
    });

    test('a successful build honours .dockerignore, args and labels', async () => {
      const progress: BuildProgress[] = [];
      const tag = `tscompose-it-${run}:latest`;
      const { id } = await rt.buildImage(
        { context: ctx, tags: [tag], args: { GREETING: 'hi' }, labels: TEST_LABELS },
        { onProgress: (e) => progress.push(e) },
      );
      expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
      // this engine has BuildKit: the first line says so, then BuildKit's steps (buildkit-progress.ts), typed
      expect(progress[0]?.text).toBe('using BuildKit');
      const run3 = progress.filter((e) => e.step?.number === 3 && e.step.total === 3).map((e) => e.step);
      expect(run3[0]).toMatchObject({ text: 'RUN echo "hi" > /greeting', stage: undefined }); // running, or cached by an earlier run
      expect(run3.at(-1)?.status).toMatch(/^(done|cached)$/);
      expect((await rt.inspectImage(tag)).id).toBe(id);
      expect((await rt.listImages({ labels: TEST_LABELS })).map((i) => i.id)).toContain(id);
      await rt.tagImage(tag, `tscompose-it-${run}:other`);
      expect((await rt.inspectImage(`tscompose-it-${run}:other`)).id).toBe(id);
      const { id: c } = await rt.createContainer({ name: n('built'), image: tag, labels: TEST_LABELS, command: ['sleep', '300'] });
      await rt.startContainer(c);
      const files = await rt.exec(c, { cmd: ['sh', '-c', 'cd /ctx && find . -type f | sort; cat /greeting'] });
      // debug.log never left this machine; the Dockerfile was sent but the engine itself drops an ignored
      // Dockerfile from COPY
      expect(files.stdout).toBe('./.dockerignore\n./app.txt\nhi\n');
      await rt.removeContainer(c, { force: true });
    }, 120_000);

    test('a failing RUN rejects with BuildError carrying the message', async () => {
      const err = await rt
        .buildImage({ context: ctx, tags: [`tscompose-it-${run}:bad`], dockerfileInline: `FROM ${IMAGE}\nRUN false\n`, labels: TEST_LABELS })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BuildError);
      expect((err as BuildError).message).toMatch(/\[2\/2\] RUN false: process "\/bin\/sh -c false" did not complete successfully: exit code: 1/);
      await expect(rt.inspectImage(`tscompose-it-${run}:bad`)).rejects.toBeInstanceOf(NotFoundError);
    }, 120_000);

    test('pruneImages removes a dangling image (a tag moved to a new build)', async () => {
      const tag = `tscompose-it-${run}:prune`;
      const first = await rt.buildImage({
        context: ctx,
        tags: [tag],
        dockerfileInline: `FROM ${IMAGE}\nLABEL prune=${run}-1\n`,
        labels: TEST_LABELS,
      });
      await rt.buildImage({ context: ctx, tags: [tag], dockerfileInline: `FROM ${IMAGE}\nLABEL prune=${run}-2\n`, labels: TEST_LABELS });
      const res = await rt.pruneImages();
      expect(res.deleted).toContain(first.id);
      await expect(rt.inspectImage(first.id)).rejects.toBeInstanceOf(NotFoundError);
      await rt.inspectImage(tag);
    }, 120_000);

    test('dockerfile_inline builds', async () => {
      const { id } = await rt.buildImage({
        context: ctx,
        tags: [`tscompose-it-${run}:inline`],
        dockerfileInline: `FROM ${IMAGE}\nLABEL inline=yes\n`,
        labels: TEST_LABELS,
      });
      expect((await rt.listImages({ labels: { inline: 'yes', ...TEST_LABELS } })).map((i) => i.id)).toContain(id);
    }, 120_000);
  });
});
