import { describe, expect, test } from '@jest/globals';
import { closest, didYouMean, editDistance } from './suggest.js';

describe('editDistance (optimal string alignment)', () => {
  test.each([
    ['image', 'image', 0],
    ['imgae', 'image', 1],
    ['imag', 'image', 1],
    ['enviroment', 'environment', 1],
    ['servces', 'services', 1],
    ['Image', 'image', 0],
    ['service_healty', 'service_healthy', 1],
    ['abc', 'xyz', 3],
    ['', 'abc', 3],
    ['ca', 'abc', 3],
  ])('%s → %s: %d', (a, b, d) => expect(editDistance(a, b)).toBe(d));
});

describe('closest', () => {
  const keys = ['image', 'environment', 'env_file', 'ports', 'expose', 'cap_add', 'init', 'ipc', 'pid'];
  test.each([
    ['imgae', 'image'],
    ['enviroment', 'environment'],
    ['envirnoment', 'environment'],
    ['prots', 'ports'],
    ['exposee', 'expose'],
  ])('%s suggests %s', (word, want) => expect(closest(word, keys)).toBe(want));

  test.each(['ab', 'unknown', 'x', 'foo', 'imageries'])('%s suggests nothing', (word) => expect(closest(word, keys)).toBeUndefined());

  test('a word that is allowed suggests nothing; ties go to the first name', () => {
    expect(closest('init', keys)).toBeUndefined();
    expect(closest('pic', ['pid', 'ipc'])).toBe('pid');
  });

  test('didYouMean wording', () => {
    expect(didYouMean('imgae', keys)).toBe(' (did you mean "image"?)');
    expect(didYouMean('zzz', keys)).toBe('');
  });
});
