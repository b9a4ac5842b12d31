/**
 * Seeded fuzz test of the loader: real compose files (the conformance corpus in ../shared) are mutated at the
 * text level (lines deleted, duplicated, swapped, re-indented; YAML tokens inserted; scalars replaced with
 * other types; deep nesting; big numbers) and at the data level (random node replaced, keys dropped, unknown
 * keys added). Every input must either load into a project or fail with a TsComposeError: never another
 * exception type, never a hang.
 *
 * Reproduce: FUZZ_SEED=<seed> [FUZZ_COUNT=<n>] npm run jest -- test/fuzz.test.ts. Each input i uses the PRNG
 * seeded with `seed + i`, so a single input is reproducible from the printed per-input seed as well.
 */
import { describe, expect, test, afterAll } from '@jest/globals';
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYamlText, stringify as stringifyYaml } from 'yaml';
import { TsComposeError } from '../src/errors.js';
import { loadProjectSync } from '../src/project/load.js';
import { int, mulberry32, pick, type Rng } from './fuzz/rng.js';

const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed1234) >>> 0;
const COUNT = Number(process.env.FUZZ_COUNT ?? 2000);
/** A single input taking longer than this counts as a (near-)hang. */
const SLOW_MS = 3000;

// ---------------------------------------------------------------------------------------------------------
// Seeds (the PRNG, mulberry32, and its helpers: ./fuzz/rng.ts)

function projectRoot(): string {
  try {
    return resolve(dirname(fileURLToPath(import.meta.url)), '..');
  } catch {
    return process.cwd();
  }
}

const INLINE_SEEDS = [
  [
    'name: inline',
    'x-base: &base',
    '  restart: always',
    '  environment: {A: "${A:-1}"}',
    'services:',
    '  web:',
    '    <<: *base',
    '    build: {context: ., args: [X=1]}',
    '    ports: ["8080:80", "127.0.0.1:9000-9001:9000-9001/udp"]',
    '    volumes: ["./src:/app:ro", "data:/data"]',
    '    depends_on: {db: {condition: service_healthy}}',
    '    healthcheck: {test: "curl -f localhost", interval: 10s}',
    '    profiles: [web]',
    '  db:',
    '    image: postgres:16',
    '    extends: base2',
    '  base2:',
    '    image: x',
    '    secrets: [pw]',
    'volumes:',
    '  data: {}',
    'secrets:',
    '  pw: {environment: PW}',
    '',
  ].join('\n'),
];

/** Files the seeds refer to (env files, label files), copied beside the fuzzed compose.yaml. */
function auxFiles(): { name: string; path: string }[] {
  const full = resolve(projectRoot(), '../shared/conformance/compose-go-full-example');
  if (!existsSync(full)) return [];
  return readdirSync(full)
    .filter((f) => /\.(env|label)$/.test(f))
    .map((f) => ({ name: f, path: join(full, f) }));
}

function loadSeeds(): { name: string; text: string }[] {
  const shared = resolve(projectRoot(), '../shared/conformance');
  const seeds: { name: string; text: string }[] = INLINE_SEEDS.map((text, i) => ({ name: `inline${i}`, text }));
  if (!existsSync(shared)) return seeds;
  const awesome = join(shared, 'awesome-compose');
  if (existsSync(awesome)) {
    const picked = readdirSync(awesome)
      .sort()
      .flatMap((d) => ['compose.yaml', 'compose.yml'].map((f) => join(awesome, d, f)))
      .filter((p) => existsSync(p));
    // Every fourth one: a spread of the corpus.
    for (const p of picked.filter((_, i) => i % 4 === 0)) seeds.push({ name: p.slice(shared.length + 1), text: readFileSync(p, 'utf8') });
  }
  const merge = join(shared, 'compose-go-merge');
  if (existsSync(merge)) {
    const cases = readdirSync(merge).sort();
    for (const c of cases.filter((_, i) => i % 15 === 0)) {
      // expected.yaml rather than override.yaml: overrides alone lack `image` and fail the consistency check.
      for (const f of ['base.yaml', 'expected.yaml']) {
        const p = join(merge, c, f);
        if (existsSync(p)) seeds.push({ name: `compose-go-merge/${c}/${f}`, text: readFileSync(p, 'utf8') });
      }
    }
  }
  const full = join(shared, 'compose-go-full-example', 'full-example.yml');
  if (existsSync(full)) seeds.push({ name: 'compose-go-full-example/full-example.yml', text: readFileSync(full, 'utf8') });
  return seeds;
}

// ---------------------------------------------------------------------------------------------------------
// Mutations

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

function mutate(r: Rng, text: string, others: readonly string[]): string {
  let out = text;
  const n = 1 + int(r, 3);
  for (let i = 0; i < n; i++) out = int(r, 2) === 0 ? mutateData(r, out) : mutateText(r, out, others);
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Running one input

type Outcome =
  { kind: 'ok' } | { kind: 'tscompose'; code: string } | { kind: 'bad'; signature: string; detail: string } | { kind: 'shape'; detail: string };

function runOne(dir: string, text: string): Outcome {
  const file = join(dir, 'compose.yaml');
  writeFileSync(file, text);
  try {
    const loaded = loadProjectSync({ cwd: dir, env: { HOME: dir }, files: [file] });
    const p = loaded?.project as unknown;
    if (!p || typeof p !== 'object' || typeof (p as { services?: unknown }).services !== 'object' || (p as { services?: unknown }).services === null)
      return { kind: 'shape', detail: `loaded value has no services object: ${JSON.stringify(p)?.slice(0, 200)}` };
    return { kind: 'ok' };
  } catch (e) {
    if (e instanceof TsComposeError) return { kind: 'tscompose', code: e.code };
    const err = e instanceof Error ? e : new Error(`non-Error thrown: ${String(e)}`);
    const frames = (err.stack ?? '')
      .split('\n')
      .filter((l) => l.trim().startsWith('at '))
      .map((l) => l.trim());
    const top = frames[0] ?? '';
    // The first frame in our own code locates the bug better than the top frame (often inside a library).
    const own = frames.find((f) => f.includes('/src/') && !f.includes('node_modules')) ?? top;
    const message = err.message.split(dir).join('<dir>');
    const signature = `${err.constructor.name}: ${message.replace(/\d+/g, 'N').slice(0, 160)} | ${own.replace(/:\d+:\d+\)?$/, '')}`;
    const where = own === top ? top : `${top}\n    ...\n    ${own}`;
    return { kind: 'bad', signature, detail: `${err.constructor.name}: ${message.slice(0, 300)}\n    ${where}` };
  }
}

/** Greedy line-deletion (then character-chunk) shrinking while `stillFails` holds. */
function shrink(text: string, stillFails: (t: string) => boolean, budgetMs = 3000): string {
  const start = Date.now();
  let lines = text.split('\n');
  for (let chunk = Math.max(1, Math.floor(lines.length / 2)); chunk >= 1; chunk = Math.floor(chunk / 2)) {
    for (let i = 0; i < lines.length && Date.now() - start < budgetMs;) {
      const candidate = [...lines.slice(0, i), ...lines.slice(i + chunk)];
      if (candidate.length > 0 && stillFails(candidate.join('\n'))) lines = candidate;
      else i += chunk;
    }
  }
  let out = lines.join('\n');
  // Shorten very long lines.
  for (let size = Math.floor(out.length / 4); size >= 8 && Date.now() - start < budgetMs; size = Math.floor(size / 2)) {
    for (let i = 0; i + size <= out.length && Date.now() - start < budgetMs;) {
      const candidate = out.slice(0, i) + out.slice(i + size);
      if (stillFails(candidate)) out = candidate;
      else i += size;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('loader fuzz', () => {
  test(`${COUNT} mutated compose files load or fail with a TsComposeError (seed ${SEED})`, () => {
    const seeds = loadSeeds();
    expect(seeds.length).toBeGreaterThan(0);
    const dir = realpathSync(mkdtempSync(join(tmpdir(), 'tsc-fuzz-')));
    dirs.push(dir);
    for (const a of auxFiles()) writeFileSync(join(dir, a.name), readFileSync(a.path));
    // Keep stdout quiet: unset variables and obsolete keys produce warnings by design.
    const texts = seeds.map((s) => s.text);

    const started = Date.now();
    const stats = { ok: 0, tscompose: 0, bad: 0 };
    const distinct = new Map<string, { detail: string; input: string; inputSeed: number; seedFile: string; count: number }>();
    const slow: { ms: number; inputSeed: number; input: string }[] = [];
    let slowest = 0;
    const shapes: string[] = [];
    const codes = new Map<string, number>();
    const unmutated = seeds.map((s) => runOne(dir, s.text).kind);

    for (let i = 0; i < COUNT; i++) {
      const inputSeed = (SEED + i) >>> 0;
      const r = mulberry32(inputSeed);
      const seed = seeds[i % seeds.length]!;
      const input = mutate(r, seed.text, texts);
      const t0 = Date.now();
      const outcome = runOne(dir, input);
      const ms = Date.now() - t0;
      slowest = Math.max(slowest, ms);
      if (ms > SLOW_MS) slow.push({ ms, inputSeed, input });
      if (outcome.kind === 'ok') stats.ok++;
      else if (outcome.kind === 'tscompose') {
        stats.tscompose++;
        codes.set(outcome.code, (codes.get(outcome.code) ?? 0) + 1);
      } else if (outcome.kind === 'shape') {
        stats.bad++;
        shapes.push(`input seed ${inputSeed}: ${outcome.detail}`);
      } else {
        stats.bad++;
        const known = distinct.get(outcome.signature);
        if (known) {
          known.count++;
          if (input.length < known.input.length) Object.assign(known, { input, inputSeed, seedFile: seed.name });
        } else distinct.set(outcome.signature, { detail: outcome.detail, input, inputSeed, seedFile: seed.name, count: 1 });
      }
    }
    const elapsed = Date.now() - started;

    const reports: string[] = [];
    for (const [signature, d] of distinct) {
      const minimal = shrink(d.input, (t) => {
        const o = runOne(dir, t);
        return o.kind === 'bad' && o.signature === signature;
      });
      reports.push(
        `--- ${d.count}x ${d.detail}\n    first from ${d.seedFile}, input seed ${d.inputSeed} (run seed ${SEED})\n    minimal input:\n` +
          minimal
            .split('\n')
            .map((l) => `      | ${JSON.stringify(l).slice(1, -1)}`)
            .join('\n'),
      );
    }
    const summary =
      `fuzz seed ${SEED}: ${COUNT} inputs from ${seeds.length} seeds in ${elapsed} ms (slowest input ${slowest} ms) — ` +
      `${stats.ok} loaded, ${stats.tscompose} TsComposeError, ${stats.bad} other (${distinct.size} distinct); ` +
      `unmutated seeds loading: ${unmutated.filter((k) => k === 'ok').length}/${seeds.length}; error codes: ` +
      [...codes]
        .sort((a, b) => b[1] - a[1])
        .map(([c, n]) => `${c} ${n}`)
        .join(', ');
    console.log(summary);
    if (reports.length > 0 || slow.length > 0 || shapes.length > 0) {
      console.error(
        [
          summary,
          ...reports,
          ...shapes.slice(0, 5),
          ...slow.map((s) => `slow input (${s.ms} ms), input seed ${s.inputSeed}:\n${s.input.slice(0, 500)}`),
        ].join('\n'),
      );
    }
    expect({ seed: SEED, nonTsComposeErrors: reports, badShapes: shapes.slice(0, 5) }).toEqual({ seed: SEED, nonTsComposeErrors: [], badShapes: [] });
    expect({ seed: SEED, slowInputs: slow.map((s) => `${s.inputSeed}: ${s.ms} ms`) }).toEqual({ seed: SEED, slowInputs: [] });
    // Sanity: the mutations should not make everything fail (then the fuzzer tests nothing).
    expect(stats.ok).toBeGreaterThan(COUNT / 50);
    expect(elapsed).toBeLessThan(60_000);
  }, 180_000);
});
