import { describe, expect, test } from '@jest/globals';
import { TsComposeError } from '../../errors.js';
import { ConflictError, LogsNotReadableError, NotFoundError, NotModifiedError, RuntimeUnavailableError } from '../errors.js';
import { engineMessage, mapDockerError } from './errors.js';

const http = (statusCode: number, message: string): Error =>
  Object.assign(new Error(`(HTTP code ${statusCode}) unexpected - ${message}`), { statusCode, json: { message } });

describe('mapDockerError', () => {
  test('status codes map onto typed errors', () => {
    const nf = mapDockerError(http(404, 'No such container: x'), 'container', 'x');
    expect(nf).toBeInstanceOf(NotFoundError);
    expect(nf).toMatchObject({ kind: 'container', ref: 'x' });
    expect(mapDockerError(http(404, 'No such image: busybox:nope'), 'container', 'web')).toMatchObject({ kind: 'image', ref: 'busybox:nope' });
    expect(mapDockerError(http(404, 'network p_default not found'), 'container', 'web')).toMatchObject({ kind: 'network', ref: 'p_default' });
    const conflict = mapDockerError(http(409, 'Conflict. The container name "/x" is already in use'), 'container', 'x');
    expect(conflict).toBeInstanceOf(ConflictError);
    expect(conflict.message).toContain('already in use');
    expect(mapDockerError(http(403, 'endpoint with name x already exists in network n'), 'network', 'n')).toBeInstanceOf(ConflictError);
    expect(mapDockerError(http(500, 'Container abc is not paused'), 'container', 'x')).toBeInstanceOf(ConflictError);
    expect(
      mapDockerError(Object.assign(new Error('(HTTP code 304) container already started'), { statusCode: 304, json: null }), 'container', 'x'),
    ).toBeInstanceOf(NotModifiedError);
    const unreadable = mapDockerError(http(501, 'configured logging driver does not support reading'), 'container', 'p-app-1');
    expect(unreadable).toBeInstanceOf(LogsNotReadableError);
    expect(unreadable.message).toBe('configured logging driver does not support reading');
  });

  test('socket errors, aborts and the rest', () => {
    const unreachable = mapDockerError(Object.assign(new Error('connect ENOENT /var/run/docker.sock'), { code: 'ENOENT' }), 'container', 'x');
    expect(unreachable).toBeInstanceOf(RuntimeUnavailableError);
    expect((unreachable as RuntimeUnavailableError).hint).toContain('engine:setup');
    const abort = Object.assign(new Error('aborted'), { name: 'AbortError' });
    expect(mapDockerError(abort, 'container', 'x')).toBe(abort);
    const other = mapDockerError(http(500, 'driver failed'), 'volume', 'v');
    expect(other).toBeInstanceOf(TsComposeError);
    expect((other as TsComposeError).code).toBe('TSC_DOCKER');
    expect(other.message).toBe('volume v: driver failed');
  });

  test("a failed restart: the engine's `Cannot restart container REF: ` dropped, the message names the container already", () => {
    const reason = 'user specified IP address is supported only when connecting to networks with user configured subnets';
    expect(mapDockerError(http(500, `Cannot restart container 430191fc5be1: ${reason}`), 'container', 'p-web-1').message).toBe(
      `container p-web-1: ${reason}`,
    );
    expect(mapDockerError(http(500, 'Cannot restart container x: y'), 'volume', 'v').message).toBe('volume v: Cannot restart container x: y');
  });

  test('engineMessage reads Buffer and string bodies', () => {
    expect(engineMessage({ json: Buffer.from('{"message":"m1"}') })).toBe('m1');
    expect(engineMessage({ json: 'plain text' })).toBe('plain text');
    expect(engineMessage(new Error('(HTTP code 500) boom'))).toBe('boom');
    // dockerode's status phrase, when the body was not JSON (a detached exec's start)
    expect(engineMessage(new Error('(HTTP code 500) unexpected - OCI runtime exec failed: x: unknown '))).toBe('OCI runtime exec failed: x: unknown');
    expect(engineMessage(new Error('(HTTP code 404) no such container - No such container: c'))).toBe('No such container: c');
  });
});
