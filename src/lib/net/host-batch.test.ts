import { describe, expect, it } from '@jest/globals';
import { hostBatcher } from './host-batch.js';
import type { Step } from './run.js';

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

describe('hostBatcher', () => {
  it('runs the first script at once and the ones coming meanwhile as one ip -batch', async () => {
    const steps: Step[] = [];
    const batch = hostBatcher(async (s) => {
      steps.push(s);
      await tick();
    });
    const results = await Promise.all([batch('link add a\nlink set a up\n'), batch('link add b\n'), batch('link add c')]);
    expect(results).toEqual(['done', 'done', 'done']);
    expect(steps).toEqual([
      { argv: ['ip', '-batch', '-'], input: 'link add a\nlink set a up\n' },
      { argv: ['ip', '-batch', '-'], input: 'link add b\nlink add c\n' },
    ]);
  });

  it('a failed batch of several tells each to run again alone; a lone failure is its own error', async () => {
    const batch = hostBatcher(async (s) => {
      await tick();
      if (s.input?.includes('bad')) throw new Error('RTNETLINK answers: Cannot assign requested address');
    });
    const [lone, ...merged] = await Promise.allSettled([batch('link add bad\n'), batch('link add ok\n'), batch('link add bad2\n')]);
    expect(lone).toMatchObject({ status: 'rejected', reason: { message: 'RTNETLINK answers: Cannot assign requested address' } });
    expect(merged).toEqual([
      { status: 'fulfilled', value: 'alone' },
      { status: 'fulfilled', value: 'alone' },
    ]);
    await expect(batch('link add fine\n')).resolves.toBe('done');
  });
});
