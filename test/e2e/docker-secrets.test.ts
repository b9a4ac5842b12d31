/**
 * End-to-end on Docker Engine: secrets and configs get the content, mode, uid and gid the compose file gives. Docker
 * compose outside swarm ignores the three for a bound `file:` source; here such a file, like the inline sources, is
 * copied in before start with them (src/runtime/docker/container-files.ts). A `file:` source without them stays a
 * read-only bind; an `environment:` secret comes from the project's .env file, not the CLI's environment.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { engine, env, ok, Projects, required, requireEngine, tsc, type TestProject } from './helpers.js';
import { secretsFixture } from './secrets-project.js';

const run = engine || required ? describe : describe.skip;
const projects = new Projects();

beforeAll(requireEngine);
afterAll(() => projects.cleanup());

run('docker secrets e2e', () => {
  const fx = secretsFixture('busybox:latest');
  let p: TestProject;
  const sh = (cmd: string): string => ok(tsc(p, 'exec', '-T', 'app', 'sh', '-c', cmd)).trim();

  test('content, mode, uid and gid as the compose file gives; the .env value; a plain file bound read-only', () => {
    expect((env as NodeJS.ProcessEnv)['TSC_E2E_SECRET']).toBeUndefined();
    p = projects.create(fx.files);
    ok(tsc(p, 'up', '-d'));
    for (const [path, want] of Object.entries(fx.expected)) {
      expect(`${path}: ${sh(`stat -c '%a %u %g' ${path}`)}`).toBe(`${path}: ${want.stat}`);
      expect(sh(`cat ${path}`)).toBe(want.content);
    }
    expect(tsc(p, 'exec', '-T', 'app', 'sh', '-c', 'echo x > /run/secrets/plain_file').status).not.toBe(0);
    expect(ok(tsc(p, 'exec', '-T', '-u', '1000:1000', 'app', 'cat', '/run/secrets/from_env')).trim()).toBe(fx.envSecret);
    expect(tsc(p, 'exec', '-T', '-u', '2000:2000', 'app', 'cat', '/run/secrets/from_env').status).not.toBe(0);
  }, 300_000);
});
