/**
 * Seeded fuzz tests of the small parsers user input meets first: the Dockerfile front end (parse, instructions,
 * stages), compose's short port syntax, the short volume syntax (alone and through the whole loader) and the
 * `.env` parser. Inputs are real seeds (the build fixtures' and examples' Dockerfiles, well-formed specs) mutated
 * with each grammar's own tokens, plus random strings. Every input gives a result or a typed error (CodedError /
 * TsComposeError), never another exception, never a hang; and what one layer accepts, the next takes (a port spec
 * the parser accepts converts to the runtime's typed mapping; a `.env` line written well reads back as written).
 *
 * Reproduce: FUZZ_SEED=<seed> [FUZZ_COUNT=<n>] npm run jest -- test/fuzz/syntax.test.ts (input i uses seed + i).
 */
import { afterAll, describe, expect, test } from '@jest/globals';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TsComposeError } from '../../src/errors.js';
import { isCodedError } from '../../src/lib/errors.js';
import { resolveDockerfile } from '../../src/lib/build/dockerfile/stages.js';
import { parseVolumeSpec } from '../../src/project/canonical-volumes.js';
import { parseDotenv } from '../../src/project/dotenv.js';
import { loadProjectSync } from '../../src/project/load.js';
import { parsePortSpec, portMapping } from '../../src/project/ports.js';
import { chance, fuzzRun, int, mulberry32, mutateText, pick, type Rng } from './rng.js';

const { seed: SEED, count: COUNT } = fuzzRun(1500);
const root = join(import.meta.dirname ?? process.cwd(), '..', '..');

/** Runs `f` on each input; anything thrown that is not typed fails with the input and its seed. */
function each(label: string, offset: number, make: (r: Rng) => string, check: (input: string) => void): void {
  for (let i = 0; i < COUNT; i++) {
    const r = mulberry32(SEED + offset + i);
    const input = make(r);
    const t0 = Date.now();
    try {
      check(input);
    } catch (e) {
      if (isCodedError(e) || e instanceof TsComposeError) continue;
      throw new Error(`${label} input ${i} (seed ${SEED + offset + i}) ${JSON.stringify(input.slice(0, 300))}: ${(e as Error).stack ?? String(e)}`);
    }
    if (Date.now() - t0 > 2000) throw new Error(`${label} input ${i} (seed ${SEED + offset + i}) took ${Date.now() - t0} ms`);
  }
}

const randomString = (r: Rng, alphabet: string, max = 40): string =>
  Array.from({ length: int(r, max) }, () => alphabet[int(r, alphabet.length)]).join('');

// ---------------------------------------------------------------------------------------------------------
// Dockerfile

function dockerfileSeeds(): string[] {
  const out: string[] = [];
  const fixtures = join(root, 'test/e2e/fixtures/build');
  if (existsSync(fixtures))
    for (const d of readdirSync(fixtures))
      if (existsSync(join(fixtures, d, 'Dockerfile'))) out.push(readFileSync(join(fixtures, d, 'Dockerfile'), 'utf8'));
  out.push(
    '# syntax=docker/dockerfile:1\n# escape=`\nFROM busybox AS a\nRUN echo `\n  hi\nCOPY --from=a / /\n',
    'ARG V=1\nFROM scratch\nARG V\nENV X=${V:-2} Y=${V:+3}\nCOPY <<EOF /f\nhello $X\nEOF\nRUN <<-EOT sh\n\techo hi\nEOT\n',
    'FROM busybox\nRUN --mount=type=cache,target=/c --mount=type=secret,id=s,required=true --network=none ["sh","-c","ls"]\nHEALTHCHECK --interval=5s CMD true\nONBUILD RUN x\nSHELL ["/bin/bash","-c"]\n',
  );
  return out;
}

const DF_TOKENS = [
  'FROM ',
  'RUN ',
  'COPY ',
  'ADD ',
  'ENV ',
  'ARG ',
  'WORKDIR ',
  'USER ',
  'CMD ',
  'ENTRYPOINT ',
  'ONBUILD ',
  'HEALTHCHECK ',
  'SHELL ',
  'EXPOSE ',
  'VOLUME ',
  'LABEL ',
  'STOPSIGNAL ',
  'MAINTAINER ',
  ' AS ',
  '--from=',
  '--chown=',
  '--chmod=',
  '--mount=type=',
  '--platform=',
  '--network=',
  '${',
  '}',
  '$',
  ':-',
  ':+',
  '\\',
  '`',
  '\n',
  '\\\n',
  '"',
  "'",
  '[',
  ']',
  ',',
  '<<EOF',
  '<<-EOF',
  'EOF',
  '#',
  '# escape=`\n',
  '=',
  ' ',
  '\t',
  'scratch',
  '0',
  '-1',
  '99999999999999999999',
  '\0',
  'ü',
];

// ---------------------------------------------------------------------------------------------------------
// ports, volumes, .env

const PORT_SEEDS = [
  '80',
  '8080:80',
  '127.0.0.1:8080:80/udp',
  '[::1]:80:80',
  '8000-8010:8000-8010',
  '9000-9010:80',
  '::1:80:80',
  '53/sctp',
  '0.0.0.0::80',
];
const PORT_TOKENS = [':', '-', '/', 'tcp', 'udp', 'sctp', '[', ']', '::', '0', '65535', '65536', '99999999999999999999', '1.2.3.4', ' ', 'x', '.'];
const VOLUME_SEEDS = ['/data', 'data:/data', './src:/app:ro', '~/x:/x:rw,z', '/a:/b:ro,rprivate', 'data:/d:nocopy', '/tmp:/t:O', 'c:\\x:/y'];
const VOLUME_TOKENS = [':', ',', '/', '.', '..', '~', 'ro', 'rw', 'z', 'Z', 'nocopy', 'rshared', 'cached', 'O', ' ', '\\', '$', '{'];
const ENV_TOKENS = ['=', '\n', '"', "'", '\\', '$', '${', '}', ':-', '#', ' ', '\t', 'export ', '\r\n', '\\n', 'A', '_', '0', 'ü', '\0', '`'];

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe(`parser fuzz (seed ${SEED}, ${COUNT} inputs each)`, () => {
  test('Dockerfile: a stage plan or a typed error', () => {
    const seeds = dockerfileSeeds();
    each(
      'Dockerfile',
      0,
      (r) => (chance(r, 0.1) ? randomString(r, 'FROMRUNCOPY $:{}-=\\\n"[]`<#', 200) : mutateText(r, pick(r, seeds), DF_TOKENS, 1 + int(r, 8))),
      (text) => {
        const plan = resolveDockerfile(text, 'Dockerfile', { buildArgs: { V: 'x' } });
        expect(plan.order.length).toBeGreaterThan(0);
      },
    );
  }, 120_000);

  test('ports: a spec the parser takes converts to the typed mapping', () => {
    each(
      'port',
      1_000_000,
      (r) => (chance(r, 0.1) ? randomString(r, '0123456789:-/[].tcpudx ') : mutateText(r, pick(r, PORT_SEEDS), PORT_TOKENS)),
      (spec) => {
        for (const p of parsePortSpec(spec)) {
          const m = portMapping(p);
          expect(m.containerPort).toBeGreaterThanOrEqual(1);
          expect(m.containerPort).toBeLessThanOrEqual(65535);
        }
      },
    );
  }, 60_000);

  test('volumes: the short syntax parser never throws; the loader gives a project or a typed error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsc-fuzz-vol-'));
    dirs.push(dir);
    const ctx = { baseDir: dir, home: '/home/u' };
    each(
      'volume',
      2_000_000,
      (r) => (chance(r, 0.1) ? randomString(r, '/.:~,abroZz$ ') : mutateText(r, pick(r, VOLUME_SEEDS), VOLUME_TOKENS)),
      (spec) => {
        const parsed = parseVolumeSpec(spec, ctx);
        if (parsed !== undefined) expect(typeof parsed['target']).toBe('string');
      },
    );
    // through the whole loader (interpolation, validation, canonical form): fewer, each is a project load
    const n = Math.max(1, Math.floor(COUNT / 10));
    for (let i = 0; i < n; i++) {
      const r = mulberry32(SEED + 3_000_000 + i);
      const spec = mutateText(r, pick(r, VOLUME_SEEDS), VOLUME_TOKENS);
      writeFileSync(join(dir, 'compose.yaml'), `services:\n  s:\n    image: busybox\n    volumes:\n      - ${JSON.stringify(spec)}\n`);
      try {
        loadProjectSync({ cwd: dir, env: {}, projectName: 'fuzz' });
      } catch (e) {
        if (!(e instanceof TsComposeError))
          throw new Error(`volume ${JSON.stringify(spec)} (seed ${SEED + 3_000_000 + i}) through the loader: ${String(e)}`);
      }
    }
  }, 120_000);

  test('.env: a mapping or a typed error; well-formed lines read back as written', () => {
    each(
      '.env',
      4_000_000,
      (r) =>
        chance(r, 0.15)
          ? randomString(r, ENV_TOKENS.join(''), 80)
          : mutateText(r, 'A=1\nexport B="two words"\nC=\'${A}\' # c\nD=${A:-x}\n', ENV_TOKENS, 1 + int(r, 6)),
      (text) => {
        const env = parseDotenv(text, '.env', (k) => (k === 'HOME' ? '/root' : undefined));
        // (an empty name is compose-go's reading of `=x`, kept: its own TestParsing has it)
        for (const v of Object.values(env)) expect(typeof v).toBe('string');
      },
    );
    for (let i = 0; i < COUNT; i++) {
      const r = mulberry32(SEED + 5_000_000 + i);
      const vars: Record<string, string> = {};
      const lines: string[] = [];
      for (let j = 0; j < 1 + int(r, 5); j++) {
        const key = `K${j}_${randomString(r, 'ABCXYZ_019', 6)}`;
        const value = randomString(r, 'abc XYZ019-_./:@,+', 20);
        vars[key] = value;
        lines.push(chance(r, 0.5) ? `${key}='${value}'` : `export ${key}='${value}'`);
      }
      expect(parseDotenv(lines.join('\n'), '.env')).toEqual(vars);
    }
  }, 60_000);
});
