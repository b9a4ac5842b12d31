import { describe, expect, it } from '@jest/globals';

import { ExpansionError } from './errors.js';
import { envLookup, processWord, processWords } from './expand.js';

// Cases in the spirit of BuildKit's shell/envVarTest and wordsTest: written here, with the same environment.
const env = envLookup(['PWD=/home', 'SHELL=bash', 'KOREAN=한국어', 'EMPTY=', 'NULL=', 'SPACES=a  b c', 'X=x']);
const word = (w: string): string => processWord(w, env);
const words = (w: string): string[] => processWords(w, env);

describe('processWord', () => {
  it.each([
    ['hello', 'hello'],
    ['he"llo"', 'hello'],
    ["he'llo'", 'hello'],
    ['"he\'llo"', "he'llo"],
    ["'he\"llo'", 'he"llo'],
    ['$PWD', '/home'],
    ['${PWD}', '/home'],
    ['"$PWD"', '/home'],
    ["'$PWD'", '$PWD'],
    ['\\$PWD', '$PWD'],
    ['"\\$PWD"', '$PWD'],
    ['$PWD/x', '/home/x'],
    ['${PWD}x', '/homex'],
    ['$PWDx', ''],
    ['$KOREAN', '한국어'],
    ['${UNSET}', ''],
    ['$', '$'],
    ['$ x', '$ x'],
    ['a$', 'a$'],
    ['$1', ''],
    ['$12a', 'a'],
    ['$@', ''],
    ['$$', ''],
    ['${PWD:-x}', '/home'],
    ['${UNSET:-x}', 'x'],
    ['${EMPTY:-x}', 'x'],
    ['${EMPTY-x}', ''],
    ['${UNSET-x}', 'x'],
    ['${PWD:+x}', 'x'],
    ['${UNSET:+x}', ''],
    ['${EMPTY:+x}', ''],
    ['${EMPTY+x}', 'x'],
    ['${UNSET+x}', ''],
    ['${UNSET:-$PWD}', '/home'],
    ['${UNSET:-${X}y}', 'xy'],
    ['${UNSET:-"a b"}', 'a b'],
    ['${UNSET:-a}b', 'ab'],
    ['${PWD:?msg}', '/home'],
    ['${EMPTY?msg}', ''],
    ['\\\\', '\\'],
    ['a\\ b', 'a b'],
    ['"a\\b"', 'a\\b'],
    ['"a\\"b"', 'a"b'],
    ['"a\\\\b"', 'a\\b'],
    ["'a\\b'", 'a\\b'],
    ['abc\\', 'abc'],
  ])('%s → %s', (input, output) => {
    expect(word(input)).toBe(output);
  });

  it.each([
    ['${', "syntax error: missing '}'"],
    ['${PWD', "syntax error: missing '}'"],
    ['${}', 'syntax error: bad substitution'],
    ['${:x}', 'syntax error: bad substitution'],
    ['${PWD:-x', "syntax error: missing '}'"],
    ['${UNSET:?}', 'UNSET: is not allowed to be unset'],
    ['${UNSET:?oops}', 'UNSET: oops'],
    ['${EMPTY:?}', 'EMPTY: is not allowed to be empty'],
    ['${UNSET?}', 'UNSET: is not allowed to be unset'],
    ['${PWD:=x}', 'unsupported modifier (=) in substitution'],
    ["'abc", 'unexpected end of statement while looking for matching single-quote'],
    ['"abc', 'unexpected end of statement while looking for matching double-quote'],
  ])('%s fails: %s', (input, message) => {
    expect(() => word(input)).toThrow(ExpansionError);
    expect(() => word(input)).toThrow(message);
  });

  it.each([
    ['${V#v}', '1.2.3-rc.1'],
    ['${V#*.}', '2.3-rc.1'],
    ['${V##*.}', '1'],
    ['${V%.*}', 'v1.2.3-rc'],
    ['${V%%.*}', 'v1'],
    ['${V%-rc*}', 'v1.2.3'],
    ['${V#x}', 'v1.2.3-rc.1'],
    ['${V#[uv]}', '1.2.3-rc.1'],
    ['${V#[!v]}', 'v1.2.3-rc.1'],
    ['${V/./_}', 'v1_2.3-rc.1'],
    ['${V//./_}', 'v1_2_3-rc_1'],
    ['${V/rc*/final}', 'v1.2.3-final'],
    ['${UNSET#x}', ''],
    ['${V#\\v}', '1.2.3-rc.1'],
  ])('pattern %s → %s', (input, output) => {
    expect(processWord(input, envLookup(['V=v1.2.3-rc.1']))).toBe(output);
  });

  it('takes a backtick as the escape character', () => {
    const e = { escape: '`' };
    expect(processWord('`$PWD', env, e)).toBe('$PWD');
    expect(processWord('c:\\dir', env, e)).toBe('c:\\dir');
    expect(processWord('"a`"b"', env, e)).toBe('a"b');
  });

  it('keeps quotes and escapes when asked (heredoc detection)', () => {
    expect(processWord('"EOF"', env, { rawQuotes: true })).toBe('"EOF"');
    expect(processWord('a\\ b', env, { rawEscapes: true })).toBe('a\\ b');
  });

  it('leaves unset variables as written with skipUnsetEnv', () => {
    const o = { skipUnsetEnv: true };
    expect(processWord('$UNSET ${UNSET} ${UNSET:-x} $PWD', env, o)).toBe('$UNSET ${UNSET} ${UNSET:-x} /home');
  });

  it('leaves quotes alone with skipProcessQuotes (heredoc bodies)', () => {
    expect(processWord(`echo "$X" '$X'\n`, env, { skipProcessQuotes: true })).toBe(`echo "x" 'x'\n`);
  });

  it('looks up records and maps', () => {
    expect(processWord('$A', envLookup({ A: '1' }))).toBe('1');
    expect(processWord('$A', envLookup(new Map([['A', '2']])))).toBe('2');
    expect(processWord('$toString', envLookup({}))).toBe('');
    expect(processWord('$A', envLookup(['A=1', 'A=2']))).toBe('2');
  });
});

describe('processWords', () => {
  it.each([
    ['hello', ['hello']],
    ['hello world', ['hello', 'world']],
    ['  hello   world  ', ['hello', 'world']],
    ['"hello world"', ['hello world']],
    ["'hello world'", ['hello world']],
    ['hello\\ world', ['hello world']],
    ['$SPACES', ['a', 'b', 'c']],
    ['"$SPACES"', ['a  b c']],
    ['x$SPACES', ['xa', 'b', 'c']],
    ['${UNSET:-a b}', ['a', 'b']],
    ['$EMPTY', []],
    ['a $EMPTY b', ['a', 'b']],
    ['""', []],
    ['a "" b', ['a', 'b']],
    ['80/tcp $X', ['80/tcp', 'x']],
  ])('%s → %j', (input, output) => {
    expect(words(input)).toEqual(output);
  });
});
