#!/usr/bin/env node
// The whole test suite, as `npm test` runs it: type-check, build, unit + e2e tests (Jest), conformance.
// Ends with one line `N passed, N failed` counting Jest tests, conformance checks and the type-check, lint and
// build steps; exits non-zero when anything failed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const extra = process.argv.slice(2);
let passed = 0;
let failed = 0;
let skipped = 0;

// Conformance checks that cannot pass, each with the reason. They are reported as skipped, never as passed;
// if one starts passing, the list is stale and the run fails so it gets updated.
const KNOWN_CONFORMANCE = {
  'merge/Test_mergeYamlModelsMultipleServices':
    "the corpus added `image: foo` to this case's expected.yaml for service node-genai but not to override.yaml, " +
    'so no loader can produce it from base.yaml + override.yaml',
};

/** Counts one step or check: a pass, or a failure with its line. */
function count(ok, failure) {
  if (ok) passed++;
  else {
    failed++;
    console.log(`FAIL ${failure}`);
  }
}

function step(name, cmd, args, opts = {}) {
  process.stdout.write(`\n== ${name}: ${[cmd, ...args].join(' ')}\n`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: opts.capture ? ['ignore', 'pipe', 'inherit'] : 'inherit', encoding: 'utf8' });
  if (opts.capture) process.stdout.write(r.stdout ?? '');
  return r;
}

// A fresh clone: install the locked dependencies first.
if (!existsSync(join(root, 'node_modules/.package-lock.json'))) {
  const r = step('install', 'npm', ['install', '--no-audit', '--no-fund']);
  if (r.status !== 0) {
    console.log('\n0 passed, 1 failed');
    process.exit(1);
  }
}

const tsc = join(root, 'node_modules/typescript/bin/tsc');
for (const [name, args] of [
  ['type-check', ['-p', 'tsconfig.test.json']], // src and test (tsconfig.json: src only, what the build emits)
  ['build', ['-p', 'tsconfig.build.json']],
]) {
  const r = step(name, process.execPath, [tsc, ...args]);
  count(r.status === 0, name);
}
// Lint: ESLint (typescript-eslint and the import boundaries of scripts/eslint-layers.mjs), then Prettier's check.
{
  const eslint = step('lint', process.execPath, [join(root, 'node_modules/eslint/bin/eslint.js'), '.']);
  count(eslint.status === 0, 'lint (eslint)');
  const prettier = step('format', process.execPath, [join(root, 'node_modules/prettier/bin/prettier.cjs'), '--check', '--log-level', 'warn', '.']);
  count(prettier.status === 0, 'format (prettier --check; npm run format fixes it)');
}
const schemaBuild = join(root, 'scripts/build-schema.mjs');
if (existsSync(schemaBuild)) {
  const r = step('schema validator up to date', process.execPath, [schemaBuild, '--check']);
  count(r.status === 0, 'schema validator');
}
// bin/tscompose runs the bundle (dist/tscompose.cjs) that the e2e tests drive.
{
  const r = step('bundle', process.execPath, [join(root, 'scripts/bundle.mjs')]);
  count(r.status === 0, 'bundle');
}

const out = join(mkdtempSync(join(tmpdir(), 'tscompose-jest-')), 'results.json');
const jest = step('jest', process.execPath, [
  '--experimental-vm-modules',
  '--disable-warning=ExperimentalWarning',
  join(root, 'node_modules/jest/bin/jest.js'),
  '--ci',
  '--json',
  `--outputFile=${out}`,
  ...extra,
]);
if (existsSync(out)) {
  const res = JSON.parse(readFileSync(out, 'utf8'));
  passed += res.numPassedTests;
  skipped += res.numPendingTests; // tests skipped with a reason (no engine, not root, no corpus beside the checkout)
  failed += res.numFailedTests + (res.numRuntimeErrorTestSuites ?? 0);
  rmSync(dirname(out), { recursive: true, force: true });
  if (res.numTotalTests === 0) count(false, 'jest ran no test');
} else {
  failed++;
  console.log(`FAIL jest produced no results (exit ${jest.status})`);
}

const conf = join(root, '../shared/conformance/run.mjs');
if (existsSync(conf)) {
  const r = step('conformance', process.execPath, [conf], { capture: true });
  const m = /(\d+) passed, (\d+) failed\s*$/.exec(r.stdout ?? '');
  if (m) {
    const failures = [...(r.stdout ?? '').matchAll(/^FAIL (\S+):/gm)].map((f) => f[1]);
    const known = failures.filter((f) => f in KNOWN_CONFORMANCE);
    for (const f of known) console.log(`known conformance failure ${f}: ${KNOWN_CONFORMANCE[f]}`);
    for (const k of Object.keys(KNOWN_CONFORMANCE))
      if (!failures.includes(k)) count(false, `${k} is listed as a known failure but passed: update scripts/test.mjs`);
    passed += Number(m[1]);
    failed += Number(m[2]) - known.length;
    skipped += known.length;
  } else count(false, 'conformance printed no summary');
} else console.log('\n(conformance corpus ../shared/conformance not found: skipped)');

console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
