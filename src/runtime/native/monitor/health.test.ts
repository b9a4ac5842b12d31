import { describe, expect, test } from '@jest/globals';
import { HEALTH_DEFAULTS, healthCommand, nextHealth } from './health.js';
import type { HealthState } from '../state.js';

describe('healthCommand', () => {
  test('CMD runs its arguments as they are', () => {
    expect(healthCommand(['CMD', 'curl', '-f', 'http://localhost/'])).toEqual(['curl', '-f', 'http://localhost/']);
    expect(healthCommand(['CMD', 'true'])).toEqual(['true']);
  });

  test('CMD without a command: none', () => {
    expect(healthCommand(['CMD'])).toBeUndefined();
  });

  test('CMD-SHELL runs /bin/sh -c', () => {
    expect(healthCommand(['CMD-SHELL', 'curl -f http://localhost/ || exit 1'])).toEqual(['/bin/sh', '-c', 'curl -f http://localhost/ || exit 1']);
  });

  test('NONE and an empty test: no check', () => {
    expect(healthCommand(['NONE'])).toBeUndefined();
    expect(healthCommand([])).toBeUndefined();
  });
});

describe('HEALTH_DEFAULTS', () => {
  test("Docker's defaults", () => {
    expect(HEALTH_DEFAULTS).toEqual({ intervalMs: 30_000, timeoutMs: 30_000, retries: 3, startPeriodMs: 0, startIntervalMs: 5_000 });
  });
});

describe('nextHealth', () => {
  const starting: HealthState = { status: 'starting', failingStreak: 0, log: [] };
  let clock = 0;
  const result = (exitCode: number, output = exitCode === 0 ? 'ok' : 'fail') => {
    clock++;
    return {
      exitCode,
      output,
      start: `2024-05-01T10:00:${String(clock % 60).padStart(2, '0')}Z`,
      end: `2024-05-01T10:00:${String(clock % 60).padStart(2, '0')}.5Z`,
    };
  };
  const after = { retries: 3, inStartPeriod: false };
  const during = { retries: 3, inStartPeriod: true };

  /** Applies results (exit codes) one after the other. */
  const run = (from: HealthState, codes: readonly number[], opts = after) => codes.reduce((h, c) => nextHealth(h, result(c), opts), from);

  test('starting → healthy on the first success', () => {
    const r = result(0, 'all good');
    const h = nextHealth(starting, r, after);
    expect(h).toEqual({ status: 'healthy', failingStreak: 0, log: [{ start: r.start, end: r.end, exitCode: 0, output: 'all good' }] });
  });

  test('a success inside the start period also makes it healthy', () => {
    expect(nextHealth(starting, result(0), during).status).toBe('healthy');
  });

  test('failures inside the start period keep it starting and do not count', () => {
    const h = run(starting, [1, 1, 1, 1, 1], during);
    expect(h.status).toBe('starting');
    expect(h.failingStreak).toBe(0);
    expect(h.log).toHaveLength(5);
    // after the start period, it takes `retries` more failures
    const h1 = run(h, [1, 1]);
    expect(h1).toMatchObject({ status: 'starting', failingStreak: 2 });
    expect(run(h1, [1])).toMatchObject({ status: 'unhealthy', failingStreak: 3 });
  });

  test('after the start period, failures count while starting', () => {
    expect(run(starting, [1])).toMatchObject({ status: 'starting', failingStreak: 1 });
    expect(run(starting, [1, 1])).toMatchObject({ status: 'starting', failingStreak: 2 });
    expect(run(starting, [1, 1, 1])).toMatchObject({ status: 'unhealthy', failingStreak: 3 });
  });

  test('healthy stays healthy until `retries` consecutive failures', () => {
    const healthy = run(starting, [0]);
    expect(run(healthy, [1])).toMatchObject({ status: 'healthy', failingStreak: 1 });
    expect(run(healthy, [1, 1])).toMatchObject({ status: 'healthy', failingStreak: 2 });
    expect(run(healthy, [1, 1, 1])).toMatchObject({ status: 'unhealthy', failingStreak: 3 });
    expect(run(healthy, [1, 1, 1, 1])).toMatchObject({ status: 'unhealthy', failingStreak: 4 });
  });

  test('a failure of a healthy container in the start period counts (only `starting` is spared)', () => {
    const healthy = run(starting, [0], during);
    expect(nextHealth(healthy, result(1), during)).toMatchObject({ status: 'healthy', failingStreak: 1 });
  });

  test('a success resets the streak, so failures must be consecutive', () => {
    const healthy = run(starting, [0]);
    const h = run(healthy, [1, 1, 0, 1, 1]);
    expect(h).toMatchObject({ status: 'healthy', failingStreak: 2 });
    expect(run(h, [1]).status).toBe('unhealthy');
  });

  test('unhealthy → healthy on a success', () => {
    const unhealthy = run(starting, [1, 1, 1]);
    expect(unhealthy.status).toBe('unhealthy');
    expect(nextHealth(unhealthy, result(0), after)).toMatchObject({ status: 'healthy', failingStreak: 0 });
  });

  test('retries is honoured (1 = the first counted failure)', () => {
    const healthy = run(starting, [0]);
    expect(nextHealth(healthy, result(1), { retries: 1, inStartPeriod: false })).toMatchObject({ status: 'unhealthy', failingStreak: 1 });
    expect(run(healthy, [1, 1, 1, 1], { retries: 5, inStartPeriod: false })).toMatchObject({ status: 'healthy', failingStreak: 4 });
  });

  test('any non-zero exit code (and -1 for a timeout) is a failure', () => {
    const healthy = run(starting, [0]);
    expect(run(healthy, [2, 137, -1])).toMatchObject({ status: 'unhealthy', failingStreak: 3 });
  });

  test('the log keeps the last 5 results, oldest first', () => {
    let h = starting;
    const results = [];
    for (let i = 0; i < 8; i++) {
      const r = result(i % 2, `out ${i}`);
      results.push(r);
      h = nextHealth(h, r, after);
      expect(h.log).toHaveLength(Math.min(i + 1, 5));
    }
    expect(h.log).toEqual(results.slice(-5).map((r) => ({ start: r.start, end: r.end, exitCode: r.exitCode, output: r.output })));
  });

  test('output is cut at 4096', () => {
    const h = nextHealth(starting, result(1, 'x'.repeat(10_000)), after);
    expect(h.log[0]!.output).toBe('x'.repeat(4096));
    const short = nextHealth(starting, result(1, 'y'.repeat(4096)), after);
    expect(short.log[0]!.output).toHaveLength(4096);
  });

  test('is pure: the previous state is not modified', () => {
    const prev: HealthState = { status: 'healthy', failingStreak: 1, log: [{ start: 'a', end: 'b', exitCode: 1, output: 'o' }] };
    const copy = structuredClone(prev);
    nextHealth(prev, result(1), after);
    nextHealth(prev, result(0), after);
    expect(prev).toEqual(copy);
  });
});
