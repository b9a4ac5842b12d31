import { expect, test } from '@jest/globals';
import { FakeRuntime } from '../runtime/fake/fake-runtime.js';
import type { Project } from '../project/types.js';
import { digestFor, resolveImageDigests } from './resolve-digests.js';

test('digestFor: the repository digest, with or without a registry port or docker.io prefix', () => {
  expect(digestFor('redis:7', ['redis@sha256:aa', 'other@sha256:bb'])).toBe('sha256:aa');
  expect(digestFor('127.0.0.1:5001/app:dev', ['127.0.0.1:5001/app@sha256:cc'])).toBe('sha256:cc');
  expect(digestFor('nginx', ['docker.io/library/nginx@sha256:dd'])).toBe('sha256:dd');
  expect(digestFor('x:1', [])).toBeUndefined();
});

test('images pinned (pulled when missing); pinned and build-only services left alone; an image nowhere is an error', async () => {
  const rt = new FakeRuntime({ images: { 'redis:7': 'sha256:77' } });
  const project = {
    name: 'p',
    services: { a: { image: 'redis:7' }, b: { image: 'nginx:1' }, c: { image: 'x@sha256:ee' }, d: { build: { context: '/x' } } },
  } as unknown as Project;
  const out = await resolveImageDigests(rt, project);
  expect(out.services['a']!.image).toBe('redis:7@sha256:77');
  expect(out.services['b']!.image).toMatch(/^nginx:1@.+/); // the fake's pulled digest;
  expect(out.services['c']!.image).toBe('x@sha256:ee');
  expect(out.services['d']!.image).toBeUndefined();
  // not there and not pullable: the pull's error
  const noDigest = { name: 'p', services: { a: { image: 'mine:1' } } } as unknown as Project;
  const bare = new FakeRuntime({ registry: {} });
  await expect(resolveImageDigests(bare, noDigest)).rejects.toThrow();
});
