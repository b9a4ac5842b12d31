import { describe, expect, test } from '@jest/globals';
import { CodedError } from '../errors.js';
import { ImagePullError, LayerExtractError } from './errors.js';
import { filesystemOf, isNoSpace, mapNoSpace, NoSpaceError, shortSize } from './no-space.js';

const enospc = (): NodeJS.ErrnoException => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });

describe('no space', () => {
  test('isNoSpace: an errno, a cause chain, tar and a RUN step saying so; nothing else', () => {
    expect(isNoSpace(enospc())).toBe(true);
    expect(isNoSpace(Object.assign(new Error('quota'), { code: 'EDQUOT' }))).toBe(true);
    const extract = new LayerExtractError('layer sha256:ab', 'tar failed: tar: bin/x: Cannot write: No space left on device');
    expect(isNoSpace(new ImagePullError('busybox', extract.message, { cause: extract }))).toBe(true);
    expect(isNoSpace(new CodedError('TSC_X', 'wrapped', { cause: enospc() }))).toBe(true);
    expect(isNoSpace(new Error('ENOENT: no such file'))).toBe(false);
    expect(isNoSpace('ENOSPC')).toBe(false);
  });

  test('the filesystem of a directory, existing or not', async () => {
    const fs = await filesystemOf('/proc/self/not/there');
    expect(fs.mountPoint).toBe('/proc');
    expect(fs.type).toBe('proc');
    const tmp = await filesystemOf('/tmp/nothing-here/x');
    expect(tmp.freeBytes).toBeGreaterThanOrEqual(0);
    expect(shortSize(0)).toBe('0B');
    expect(shortSize(40 * 1024 * 1024)).toBe('40M');
    expect(shortSize(1536)).toBe('1.5K');
  });

  test('mapNoSpace: TSC_NO_SPACE naming what, where and the filesystem; other errors unchanged', async () => {
    const e = await mapNoSpace('pulling busybox', '/tmp/store', async () => {
      throw new ImagePullError('busybox', 'extracting layer sha256:ab: ENOSPC: no space left on device, write', { cause: enospc() });
    }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(NoSpaceError);
    expect((e as NoSpaceError).code).toBe('TSC_NO_SPACE');
    expect((e as NoSpaceError).message).toMatch(
      /^pulling busybox: no space left on device writing to \/tmp\/store \(\S+ filesystem on \/\S*, .* free now\): extracting layer sha256:ab: ENOSPC/,
    );
    expect((e as NoSpaceError).hint).toMatch(/free space on \/.*then retry/);
    const other = new Error('boom');
    await expect(mapNoSpace('x', '/tmp', () => Promise.reject(other))).rejects.toBe(other);
    expect(await mapNoSpace('x', '/tmp', () => Promise.resolve(3))).toBe(3);
  });
});
