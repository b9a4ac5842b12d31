import { describe, expect, test } from '@jest/globals';
import { CodedError, errnoCode, isCodedError, isErrno, isMissing } from './errors.js';

const errno = (code: string) => Object.assign(new Error('x'), { code });

describe('CodedError', () => {
  class ThingError extends CodedError {}

  test('carries code, exit code (default 1), hint and cause; its name is its class', () => {
    const cause = new Error('under');
    const e = new ThingError('LIB_THING', 'no thing', { hint: 'make one', cause, exitCode: 3 });
    expect(e).toMatchObject({ code: 'LIB_THING', message: 'no thing', hint: 'make one', exitCode: 3, name: 'ThingError' });
    expect(e.cause).toBe(cause);
    expect(new ThingError('LIB_THING', 'x').exitCode).toBe(1);
    expect(isCodedError(e)).toBe(true);
    expect(isCodedError(new Error('x'))).toBe(false);
  });
});

describe('errno helpers', () => {
  test('errnoCode and isErrno', () => {
    expect(errnoCode(errno('EEXIST'))).toBe('EEXIST');
    expect(errnoCode(new Error('x'))).toBeUndefined();
    expect(errnoCode(null)).toBeUndefined();
    expect(isErrno(errno('EBUSY'), 'EEXIST', 'EBUSY')).toBe(true);
    expect(isErrno(errno('EBUSY'), 'EEXIST')).toBe(false);
  });

  test('isMissing: ENOENT and ENOTDIR only', () => {
    expect(isMissing(errno('ENOENT'))).toBe(true);
    expect(isMissing(errno('ENOTDIR'))).toBe(true);
    expect(isMissing(errno('EACCES'))).toBe(false);
    expect(isMissing(new Error('x'))).toBe(false);
  });
});
