import { describe, expect, test } from '@jest/globals';
import { errOf } from './__fixtures__/spec-input.js';
import { normalizeSignal, signalNumber, stopSignalOf } from './signals.js';

describe('signals', () => {
  test.each([
    ['SIGTERM', 15],
    ['TERM', 15],
    ['sigkill', 9],
    ['9', 9],
    ['SIGRTMIN+3', 37],
    ['RTMAX-1', 63],
    ['SIGIOT', 6],
    ['SIGCHLD', 17],
  ])('signalNumber(%p) = %p', (s, n) => {
    expect(signalNumber(s)).toBe(n);
  });

  test('normalizeSignal', () => {
    expect(normalizeSignal('15')).toBe('SIGTERM');
    expect(normalizeSignal('usr1')).toBe('SIGUSR1');
    expect(normalizeSignal(37)).toBe('SIGRTMIN+3');
    expect(normalizeSignal(62)).toBe('SIGRTMAX-2');
    expect(normalizeSignal('SIGIOT')).toBe('SIGABRT');
  });

  test('invalid signals', () => {
    for (const bad of ['SIGFOO', '0', '65', '', 'RTMIN+40', '-1']) expect(errOf(() => signalNumber(bad)).code).toBe('TSC_INVALID_SIGNAL');
  });

  test('stopSignalOf', () => {
    expect(stopSignalOf({}, {})).toBe('SIGTERM');
    expect(stopSignalOf({}, { StopSignal: 'SIGQUIT' })).toBe('SIGQUIT');
    expect(stopSignalOf({ stopSignal: 'int' }, { StopSignal: 'SIGQUIT' })).toBe('SIGINT');
    expect(stopSignalOf({ stopSignal: '9' })).toBe('SIGKILL');
  });
});
