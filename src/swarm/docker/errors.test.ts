import { describe, expect, test } from '@jest/globals';
import { ConflictError, NotFoundError, RuntimeUnavailableError } from '../../runtime/errors.js';
import { NotSwarmManagerError } from '../contract/errors.js';
import { mapSwarmError } from './errors.js';

const engine = (statusCode: number, message: string): Error =>
  Object.assign(new Error(`(HTTP code ${statusCode}) - ${message}`), { statusCode, json: { message } });

describe('mapSwarmError', () => {
  test('404 is NotFound of the kind, or of the network/secret/config the message names', () => {
    const e = mapSwarmError(engine(404, 'service web not found'), 'service', 'web');
    expect(e).toBeInstanceOf(NotFoundError);
    expect(e.message).toBe('no such service: web');
    expect(mapSwarmError(engine(404, 'network smoke not found'), 'service', 'web').message).toBe('no such network: smoke');
  });
  test('a stale version, a name in use, a secret in use, a network with endpoints are Conflict', () => {
    for (const [status, msg] of [
      [500, 'rpc error: code = Unknown desc = update out of sequence'],
      [409, 'rpc error: code = AlreadyExists desc = name conflicts with an existing object: service web already exists'],
      [400, "rpc error: code = InvalidArgument desc = secret 's1' is in use by the following service: web"],
      [403, 'error while removing network: network smoke id x has active endpoints'],
    ] as const) {
      const e = mapSwarmError(engine(status, msg), 'service', 'web');
      expect(e).toBeInstanceOf(ConflictError);
      expect(e.message).toContain(msg);
    }
  });
  test('not a swarm manager: a typed error with a hint, for an engine in no swarm and for a worker', () => {
    const none = mapSwarmError(
      engine(503, 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.'),
      'service',
      'list',
    );
    expect(none).toBeInstanceOf(NotSwarmManagerError);
    expect((none as NotSwarmManagerError).code).toBe('TSC_SWARM_NOT_MANAGER');
    expect((none as NotSwarmManagerError).hint).toContain('docker swarm init');
    const worker = mapSwarmError(
      engine(503, "This node is not a swarm manager. Worker nodes can't be used to view or modify cluster state."),
      'node',
      'list',
    );
    expect((worker as NotSwarmManagerError).worker).toBe(true);
    expect((worker as NotSwarmManagerError).hint).toContain('manager node');
  });
  test('socket errors are RuntimeUnavailable; others keep the engine message', () => {
    expect(mapSwarmError(Object.assign(new Error('connect ENOENT'), { code: 'ENOENT' }), 'service', 'list')).toBeInstanceOf(RuntimeUnavailableError);
    expect(mapSwarmError(engine(400, 'rpc error: code = InvalidArgument desc = malformed'), 'service', 'web').message).toBe(
      'service web: rpc error: code = InvalidArgument desc = malformed',
    );
  });
});
