import { describe, expect, test } from '@jest/globals';
import type { ContainerRecord, ContainerState } from '../state.js';
import { afterBackOff, restartDelayMs, shouldRestart } from './restart-policy.js';

function record(restart: string | undefined, state: Partial<ContainerState> = {}): ContainerRecord {
  return {
    id: 'a'.repeat(64),
    name: 'web',
    image: 'alpine',
    imageId: 'sha256:' + 'b'.repeat(64),
    labels: {},
    created: 0,
    hostname: 'web',
    spec: { name: 'web', image: 'alpine', labels: {}, ...(restart === undefined ? {} : { restart }) },
    mounts: [],
    anonymousVolumes: [],
    state: { status: 'exited', exitCode: 0, restartCount: 0, stoppedByUser: false, generation: 1, ...state },
  };
}

describe('shouldRestart', () => {
  // [policy, exit code, stopped by user, restart count, expected]
  test.each([
    [undefined, 0, false, 0, false],
    [undefined, 1, false, 0, false],
    ['no', 0, false, 0, false],
    ['no', 1, false, 0, false],
    ['no', 1, true, 0, false],
    ['always', 0, false, 0, true],
    ['always', 1, false, 0, true],
    ['always', 137, false, 50, true],
    ['always', 0, true, 0, false],
    ['always', 1, true, 0, false],
    ['unless-stopped', 0, false, 0, true],
    ['unless-stopped', 1, false, 7, true],
    ['unless-stopped', 0, true, 0, false],
    ['unless-stopped', 1, true, 0, false],
    ['on-failure', 0, false, 0, false],
    ['on-failure', 1, false, 0, true],
    ['on-failure', 137, false, 100, true],
    ['on-failure', 1, true, 0, false],
    ['on-failure:2', 1, false, 0, true],
    ['on-failure:2', 1, false, 1, true],
    ['on-failure:2', 1, false, 2, false],
    ['on-failure:2', 1, false, 3, false],
    ['on-failure:2', 0, false, 0, false],
    ['on-failure:2', 1, true, 0, false],
    ['on-failure:10', 2, false, 9, true],
    ['on-failure:10', 2, false, 10, false],
    ['sometimes', 1, false, 0, false],
    ['on-failure:x', 1, false, 0, false],
    ['always:3', 1, false, 0, false],
  ] as const)('restart=%s exit=%d stoppedByUser=%s restartCount=%d → %s', (policy, exitCode, stoppedByUser, restartCount, expected) => {
    expect(shouldRestart(record(policy, { exitCode, stoppedByUser, restartCount }))).toBe(expected);
  });
});

describe('restartDelayMs', () => {
  test('100 ms doubling per restart, capped at 10 s', () => {
    const delays = [0, 1, 2, 3, 4, 5, 6, 7, 8, 20, 1000].map((restartCount) => restartDelayMs(record('always', { restartCount })));
    expect(delays).toEqual([100, 200, 400, 800, 1600, 3200, 6400, 10_000, 10_000, 10_000, 10_000]);
  });

  test('a quick run (< 10 s) keeps the back-off', () => {
    const r = record('always', { restartCount: 3, startedAt: '2024-05-01T10:00:00.000Z', finishedAt: '2024-05-01T10:00:09.999Z' });
    expect(restartDelayMs(r)).toBe(800);
  });

  test('a run of 10 s or more resets it to 100 ms', () => {
    const at = (s: string) => ({ startedAt: '2024-05-01T10:00:00.000Z', finishedAt: s });
    expect(restartDelayMs(record('always', { restartCount: 5, ...at('2024-05-01T10:00:10.000Z') }))).toBe(100);
    expect(restartDelayMs(record('always', { restartCount: 30, ...at('2024-05-01T11:00:00.000Z') }))).toBe(100);
  });

  test('without both start and finish times the run counts as quick', () => {
    expect(restartDelayMs(record('always', { restartCount: 2, startedAt: '2024-05-01T10:00:00.000Z' }))).toBe(400);
    expect(restartDelayMs(record('always', { restartCount: 2, finishedAt: '2024-05-01T10:00:30.000Z' }))).toBe(400);
  });
});

describe('afterBackOff', () => {
  test('restarts the same run while it is exited or restarting and the policy still wants it', () => {
    expect(afterBackOff(record('always', { status: 'restarting' }), 1)).toBe('restart');
    expect(afterBackOff(record('on-failure', { status: 'exited', exitCode: 1 }), 1)).toBe('restart');
  });

  test('leaves a record another start, a stop or a removal changed meanwhile', () => {
    expect(afterBackOff(record('always', { status: 'restarting', generation: 2 }), 1)).toBe('leave');
    expect(afterBackOff(record('always', { status: 'running' }), 1)).toBe('leave');
    expect(afterBackOff(record('always', { status: 'created' }), 1)).toBe('leave');
  });

  test('a user stop during the back-off: a restarting container settles to exited, an exited one stays', () => {
    expect(afterBackOff(record('always', { status: 'restarting', stoppedByUser: true }), 1)).toBe('settle');
    // A stop that began during the back-off has written only its stopping file so far.
    expect(afterBackOff(record('always', { status: 'restarting' }), 1, true)).toBe('settle');
    expect(afterBackOff(record('unless-stopped', { status: 'exited' }), 1, true)).toBe('leave');
    expect(afterBackOff(record('always', { status: 'exited', stoppedByUser: true }), 1)).toBe('leave');
    expect(afterBackOff(record('on-failure:1', { status: 'restarting', exitCode: 1, restartCount: 1 }), 1)).toBe('settle');
  });
});
