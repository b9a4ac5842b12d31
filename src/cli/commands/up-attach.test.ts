import { describe, expect, test } from '@jest/globals';
import { attachedServices, runUp } from './up.js';
import type { CommandContext } from '../context.js';

describe('up: whose output is attached', () => {
  const started = ['db', 'cache', 'web'];
  test('the services named, or all; --attach-dependencies adds what they depend on (all that up started)', () => {
    expect(attachedServices(started, ['web'], {})).toEqual(['web']);
    expect(attachedServices(started, [], {})).toEqual(started);
    expect(attachedServices(started, ['web'], { attachDependencies: true })).toEqual(started);
    expect(attachedServices(started, ['web'], { attachDependencies: true, noAttach: ['cache'] })).toEqual(['db', 'web']);
    expect(attachedServices(started, ['web'], { attach: ['db'] })).toEqual(['db']);
  });

  test('--attach-dependencies is refused with --attach, --detach and --wait, as docker compose', async () => {
    const ctx = {} as CommandContext;
    await expect(runUp(ctx, [], { attachDependencies: true, attach: ['db'] })).rejects.toThrow('cannot combine --attach and --attach-dependencies');
    await expect(runUp(ctx, [], { attachDependencies: true, detach: true })).rejects.toThrow(/cannot be combined with --attach-dependencies/);
    await expect(runUp(ctx, [], { attachDependencies: true, wait: true })).rejects.toThrow(/cannot be combined with --attach-dependencies/);
  });
});
