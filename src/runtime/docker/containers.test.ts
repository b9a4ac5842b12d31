/**
 * The lifecycle calls' failures on a stubbed engine: a container given by id (as the engine's plans and the
 * lifecycle commands give existing ones) is named in the message, as a failed first start names it.
 */
import { describe, expect, test } from '@jest/globals';
import type Docker from 'dockerode';
import { NotFoundError, NotModifiedError } from '../errors.js';
import { DockerRuntime } from './docker-runtime.js';

const ID = '430191fc5be1a35c1f4c0e7c0bd4f8ee1bbbfbd1e5f3c5a1b1fe1c2d3e4f5a6b';
const NAME = 'p-web-1';
const NO_SUBNET = 'user specified IP address is supported only when connecting to networks with user configured subnets';

const http = (statusCode: number, message: string): Error =>
  Object.assign(new Error(`(HTTP code ${statusCode}) unexpected - ${message}`), { statusCode, json: { message } });

/** An engine whose every lifecycle call on ID fails with `error`; counts the inspects. */
function engine(error: Error): { rt: DockerRuntime; inspects: () => number } {
  let inspects = 0;
  const fail = async (): Promise<never> => {
    throw error;
  };
  const container = {
    start: fail,
    restart: fail,
    stop: fail,
    kill: fail,
    pause: fail,
    unpause: fail,
    inspect: async () => {
      inspects++;
      return { Id: ID, Name: `/${NAME}` };
    },
  };
  const docker = { getContainer: (ref: string) => (ref === ID || ref === NAME ? container : undefined) };
  return { rt: new DockerRuntime({ docker: docker as unknown as Docker }), inspects: () => inspects };
}

describe('container lifecycle failures name the container', () => {
  test('start and restart of a container given by id: `container NAME: reason`, in the engine words', async () => {
    const { rt } = engine(http(400, NO_SUBNET));
    await expect(rt.startContainer(ID)).rejects.toMatchObject({ code: 'TSC_DOCKER', message: `container ${NAME}: ${NO_SUBNET}` });
    const restart = engine(http(500, `Cannot restart container ${ID}: ${NO_SUBNET}`)).rt;
    await expect(restart.restartContainer(ID)).rejects.toMatchObject({ code: 'TSC_DOCKER', message: `container ${NAME}: ${NO_SUBNET}` });
  });

  test('stop, kill, pause and unpause too (a conflict keeps its type)', async () => {
    const { rt } = engine(http(409, `Container ${ID} is not running`));
    for (const call of [() => rt.stopContainer(ID), () => rt.killContainer(ID), () => rt.pauseContainer(ID), () => rt.unpauseContainer(ID)])
      await expect(call()).rejects.toMatchObject({ code: 'TSC_CONFLICT', ref: NAME, message: `container ${NAME}: Container ${ID} is not running` });
  });

  test('by name, nothing to do, or no such container: no inspect, the ref as given', async () => {
    const byName = engine(http(500, NO_SUBNET));
    await expect(byName.rt.startContainer(NAME)).rejects.toMatchObject({ message: `container ${NAME}: ${NO_SUBNET}` });
    expect(byName.inspects()).toBe(0);
    const running = engine(Object.assign(new Error('(HTTP code 304) container already started'), { statusCode: 304, json: null }));
    await expect(running.rt.startContainer(ID)).rejects.toBeInstanceOf(NotModifiedError);
    expect(running.inspects()).toBe(0);
    const gone = engine(http(404, `No such container: ${ID}`));
    await expect(gone.rt.startContainer(ID)).rejects.toEqual(expect.objectContaining({ ref: ID }));
    await expect(gone.rt.startContainer(ID)).rejects.toBeInstanceOf(NotFoundError);
    expect(gone.inspects()).toBe(0);
  });
});
