import { describe, expect, test } from '@jest/globals';
import { ConflictError, NotFoundError, NotModifiedError, PullError } from '../errors.js';
import type { PullProgress } from '../runtime.js';
import { FakeRuntime } from './fake-runtime.js';

describe('FakeRuntime', () => {
  test('deterministic ids and recorded calls', async () => {
    const rt = new FakeRuntime({ images: { busybox: 'sha256:aa' } });
    const net = await rt.createNetwork({ name: 'p_default', labels: { a: '1' } });
    const c = await rt.createContainer({
      name: 'p-x-1',
      image: 'busybox',
      labels: { 'com.docker.compose.project': 'p' },
      networks: [{ network: 'p_default' }],
    });
    expect(net.id).toBe('n00000000001'.padEnd(64, '0'));
    expect(c.id.slice(0, 12)).toBe('c00000000001');
    await rt.startContainer(c.id.slice(0, 12));
    expect(rt.calls).toEqual([
      { method: 'createNetwork', args: ['p_default'] },
      { method: 'createContainer', args: ['p-x-1'] },
      { method: 'startContainer', args: ['c00000000001'] },
    ]);
    expect((await rt.listContainers({ labels: { 'com.docker.compose.project': 'p' } })).map((x) => x.status)).toEqual(['running']);
    expect(await rt.listContainers({ labels: { 'com.docker.compose.project': true, other: true } })).toEqual([]);
    expect((await rt.inspectNetwork('p_default')).containers).toEqual([c.id]);
  });

  test('engine-like errors', async () => {
    const rt = new FakeRuntime({ images: { busybox: 'sha256:aa' } });
    await expect(rt.createContainer({ name: 'x', image: 'nope', labels: {} })).rejects.toBeInstanceOf(NotFoundError);
    await expect(rt.createContainer({ name: 'x', image: 'busybox', labels: {}, networks: [{ network: 'missing' }] })).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await rt.createContainer({ name: 'x', image: 'busybox', labels: {} });
    await expect(rt.createContainer({ name: 'x', image: 'busybox', labels: {} })).rejects.toBeInstanceOf(ConflictError);
    await expect(rt.stopContainer('x')).rejects.toBeInstanceOf(NotModifiedError);
    await rt.startContainer('x');
    await expect(rt.startContainer('x')).rejects.toBeInstanceOf(NotModifiedError);
    await expect(rt.removeContainer('x')).rejects.toBeInstanceOf(ConflictError);
    await expect(rt.removeImage('busybox')).rejects.toBeInstanceOf(ConflictError);
    await rt.removeContainer('x', { force: true });
    await expect(rt.inspectContainer('x')).rejects.toBeInstanceOf(NotFoundError);
    await rt.createNetwork({ name: 'n', labels: {} });
    await expect(rt.createNetwork({ name: 'n', labels: {} })).rejects.toBeInstanceOf(ConflictError);
    await expect(rt.removeVolume('v')).rejects.toBeInstanceOf(NotFoundError);
  });

  test('rename, networks connect/disconnect, volumes in use', async () => {
    const rt = new FakeRuntime({ images: { busybox: 'sha256:aa' } });
    await rt.createNetwork({ name: 'n1', labels: {} });
    await rt.createNetwork({ name: 'n2', labels: {} });
    await rt.createContainer({
      name: 'a',
      image: 'busybox',
      labels: {},
      networks: [{ network: 'n1' }],
      mounts: [{ type: 'volume', source: 'vol', target: '/d' }],
    });
    await rt.createContainer({ name: 'b', image: 'busybox', labels: {} });
    await expect(rt.renameContainer('a', 'b')).rejects.toBeInstanceOf(ConflictError);
    await rt.renameContainer('a', 'c');
    await rt.connectNetwork('n2', 'c', { aliases: ['x'] });
    await expect(rt.connectNetwork('n2', 'c')).rejects.toBeInstanceOf(ConflictError);
    await rt.disconnectNetwork('n1', 'c');
    expect(Object.keys((await rt.inspectContainer('c')).networks)).toEqual(['n2']);
    await expect(rt.removeNetwork('n2')).rejects.toBeInstanceOf(ConflictError);
    await expect(rt.removeVolume('vol')).rejects.toBeInstanceOf(ConflictError);
    await rt.removeContainer('c');
    await rt.removeVolume('vol');
    await rt.removeNetwork('n2');
    expect((await rt.listNetworks()).map((n) => n.name)).toEqual(['n1']);
  });

  test('pull reports progress, and fails with PullError for unknown images', async () => {
    const rt = new FakeRuntime({ registry: { 'redis:7': 'sha256:77' } });
    const events: PullProgress[] = [];
    const img = await rt.pullImage('redis:7', { onProgress: (e) => events.push(e) });
    expect(img).toEqual({ id: 'sha256:77', repoTags: ['redis:7'], repoDigests: ['redis@sha256:77'] });
    expect(events.map((e) => e.status)).toEqual(['Pulling from library', 'Pull complete']);
    expect((await rt.inspectImage('redis:7')).id).toBe('sha256:77');
    await expect(rt.pullImage('nope')).rejects.toBeInstanceOf(PullError);
  });

  test('injected failures and aborted signals', async () => {
    const rt = new FakeRuntime();
    const err = new Error('boom');
    rt.failNext('listVolumes', err);
    await expect(rt.listVolumes()).rejects.toBe(err);
    expect(await rt.listVolumes()).toEqual([]);
    await expect(rt.listVolumes({ signal: AbortSignal.abort(new Error('stop')) })).rejects.toThrow('stop');
  });
});
