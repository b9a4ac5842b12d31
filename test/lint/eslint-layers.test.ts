/** The import-boundary rule of `npm run lint` (scripts/eslint-layers.mjs): what each layer may and may not import. */
import { describe, expect, test } from '@jest/globals';
// @ts-expect-error -- a plain ES module without types
import { violation } from '../../scripts/eslint-layers.mjs';

const allowed = (from: string, to: string): boolean => (violation as (f: string, t: string) => string | undefined)(from, to) === undefined;

describe('import boundaries', () => {
  test.each([
    ['lib/image/store.ts', 'lib/fs/lock.ts'],
    ['lib/image/store.ts', 'lib/errors.ts'],
    ['lib/image/registry.ts', 'util/extra-ca.ts'],
    ['engine/up.ts', 'runtime/runtime.ts'],
    ['engine/plan.ts', 'runtime/spec.ts'],
    ['engine/observe.ts', 'runtime/errors.ts'],
    ['engine/images.ts', 'lib/image/reference.ts'],
    ['engine/up.ts', 'project/types.ts'],
    ['runtime/native/images.ts', 'lib/image/store.ts'],
    ['runtime/native/containers.ts', 'runtime/runtime.ts'],
    ['cli/runtime.ts', 'runtime/select.ts'],
    ['cli/commands/up.ts', 'engine/up.ts'],
  ])('%s may import %s', (from, to) => expect(allowed(from, to)).toBe(true));

  test.each([
    ['lib/image/store.ts', 'errors.ts'],
    ['lib/image/store.ts', 'runtime/errors.ts'],
    ['lib/net/network.ts', 'engine/plan.ts'],
    ['lib/dns/server.ts', 'project/types.ts'],
    ['util/bytes.ts', 'lib/errors.ts'],
    ['project/load.ts', 'engine/up.ts'],
    ['project/load.ts', 'runtime/runtime.ts'],
    ['engine/up.ts', 'runtime/native/native-runtime.ts'],
    ['engine/up.ts', 'runtime/select.ts'],
    ['engine/up.ts', 'cli/context.ts'],
    ['runtime/native/containers.ts', 'engine/plan.ts'],
    ['runtime/native/containers.ts', 'runtime/docker/convert.ts'],
    ['cli/runtime.ts', 'runtime/fake/fake-runtime.ts'],
    ['cli/commands/up.ts', 'runtime/docker/docker-runtime.ts'],
  ])('%s may not import %s', (from, to) => expect(allowed(from, to)).toBe(false));
});
