import { describe, expect, test } from '@jest/globals';
import { formatServiceLogLine, parseServiceLogLine } from './log-format.js';

describe('service log lines', () => {
  test('as the Engine sends them with details (and timestamps)', () => {
    const line =
      '2026-12-05T01:43:06.834223914Z com.docker.swarm.node.id=rark,com.docker.swarm.service.id=rdyw,com.docker.swarm.task.id=vrh1 hello world\n';
    expect(parseServiceLogLine(line)).toEqual({
      timestamp: '2026-12-05T01:43:06.834223914Z',
      details: { 'com.docker.swarm.node.id': 'rark', 'com.docker.swarm.service.id': 'rdyw', 'com.docker.swarm.task.id': 'vrh1' },
      message: 'hello world',
    });
    expect(parseServiceLogLine('com.docker.swarm.task.id=t1 ')).toEqual({
      timestamp: undefined,
      details: { 'com.docker.swarm.task.id': 't1' },
      message: '',
    });
    expect(parseServiceLogLine('no details here')).toEqual({ timestamp: undefined, details: {}, message: 'no details here' });
  });
  test('format and parse round-trip, values URL-encoded', () => {
    const l = { timestamp: undefined, details: { 'com.docker.swarm.task.id': 't 1,x=y' }, message: 'a b' };
    expect(formatServiceLogLine(l)).toBe('com.docker.swarm.task.id=t+1%2Cx%3Dy a b\n');
    expect(parseServiceLogLine(formatServiceLogLine(l))).toEqual(l);
  });
});
