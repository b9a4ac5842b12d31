import { afterAll, describe, expect, test } from '@jest/globals';
import { project, removeTmpDirs } from './__fixtures__/load-helpers.js';
import { extractVariables, formatVariables, modelVariables, variablesIn } from './variables.js';

afterAll(removeTmpDirs);

const v = (name: string, o: { d?: string; p?: string; r?: boolean } = {}) => ({
  name,
  defaultValue: o.d ?? '',
  presenceValue: o.p ?? '',
  required: o.r ?? false,
});

describe('variablesIn (compose-go template/variables.go)', () => {
  test.each([
    ['$A and ${B}', [v('A'), v('B')]],
    // A `${` matches up to the last `}`: the text after the first variable is read first (compose-go's order).
    ['${A:-x} ${B-y}', [v('B', { d: 'y' }), v('A', { d: 'x' })]],
    ['${A:?msg} ${B?}', [v('B', { r: true }), v('A', { r: true })]],
    ['${A:+alt} ${B+z}', [v('B', { p: 'z' }), v('A', { p: 'alt' })]],
    ['$$A $${B} ok', []],
    ['${A:-${B:-x}}', [v('A', { d: '${B:-x}' }), v('B', { d: 'x' })]],
    ['${A:+set-$B}', [v('A', { p: 'set-$B' }), v('B')]],
    ['${A}-${B:-1}:80', [v('A'), v('B', { d: '1' })]],
    ['a $ 1 $1', []],
  ])('%s', (s, want) => {
    expect(variablesIn(s)).toEqual(want);
  });

  test('values only, never keys; a later use of a name replaces an earlier one', () => {
    const vars = extractVariables({ services: { $KEY: { image: '${IMG:-a}', environment: ['X=${IMG:-b}', 1, true, null] } } });
    expect([...vars.values()]).toEqual([v('IMG', { d: 'b' })]);
  });
});

describe('modelVariables', () => {
  test('reads the files as written (no interpolation, no validation), included and extended files too', () => {
    const dir = project({
      'compose.yaml': 'include: [inc/compose.yaml]\nservices:\n  a:\n    extends: {file: base.yaml, service: b}\n    mem_limit: ${MEM}\n',
      'base.yaml': 'services:\n  b:\n    image: ${BASE_IMAGE:?base}\n',
      'inc/compose.yaml': 'services:\n  c:\n    image: c:${C_TAG-latest}\n',
    });
    const vars = modelVariables({ cwd: dir, env: {} });
    expect([...vars.keys()].sort()).toEqual(['BASE_IMAGE', 'C_TAG', 'MEM']);
  });
});

describe('formatVariables', () => {
  test('no variables: the header alone, {} in JSON and YAML', () => {
    expect(formatVariables(new Map(), 'table')).toBe('NAME                REQUIRED            DEFAULT VALUE       ALTERNATE VALUE\n');
    expect(formatVariables(new Map(), 'json')).toBe('{}\n\n');
    expect(formatVariables(new Map(), 'yaml')).toBe('{}\n');
  });

  test('a wide value widens its column by its length plus 3', () => {
    const out = formatVariables(new Map([['A_VERY_LONG_VARIABLE_NAME', v('A_VERY_LONG_VARIABLE_NAME', { d: 'x' })]]), 'table');
    expect(out).toBe(
      'NAME                        REQUIRED            DEFAULT VALUE       ALTERNATE VALUE\nA_VERY_LONG_VARIABLE_NAME   false               x                   \n',
    );
  });
});
