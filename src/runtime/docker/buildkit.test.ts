import { describe, expect, test } from '@jest/globals';
import { chooseBuilder, versionLess, type PingInfo } from './buildkit.js';

const ping = (p: Partial<PingInfo> = {}): PingInfo => ({ apiVersion: '1.41', builderVersion: undefined, osType: 'linux', experimental: false, ...p });

describe('chooseBuilder', () => {
  test('BuildKit on a Linux engine from API 1.39, whatever /_ping says of its default unless it says 1', () => {
    expect(chooseBuilder(ping(), {})).toEqual({ buildkit: true });
    expect(chooseBuilder(ping({ apiVersion: '1.39' }), {})).toEqual({ buildkit: true });
    expect(chooseBuilder(ping({ builderVersion: '2' }), {})).toEqual({ buildkit: true });
    expect(chooseBuilder(ping({ apiVersion: undefined }), {})).toEqual({ buildkit: true });
  });

  test('the classic builder where the engine has no BuildKit', () => {
    expect(chooseBuilder(ping({ apiVersion: '1.38' }), {})).toEqual({ buildkit: false, reason: 'the engine has no BuildKit: API 1.38' });
    expect(chooseBuilder(ping({ apiVersion: '1.30', experimental: true }), {})).toMatchObject({ buildkit: false });
    expect(chooseBuilder(ping({ apiVersion: '1.31', experimental: true }), {})).toEqual({ buildkit: true });
    expect(chooseBuilder(ping({ builderVersion: '1' }), {})).toEqual({
      buildkit: false,
      reason: 'the engine has no BuildKit as its default builder',
    });
    expect(chooseBuilder(ping({ osType: 'windows' }), {})).toMatchObject({ buildkit: false });
    expect(chooseBuilder(ping({ osType: 'windows', builderVersion: '2' }), {})).toEqual({ buildkit: true });
  });

  test('DOCKER_BUILDKIT decides, as the docker CLI reads it', () => {
    expect(chooseBuilder(ping(), { DOCKER_BUILDKIT: '0' })).toEqual({ buildkit: false, reason: 'DOCKER_BUILDKIT=0' });
    expect(chooseBuilder(ping(), { DOCKER_BUILDKIT: 'false' })).toMatchObject({ buildkit: false });
    expect(chooseBuilder(ping({ builderVersion: '1' }), { DOCKER_BUILDKIT: '1' })).toEqual({ buildkit: true });
    expect(chooseBuilder(ping({ builderVersion: '1' }), { DOCKER_BUILDKIT: 'maybe' })).toMatchObject({ buildkit: false });
    expect(chooseBuilder(ping({ apiVersion: '1.30' }), { DOCKER_BUILDKIT: '1' })).toMatchObject({ buildkit: false });
  });

  test('a build.network naming a user network needs the classic builder', () => {
    for (const n of ['default', 'host', 'none']) expect(chooseBuilder(ping(), {}, n)).toEqual({ buildkit: true });
    expect(chooseBuilder(ping(), {}, 'mynet')).toEqual({
      buildkit: false,
      reason: 'build.network mynet: BuildKit runs RUN only on default, host or none',
    });
  });
});

test('versionLess compares dotted numbers', () => {
  expect(versionLess('1.9', '1.39')).toBe(true);
  expect(versionLess('1.41', '1.39')).toBe(false);
  expect(versionLess('1.39', '1.39')).toBe(false);
  expect(versionLess('1.39', '1.39.1')).toBe(true);
  expect(versionLess('2', '1.99')).toBe(false);
});
