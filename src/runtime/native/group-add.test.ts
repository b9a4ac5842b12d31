import { describe, expect, test } from '@jest/globals';
import { TsComposeError } from '../../errors.js';
import { withGroupAddFrom } from './group-add.js';

const GROUP = 'root:x:0:\naudio:x:29:\nvideo:x:44:app\n';
const user = { uid: 1000, gid: 1000, additionalGids: [44] };

describe('group_add on the native runtime', () => {
  test('names from the image, ids as given, after the user groups, once each', () => {
    expect(withGroupAddFrom(user, ['audio', '1234', 'video', '29'], GROUP).additionalGids).toEqual([44, 29, 1234]);
  });
  test('an unknown name is an error (Docker: unable to find group)', () => {
    expect(() => withGroupAddFrom(user, ['nope'], GROUP)).toThrow(TsComposeError);
    expect(() => withGroupAddFrom(user, ['nope'], undefined)).toThrow(/Unable to find group nope/);
  });
  test('nothing to add: the user as it was', () => {
    expect(withGroupAddFrom(user, undefined, GROUP)).toBe(user);
  });
});
