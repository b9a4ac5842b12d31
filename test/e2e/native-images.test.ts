/**
 * End-to-end on the native runtime, images: pull from the local registry (as Docker Hub mirror and by its own
 * name), ls and inspect, push and pull back, docker save archives loading (and native save loading into Docker),
 * and malicious layers (path and symlink escapes) rejected without writing outside. State directory of its own.
 *
 * Runs as root when conmon and runc/crun are installed; with TSCOMPOSE_E2E=1 (.ci/run) their absence fails it.
 * After the suite: no mounts, cgroups, processes or runtime state of it may be left. The state directory, helpers
 * and hooks are in ./native-e2e-helpers.ts (shared with native.test.ts, native-images.test.ts, native-bridge.test.ts).
 */
import { expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createGzip } from 'node:zlib';
import { required } from './helpers.js';
import { REGISTRY, expectNoLeftovers, nativeE2eHooks, ok, paths, project, run, stateDir, ts } from './native-e2e-helpers.js';

nativeE2eHooks();

run('native runtime e2e', () => {
  test('image pull from the local registry (mirror and explicit), ls, inspect', () => {
    expect(ok(ts(undefined, 'image', 'pull', 'busybox:latest'))).toContain('busybox:latest');
    ok(ts(undefined, 'image', 'pull', `${REGISTRY}/library/busybox:latest`));
    const ls = ok(ts(undefined, 'image', 'ls'));
    expect(ls).toMatch(/busybox\s+latest/);
    expect(ls).toContain(`${REGISTRY}/library/busybox`);
    const inspect = JSON.parse(ok(ts(undefined, 'image', 'inspect', 'busybox'))) as { Id: string; RootFS: { Layers: string[] } }[];
    expect(inspect[0]!.Id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(inspect[0]!.RootFS.Layers.length).toBeGreaterThan(0);
  }, 60_000);

  test('image push to the local registry, then pull back', () => {
    const ref = `${REGISTRY}/tscompose-e2e/native-push:${Math.random().toString(36).slice(2, 8)}`;
    ok(ts(undefined, 'image', 'tag', 'busybox:latest', ref));
    ok(ts(undefined, 'image', 'push', ref));
    ok(ts(undefined, 'image', 'rm', ref));
    expect(ts(undefined, 'image', 'inspect', ref).status).not.toBe(0);
    ok(ts(undefined, 'image', 'pull', ref));
    expect(ts(undefined, 'image', 'inspect', ref).status).toBe(0);
    ok(ts(undefined, 'image', 'rm', ref));
  }, 60_000);

  test('docker save archive loads; native save loads into Docker', () => {
    if (spawnSync('docker', ['version']).status !== 0) {
      if (required) throw new Error('Docker is needed for this test (docker save)');
      return;
    }
    const tar = join(stateDir, 'docker-saved.tar');
    expect(spawnSync('docker', ['pull', '-q', 'busybox:latest']).status).toBe(0);
    expect(spawnSync('docker', ['tag', 'busybox:latest', 'tscompose-e2e/saved:1']).status).toBe(0);
    expect(spawnSync('docker', ['save', '-o', tar, 'tscompose-e2e/saved:1']).status).toBe(0);
    spawnSync('docker', ['rmi', 'tscompose-e2e/saved:1']);
    expect(ok(ts(undefined, 'image', 'load', '-i', tar))).toContain('tscompose-e2e/saved:1');
    const p = project({
      'compose.yaml': 'services:\n  s:\n    image: tscompose-e2e/saved:1\n    network_mode: none\n    command: ["echo", "from-loaded-image"]\n',
    });
    ok(ts(p, 'up'));
    expect(ok(ts(p, 'logs', 's'))).toContain('from-loaded-image');
    ok(ts(p, 'down'));
    ok(ts(undefined, 'image', 'tag', 'tscompose-e2e/saved:1', 'tscompose-e2e/native-saved:2'));
    const out = join(stateDir, 'native-saved.tar');
    ok(ts(undefined, 'image', 'save', '-o', out, 'tscompose-e2e/native-saved:2'));
    expect(spawnSync('docker', ['load', '-i', out], { encoding: 'utf8' }).stdout).toContain('tscompose-e2e/native-saved:2');
    expect(spawnSync('docker', ['run', '--rm', 'tscompose-e2e/native-saved:2', 'echo', 'ok'], { encoding: 'utf8' }).stdout.trim()).toBe('ok');
    spawnSync('docker', ['rmi', 'tscompose-e2e/native-saved:2']);
    ok(ts(undefined, 'image', 'rm', 'tscompose-e2e/saved:1', 'tscompose-e2e/native-saved:2'));
  }, 90_000);

  test('a malicious layer (path escape, symlink escape) is rejected and writes nothing outside', async () => {
    const { pack } = await import('tar-stream');
    const { createHash } = await import('node:crypto');
    const outside = join(stateDir, `outside-${Math.random().toString(36).slice(2, 8)}`);
    mkdirSync(outside);
    const layer = async (entries: { name: string; type?: 'file' | 'symlink'; linkname?: string; body?: string }[]): Promise<Buffer> => {
      const t = pack();
      for (const e of entries) {
        if (e.type === 'symlink') t.entry({ name: e.name, type: 'symlink', linkname: e.linkname! });
        else t.entry({ name: e.name }, e.body ?? 'x');
      }
      t.finalize();
      const chunks: Buffer[] = [];
      for await (const c of t) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    };
    const archive = async (layerTar: Buffer): Promise<Buffer> => {
      const diffId = `sha256:${createHash('sha256').update(layerTar).digest('hex')}`;
      const config = JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['sh'] }, rootfs: { type: 'layers', diff_ids: [diffId] } });
      const configName = `${createHash('sha256').update(config).digest('hex')}.json`;
      const t = pack();
      t.entry({ name: 'layer/layer.tar' }, layerTar);
      t.entry({ name: configName }, config);
      t.entry({ name: 'manifest.json' }, JSON.stringify([{ Config: configName, RepoTags: ['tscompose-e2e/evil:1'], Layers: ['layer/layer.tar'] }]));
      t.finalize();
      const chunks: Buffer[] = [];
      for await (const c of t) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    };
    const cases = [
      await layer([
        { name: 'a', type: 'symlink', linkname: outside },
        { name: 'a/pwned', body: 'pwned' },
      ]),
      await layer([
        { name: 'b', type: 'symlink', linkname: '../../../../../../..' + outside },
        { name: 'b/pwned2', body: 'pwned' },
      ]),
      await layer([{ name: '../dotdot', body: 'pwned' }]),
    ];
    for (const [i, l] of cases.entries()) {
      const file = join(stateDir, `evil-${i}.tar`);
      writeFileSync(file, await archive(l));
      const r = ts(undefined, 'image', 'load', '-i', file);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/reject|escape|\.\./i);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(readdirSync(outside)).toEqual([]);
    expect(existsSync(join(paths.images, '..', 'dotdot'))).toBe(false);
    expect(ts(undefined, 'image', 'inspect', 'tscompose-e2e/evil:1').status).not.toBe(0);
    void createGzip;
  }, 30_000);

  test('after the suite: no leftover mounts, cgroups, processes or runtime state', async () => {
    await expectNoLeftovers();
  }, 60_000);
});
