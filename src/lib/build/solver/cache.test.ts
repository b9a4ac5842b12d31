import { afterEach, describe, expect, test } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BuildCache, stepKey } from './cache.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe('build cache', () => {
  test('keys depend on the parent and every part', () => {
    expect(stepKey('p', 'RUN', ['a'])).toBe(stepKey('p', 'RUN', ['a']));
    expect(stepKey('p', 'RUN', ['a'])).not.toBe(stepKey('q', 'RUN', ['a']));
    expect(stepKey('p', 'RUN', ['a'])).not.toBe(stepKey('p', 'RUN', ['b']));
    expect(stepKey('p', 'RUN', ['a'])).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  test('entries round-trip, name their layers for gc, and prune removes them', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'bc-'));
    dirs.push(root);
    const cache = new BuildCache(root);
    const layer = { diffId: 'sha256:d1', chainId: 'sha256:c1', size: 3 };
    expect(await cache.get('sha256:k')).toBeUndefined();
    await cache.put('sha256:k', { layers: [layer], emptyLayer: false, created: Date.now() - 10_000, description: 'RUN x' });
    await cache.put('sha256:k2', { layers: [], emptyLayer: true, created: Date.now(), description: 'WORKDIR /a' });
    expect((await cache.get('sha256:k'))?.layers).toEqual([layer]);
    expect(await cache.kept()).toEqual({ chainIds: ['sha256:c1'], diffIds: ['sha256:d1'] });
    expect(await cache.prune({ olderThanMs: 5_000 })).toBe(1);
    expect(await cache.get('sha256:k')).toBeUndefined();
    expect(await cache.prune()).toBe(1);
  });
});
