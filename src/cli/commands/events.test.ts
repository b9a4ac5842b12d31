import { expect, test } from '@jest/globals';
import { eventTime } from './events.js';

test('--since/--until: unix seconds, RFC 3339, a duration before now; anything else a usage error', () => {
  const now = Date.UTC(2026, 0, 1, 12);
  expect(eventTime(undefined, '--since', now)).toBeUndefined();
  expect(eventTime('1700000000', '--since', now)).toBe(1700000000);
  expect(eventTime('2026-01-01T11:00:00Z', '--since', now)).toBe(Date.UTC(2026, 0, 1, 11) / 1000);
  expect(eventTime('10m', '--until', now)).toBe((now - 600_000) / 1000);
  expect(() => eventTime('yesterday', '--since', now)).toThrow(/invalid --since value: yesterday/);
});
