/**
 * Golden test of the compose → swarm mapping: __fixtures__/full.compose.yaml (every mapped key, every warned
 * key) through the project loader and stackOf → __fixtures__/full.golden.json. Absolute fixture paths are written
 * as <fixtures>. `UPDATE_GOLDEN=1 npm run jest -- src/swarm/convert.golden` rewrites the golden file (then format it with
 * prettier); the comparison is of the parsed JSON, so formatting does not matter.
 */
import { describe, expect, it } from '@jest/globals';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadProjectSync } from '../project/load.js';
import { stackOf } from './convert.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '__fixtures__');
const GOLDEN = join(FIXTURES, 'full.golden.json');

function load(env: Record<string, string> = {}) {
  return loadProjectSync({ cwd: FIXTURES, files: ['full.compose.yaml'], env: { API_KEY: 'k-123', FROM_SHELL: 'shell', ...env } }).project;
}

function render(value: unknown): string {
  return JSON.stringify(value, null, 2).split(FIXTURES).join('<fixtures>') + '\n';
}

describe('stackOf: full fixture', () => {
  it('matches the golden file', () => {
    const out = render(stackOf(load()));
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(GOLDEN, out);
    expect(JSON.parse(out)).toEqual(JSON.parse(readFileSync(GOLDEN, 'utf8')));
  });

  it('is deterministic', () => {
    expect(render(stackOf(load()))).toBe(render(stackOf(load())));
  });

  it('a changed secret renames it and changes the spec of exactly the services using it', () => {
    const a = stackOf(load());
    const b = stackOf(load({ API_KEY: 'k-456' }));
    const name = (s: typeof a, key: string) => s.secrets.find((x) => x.key === key)!.name;
    expect(name(b, 'api_key')).not.toBe(name(a, 'api_key'));
    expect(name(b, 'db_password')).toBe(name(a, 'db_password'));
    const changed = a.services.filter((s, i) => JSON.stringify(s.spec) !== JSON.stringify(b.services[i]!.spec)).map((s) => s.key);
    expect(changed).toEqual(['app']);
  });

  it('pins images by digest and keeps the compose image in the stack label', () => {
    const pinned = 'registry.example:5000/shop/app@sha256:' + 'a'.repeat(64);
    const s = stackOf(load(), { pinnedImages: { app: pinned } }).services.find((x) => x.key === 'app')!;
    expect(s.spec.TaskTemplate.ContainerSpec.Image).toBe(pinned);
    expect(s.spec.Labels['com.docker.stack.image']).toBe('registry.example:5000/shop/app:1.2');
  });
});
