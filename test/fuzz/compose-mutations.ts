/**
 * Mutations of the loader fuzz test (../fuzz.test.ts): at the text level (lines deleted, duplicated, swapped,
 * re-indented; YAML tokens inserted; scalars replaced with other types; deep nesting; big numbers) and at the data
 * level (random node replaced, keys dropped, unknown keys added). `mutate` applies one to three of them.
 */
import { parse as parseYamlText, stringify as stringifyYaml } from 'yaml';
import { int, pick, type Rng } from './rng.js';

const TOKENS = [
  ':',
  ': ',
  '- ',
  '-',
  '[',
  ']',
  '{',
  '}',
  '!',
  '&a',
  '*a',
  '&',
  '*',
  '${',
  '${X',
  '${X:-',
  '${X:?e}',
  '$$',
  '$',
  '~',
  'null',
  '0x1',
  '"',
  "'",
  '#',
  '|',
  '>',
  '? ',
  ',',
  '<<: *a',
  '!reset',
  '!override',
  '!!str',
  '!!int',
  '!!binary',
  '%YAML 1.2',
  '---',
  '...',
  '\t',
  '\\',
  '@',
  '`',
  '\u0000',
  '\ufeff',
  '\u2028',
  'é',
  '🙂',
  '\r',
  '=',
  'service:',
  'container:',
];

const SCALARS = [
  'true',
  'false',
  'null',
  '~',
  '0',
  '-1',
  '0x1',
  '0o17',
  '0777',
  '1e400',
  '-1e400',
  '.inf',
  '-.inf',
  '.nan',
  '99999999999999999999999999',
  '9007199254740993',
  '-9223372036854775809',
  '1.5',
  '""',
  "''",
  '[]',
  '{}',
  '[1, [2]]',
  '{a: 1}',
  'yes',
  'no',
  'on',
  'off',
  '2001-12-14',
  '12:30:45',
  '"${X:?boom}"',
  '"${"',
  '"$$"',
  '"${A:-${B:-c}}"',
  'abc',
  '"80:80"',
  '"a=b"',
  '"/abs/path"',
  '"./rel"',
  '"service:web"',
  '"8080-8070:80"',
  '"65536:80"',
  '"-1:80"',
  '!!binary aGk=',
  '!!str 1',
  '!!int "x"',
  '!reset',
  '!override 3',
  '*a',
  '&a 1',
  '"' + 'x'.repeat(5000) + '"',
  '"\\u0000"',
  '"1gb"',
  '"10s"',
  '"-5s"',
  '"1.5.6"',
];

const KEYS = [
  'image',
  'build',
  'ports',
  'volumes',
  'environment',
  'depends_on',
  'extends',
  'include',
  'networks',
  'secrets',
  'configs',
  'profiles',
  'command',
  'entrypoint',
  'healthcheck',
  'deploy',
  'env_file',
  'labels',
  'network_mode',
  'links',
  'volumes_from',
  'container_name',
  'scale',
  'ulimits',
  'logging',
  'extra_hosts',
  'tmpfs',
  'devices',
  'x-ext',
  'unknown_key',
  'name',
  'services',
  'models',
  'develop',
  'target',
  'source',
  'published',
  'file',
  'service',
  'path',
  'required',
  'condition',
  '<<',
  '',
];

function randomValue(r: Rng, depth = 0): unknown {
  const k = int(r, depth > 3 ? 7 : 11);
  switch (k) {
    case 0:
      return pick(r, [true, false, null]);
    case 1:
      return pick(r, [0, -1, 1, 65535, 65536, 2 ** 31, 2 ** 53 + 2, -(2 ** 63), 1e308, 0.5, -0.0]);
    case 2:
      return pick(r, [
        '',
        'x',
        '80:80',
        '8080-8081:80-81/udp',
        '/abs:/abs:ro',
        './rel:/r',
        'service:db',
        'container:c',
        '${X:-d}',
        '${X:?boom}',
        '${',
        '$$',
        'a=b',
        'CMD',
        'CMD-SHELL',
        'NONE',
        '1s',
        '-1s',
        '1gb',
        'host',
        'none',
        'default',
        'on-failure:3',
        '0777',
      ]);
    case 3:
      return 'x'.repeat(int(r, 3) === 0 ? 10_000 : 3) + String(int(r, 100));
    case 4:
      return pick(r, KEYS);
    case 5:
      return [];
    case 6:
      return {};
    case 7:
    case 8:
      return Array.from({ length: 1 + int(r, 3) }, () => randomValue(r, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = 0; i < 1 + int(r, 3); i++) o[pick(r, KEYS) || 'k'] = randomValue(r, depth + 1);
      return o;
    }
  }
}

/** Strings that are valid for the schema in most string-typed places but odd for the canonical phase. */
const TRICKY_STRINGS = [
  '',
  ' ',
  ':',
  '::',
  ':::',
  '/',
  '//',
  '.',
  '..',
  '~',
  '~/x',
  '-',
  '=',
  '==',
  'a=',
  '=b',
  ',',
  '0',
  '-1',
  '1e3',
  '80:80:80:80',
  '1.2.3.4:80:80',
  '[::1]:80:80',
  '80-70:80',
  '80-:80',
  'abc:80',
  '80/xyz',
  '65536',
  '0-65535:0-65535',
  '1-100000:1',
  ':/data',
  'a:b:c:d',
  '/src:/dst:rw,z,nocopy',
  './a:./b',
  'vol:',
  ':ro',
  'C:\\x:/y',
  'tmpfs',
  '1x',
  '-1s',
  '1h1h',
  '9999999h',
  '1b',
  '1zb',
  '0.5g',
  '-5m',
  'CMD',
  'NONE',
  'service:',
  'container:',
  'host',
  'bridge',
  'on-failure:x',
  'unless-stopped',
  '${X:-${Y:-${Z}}}',
  '${X:?}',
  '$$$',
  '$${',
  '"',
  "'",
  '\\',
  'a\nb',
  '\u0000',
  '🙂',
  'é',
  'x'.repeat(300),
];
const TRICKY_NUMBERS = [
  0,
  -1,
  1,
  -0.5,
  0.5,
  65535,
  65536,
  2 ** 31 - 1,
  2 ** 31,
  2 ** 32,
  2 ** 53,
  2 ** 53 + 2,
  -(2 ** 53),
  1e21,
  1e308,
  -1e308,
  0o777,
];

/** Replaces a value by another of the same type (mostly keeps the schema happy, to reach the later phases). */
function sameType(r: Rng, v: unknown): unknown {
  if (typeof v === 'string') return int(r, 4) === 0 ? v + pick(r, TRICKY_STRINGS) : pick(r, TRICKY_STRINGS);
  if (typeof v === 'number') return pick(r, TRICKY_NUMBERS);
  if (typeof v === 'boolean') return !v;
  if (Array.isArray(v)) return int(r, 2) === 0 ? [] : [...v, ...v];
  if (v && typeof v === 'object') return int(r, 2) === 0 ? {} : v;
  return pick(r, [null, '', 0]);
}

function deepNest(r: Rng): string {
  const depth = pick(r, [20, 100, 500, 2000]);
  return int(r, 2) === 0 ? '['.repeat(depth) + ']'.repeat(depth) : '{a: '.repeat(depth) + '1' + '}'.repeat(depth);
}

function mutateText(r: Rng, text: string, others: readonly string[]): string {
  const lines = text.split('\n');
  const at = (): number => int(r, Math.max(lines.length, 1));
  switch (int(r, 13)) {
    case 0: // delete a line (or a block)
      lines.splice(at(), 1 + (int(r, 4) === 0 ? int(r, 5) : 0));
      break;
    case 1: // duplicate a line
      {
        const i = at();
        lines.splice(i, 0, lines[i] ?? '');
      }
      break;
    case 2: // swap two lines
      {
        const i = at();
        const j = at();
        [lines[i], lines[j]] = [lines[j] ?? '', lines[i] ?? ''];
      }
      break;
    case 3: // change indentation
      {
        const i = at();
        const l = lines[i] ?? '';
        const d = int(r, 9) - 4;
        lines[i] = d >= 0 ? (int(r, 5) === 0 ? '\t' : ' '.repeat(d)) + l : l.replace(new RegExp(`^ {0,${-d}}`), '');
      }
      break;
    case 4: // insert a random token
    case 5: {
      const i = at();
      const l = lines[i] ?? '';
      const p = int(r, l.length + 1);
      lines[i] = l.slice(0, p) + pick(r, TOKENS) + l.slice(p);
      break;
    }
    case 6: // replace a scalar with another type
    case 7: {
      const candidates = lines.map((l, i) => [l, i] as const).filter(([l]) => /(:\s+|^\s*-\s+)\S/.test(l));
      if (candidates.length === 0) break;
      const [l, i] = pick(r, candidates);
      lines[i] = l.replace(/((?::\s+)|(?:^\s*-\s+))(.*)$/, (_m, pre: string) => pre + pick(r, SCALARS));
      break;
    }
    case 8: // deep nesting
      {
        const candidates = lines.map((l, i) => [l, i] as const).filter(([l]) => /:\s+\S/.test(l));
        if (candidates.length === 0) break;
        const [l, i] = pick(r, candidates);
        lines[i] = l.replace(/(:\s+)(.*)$/, (_m, pre: string) => pre + deepNest(r));
      }
      break;
    case 9: // big numbers
      {
        const i = at();
        lines[i] = (lines[i] ?? '').replace(/\d+/, pick(r, ['99999999999999999999999999999', '1e999', '-0', '4294967296', '18446744073709551616']));
      }
      break;
    case 10: // truncate
      return text.slice(0, int(r, text.length + 1));
    case 11: // a line from another seed
      lines.splice(at(), 0, pick(r, pick(r, others).split('\n')));
      break;
    default:
      {
        // anchors and aliases
        const i = at();
        lines.splice(i, 0, pick(r, ['x-a: &a {image: x}', '    <<: *a', '  svc: *a', '    image: *a', 'x-a: &a [1, *a]', '    <<: [*a, *a]']));
      }
      break;
  }
  return lines.join('\n');
}

type PathSeg = string | number;

function collectPaths(v: unknown, path: PathSeg[] = [], out: PathSeg[][] = []): PathSeg[][] {
  out.push(path);
  if (out.length > 5000) return out;
  if (Array.isArray(v)) v.forEach((x, i) => collectPaths(x, [...path, i], out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) collectPaths(x, [...path, k], out);
  return out;
}

function getAt(v: unknown, path: readonly PathSeg[]): unknown {
  let cur = v;
  for (const s of path) cur = (cur as Record<PathSeg, unknown>)[s];
  return cur;
}

function mutateData(r: Rng, text: string): string {
  let data: unknown;
  try {
    data = parseYamlText(text, { merge: true, maxAliasCount: 1000, logLevel: 'error' });
  } catch {
    return text;
  }
  if (data === null || typeof data !== 'object') data = { services: {} };
  const paths = collectPaths(data);
  const path = pick(r, paths);
  const kind = int(r, 6);
  if (path.length === 0) {
    if (kind === 0) data = randomValue(r);
    else (data as Record<string, unknown>)[pick(r, ['x-fuzz', 'unknown', 'services', 'include', 'name', 'version'])] = randomValue(r);
  } else {
    const parent = getAt(data, path.slice(0, -1)) as Record<PathSeg, unknown> | unknown[];
    const key = path[path.length - 1]!;
    if (kind === 0 || kind === 1) {
      (parent as Record<PathSeg, unknown>)[key] = randomValue(r);
    } else if (kind >= 4) {
      (parent as Record<PathSeg, unknown>)[key] = sameType(r, (parent as Record<PathSeg, unknown>)[key]);
    } else if (kind === 2) {
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete (parent as Record<PathSeg, unknown>)[key];
    } else {
      const target = getAt(data, path);
      if (target && typeof target === 'object' && !Array.isArray(target))
        (target as Record<string, unknown>)[pick(r, ['unknown_key', 'x-fuzz', 'imagee', ...KEYS])] = randomValue(r);
      else if (Array.isArray(target)) target.push(randomValue(r));
      else (parent as Record<PathSeg, unknown>)[key] = { [pick(r, KEYS) || 'k']: target };
    }
  }
  try {
    return stringifyYaml(data, { aliasDuplicateObjects: false, lineWidth: 0 });
  } catch {
    return text;
  }
}

export function mutate(r: Rng, text: string, others: readonly string[]): string {
  let out = text;
  const n = 1 + int(r, 3);
  for (let i = 0; i < n; i++) out = int(r, 2) === 0 ? mutateData(r, out) : mutateText(r, out, others);
  return out;
}
