/**
 * End-to-end: `develop.watch` with `up -d --watch` on Docker Engine and on the native runtime (issue 17): the
 * scenario of ./watch-scenario.ts on each.
 */
import { afterAll, beforeAll, describe, test } from '@jest/globals';
import { engine, env, Projects, required, requireEngine, bin } from './helpers.js';
import { capable, nativeDescribe, NativeSuite } from './native-harness.js';
import { spawnSync } from 'node:child_process';
import { foregroundScenario, watchFiles, watchScenario } from './watch-scenario.js';

describe('watch e2e: docker', () => {
  const projects = new Projects();
  beforeAll(requireEngine);
  afterAll(() => {
    if (engine) projects.cleanup();
  });
  (engine ? test : test.skip)(
    'every action, detached watcher listed and stopped by down',
    () => {
      const p = projects.create(watchFiles('busybox:latest'));
      watchScenario(p.dir, (...args) =>
        spawnSync(bin, ['-p', p.name, '--progress', 'plain', ...args], { cwd: p.dir, encoding: 'utf8', env, timeout: 300_000 }),
      );
    },
    400_000,
  );

  (engine ? test : test.skip)(
    'watch in the foreground, then up --watch attached: an edit synced, ended by Ctrl-C',
    async () => {
      const p = projects.create(watchFiles('busybox:latest'));
      const ts = (...args: string[]) =>
        spawnSync(bin, ['-p', p.name, '--progress', 'plain', ...args], { cwd: p.dir, encoding: 'utf8', env, timeout: 300_000 });
      const cli = [bin, '-p', p.name, '--progress', 'plain', '--runtime', 'docker'];
      await foregroundScenario(p.dir, [...cli, 'watch'], ts);
      await foregroundScenario(p.dir, [...cli, 'up', '--watch'], ts);
      ts('down', '-t', '0');
    },
    400_000,
  );
});

(nativeDescribe ? describe : describe.skip)('watch e2e: native', () => {
  const suite = new NativeSuite();
  beforeAll(() => {
    if (required && !capable) throw new Error('TSCOMPOSE_E2E=1 but the native runtime cannot run here');
  });
  afterAll(() => {
    if (capable) suite.cleanup();
  }, 120_000);
  test('every action, detached watcher listed and stopped by down', () => {
    const p = suite.project(watchFiles('busybox:latest'));
    watchScenario(p.dir, (...args) => suite.ts(p, ...args));
  }, 400_000);
});
