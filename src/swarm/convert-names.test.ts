import { describe, expect, it } from '@jest/globals';
import { bytesOf, checkObjectName, durationNs, nanoCpus, scoped, sortedMap, stackLabels, uintOf } from './convert-names.js';
import { SwarmConvertError } from './errors.js';

describe('names and labels', () => {
  it('scopes names as docker stack does', () => {
    expect(scoped('shop', 'web')).toBe('shop_web');
  });

  it('adds the namespace label over user labels, sorted', () => {
    expect(Object.entries(stackLabels('shop', { z: '1', 'com.docker.stack.namespace': 'other', a: '2' }, { m: '3' }))).toEqual([
      ['a', '2'],
      ['com.docker.stack.namespace', 'shop'],
      ['m', '3'],
      ['z', '1'],
    ]);
  });

  it('drops null values from maps', () => {
    expect(sortedMap({ b: null, a: 'x' })).toEqual({ a: 'x' });
  });

  it('checks swarm object names', () => {
    expect(() => checkObjectName('shop_db-0123456789', 'secrets.db', '')).not.toThrow();
    expect(() => checkObjectName('x'.repeat(65), 'secrets.db', '')).toThrow(SwarmConvertError);
    expect(() => checkObjectName('_x', 'secrets.db', '')).toThrow(/secrets\.db/);
  });
});

describe('values', () => {
  it('converts durations to nanoseconds', () => {
    expect(durationNs('1m30s', 's', 'k')).toBe(90e9);
    expect(durationNs('500ms', 's', 'k')).toBe(5e8);
    expect(durationNs(2, 's', 'k')).toBe(2e9);
    expect(() => durationNs('soon', 'web', 'healthcheck.interval')).toThrow('service "web": healthcheck.interval: invalid duration "soon"');
  });

  it('converts sizes, CPUs and counts', () => {
    expect(bytesOf('512M', 's', 'k')).toBe(512 * 1024 * 1024);
    expect(bytesOf('1048576', 's', 'k')).toBe(1048576);
    expect(nanoCpus('0.25', 's', 'k')).toBe(250_000_000);
    expect(nanoCpus(1.5, 's', 'k')).toBe(1_500_000_000);
    expect(() => nanoCpus('lots', 's', 'k')).toThrow(SwarmConvertError);
    expect(uintOf('3', 's', 'k')).toBe(3);
    expect(() => uintOf(-1, 's', 'k')).toThrow(/non-negative integer/);
  });

  it('errors carry the code, service and key', () => {
    try {
      uintOf('x', 'web', 'deploy.replicas');
      throw new Error('no error');
    } catch (e) {
      expect(e).toBeInstanceOf(SwarmConvertError);
      expect((e as SwarmConvertError).code).toBe('TSC_SWARM_CONVERT');
      expect((e as SwarmConvertError).service).toBe('web');
      expect((e as SwarmConvertError).key).toBe('deploy.replicas');
    }
  });
});
