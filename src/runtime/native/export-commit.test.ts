import { describe, expect, test } from '@jest/globals';
import { containerConfig } from './export-commit.js';

const image = {
  Env: ['PATH=/usr/bin', 'A=image'],
  Cmd: ['nginx', '-g', 'daemon off;'],
  Entrypoint: ['/docker-entrypoint.sh'],
  WorkingDir: '/srv',
  Labels: { maintainer: 'x' },
  ExposedPorts: { '80/tcp': {} },
  StopSignal: 'SIGQUIT',
};

describe('native commit: the container config', () => {
  test("the image's config with what the container sets over it (Docker's container config)", () => {
    expect(
      containerConfig(image, {
        name: 'c',
        image: 'nginx',
        labels: { 'com.docker.compose.service': 'web' },
        command: ['nginx', '-T'],
        env: ['A=container', 'B=2'],
        user: '101',
        exposedPorts: ['8080/tcp', '9000'],
      }),
    ).toEqual({
      Env: ['A=container', 'B=2', 'PATH=/usr/bin'],
      Cmd: ['nginx', '-T'],
      Entrypoint: ['/docker-entrypoint.sh'],
      WorkingDir: '/srv',
      User: '101',
      Labels: { maintainer: 'x', 'com.docker.compose.service': 'web' },
      ExposedPorts: { '80/tcp': {}, '8080/tcp': {}, '9000/tcp': {} },
      StopSignal: 'SIGQUIT',
    });
  });

  test("an entrypoint set by the container drops the image's Cmd; an empty one clears it", () => {
    expect(containerConfig(image, { name: 'c', image: 'i', labels: {}, entrypoint: ['sh', '-c'] })).toMatchObject({
      Entrypoint: ['sh', '-c'],
      Cmd: null,
    });
    expect(containerConfig(image, { name: 'c', image: 'i', labels: {}, entrypoint: [''], command: ['true'] })).toMatchObject({
      Entrypoint: null,
      Cmd: ['true'],
    });
    expect(containerConfig(undefined, { name: 'c', image: 'i', labels: {} })).toEqual({ Labels: {} });
  });
});
