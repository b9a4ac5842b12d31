/**
 * End-to-end on the native runtime: content-aware recreate (issue 17 item 4) — changing a secret file recreates the
 * one service that uses it and no other, `--dry-run` names the file, and the new container reads the new content
 * (bound, and copied into its files/ directory). The steps are in content-recreate-project.ts, shared with Docker's.
 */
import { afterAll, beforeAll, describe, test } from '@jest/globals';
import { required } from './helpers.js';
import { capable, nativeDescribe, NativeSuite } from './native-harness.js';
import { contentRecreateFiles, contentRecreateScenario } from './content-recreate-project.js';

const run = nativeDescribe ? describe : describe.skip;
const suite = new NativeSuite();

beforeAll(() => {
  if (required && !capable) throw new Error('TSCOMPOSE_E2E=1 but the native runtime cannot run here (root, conmon and runc/crun needed)');
});
afterAll(() => {
  if (capable) suite.cleanup();
}, 120_000);

run('native content-aware recreate e2e', () => {
  test('a changed secret file recreates s1 only; dry-run names it; s1 sees the new content', () => {
    const p = suite.project(contentRecreateFiles('busybox:latest'));
    contentRecreateScenario(p.dir, (...args) => suite.ts(p, ...args));
  }, 300_000);
});
