import { describe, expect, test } from '@jest/globals';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { NativeContext, nativeSettings } from './context.js';

describe('nativeSettings', () => {
  test("defaults: OCI runtime chosen from the host, fast paths and the binary's mount on, Docker's registry files", () => {
    expect(nativeSettings({})).toEqual({
      ociRuntime: undefined,
      ociFastPaths: true,
      ociBinaryMount: true,
      registry: { mirrors: [], insecure: [], daemonJsonPath: '/etc/docker/daemon.json', dockerConfigPath: join(homedir(), '.docker', 'config.json') },
    });
  });

  test('reads TSCOMPOSE_OCI_RUNTIME, TSCOMPOSE_OCI_FAST and TSCOMPOSE_OCI_BINARY_MOUNT', () => {
    const s = nativeSettings({ TSCOMPOSE_OCI_RUNTIME: 'runc', TSCOMPOSE_OCI_FAST: '0', TSCOMPOSE_OCI_BINARY_MOUNT: '0' });
    expect(s).toMatchObject({ ociRuntime: 'runc', ociFastPaths: false, ociBinaryMount: false });
    expect(nativeSettings({ TSCOMPOSE_OCI_FAST: '1' })).toMatchObject({ ociFastPaths: true });
  });

  test('reads the registry variables and DOCKER_CONFIG (names only: no file is read)', () => {
    const s = nativeSettings({
      TSCOMPOSE_REGISTRY_MIRRORS: 'http://m1:5000, mirror.example',
      TSCOMPOSE_INSECURE_REGISTRIES: 'm1:5000 10.0.0.0/8',
      TSCOMPOSE_DOCKER_DAEMON_JSON: '/nonexistent/daemon.json',
      DOCKER_CONFIG: '/srv/docker-config',
    });
    expect(s.registry).toEqual({
      mirrors: ['http://m1:5000', 'mirror.example'],
      insecure: ['m1:5000', '10.0.0.0/8'],
      daemonJsonPath: '/nonexistent/daemon.json',
      dockerConfigPath: '/srv/docker-config/config.json',
    });
    expect(nativeSettings({ TSCOMPOSE_DOCKER_DAEMON_JSON: '' }).registry.daemonJsonPath).toBeUndefined();
  });

  test('TSCOMPOSE_USERNS_REMAP: off unless set; the range resolved on first use', () => {
    expect(nativeSettings({}).usernsRemap).toBeUndefined();
    expect(new NativeContext({ TSCOMPOSE_STATE_DIR: '/srv/tsc-ctx-test' }).userns()).toBeUndefined();
    const ctx = new NativeContext({ TSCOMPOSE_STATE_DIR: '/srv/tsc-ctx-test', TSCOMPOSE_USERNS_REMAP: '100000:100000:65536' });
    expect(ctx.settings.usernsRemap).toBe('100000:100000:65536');
    expect(ctx.userns()).toEqual({ uid: 100000, gid: 100000, size: 65536 });
    expect(ctx.usernsLayers).toBe('/srv/tsc-ctx-test/userns');
    expect(() => new NativeContext({ TSCOMPOSE_USERNS_REMAP: '0:0:1' }).userns()).toThrow(/TSCOMPOSE_USERNS_REMAP=0:0:1/);
  });
});

describe('NativeContext', () => {
  const env = { TSCOMPOSE_STATE_DIR: '/srv/tsc-ctx-test', TSCOMPOSE_RUN_DIR: '/run/tsc-ctx-test', TSCOMPOSE_OCI_FAST: '0' };

  test('paths, settings and state come from the env it is given, not from process.env', () => {
    const ctx = new NativeContext(env);
    expect(ctx.paths.root).toBe('/srv/tsc-ctx-test');
    expect(ctx.paths.run).toBe('/run/tsc-ctx-test');
    expect(ctx.state.containerDir('x')).toBe('/srv/tsc-ctx-test/containers/x');
    expect(ctx.settings.ociFastPaths).toBe(false);
    expect(ctx.env).toBe(env);
  });

  test('an invalid TSCOMPOSE_OCI_RUNTIME fails on first use of the OCI runtime, not at construction', () => {
    const ctx = new NativeContext({ ...env, TSCOMPOSE_OCI_RUNTIME: 'docker' });
    expect(() => ctx.oci).toThrow(/TSCOMPOSE_OCI_RUNTIME must be runc, crun or an absolute path/);
  });

  test('the network state lives under <state>/net; built once', () => {
    const ctx = new NativeContext(env);
    expect(ctx.networks.file).toBe('/srv/tsc-ctx-test/net/networks.json');
    expect(ctx.networks).toBe(ctx.networks);
  });

  test('the image service is loaded once, over <state>/images, with the registry settings of the env', async () => {
    const ctx = new NativeContext({ ...env, TSCOMPOSE_REGISTRY_MIRRORS: '127.0.0.1:5999', TSCOMPOSE_DOCKER_DAEMON_JSON: '' });
    const images = await ctx.images();
    expect(await ctx.images()).toBe(images);
    expect(images.store.root).toBe('/srv/tsc-ctx-test/images');
    expect(images.store['parts'].registry.mirrors).toEqual(['https://127.0.0.1:5999']);
  });
});
