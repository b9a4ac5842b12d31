import { describe, expect, test } from '@jest/globals';
import { UsageError } from '../../errors.js';
import { pauseValue } from './commit.js';
import { indentation } from './viz.js';

describe('commit and viz flags', () => {
  test('--pause takes cobra bool values, defaults to true; --no-pause is false', () => {
    expect(pauseValue(undefined)).toBe(true);
    expect(pauseValue(true)).toBe(true);
    expect(pauseValue(false)).toBe(false);
    expect(pauseValue('false')).toBe(false);
    expect(pauseValue('0')).toBe(false);
    expect(pauseValue('TRUE')).toBe(true);
    expect(() => pauseValue('maybe')).toThrow(UsageError);
  });

  test('viz --indentation-size and --spaces as compose (preferredIndentationStr)', () => {
    expect(indentation(undefined, false)).toBe('\t');
    expect(indentation('2', true)).toBe('  ');
    expect(indentation('0', false)).toBe('');
    expect(() => indentation('-1', false)).toThrow('invalid indentation size: -1');
    expect(() => indentation('x', false)).toThrow(UsageError);
  });
});
