import { describe, expect, test } from '@jest/globals';
import { YamlSyntaxError } from '../errors.js';
import { mapStrings, parseYaml, Tagged } from './yaml.js';
import { dumpYaml, dumpYamlByEntry } from './yaml-scalars.js';

const value = (text: string): unknown => (parseYaml(`v: ${text}`, 'compose.yaml').data as { v: unknown }).v;

// The expected values are what the loader gave with js-yaml 4 (compose-go's go-yaml agrees on the octal forms).
describe('parseYaml scalars', () => {
  test.each([
    ['0440', 288],
    ['-0440', -288],
    ['0o17', 15],
    ['0x1F', 31],
    ['-0x1f', -31],
    ['0b101', 5],
    ['-0', 0],
    ['08', 8],
    ['1e3', 1000],
    ['.5', 0.5],
    ['.inf', Infinity],
    ['True', true],
    ['~', null],
    ['', null],
    ['1_000', '1_000'],
    ['-.5', '-.5'],
    ['yes', 'yes'],
    ['12:30', '12:30'],
    ['"0440"', '0440'],
  ])('%s', (text, expected) => {
    expect(value(text)).toStrictEqual(expected);
  });

  test('!reset and !override become Tagged markers; a bare tag or null means nothing', () => {
    expect(value('!reset')).toStrictEqual(new Tagged('reset', null));
    expect(value('!reset null')).toStrictEqual(new Tagged('reset', null));
    expect(value('!override [1, a]')).toStrictEqual(new Tagged('override', [1, 'a']));
    expect(value('!override {a: 0o10}')).toStrictEqual(new Tagged('override', { a: 8 }));
    expect(value('!reset x')).toStrictEqual(new Tagged('reset', 'x'));
  });

  test('an anchor used many times: every use its own copy, no copy where there is no alias', () => {
    const { data } = parseYaml('x: &a {p: [1]}\ny: [*a, *a]\nz: {q: *a}\n', 'f.yaml');
    const d = data as { x: object; y: object[]; z: { q: object } };
    expect(d).toStrictEqual({ x: { p: [1] }, y: [{ p: [1] }, { p: [1] }], z: { q: { p: [1] } } });
    const all = [d.x, d.y[0]!, d.y[1]!, d.z.q];
    expect(new Set(all).size).toBe(4);
    expect(new Set(all.map((o) => (o as { p: unknown }).p)).size).toBe(4);
    expect(() => parseYaml('a: &r [*r]\n', 'f.yaml')).toThrow(YamlSyntaxError);
  });

  test('merge keys, aliases copied, several documents merged', () => {
    const { data } = parseYaml('x: &a {p: 1, q: [1]}\ny:\n  <<: *a\n  p: 2\n---\nz: 3\n', 'f.yaml');
    expect(data).toStrictEqual({ x: { p: 1, q: [1] }, y: { p: 2, q: [1] }, z: 3 });
    const d = data as { x: { q: unknown }; y: { q: unknown } };
    expect(d.x.q).not.toBe(d.y.q);
  });

  test('syntax errors carry file:line:col; a duplicated key is named with its first line', () => {
    expect(() => parseYaml('a: 1\na: 2\n', 'f.yaml')).toThrow('mapping key "a" already defined at line 1');
    try {
      parseYaml('services:\n  web: [\n', 'f.yaml');
      throw new Error('no error');
    } catch (e) {
      expect(e).toBeInstanceOf(YamlSyntaxError);
      expect((e as YamlSyntaxError).position).toMatchObject({ file: 'f.yaml', line: expect.any(Number) });
    }
  });

  test('an unknown tag is an error', () => {
    expect(() => parseYaml('v: !nope x\n', 'f.yaml')).toThrow(YamlSyntaxError);
  });
});

describe('mapStrings', () => {
  test('copies what changed, shares the rest, leaves the data as it was', () => {
    const make = () => ({ a: { b: ['x', '$y'], c: { d: 'z' } }, t: new Tagged('override', ['$y']), n: 1 });
    const data = make();
    const paths: string[] = [];
    const out = mapStrings(data, (v, path) => {
      paths.push(path.join('.'));
      return v.replace('$y', 'Y');
    }) as typeof data;
    expect(out).toStrictEqual({ a: { b: ['x', 'Y'], c: { d: 'z' } }, t: new Tagged('override', ['Y']), n: 1 });
    expect(data).toStrictEqual(make());
    expect(out).not.toBe(data);
    expect(out.a.c).toBe(data.a.c);
    expect(out.a.b).not.toBe(data.a.b);
    expect(paths).toStrictEqual(['a.b.0', 'a.b.1', 'a.c.d', 't.0']);
    const same = { k: ['v'] };
    expect(mapStrings(same, (v) => v)).toBe(same);
  });

  test('a key named __proto__ stays a key', () => {
    const data = JSON.parse('{"__proto__": "$x"}') as Record<string, unknown>;
    const out = mapStrings(data, () => 'y') as Record<string, unknown>;
    expect(Object.keys(out)).toStrictEqual(['__proto__']);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
  });
});

describe('dumpYaml', () => {
  // Byte for byte what js-yaml 4 printed for the same data.
  test('quotes what a YAML 1.1 reader or an indicator would misread; numbers as before', () => {
    const data = {
      bool11: 'yes',
      ports: ['80:80', '8080:80/tcp'],
      dash: '-x',
      octal: '0440',
      under: '1_000',
      big: 1e21,
      small: 5e-7,
      half: 0.5,
      empty: '',
      text: 'multi\nline\n',
      list: [{ k: 1, s: ['a'] }],
      nil: null,
      t: true,
    };
    expect(dumpYaml(data)).toBe(
      "bool11: 'yes'\nports:\n  - '80:80'\n  - 8080:80/tcp\ndash: '-x'\noctal: '0440'\nunder: 1_000\nbig: 1e+21\nsmall: 5.e-7\nhalf: 0.5\nempty: ''\ntext: |\n  multi\n  line\nlist:\n  - k: 1\n    s:\n      - a\nnil: null\nt: true\n",
    );
    expect(parseYaml(dumpYaml(data), 'f.yaml').data).toStrictEqual(data);
  });

  test('indent 4 with double quotes (config --variables --format yaml)', () => {
    const data = { A: { name: 'A', defaultvalue: 'on', presencevalue: '', required: false }, L: [{ x: 1 }] };
    expect(dumpYaml(data, { indent: 4, quote: 'double' })).toBe(
      'A:\n    name: A\n    defaultvalue: "on"\n    presencevalue: ""\n    required: false\nL:\n    -\n        x: 1\n',
    );
  });
});

describe('dumpYamlByEntry', () => {
  test('writes what dumpYaml writes', () => {
    const tricky = {
      text: 'multi\nline\n',
      blank: 'a\n\n  \nb\n',
      lead: '  indented\nnext',
      keep: 'x\n\n\n',
      bare: '\n',
      u2028: 'a\u2028b',
      tab: '\tx',
    };
    const cases: Record<string, unknown>[] = [
      {},
      { name: 'p', services: {} },
      {
        name: 'p',
        services: { web: { image: 'x', command: ['a', 'b'], environment: tricky, ports: [{ target: 80 }] }, 'a b': {}, yes: { on: 'off' } },
      },
      { 'x-top': [1, { a: 'b' }], 'x-map': { k: null, e: [], o: {}, ': v': tricky }, volumes: { data: { labels: { 'a:b': '1' } } } },
      JSON.parse('{"__proto__": {"a": 1}, "-": {"?": "#"}, "x-a\\nb": {"c": "d"}}') as Record<string, unknown>,
    ];
    for (const data of cases) expect(dumpYamlByEntry(data)).toBe(dumpYaml(data));
  });

  test('a lazy section stands for its entries, made one at a time; none written as {}', () => {
    const made: string[] = [];
    function* entries(names: string[]): Generator<readonly [string, unknown]> {
      for (const n of names) {
        made.push(n);
        yield [n, { image: n }];
      }
    }
    const data = { name: 'p', services: {}, volumes: { v: {} } };
    const full = { name: 'p', services: { a: { image: 'a' }, b: { image: 'b' } }, volumes: { v: {} } };
    expect(dumpYamlByEntry(data, { services: () => entries(['a', 'b']) })).toBe(dumpYaml(full));
    expect(made).toStrictEqual(['a', 'b']);
    expect(dumpYamlByEntry(data, { services: () => entries([]) })).toBe(dumpYaml(data));
  });
});
