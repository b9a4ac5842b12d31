#!/usr/bin/env node
// `npm run test:heavy`: builds, then runs the heavy tests (test/heavy: crash points, load) one file at a time under
// the exclusive native-test lock (they compare machine-wide snapshots), and ends with `N passed, N failed`.
// Extra arguments go to Jest (a test path to run one file).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const run = (cmd, args) => spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
const tsc = join(root, 'node_modules/typescript/bin/tsc');
if (run(process.execPath, [tsc, '-p', 'tsconfig.build.json']).status !== 0 || run(process.execPath, ['scripts/bundle.mjs']).status !== 0) {
  console.log('\n0 passed, 1 failed');
  process.exit(1);
}
const out = join(mkdtempSync(join(tmpdir(), 'tscompose-heavy-')), 'results.json');
const jest = [
  '--experimental-vm-modules',
  '--disable-warning=ExperimentalWarning',
  join(root, 'node_modules/jest/bin/jest.js'),
  '-c',
  'jest.heavy.config.js',
  '--runInBand',
  '--json',
  '--outputFile',
  out,
  ...process.argv.slice(2),
];
// flock: no other native test compares snapshots meanwhile (test/e2e/host-snapshot.ts).
const hasFlock = spawnSync('sh', ['-c', 'command -v flock']).status === 0;
const r = hasFlock ? run('flock', ['-x', '/tmp/tscompose-native.lock', process.execPath, ...jest]) : run(process.execPath, jest);
let passed = 0;
let failed = 0;
try {
  const res = JSON.parse(readFileSync(out, 'utf8'));
  passed = res.numPassedTests;
  failed = res.numFailedTests + (res.numRuntimeErrorTestSuites ?? 0);
  if (res.numTotalTests === 0) failed++;
} catch {
  failed++;
}
if (r.status !== 0 && failed === 0) failed++;
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
