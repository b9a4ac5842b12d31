/**
 * Seeded fuzz test of the loader: real compose files (the conformance corpus in ../shared) are mutated at the
 * text level (lines deleted, duplicated, swapped, re-indented; YAML tokens inserted; scalars replaced with
 * other types; deep nesting; big numbers) and at the data level (random node replaced, keys dropped, unknown
 * keys added). Every input must either load into a project or fail with a TsComposeError: never another
 * exception type, never a hang.
 *
 * Reproduce: FUZZ_SEED=<seed> [FUZZ_COUNT=<n>] npm run jest -- test/fuzz.test.ts. Each input i uses the PRNG
 * seeded with `seed + i`, so a single input is reproducible from the printed per-input seed as well.
 *
 * The seeds are in ./fuzz/compose-seeds.ts, the mutations in ./fuzz/compose-mutations.ts, the running and
 * shrinking of one input in ./fuzz/load-outcome.ts; this file runs the inputs and reports.
 */
import { describe, expect, test, afterAll } from '@jest/globals';
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mutate } from './fuzz/compose-mutations.js';
import { auxFiles, loadSeeds } from './fuzz/compose-seeds.js';
import { runOne, shrink } from './fuzz/load-outcome.js';
import { mulberry32 } from './fuzz/rng.js';

const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed1234) >>> 0;
const COUNT = Number(process.env.FUZZ_COUNT ?? 2000);
/** A single input taking longer than this counts as a (near-)hang. */
const SLOW_MS = 3000;

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
