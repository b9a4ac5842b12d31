/**
 * End-to-end on Docker Engine: content-aware recreate (issue 17 item 4) — changing a secret file recreates the one
 * service that uses it and no other, `--dry-run` names the file, and the new container reads the new content (bound
 * and copied). The steps are in content-recreate-project.ts, shared with the native runtime's test.
 */
import { afterAll, beforeAll, describe, test } from '@jest/globals';
import { engine, Projects, required, requireEngine, tsc } from './helpers.js';
import { contentRecreateFiles, contentRecreateScenario } from './content-recreate-project.js';

const run = engine || required ? describe : describe.skip;
const projects = new Projects();

beforeAll(requireEngine);
afterAll(() => projects.cleanup());

run('docker content-aware recreate e2e', () => {
  test('a changed secret file recreates s1 only; dry-run names it; s1 sees the new content', () => {
    const p = projects.create(contentRecreateFiles('busybox:latest'));
    contentRecreateScenario(p.dir, (...args) => tsc(p, ...args));
  }, 300_000);
});
