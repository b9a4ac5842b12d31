/**
 * `tscompose --runtime swarm` on a single-node swarm of its own (./swarm-harness.ts: an engine in a network namespace,
 * never the host engine's swarm state): a project with a database (health-checked, a secret), an app depending on it
 * being healthy and a web front comes up with `up -d --wait` in order; `ps` lists its tasks; a no-op `up` changes
 * nothing; a changed secret rolls exactly the services using it and the old version goes; `down` leaves no service,
 * network, secret or config. This kernel has no IPVS, so the services use `endpoint_mode: dnsrr` and host-mode ports.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerSwarm } from '../../src/swarm/docker/swarm-docker.js';
import { bin } from './helpers.js';
import { startSwarm, swarmUnavailable, type SwarmHarness } from './swarm-harness.js';

const required = process.env.TSCOMPOSE_E2E === '1';
const describeIf = swarmUnavailable === undefined || required ? describe : describe.skip;

const COMPOSE = `
services:
  db:
    image: busybox:latest
    command: ["sh", "-c", "cat /run/secrets/dbpass > /tmp/pass && sleep 1 && touch /tmp/ready && exec sleep 3600"]
    healthcheck: {test: ["CMD", "test", "-f", "/tmp/ready"], interval: 1s, retries: 30}
    secrets: [dbpass]
    deploy: {endpoint_mode: dnsrr}
    networks: [back]
  app:
    image: busybox:latest
    command: ["sleep", "3600"]
    depends_on: {db: {condition: service_healthy}}
    deploy: {replicas: 2, endpoint_mode: dnsrr}
    networks: [back, front]
  web:
    image: busybox:latest
    command: ["sleep", "3600"]
    depends_on: [app]
    configs: [site]
    deploy: {endpoint_mode: dnsrr}
    networks: [front]
networks:
  front: {}
  back: {}
secrets:
  dbpass: {file: ./dbpass.txt}
configs:
  site: {content: "hello"}
`;

describeIf('--runtime swarm on a single-node swarm', () => {
  let h: SwarmHarness;
  let dir: string;
  const name = `st${Math.random().toString(36).slice(2, 7)}`;
  const ts = (...args: string[]) =>
    spawnSync(bin, ['--runtime', 'swarm', '-p', name, '--progress', 'plain', ...args], {
      cwd: dir,
      env: { ...process.env, ...h.env(), NO_COLOR: '1' },
      encoding: 'utf8',
      timeout: 180_000,
    });
  const ok = (r: ReturnType<typeof ts>): string => {
    if (r.status !== 0) throw new Error(`exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    return r.stdout + r.stderr;
  };

  beforeAll(async () => {
    if (swarmUnavailable !== undefined) throw new Error(`TSCOMPOSE_E2E=1 but the swarm harness cannot run here: ${swarmUnavailable}`);
    h = await startSwarm({ nodes: 1 });
    dir = mkdtempSync(join(tmpdir(), 'tsc-swarm-stack-'));
    writeFileSync(join(dir, 'compose.yaml'), COMPOSE);
    writeFileSync(join(dir, 'dbpass.txt'), 'first');
  }, 120_000);

  afterAll(async () => {
    if (h) await h.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  test('up --wait in order, ps, a no-op up, a secret roll, down leaves nothing', async () => {
    const up = ok(ts('up', '-d', '--wait', '--wait-timeout', '120')).replace(/ +/g, ' ');
    const healthy = up.indexOf(`Service ${name}_db Healthy`);
    expect(healthy).toBeGreaterThan(-1);
    expect(up.indexOf(`Service ${name}_app Creating`)).toBeGreaterThan(healthy);
    expect(up).toContain(`Service ${name}_app Running 2/2`);

    const rows = ok(ts('ps', '--format', 'json'))
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { Service: string; State: string });
    expect(rows.map((r) => `${r.Service} ${r.State}`).sort()).toEqual(['app running', 'app running', 'db running', 'web running']);

    // the stack's objects carry docker stack's namespace label: docker stack ls would show it
    const swarm = new DockerSwarm({ env: h.env() });
    const mine = { labels: { 'com.docker.stack.namespace': name } };
    expect((await swarm.listServices(mine)).map((s) => s.spec.Name).sort()).toEqual([`${name}_app`, `${name}_db`, `${name}_web`]);

    expect(ok(ts('--dry-run', 'up', '-d'))).toContain('DRY-RUN MODE - nothing to do');

    writeFileSync(join(dir, 'dbpass.txt'), 'second');
    const plan = ok(ts('--dry-run', 'up', '-d'));
    expect(plan).toMatch(new RegExp(`service ${name}_db, UpdateService, content changed`));
    expect(plan).not.toContain(`${name}_app, UpdateService`);
    ok(ts('up', '-d', '--wait', '--wait-timeout', '120'));
    const secrets = await swarm.listSecrets(mine);
    expect(secrets).toHaveLength(1);

    ok(ts('down'));
    expect(await swarm.listServices(mine)).toEqual([]);
    expect(await swarm.listSecrets(mine)).toEqual([]);
    expect(await swarm.listConfigs(mine)).toEqual([]);
    expect(await swarm.listNetworks(mine)).toEqual([]);
  }, 300_000);
});
