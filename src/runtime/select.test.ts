import { describe, expect, test } from '@jest/globals';
import { RuntimeUnavailableError } from './errors.js';
import { FakeRuntime } from './fake/fake-runtime.js';
import { dockerConnection } from './docker/connection.js';
import { isRuntimeKind, selectRuntime } from './select.js';
import type { Runtime } from './runtime.js';
import { TsComposeError } from '../errors.js';

const answering = (ok: boolean) => (): Runtime => {
  const rt = new FakeRuntime();
  rt.ping = () => Promise.resolve(ok);
  return rt;
};

describe('selectRuntime', () => {
  test('docker and auto use Docker when it answers', async () => {
    expect((await selectRuntime('docker', {}, { makeDocker: answering(true) })).kind).toBe('fake');
    expect((await selectRuntime('auto', {}, { makeDocker: answering(true) })).kind).toBe('fake');
  });

  test('docker not answering: RuntimeUnavailableError with a hint', async () => {
    const err = await selectRuntime('docker', { DOCKER_HOST: 'unix:///tmp/nope.sock' }, { makeDocker: answering(false) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RuntimeUnavailableError);
    expect((err as RuntimeUnavailableError).code).toBe('TSC_RUNTIME_UNAVAILABLE');
    expect((err as RuntimeUnavailableError).message).toContain('/tmp/nope.sock');
    expect((err as RuntimeUnavailableError).hint).toContain('npm run engine:setup');
  });

  test('native (and auto without Docker) when the native runtime cannot run: TSC_RUNTIME_UNAVAILABLE', async () => {
    for (const kind of ['native', 'auto'] as const) {
      const err = await selectRuntime(kind, {}, { makeDocker: answering(false), makeNative: async () => answering(false)() }).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(TsComposeError);
      expect((err as TsComposeError).code).toBe('TSC_RUNTIME_UNAVAILABLE');
      expect((err as TsComposeError).hint).toContain('--runtime docker');
    }
  });

  test('native when it can run; auto falls back to it without Docker', async () => {
    const native = async (): Promise<Runtime> => Object.assign(answering(true)(), { kind: 'native' });
    expect((await selectRuntime('native', {}, { makeDocker: answering(true), makeNative: native })).kind).toBe('native');
    expect((await selectRuntime('auto', {}, { makeDocker: answering(false), makeNative: native })).kind).toBe('native');
  });

  test('a real DockerRuntime on a dead socket does not answer', async () => {
    const err = await selectRuntime('docker', { DOCKER_HOST: 'unix:///tmp/tscompose-no-such.sock' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RuntimeUnavailableError);
  });

  test('isRuntimeKind', () => {
    expect(['docker', 'native', 'auto', 'podman'].map(isRuntimeKind)).toEqual([true, true, true, false]);
  });
});

describe('dockerConnection', () => {
  test('DOCKER_HOST forms', () => {
    expect(dockerConnection({})).toEqual({ socketPath: '/var/run/docker.sock' });
    expect(dockerConnection({ DOCKER_HOST: 'unix:///run/user/1000/docker.sock' })).toEqual({ socketPath: '/run/user/1000/docker.sock' });
    expect(dockerConnection({ DOCKER_HOST: 'tcp://10.0.0.1:2375' })).toEqual({ host: '10.0.0.1', port: '2375', protocol: 'http' });
    expect(dockerConnection({ DOCKER_HOST: 'tcp://h', DOCKER_TLS_VERIFY: '1' })).toEqual({ host: 'h', port: '2376', protocol: 'https' });
    expect(() => dockerConnection({ DOCKER_HOST: 'ssh://me@host' })).toThrow(RuntimeUnavailableError);
  });
});
