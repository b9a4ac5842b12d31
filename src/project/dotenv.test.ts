import { afterAll, describe, test, expect } from '@jest/globals';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, FileNotFoundError } from '../errors.js';
import type { Lookup } from './interpolate.js';
import { parseDotenv, parseRawEnvFile, readDotenvFile } from './dotenv.js';

// compose-go's dotenv fixtures, in the conformance corpus beside the project (../shared); skipped without it.
const FIXTURES = fileURLToPath(new URL('../../../shared/conformance/compose-go-testdata/dotenv/fixtures', import.meta.url));
const withFixtures = existsSync(FIXTURES) ? describe : describe.skip;
const fixture = (name: string): string => join(FIXTURES, name);
const none: Lookup = () => undefined;
const from =
  (vars: Record<string, string>): Lookup =>
  (n) =>
    Object.hasOwn(vars, n) ? vars[n] : undefined;

const parse = (text: string, lookup?: Lookup): Record<string, string> => parseDotenv(text, '.env', lookup);
/** The value of `key` after parsing `text` (compose-go `parseAndCompare`). */
const valueOf = (text: string, key: string): string | undefined => parse(text)[key];

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected an error');
}

withFixtures('fixtures (compose-go dotenv/fixtures, godotenv_test.go)', () => {
  test('plain.env (keys starting with a digit are kept, as compose does)', () => {
    expect(readDotenvFile(fixture('plain.env'))).toEqual({
      OPTION_A: '1',
      OPTION_B: '2',
      OPTION_C: '3',
      OPTION_D: '4',
      OPTION_E: '5',
      '456': 'ABC',
      OPTION_F: '',
      OPTION_G: '',
      OPTION_H: 'my string',
    });
  });

  test('exported.env', () => {
    expect(readDotenvFile(fixture('exported.env'))).toEqual({ OPTION_A: '2', OPTION_B: '\\n' });
  });

  test('equals.env', () => {
    expect(readDotenvFile(fixture('equals.env'))).toEqual({ OPTION_A: 'postgres://localhost:5432/database?sslmode=disable' });
  });

  test('quoted.env', () => {
    expect(readDotenvFile(fixture('quoted.env'))).toEqual({
      OPTION_A: '1',
      OPTION_B: '2',
      OPTION_C: '',
      OPTION_D: '\\n',
      OPTION_E: '1',
      OPTION_F: '2',
      OPTION_G: '',
      OPTION_H: '\n',
      OPTION_I: "echo 'asd'",
      OPTION_J: 'first line\nsecond line\nthird line\nand so on',
      OPTION_K: "Let's go!",
      OPTION_Z: 'last value',
    });
  });

  test('unquoted.env', () => {
    expect(readDotenvFile(fixture('unquoted.env'))).toEqual({
      OPTION_A: 'some quoted phrase',
      OPTION_B: 'first one with an unquoted phrase',
      OPTION_C: 'then another one with an unquoted phrase',
      OPTION_D: 'then another one with an unquoted phrase special è char',
      OPTION_E: 'then another one quoted phrase',
    });
  });

  test('substitutions.env: earlier keys', () => {
    expect(readDotenvFile(fixture('substitutions.env'))).toEqual({
      OPTION_A: '1',
      OPTION_B: '1',
      OPTION_C: '1',
      OPTION_D: '1_1',
      OPTION_E: '',
    });
  });

  test('substitutions.env: the lookup wins over earlier keys (TestSubstitutionsWithEnvFilePrecedence)', () => {
    expect(readDotenvFile(fixture('substitutions.env'), from({ OPTION_A: '5' }))).toEqual({
      OPTION_A: '1',
      OPTION_B: '5',
      OPTION_C: '5',
      OPTION_D: '5_5',
      OPTION_E: '',
    });
  });

  test('substitutions-default.env with and without OPTION_A in the environment', () => {
    expect(readDotenvFile(fixture('substitutions-default.env'), from({ OPTION_A: '5' }))).toEqual({
      OPTION_A: '5',
      OPTION_B: '5',
      OPTION_C: '5',
      OPTION_D: '5_5',
      OPTION_E: '',
    });
    expect(readDotenvFile(fixture('substitutions-default.env'), none)).toEqual({
      OPTION_A: '1',
      OPTION_B: '1',
      OPTION_C: '1',
      OPTION_D: '1_1',
      OPTION_E: '',
    });
  });

  test('substitution warnings go to onWarning', () => {
    const warnings: string[] = [];
    readDotenvFile(fixture('substitutions.env'), none, false, (w) => warnings.push(w));
    expect(warnings).toEqual(['The "OPTION_NOT_DEFINED" variable is not set. Defaulting to a blank string.']);
  });

  test('utf8-bom.env', () => {
    expect(readFileSync(fixture('utf8-bom.env'))[0]).toBe(0xef);
    expect(readDotenvFile(fixture('utf8-bom.env'))).toMatchObject({ OPTION_A: '1', OPTION_B: '2', OPTION_C: '3', OPTION_D: '4', OPTION_E: '5' });
  });

  test('special.env', () => {
    expect(readDotenvFile(fixture('special.env'))).toEqual({
      'VAR.WITH.DOTS': 'dots',
      VAR_WITH_UNDERSCORES: 'underscores',
      'VAR-WITH-DASHES': 'dashes',
    });
  });

  test('inherited-*.env', () => {
    const lookup = from({ VAR_TO_BE_LOADED_FROM_OS_ENV: 'SOME_RANDOM_VALUE' });
    expect(readDotenvFile(fixture('inherited-multi-var.env'), lookup)).toEqual({
      foo: 'bar',
      VAR_TO_BE_LOADED_FROM_OS_ENV: 'SOME_RANDOM_VALUE',
      bar: 'baz',
    });
    expect(readDotenvFile(fixture('inherited-single-var.env'), lookup)).toEqual({ VAR_TO_BE_LOADED_FROM_OS_ENV: 'SOME_RANDOM_VALUE' });
    expect(readDotenvFile(fixture('inherited-not-found.env'))).toEqual({});
    const asked: string[] = [];
    readDotenvFile(fixture('inherited-not-found.env'), (n) => {
      asked.push(n);
      return undefined;
    });
    expect(asked).toEqual(['VARIABLE_NOT_FOUND']);
  });

  test('invalid1.env: key cannot contain a space, on line 7', () => {
    const e = errorOf(() => readDotenvFile(fixture('invalid1.env')));
    expect(e.code).toBe('TSC_ENV_FILE');
    expect(e.detail).toBe('key cannot contain a space');
    expect(e.position).toEqual({ file: fixture('invalid1.env'), line: 7 });
  });
});

describe('parsing (TestParsing)', () => {
  test.each([
    ['FOO=bar', 'FOO', 'bar'],
    ['FOO =bar', 'FOO', 'bar'],
    ['FOO= bar', 'FOO', 'bar'],
    ['FOO="bar"', 'FOO', 'bar'],
    ["FOO='bar'", 'FOO', 'bar'],
    ['FOO="escaped\\"bar"', 'FOO', 'escaped"bar'],
    ['FOO="\\"quoted\\""', 'FOO', '"quoted"'],
    [`FOO="'d'"`, 'FOO', "'d'"],
    ['OPTION_A: 1', 'OPTION_A', '1'],
    ['OPTION_A: Foo=bar', 'OPTION_A', 'Foo=bar'],
    ['OPTION_A=1:B', 'OPTION_A', '1:B'],
    ['export OPTION_A=2', 'OPTION_A', '2'],
    ["export OPTION_B='\\n'", 'OPTION_B', '\\n'],
    ['export exportFoo=2', 'exportFoo', '2'],
    ['exportFOO=2', 'exportFOO', '2'],
    ['export_FOO =2', 'export_FOO', '2'],
    ['export.FOO= 2', 'export.FOO', '2'],
    ['export\tOPTION_A=2', 'OPTION_A', '2'],
    ['  export OPTION_A=2', 'OPTION_A', '2'],
    ['\texport OPTION_A=2', 'OPTION_A', '2'],
    ['export OPTION_A="export A"', 'OPTION_A', 'export A'],
    ['FOO="bar\\nbaz"', 'FOO', 'bar\nbaz'],
    ['FOO=a\\tb', 'FOO', 'a\\tb'],
    ['FOO="a\\tb"', 'FOO', 'a\tb'],
    ['KEY="Z\\aZ\\bZ\\fZ\\nZ\\rZ\\tZ\\vZ\\\\Z\\0123Z"', 'KEY', 'Z\x07Z\bZ\fZ\nZ\rZ\tZ\vZ\\ZSZ'],
    ['FOO.BAR=foobar', 'FOO.BAR', 'foobar'],
    ['FOO=foobar=', 'FOO', 'foobar='],
    ['FOO=bar ', 'FOO', 'bar'],
    ['FOO=bar # this is foo', 'FOO', 'bar'],
    ['FOO=bar #this is foo', 'FOO', 'bar'],
    ['FOO=bar #', 'FOO', 'bar'],
    ['FOO=123#not-an-inline-comment', 'FOO', '123#not-an-inline-comment'],
    ['FOO="bar#baz"', 'FOO', 'bar#baz'],
    ['FOO="bar#baz"#', 'FOO', 'bar#baz'],
    ['FOO="bar#baz" # comment', 'FOO', 'bar#baz'],
    ["FOO='bar#baz' # comment", 'FOO', 'bar#baz'],
    ['FOO="bar#baz#bang" # comment', 'FOO', 'bar#baz#bang'],
    ['FOO="ba#r"', 'FOO', 'ba#r'],
    ["FOO='ba#r'", 'FOO', 'ba#r'],
    ['FOO="bar\\n\\ b\\az"', 'FOO', 'bar\n\\ b\x07z'],
    ['FOO="bar\\\\\\n\\ b\\az"', 'FOO', 'bar\\\n\\ b\x07z'],
    ['FOO="bar\\\\r\\ b\\az"', 'FOO', 'bar\\r\\ b\x07z'],
    ['FOO="bar\\nbaz\\\\"', 'FOO', 'bar\nbaz\\'],
    ['="value"', '', 'value'],
    [' KEY =value', 'KEY', 'value'],
    ['   KEY=value', 'KEY', 'value'],
    ['\tKEY=value', 'KEY', 'value'],
    ['KEY="\\0123"', 'KEY', 'S'],
    ['KEY="\\x07"', 'KEY', '\\x07'],
    ['KEY="\\u12e4"', 'KEY', '\\u12e4'],
    ['KEY="\\U00101234"', 'KEY', '\\U00101234'],
    ['KEY="\\c\\012\\0\\0400\\0377"', 'KEY', '\\c\\012\\0\\0400\xff'],
    ["KEY='a\\\\b'", 'KEY', 'a\\\\b'],
    ['KEY=a\\"b', 'KEY', 'a\\"b'],
    ['a[1]=c', 'a[1]', 'c'],
    ['a.propertyKey=d', 'a.propertyKey', 'd'],
    ['árvíztűrő-TÜKÖRFÚRÓGÉP=ÁRVÍZTŰRŐ-tükörfúrógép', 'árvíztűrő-TÜKÖRFÚRÓGÉP', 'ÁRVÍZTŰRŐ-tükörfúrógép'],
    ['FOO=bar\r\nX=1', 'FOO', 'bar'],
    ['FOO=bar\t# tab does not start a comment', 'FOO', 'bar\t# tab does not start a comment'],
  ])('%j: %s = %j', (text, key, value) => {
    expect(valueOf(text, key)).toBe(value);
  });

  test('TestParse', () => {
    expect(parse('ONE=1\nTWO=\'2\'\nTHREE = "3"')).toEqual({ ONE: '1', TWO: '2', THREE: '3' });
  });

  test('multi-line double-quoted value (TestVariableStringValueSeparator)', () => {
    expect(parse('TEST_URLS="stratum+tcp://stratum.antpool.com:3333\nstratum+tcp://stratum.antpool.com:443"')).toEqual({
      TEST_URLS: 'stratum+tcp://stratum.antpool.com:3333\nstratum+tcp://stratum.antpool.com:443',
    });
  });

  test.each(['\n', '\r\n', '\t\t ', '# Comment', '\t # comment', ''])('ignored input %j', (text) => {
    expect(parse(text)).toEqual({});
  });

  test('a thousand lines', () => {
    const text = Array.from({ length: 1000 }, (_, i) => `KEY${i}=VALUE${i}`).join('\n');
    const out = parse(text);
    expect(Object.keys(out)).toHaveLength(1000);
    expect(out.KEY999).toBe('VALUE999');
  });

  test('a later key overrides an earlier one', () => {
    expect(parse('A=1\nA=2')).toEqual({ A: '2' });
  });
});

describe('interpolation (TestExpanding, godotenv_var_expansion_test.go)', () => {
  test.each([
    ['FOO=test\nBAR=$FOO', { FOO: 'test', BAR: 'test' }],
    ['FOO=test\nBAR=${FOO}bar', { FOO: 'test', BAR: 'testbar' }],
    ['BAR=$FOO', { BAR: '' }],
    ['FOO=test\nBAR="quote $FOO"', { FOO: 'test', BAR: 'quote test' }],
    ["BAR='quote $FOO'", { BAR: 'quote $FOO' }],
    ['FOO="foo\\$BAR"', { FOO: 'foo$BAR' }],
    ['FOO="foo\\${BAR}"', { FOO: 'foo${BAR}' }],
    ['FOO=test\nBAR="foo\\${FOO} ${FOO}"', { FOO: 'test', BAR: 'foo${FOO} test' }],
    ['FOO=$$BAR', { FOO: '$BAR' }],
    ['FOO=\\$BAR', { FOO: '\\' }],
    ['BAR=later\nFOO=${BAR:+set}', { BAR: 'later', FOO: 'set' }],
    ['FOO=$BAR\nBAR=later', { FOO: '', BAR: 'later' }],
  ])('%j', (text, expected) => {
    expect(parse(text)).toEqual(expected);
  });

  const env = { EMPTY_VAR: '', TEST_VAR: 'Test Value' };
  test.each([
    ['RESULT=${UNSET_VAR:-Default Value}', 'Default Value'],
    ['RESULT=${EMPTY_VAR:-Default Value}', 'Default Value'],
    ['RESULT=${TEST_VAR:-Default Value}', 'Test Value'],
    ['RESULT=${UNSET_VAR-Default Value}', 'Default Value'],
    ['RESULT=${EMPTY_VAR-Default Value}', ''],
    ['RESULT=${TEST_VAR-Default Value}', 'Test Value'],
    ['RESULT=${TEST_VAR:?Default Value}', 'Test Value'],
    ['RESULT=${EMPTY_VAR?Test error}', ''],
    ['RESULT="${UNSET_VAR:-a \\"quoted\\" default}"', 'a "quoted" default'],
  ])('lookup: %s', (text, value) => {
    expect(parse(text, from(env)).RESULT).toBe(value);
  });

  test('the lookup resolves a bare KEY; earlier keys do not', () => {
    expect(parse('A=1\nB\nC', from({ B: 'b' }))).toEqual({ A: '1', B: 'b' });
    expect(parse('A=1\nA', none)).toEqual({ A: '1' });
    expect(parse('A', from({ A: '' }))).toEqual({ A: '' });
  });

  test('a bare KEY on the last line without a line break is inherited too', () => {
    expect(parse('X=1\nVAR', from({ VAR: 'v' }))).toEqual({ X: '1', VAR: 'v' });
    expect(parse('X=1\nexport VAR  ', from({ VAR: 'v' }))).toEqual({ X: '1', VAR: 'v' });
    expect(parse('VAR', none)).toEqual({});
  });

  test.each([
    ['RESULT=${UNSET_VAR:?Test error}', 'required variable UNSET_VAR is missing a value: Test error'],
    ['RESULT=${EMPTY_VAR:?Test error}', 'required variable EMPTY_VAR is missing a value: Test error'],
    ['RESULT=${UNSET_VAR?Test error}', 'required variable UNSET_VAR is missing a value: Test error'],
    ['RESULT="${UNSET_VAR?}"', 'required variable UNSET_VAR is missing a value'],
    ['RESULT=${oops', 'Invalid template: "${oops"'],
  ])('errors: %s', (text, detail) => {
    const e = errorOf(() => parseDotenv(`# comment\n\n${text}\nOTHER=1`, 'my.env', from(env)));
    expect(e.code).toBe('TSC_ENV_FILE');
    expect(e.detail).toBe(detail);
    expect(e.position).toEqual({ file: 'my.env', line: 3 });
  });

  test('single quotes are never interpolated', () => {
    expect(parse("A='${X:?boom}'")).toEqual({ A: '${X:?boom}' });
  });
});

describe('syntax errors', () => {
  test('TestParseVariable', () => {
    const e = errorOf(() => parse('%!(EXTRA string)=foo'));
    expect(e.detail).toBe('unexpected character "%" in variable name "%!(EXTRA string)=foo"');
    expect(e.position).toEqual({ file: '.env', line: 1 });
  });

  test('lol$wut', () => {
    const e = errorOf(() => parse('A=1\n\nlol$wut\n'));
    expect(e.detail).toBe('unexpected character "$" in variable name "lol$wut"');
    expect(e.position?.line).toBe(3);
    expect(e.message).toBe('.env:3: unexpected character "$" in variable name "lol$wut"');
  });

  test.each(['KEY="', 'KEY="value', 'KEY="value\\"', 'KEY="value\'', "KEY='", "KEY='value", "KEY='value\\'", 'KEY=\'value"'])(
    'unterminated quotes: %s',
    (text) => {
      const e = errorOf(() => parse(`A=1\n${text}`));
      expect(e.detail).toBe(`unterminated quoted value ${text.slice(4)}`);
      expect(e.position?.line).toBe(2);
    },
  );

  test('an unterminated multi-line value reports the line where it starts, and only that line', () => {
    const e = errorOf(() => parse('A=1\nB="one\ntwo\nthree'));
    expect(e.detail).toBe('unterminated quoted value "one');
    expect(e.position?.line).toBe(2);
  });

  test('line numbers count multi-line values, comments and blank lines', () => {
    const e = errorOf(() => parse('# c\nA="x\ny"\n\n  # indented\nB=\'1\n2\n3\' # c\nBAD KEY=1\n'));
    expect(e.detail).toBe('key cannot contain a space');
    expect(e.position?.line).toBe(9);
  });

  test('`export` with nothing after it', () => {
    expect(errorOf(() => parse('export ')).detail).toBe('zero length string');
  });
});

describe('files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsc-dotenv-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('a missing file is a FileNotFoundError', () => {
    const e = errorOf(() => readDotenvFile(join(dir, 'nope.env')));
    expect(e).toBeInstanceOf(FileNotFoundError);
    expect(e.detail).toBe(`couldn't find env file: ${join(dir, 'nope.env')}`);
  });

  test('a directory is rejected', () => {
    mkdirSync(join(dir, 'sub.env'));
    const e = errorOf(() => readDotenvFile(join(dir, 'sub.env')));
    expect(e.code).toBe('TSC_ENV_FILE');
    expect(e.detail).toBe(`${join(dir, 'sub.env')} is a directory`);
  });

  test('errors name the file as given', () => {
    const f = join(dir, 'bad.env');
    writeFileSync(f, 'OK=1\nNOT OK=2\n');
    expect(errorOf(() => readDotenvFile(f)).message).toBe(`${f}:2: key cannot contain a space`);
  });

  test('raw format (docker run --env-file)', () => {
    const f = join(dir, 'raw.env');
    writeFileSync(f, '\ufeffA="quoted" # not a comment \n  # comment\n\nB=${X}\nINHERITED\nMISSING\nC=x=y\r\n');
    expect(readDotenvFile(f, from({ INHERITED: 'yes', X: 'no' }), true)).toEqual({
      A: '"quoted" # not a comment ',
      B: '${X}',
      INHERITED: 'yes',
      C: 'x=y',
    });
  });

  test('raw format errors', () => {
    expect(errorOf(() => parseRawEnvFile('A=1\n=2', 'r.env')).detail).toBe("failed to parse env_file r.env: no variable name on line '=2'");
    expect(errorOf(() => parseRawEnvFile('A B=1', 'r.env')).detail).toBe("failed to parse env_file r.env: variable 'A B' contains whitespaces");
    const e = errorOf(() => parseRawEnvFile(new Uint8Array([0x41, 0x3d, 0x31, 0x0a, 0x42, 0x3d, 0xff]), 'r.env'));
    expect(e.detail).toBe('failed to parse env_file r.env: invalid utf8 bytes at line 2: [66 61 255]');
    expect(e.position).toEqual({ file: 'r.env', line: 2 });
  });
});
