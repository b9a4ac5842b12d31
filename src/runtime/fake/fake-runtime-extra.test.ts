import { describe, expect, test } from '@jest/globals';
import { Readable } from 'node:stream';
import { BuildError, ConflictError, NotFoundError } from '../errors.js';
import type { LogLine, RuntimeEvent } from '../runtime.js';
import { FakeRuntime } from './fake-runtime.js';

const text = async (r: Readable): Promise<string> => {
  let s = '';
  for await (const c of r) s += String(c);
  return s;
};

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('FakeRuntime: exec, logs, wait, pause, top, events, images, cp', () => {
  test('exec needs a running container and reports exit codes and output', async () => {
    const rt = new FakeRuntime({ images: { busybox: 'sha256:aa' } });
    await rt.createContainer({ name: 'x', image: 'busybox', labels: {} });
    await expect(rt.exec('x', { cmd: ['true'] })).rejects.toBeInstanceOf(ConflictError);
    await rt.startContainer('x');
    expect(await rt.exec('x', { cmd: ['echo', 'hi', 'there'] })).toEqual({ exitCode: 0, stdout: 'hi there\n', stderr: '' });
    expect((await rt.exec('x', { cmd: ['sh', '-c', 'exit 3'] })).exitCode).toBe(3);
    expect((await rt.exec('x', { cmd: ['false'] })).exitCode).toBe(1);
    const s = await rt.execStream('x', { cmd: ['echo', 'streamed'] });
    expect(await text(s.stdout)).toBe('streamed\n');
    expect(await text(s.stderr)).toBe('');
    expect(await s.wait()).toBe(0);
    const custom = new FakeRuntime({
      images: { busybox: 'sha256:aa' },
      onExec: (c, spec) => ({ exitCode: 7, stdout: c.name, stderr: spec.cmd.join(',') }),
    });
    await custom.createContainer({ name: 'y', image: 'busybox', labels: {} });
    await custom.startContainer('y');
    expect(await custom.exec('y', { cmd: ['a', 'b'] })).toEqual({ exitCode: 7, stdout: 'y', stderr: 'a,b' });
  });

  test('logs: tail, timestamps, follow until the container exits', async () => {
    const rt = new FakeRuntime({ images: { busybox: 'sha256:aa' } });
    await rt.createContainer({ name: 'x', image: 'busybox', labels: {} });
    await rt.startContainer('x');
    rt.emitLog('x', 'one');
    rt.emitLog('x', 'two', 'stderr');
    rt.emitLog('x', 'three');
    expect((await collect(rt.containerLogs('x', { tail: 2 }))).map((l) => l.line)).toEqual(['two', 'three']);
    const [first] = await collect(rt.containerLogs('x', { timestamps: true, tail: 1 }));
    expect(first?.timestamp).toMatch(/^2020-01-01T00:00:\d\d\.000Z$/);
    const seen: LogLine[] = [];
    const following = (async () => {
      for await (const l of rt.containerLogs('x', { follow: true, tail: 0 })) seen.push(l);
    })();
    await new Promise((r) => setImmediate(r));
    rt.emitLog('x', 'four');
    await new Promise((r) => setImmediate(r));
    rt.exit('x', 2);
    await following;
    expect(seen).toEqual([{ stream: 'stdout', line: 'four' }]);
    await expect(collect(rt.containerLogs('nope'))).rejects.toBeInstanceOf(NotFoundError);
  });

  test('follow ends when the signal aborts', async () => {
    const rt = new FakeRuntime({ images: { busybox: 'sha256:aa' } });
    await rt.createContainer({ name: 'x', image: 'busybox', labels: {} });
    await rt.startContainer('x');
    const ac = new AbortController();
    const done = collect(rt.containerLogs('x', { follow: true, signal: ac.signal }));
    await new Promise((r) => setImmediate(r));
    ac.abort();
    expect(await done).toEqual([]);
  });

  test('wait, pause/unpause, top, restart', async () => {
    const rt = new FakeRuntime({ images: { busybox: 'sha256:aa' } });
    await rt.createContainer({ name: 'x', image: 'busybox', labels: {}, command: ['sleep', '100'] });
    expect(await rt.waitContainer('x')).toBe(0);
    await rt.startContainer('x');
    await expect(rt.unpauseContainer('x')).rejects.toBeInstanceOf(ConflictError);
    await rt.pauseContainer('x');
    expect((await rt.inspectContainer('x')).status).toBe('paused');
    await rt.unpauseContainer('x');
    expect((await rt.topContainer('x')).processes[0]?.at(-1)).toBe('sleep 100');
    const waiting = rt.waitContainer('x');
    rt.exit('x', 5);
    expect(await waiting).toBe(5);
    await expect(rt.topContainer('x')).rejects.toBeInstanceOf(ConflictError);
    await rt.restartContainer('x');
    expect((await rt.inspectContainer('x')).status).toBe('running');
    const removed = rt.waitContainer('x', { condition: 'removed' });
    await rt.removeContainer('x', { force: true });
    expect(await removed).toBe(137);
  });

  test('published ports while running', async () => {
    const rt = new FakeRuntime({ images: { busybox: 'sha256:aa' } });
    await rt.createContainer({
      name: 'x',
      image: 'busybox',
      labels: {},
      ports: [
        { containerPort: 80, protocol: 'tcp', hostPort: { start: 8080, end: 8080 } },
        { containerPort: 81, protocol: 'udp' },
        { containerPort: 82, protocol: 'sctp', hostPort: { start: 9000, end: 9010 } },
      ],
    });
    expect((await rt.inspectContainer('x')).publishedPorts).toBeUndefined();
    await rt.startContainer('x');
    expect((await rt.inspectContainer('x')).publishedPorts).toEqual([
      { containerPort: 80, protocol: 'tcp', hostIp: '0.0.0.0', hostPort: 8080 },
      { containerPort: 81, protocol: 'udp', hostIp: '0.0.0.0', hostPort: 49154 },
      { containerPort: 82, protocol: 'sctp', hostIp: '0.0.0.0', hostPort: 9000 },
    ]);
  });

  test('events are filtered by labels and end on abort', async () => {
    const rt = new FakeRuntime({ images: { busybox: 'sha256:aa' } });
    const ac = new AbortController();
    const got: RuntimeEvent[] = [];
    const listening = (async () => {
      for await (const e of rt.events({ labels: { p: 'a' }, signal: ac.signal })) {
        got.push(e);
        if (got.length === 3) ac.abort();
      }
    })();
    await new Promise((r) => setImmediate(r));
    await rt.createContainer({ name: 'other', image: 'busybox', labels: { p: 'b' } });
    await rt.createContainer({ name: 'x', image: 'busybox', labels: { p: 'a' } });
    await rt.startContainer('x');
    await rt.stopContainer('x');
    await listening;
    expect(got.map((e) => `${e.type} ${e.action} ${e.attributes['name']}`)).toEqual(['container create x', 'container start x', 'container kill x']);
    expect(rt.eventLog.length).toBeGreaterThan(3);
    const replay = await collect(rt.events({ since: 0, until: Date.UTC(2020, 0, 1) / 1000 + 2, types: ['container'] }));
    expect(replay.map((e) => e.action)).toEqual(['create', 'create']);
  });

  test('build, tag, list, push, and a failing build', async () => {
    const rt = new FakeRuntime();
    const progress: string[] = [];
    const { id } = await rt.buildImage(
      { context: '/ctx', tags: ['app:1', 'app:latest'], labels: { l: '1' } },
      { onProgress: (e) => progress.push(e.text) },
    );
    expect(id).toBe('sha256:b' + '1'.padStart(11, '0').padEnd(63, '0'));
    expect(progress).toHaveLength(2);
    await rt.tagImage('app:1', 'reg/app:1');
    const images = await rt.listImages({ labels: { l: '1' } });
    expect(images).toHaveLength(1);
    expect(images[0]?.repoTags).toEqual(['app:1', 'app:latest', 'reg/app:1']);
    await rt.pushImage('reg/app:1');
    expect(rt.pushed).toEqual(['reg/app:1']);
    await expect(rt.pushImage('missing:1')).rejects.toBeInstanceOf(NotFoundError);
    await expect(rt.tagImage('missing:1', 'x')).rejects.toBeInstanceOf(NotFoundError);
    await expect(rt.buildImage({ context: '/ctx', tags: ['bad'], dockerfileInline: 'FROM busybox\nRUN false\n' })).rejects.toBeInstanceOf(BuildError);
    expect(await rt.ping()).toBe(true);
  });

  test('copy to and from a container', async () => {
    const rt = new FakeRuntime({ images: { busybox: 'sha256:aa' } });
    await rt.createContainer({ name: 'x', image: 'busybox', labels: {} });
    await rt.copyToContainer('x', '/tmp', Readable.from([Buffer.from('tar-bytes')]));
    expect(await text(await rt.copyFromContainer('x', '/tmp'))).toBe('tar-bytes');
    await expect(rt.copyFromContainer('x', '/nope')).rejects.toBeInstanceOf(NotFoundError);
  });
});
