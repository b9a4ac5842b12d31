/**
 * Prepared starts on the native runtime (Runtime.prepareStart): a container whose start waits for its dependencies is
 * made up to the OCI runtime's `start` meanwhile. Checked through `bin/tscompose --runtime native`: the plan shows
 * it; the chain comes up with its names resolving; a preparation whose start never comes (a dependency that does not
 * become healthy) is undone by the failed `up`; and a CLI killed between a preparation and its start leaves nothing
 * the next `up` and `down` do not clear.
 */
import { expect, test } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { bin } from './helpers.js';
import { env, expectNoLeftovers, idOf, nativeE2eHooks, ok, paths, project, psLine, run, sleep, ts, until } from './native-e2e-helpers.js';

nativeE2eHooks();

const SLEEPER = 'image: busybox:latest\n    init: true\n    command: ["sleep", "3600"]';
const ociContainers = (): string[] => (existsSync(paths.ociRoot) ? readdirSync(paths.ociRoot) : []);
const processes = (): string => spawnSync('ps', ['-eo', 'pid,stat,args'], { encoding: 'utf8' }).stdout;
/** The network state's files (endpoints, addresses, DNS names), as text. */
const networkState = (): string => {
  const dir = join(paths.root, 'net');
  if (!existsSync(dir)) return '';
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => readFileSync(join(e.parentPath ?? e.path, e.name), 'utf8'))
    .join('\n');
};

run('native prepared starts', () => {
  test('a depends_on chain: PrepareStart in the plan for the dependents, all running, names resolving', () => {
    const p = project({
      'compose.yaml': `services:
  db:
    ${SLEEPER}
  app:
    ${SLEEPER}
    depends_on: [db]
  web:
    ${SLEEPER}
    depends_on: [app]
`,
    });
    const plan = ok(ts(p, '--dry-run', 'up', '-d'));
    expect(plan).toMatch(/service:app:1, PrepareStart, created/);
    expect(plan).toMatch(/service:web:1, PrepareStart, created/);
    expect(plan).not.toMatch(/service:db:1, PrepareStart/);
    ok(ts(p, 'up', '-d'));
    for (const s of ['db', 'app', 'web']) expect(psLine(p, s)).toMatch(/running|Up/);
    expect(ok(ts(p, 'exec', '-T', 'web', 'nslookup', 'db'))).toMatch(/Address: \d+\.\d+\.\d+\.\d+/);
    expect(ok(ts(p, 'exec', '-T', 'web', 'cat', '/proc/1/cmdline'))).toMatch(/docker-init|init/);
    // Stopped and started again (`up` of a stopped project): the starts of existing containers are prepared too.
    ok(ts(p, 'stop', '-t', '0'));
    expect(ok(ts(p, '--dry-run', 'up', '-d'))).toMatch(/service:web:1, PrepareStart, not running/);
    ok(ts(p, 'up', '-d'));
    for (const s of ['db', 'app', 'web']) expect(psLine(p, s)).toMatch(/running|Up/);
    ok(ts(p, 'down', '-t', '0'));
  }, 120_000);

  test('a dependency that never becomes healthy: the failed up undoes the dependent’s preparation', async () => {
    const p = project({
      'compose.yaml': `services:
  db:
    ${SLEEPER}
    healthcheck:
      test: ["CMD", "false"]
      interval: 1s
      retries: 1
  web:
    ${SLEEPER}
    depends_on:
      db:
        condition: service_healthy
`,
    });
    const r = ts(p, 'up', '-d');
    expect(r.status).not.toBe(0);
    expect(r.stderr + r.stdout).toMatch(/unhealthy/);
    const web = idOf(p, 'web');
    expect(psLine(p, 'web')).toMatch(/created|Created/);
    // No created OCI container, no conmon and no endpoint of web's left.
    expect(ociContainers()).not.toContain(web);
    await until('web’s conmon gone', () => !processes().includes(web), 5_000);
    expect(networkState()).not.toContain(web);
    ok(ts(p, 'down', '-t', '0'));
  }, 120_000);

  test('a CLI killed between a preparation and its start: the next up starts the container, down leaves nothing', async () => {
    const p = project({
      'compose.yaml': `services:
  db:
    ${SLEEPER}
    healthcheck:
      test: ["CMD", "true"]
      interval: 3s
  web:
    ${SLEEPER}
    depends_on:
      db:
        condition: service_healthy
`,
    });
    // While `up` waits for db to be healthy (~3 s), web is prepared: kill the CLI then.
    const child = spawn(bin, ['-p', p.name, '--progress', 'plain', 'up', '-d'], { cwd: p.dir, env, stdio: 'ignore' });
    await until('web prepared', () => ociContainers().length >= 2, 20_000);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(psLine(p, 'web')).toMatch(/created|Created/);
    expect(ociContainers()).toContain(idOf(p, 'web'));
    await sleep(200);
    ok(ts(p, 'up', '-d'));
    expect(psLine(p, 'web')).toMatch(/running|Up/);
    expect(ok(ts(p, 'exec', '-T', 'web', 'nslookup', 'db'))).toMatch(/Address: \d+\.\d+\.\d+\.\d+/);
    ok(ts(p, 'down', '-t', '0'));
  }, 120_000);

  test('after the suite: no leftover mounts, cgroups, processes or runtime state', async () => {
    await expectNoLeftovers();
  }, 60_000);
});
