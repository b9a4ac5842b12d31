import { describe, test, expect } from '@jest/globals';
import { InterpolationError } from '../errors.js';
import { InvalidTemplateError, MissingVariableError, goQuote, interpolateString, interpolateTree, type Lookup } from './interpolate.js';
import { Tagged, parseYaml } from './yaml.js';

const vars: Record<string, string> = { FOO: 'first', BAR: '', JSON: '{"json":2}' };
const lookup: Lookup = (name) => (Object.hasOwn(vars, name) ? vars[name] : undefined);
const sub = (s: string, l: Lookup = lookup): string => interpolateString(s, l).value;
const warningsOf = (s: string, l: Lookup = lookup): string[] => interpolateString(s, l).warnings;

function errorOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
}

describe('interpolateString: basics (compose-go template_test.go)', () => {
  test.each([
    ['$${foo}', '${foo}'],
    ['foo', 'foo'],
    ['a $ string', 'a $ string'],
    ['^REGEX$', '^REGEX$'],
    ['$}', '$}'],
    ['$', '$'],
    ['$1 and $-x', '$1 and $-x'],
    ['$FOO-bar', 'first-bar'],
    ['This ${missing} var', 'This  var'],
    ['This ${BAR} var', 'This  var'],
    ['This $FOO var', 'This first var'],
    ['This ${FOO} var', 'This first var'],
    ['$$FOO', '$FOO'],
    ['$$$FOO', '$first'],
    ['${FOO}${FOO}', 'firstfirst'],
    ['$FOO$FOO', 'firstfirst'],
    ['$FOO_bar', ''],
    ['${FOO}_bar', 'first_bar'],
  ])('%s → %s', (input, expected) => {
    expect(sub(input)).toBe(expected);
  });

  test('variable names are case-insensitive in syntax (not in lookup)', () => {
    expect(sub('$foo ${Foo}', (n) => n.toUpperCase())).toBe('FOO FOO');
    expect(sub('${_a1}', (n) => (n === '_a1' ? 'ok' : undefined))).toBe('ok');
  });

  test('Go case folding: the Kelvin sign is a name character', () => {
    expect(sub('$\u212A', (n) => (n === '\u212A' ? 'kelvin' : undefined))).toBe('kelvin');
  });
});

describe('interpolateString: defaults and alternatives', () => {
  test.each([
    ['ok ${missing:-def}', 'ok def'],
    ['ok ${missing-def}', 'ok def'],
    ['ok ${BAR:-def}', 'ok def'],
    ['ok ${FOO:-def}', 'ok first'],
    ['ok ${BAR-def}', 'ok '],
    ['ok ${UNSET_VAR:+presence_value}', 'ok '],
    ['ok ${UNSET_VAR+presence_value}', 'ok '],
    ['ok ${FOO:+presence_value}', 'ok presence_value'],
    ['ok ${FOO+presence_value}', 'ok presence_value'],
    ['ok ${BAR+presence_value}', 'ok presence_value'],
    ['ok ${BAR:+presence_value}', 'ok '],
    ['ok ${BAR:-/non:-alphanumeric}', 'ok /non:-alphanumeric'],
    ['ok ${FOO:?err}', 'ok first'],
    ['ok ${FOO?err}', 'ok first'],
    ['ok ${BAR?err}', 'ok '],
    ['${UNSET_VAR-myerror?msg}', 'myerror?msg'],
    ['${FOO?bar-baz}', 'first'],
    ['${BAR:-default_value_for_empty_var}', 'default_value_for_empty_var'],
    ['${UNSET_VAR-default_value_for_unset_var}', 'default_value_for_unset_var'],
    ['ok ${SUBDOMAIN:-redis}.${FOO:?}', 'ok redis.first'],
    ['${A:-x} and ${FOO}', 'x and first'],
    ['${A:-x} ${B:-y} ${C-z}', 'x y z'],
    ['${A:-a b c}', 'a b c'],
  ])('%s → %s', (input, expected) => {
    expect(sub(input)).toBe(expected);
  });

  test.each([
    ['-ok ${BAR:-defaultValue}', '-ok defaultValue'],
    ['+ok ${UNSET:-${BAR-defaultValue}}', '+ok '],
    ['-ok ${FOO:-defaultValue}', '-ok first'],
    [':-ok ${UNSET-defaultValue}', ':-ok defaultValue'],
    [':-ok ${BAR-defaultValue}', ':-ok '],
    [':?ok ${BAR-defaultValue}', ':?ok '],
    [':?ok ${BAR:-defaultValue}', ':?ok defaultValue'],
    [':+ok ${BAR:-defaultValue}', ':+ok defaultValue'],
    ['+ok ${BAR-defaultValue}', '+ok '],
    ['?ok ${BAR:-defaultValue}', '?ok defaultValue'],
  ])('outer text does not change the operator: %s', (input, expected) => {
    expect(sub(input)).toBe(expected);
  });

  test.each([
    ['ok ${UNSET_VAR-$FOO}', 'ok first'],
    ['ok ${UNSET_VAR-${FOO}}', 'ok first'],
    ['ok ${UNSET_VAR-${FOO} ${FOO}}', 'ok first first'],
    ['ok ${BAR:-$FOO}', 'ok first'],
    ['ok ${BAR:-${FOO}}', 'ok first'],
    ['ok ${BAR:-${FOO} ${FOO}}', 'ok first first'],
    ['ok ${BAR+$FOO}', 'ok first'],
    ['ok ${BAR+$FOO ${FOO:+second}}', 'ok first second'],
    ['${A:-${B:-x}}', 'x'],
    ['${A:-${B:-${FOO}}}!', 'first!'],
    ['${A:-$${literal}}', '${literal}'],
  ])('nested: %s → %s', (input, expected) => {
    expect(sub(input)).toBe(expected);
  });

  test.each([
    ['ok ${missing:-{"json":1}}', 'ok {"json":1}'],
    ['ok ${missing-{"json":1}}', 'ok {"json":1}'],
    ['ok ${JSON:-{"json":1}}', 'ok {"json":2}'],
    ['ok ${JSON-{"json":1}}', 'ok {"json":2}'],
  ])('braces in defaults: %s', (input, expected) => {
    expect(sub(input)).toBe(expected);
  });

  test.each([
    ['${A:-x}}', 'x}'],
    ['${FOO}}', 'first}'],
    ['${missing:-{}', '{'],
    ['${FOO:-{}', 'first'],
    ['${missing:-a}b}', 'ab}'],
  ])('compose-go brace matching quirks: %s → %s', (input, expected) => {
    expect(sub(input)).toBe(expected);
  });

  test('a multi-line value: each line on its own', () => {
    expect(sub('${A:-x}\n${FOO}\n$$HOME')).toBe('x\nfirst\n$HOME');
  });
});

describe('interpolateString: warnings', () => {
  test('unset variable without default warns; empty does not', () => {
    expect(warningsOf('${missing} $other')).toEqual([
      'The "missing" variable is not set. Defaulting to a blank string.',
      'The "other" variable is not set. Defaulting to a blank string.',
    ]);
    expect(warningsOf('${BAR} $FOO')).toEqual([]);
  });

  test('defaults are lazy: no warning for unused branches', () => {
    expect(sub('${A:+${A},}B')).toBe('B');
    expect(warningsOf('${A:+${A},}B')).toEqual([]);
    const onlyA: Lookup = (n) => (n === 'A' ? 'value' : undefined);
    expect(sub('${A?${B}}', onlyA)).toBe('value');
    expect(warningsOf('${A?${B}}', onlyA)).toEqual([]);
  });

  test('a used default warns for its own unset variables', () => {
    expect(sub('${A:-${B}}')).toBe('');
    expect(warningsOf('${A:-${B}}')).toEqual(['The "B" variable is not set. Defaulting to a blank string.']);
  });

  test('no warning for :- / - / :+ / + on an unset variable', () => {
    expect(warningsOf('${A:-} ${A-} ${A:+x} ${A+x}')).toEqual([]);
  });
});

describe('interpolateString: errors', () => {
  test.each([
    ['not ok ${UNSET_VAR:?Mandatory Variable Unset}', 'UNSET_VAR', 'required variable UNSET_VAR is missing a value: Mandatory Variable Unset'],
    ['not ok ${BAR:?Mandatory Variable Empty}', 'BAR', 'required variable BAR is missing a value: Mandatory Variable Empty'],
    ['not ok ${UNSET_VAR:?}', 'UNSET_VAR', 'required variable UNSET_VAR is missing a value'],
    ['not ok ${UNSET_VAR?Mandatory Variable Unset}', 'UNSET_VAR', 'required variable UNSET_VAR is missing a value: Mandatory Variable Unset'],
    ['not ok ${UNSET_VAR?}', 'UNSET_VAR', 'required variable UNSET_VAR is missing a value'],
    ['not ok ${UNSET_VAR:?Mandatory Variable ${FOO}}', 'UNSET_VAR', 'required variable UNSET_VAR is missing a value: Mandatory Variable first'],
    ['not ok ${UNSET_VAR?Mandatory Variable ${FOO}}', 'UNSET_VAR', 'required variable UNSET_VAR is missing a value: Mandatory Variable first'],
    ['${UNSET_VAR?bar-baz}', 'UNSET_VAR', 'required variable UNSET_VAR is missing a value: bar-baz'],
    ['${FOO} ${X:-${UNSET_VAR:?inner}}', 'UNSET_VAR', 'required variable UNSET_VAR is missing a value: inner'],
  ])('%s', (input, variable, detail) => {
    const e = errorOf(() => sub(input));
    expect(e).toBeInstanceOf(MissingVariableError);
    expect(e).toBeInstanceOf(InterpolationError);
    const err = e as MissingVariableError;
    expect(err.detail).toBe(detail);
    expect(err.message).toBe(detail);
    expect(err.variable).toBe(variable);
    expect(err.code).toBe('TSC_INTERPOLATION');
  });

  test.each(['${', '${}', '${ }', '${ foo}', '${foo }', '${foo!}', 'ok ${1abc}', '${FOO:-x} ${'])('invalid: %s', (input) => {
    const e = errorOf(() => sub(input));
    expect(e).toBeInstanceOf(InvalidTemplateError);
    expect((e as InvalidTemplateError).template).toBe(input);
    expect((e as InvalidTemplateError).detail).toBe(`Invalid template: ${goQuote(input)}`);
  });

  test('an invalid template after a greedy ${...} names the remaining text, as compose-go', () => {
    const e = errorOf(() => sub('${A:-x} ${ }')) as InvalidTemplateError;
    expect(e).toBeInstanceOf(InvalidTemplateError);
    expect(e.template).toBe(' ${ }');
  });

  test('$${ is an escaped dollar, not an invalid template', () => {
    expect(sub('$${')).toBe('${');
  });
});

describe('goQuote', () => {
  test('quotes like Go %q', () => {
    expect(goQuote('a"b\\c\n\t')).toBe('"a\\"b\\\\c\\n\\t"');
    expect(goQuote('\x07\x01é')).toBe('"\\a\\x01é"');
  });
});

describe('interpolateTree', () => {
  const env: Record<string, string> = { TAG: '1.2', PORT: '8080', EMPTY: '' };
  const envLookup: Lookup = (n) => env[n];

  test('interpolates string values, not keys, and returns new structures', () => {
    const parsed = parseYaml(
      'services:\n  ${TAG}:\n    image: "nginx:${TAG}"\n    ports: ["${PORT}:80", 443]\n    privileged: true\n    x: null\n',
      'compose.yaml',
    );
    const before = JSON.stringify(parsed.data);
    const out = interpolateTree(parsed.data, envLookup, parsed);
    expect(out).toEqual({ services: { '${TAG}': { image: 'nginx:1.2', ports: ['8080:80', 443], privileged: true, x: null } } });
    expect(JSON.stringify(parsed.data)).toBe(before);
  });

  test('keeps Tagged markers and interpolates their value', () => {
    const parsed = parseYaml('services:\n  web:\n    ports: !override ["${PORT}:80"]\n    labels: !reset {}\n', 'c.yaml');
    const out = interpolateTree(parsed.data, envLookup, parsed) as { services: { web: { ports: Tagged; labels: Tagged } } };
    expect(out.services.web.ports).toBeInstanceOf(Tagged);
    expect(out.services.web.ports.tag).toBe('override');
    expect(out.services.web.ports.value).toEqual(['8080:80']);
    expect(out.services.web.labels.tag).toBe('reset');
  });

  test('reports warnings through onWarning', () => {
    const warnings: string[] = [];
    const parsed = parseYaml('services:\n  web:\n    image: ${IMAGE}\n    command: ${IMAGE}x\n', 'c.yaml');
    interpolateTree(parsed.data, envLookup, parsed, (w) => warnings.push(w));
    expect(warnings).toEqual([
      'The "IMAGE" variable is not set. Defaulting to a blank string.',
      'The "IMAGE" variable is not set. Defaulting to a blank string.',
    ]);
  });

  test('missing required variable: compose-go wording, path and position', () => {
    const parsed = parseYaml('services:\n  web:\n    image: ${IMAGE:?set IMAGE}\n', 'compose.yaml');
    const e = errorOf(() => interpolateTree(parsed.data, envLookup, parsed)) as MissingVariableError;
    expect(e).toBeInstanceOf(MissingVariableError);
    expect(e.detail).toBe('error while interpolating services.web.image: required variable IMAGE is missing a value: set IMAGE');
    expect(e.path).toBe('services.web.image');
    expect(e.position).toEqual({ file: 'compose.yaml', line: 3, col: 12 });
    expect(e.message).toBe('compose.yaml:3:12: ' + e.detail);
  });

  test('invalid template in a list: compose-go wording, the item index and the exact item position', () => {
    const parsed = parseYaml('services:\n  web:\n    environment:\n      - A=1\n      - B=${oops\n', 'compose.yaml');
    const e = errorOf(() => interpolateTree(parsed.data, envLookup, parsed)) as InvalidTemplateError;
    expect(e).toBeInstanceOf(InvalidTemplateError);
    expect(e.detail).toBe('invalid interpolation format for services.web.environment[1].\nYou may need to escape any $ with another $.\nB=${oops');
    expect(e.position).toEqual({ file: 'compose.yaml', line: 5, col: 9 });
  });

  test('interpolates inside a Tagged value with the right path', () => {
    const parsed = parseYaml('services:\n  web:\n    command: !override ${X:?no}\n', 'compose.yaml');
    const e = errorOf(() => interpolateTree(parsed.data, envLookup, parsed)) as MissingVariableError;
    expect(e.detail).toBe('error while interpolating services.web.command: required variable X is missing a value: no');
    expect(e.position?.line).toBe(3);
  });

  test('non-string scalars are left alone', () => {
    const source = { file: 'x', locate: () => ({ file: 'x' }) };
    expect(interpolateTree([1, true, null, 2.5, { a: '$$' }], envLookup, source)).toEqual([1, true, null, 2.5, { a: '$' }]);
  });

  test('a __proto__ key stays a plain own key', () => {
    const source = { file: 'x', locate: () => ({ file: 'x' }) };
    const data = JSON.parse('{"__proto__": {"a": "${TAG}"}}') as unknown;
    const out = interpolateTree(data, envLookup, source) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(out, '__proto__')?.value).toEqual({ a: '1.2' });
  });
});
