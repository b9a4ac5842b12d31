/**
 * `tscompose --runtime swarm` on a single-node swarm of its own (./swarm-harness.ts: an engine in a network namespace,
 * never the host engine's swarm state): a project with a database (health-checked, a secret), an app built from a
 * Dockerfile (pushed to the harness's registry and deployed pinned by digest) depending on the database being
 * healthy, and a web front (a config) comes up with `up -d --build --wait` in order; `ps` lists its tasks; `images`
 * shows the digest; web reaches app by name over the overlay and gets the built image's page; `logs --tail` prints the
 * last line of each replica; a no-op `up` changes nothing (the registry's digest is the deployed one); a changed secret
 * rolls exactly the services using it and the old version goes; `scale` changes the replicas (ps shows them) without
 * touching the image; `down` leaves no service, network, secret or config. This kernel has no IPVS, so the services
 * use `endpoint_mode: dnsrr` (and no ingress ports).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DockerSwarm } from '../../src/swarm/docker/swarm-docker.js';
import { EngineRegistry } from '../../src/swarm/images-docker.js';
import { bin } from './helpers.js';
import { startSwarm, swarmUnavailable, type SwarmHarness } from './swarm-harness.js';

const required = process.env.TSCOMPOSE_E2E === '1';
const describeIf = swarmUnavailable === undefined || required ? describe : describe.skip;

const compose = (registry: string, name: string): string => `
services:
  db:
    image: busybox:latest
    command: ["sh", "-c", "cat /run/secrets/dbpass > /tmp/pass && sleep 1 && touch /tmp/ready && exec sleep 3600"]
    healthcheck: {test: ["CMD", "test", "-f", "/tmp/ready"], interval: 1s, retries: 30}
    secrets: [dbpass]
    deploy: {endpoint_mode: dnsrr}
    networks: [back]
  app:
    build: ./app
    image: ${registry}/${name}/app:1
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

// httpd, not a wget client: the busybox-static wget of the local images crashes (SIGSEGV) in swarm tasks.
const DOCKERFILE = `FROM busybox:latest
COPY index.html /www/index.html
CMD ["sh", "-c", "echo line-1; echo line-2; echo line-3 $(hostname); exec httpd -f -p 8080 -h /www"]
`;

describeIf('--runtime swarm on a single-node swarm', () => {
  let h: SwarmHarness;
  let dir: string;
  /** The digest of the image the test pushed. */
  let pushed: string | undefined;
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
    writeFileSync(join(dir, 'compose.yaml'), compose(h.registry, name));
    writeFileSync(join(dir, 'dbpass.txt'), 'first');
    mkdirSync(join(dir, 'app'));
    writeFileSync(join(dir, 'app', 'Dockerfile'), DOCKERFILE);
    writeFileSync(join(dir, 'app', 'index.html'), `built-${name}\n`);
  }, 120_000);

  afterAll(async () => {
    // the pushed manifest goes from the host's registry too (best effort: the repository name stays in its catalog)
    if (pushed) {
      const port = process.env.TSCOMPOSE_REGISTRY_PORT ?? '5001';
      await fetch(`http://127.0.0.1:${port}/v2/${name}/app/manifests/${pushed}`, { method: 'DELETE' }).catch(() => undefined);
    }
    if (h) await h.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  /** Polls `check` (which throws while not yet true) for up to `ms`. */
  const eventually = async <T>(ms: number, check: () => T | Promise<T>): Promise<T> => {
    const end = Date.now() + ms;
    for (;;) {
      try {
        return await check();
      } catch (e) {
        if (Date.now() > end) throw e;
        await sleep(500);
      }
    }
  };
  const psRows = (): { Service: string; State: string; Name: string }[] =>
    ok(ts('ps', '--format', 'json'))
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { Service: string; State: string; Name: string });

  test('up --build --wait in order, pinned by digest, answers, logs, a no-op up, a secret roll, scale, down leaves nothing', async () => {
    const image = `${h.registry}/${name}/app:1`;
    // pull: the manager's engine gets busybox through the harness's mirror (the engines' BuildKit of Docker 20.10
    // would not reach an insecure mirror itself: the build then uses the local image)
    expect(ok(ts('pull', '--ignore-buildable')).replace(/ +/g, ' ')).toContain('Image busybox:latest Pulled');
    const up = ok(ts('up', '-d', '--build', '--wait', '--wait-timeout', '120')).replace(/ +/g, ' ');
    expect(up).toContain(`Image ${image} Pushed`);
    const healthy = up.indexOf(`Service ${name}_db Healthy`);
    expect(healthy).toBeGreaterThan(-1);
    expect(up.indexOf(`Service ${name}_app Creating`)).toBeGreaterThan(healthy);
    expect(up).toContain(`Service ${name}_app Running 2/2`);

    expect(
      psRows()
        .map((r) => `${r.Service} ${r.State}`)
        .sort(),
    ).toEqual(['app running', 'app running', 'db running', 'web running']);

    // the stack's objects carry docker stack's namespace label: docker stack ls would show it
    const swarm = new DockerSwarm({ env: h.env() });
    const mine = { labels: { 'com.docker.stack.namespace': name } };
    expect((await swarm.listServices(mine)).map((s) => s.spec.Name).sort()).toEqual([`${name}_app`, `${name}_db`, `${name}_web`]);

    // the built image runs pinned by the digest the push stored; images says so; the others run as written
    const appImage = (await swarm.inspectService(`${name}_app`)).spec.TaskTemplate.ContainerSpec.Image;
    expect(appImage).toMatch(new RegExp(`^${image.replace(/[.]/g, '\\.')}@sha256:[0-9a-f]{64}$`));
    pushed = appImage.slice(appImage.indexOf('@') + 1);
    expect((await swarm.inspectService(`${name}_web`)).spec.TaskTemplate.ContainerSpec.Image).toBe('busybox:latest');
    const images = JSON.parse(
      ok(ts('images', '--format', 'json'))
        .trim()
        .split('\n')
        .pop()!,
    ) as { Service: string; Digest: string }[];
    expect(images.find((i) => i.Service === 'app')?.Digest).toBe(pushed);

    // web reaches app by name over the overlay and gets the built image's page
    const [webTask] = (await swarm.listTasks({ service: `${name}_web` })).filter((t) => t.desiredState === 'running' && t.containerId);
    const page = await eventually(30_000, () => {
      const out = execFileSync(
        'docker',
        ['exec', webTask!.containerId!, 'sh', '-c', `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 app 8080 | tail -n 1`],
        { env: { ...process.env, ...h.env() }, encoding: 'utf8', timeout: 20_000 },
      ).trim();
      if (out !== `built-${name}`) throw new Error(`web got ${JSON.stringify(out)}`);
      return out;
    });
    expect(page).toBe(`built-${name}`);

    // logs --tail 1: the last line of each replica, prefixed app-<slot>
    const tail = await eventually(30_000, () => {
      const lines = ok(ts('logs', '--no-color', '--tail', '1', 'app'))
        .split('\n')
        .filter((l) => l.includes('|'))
        .map((l) => l.replace(/ +\|/, ' |'));
      const slots = lines.map((l) => /^(app-\d) \| line-3 \S+$/.exec(l)?.[1]).sort();
      if (slots.join() !== 'app-1,app-2' || lines.length !== 2) throw new Error(`logs: ${JSON.stringify(lines)}`);
      return lines;
    });
    expect(tail.some((l) => /line-1|line-2/.test(l))).toBe(false);

    // a no-op up: the registry serves the deployed digest for the tag (asked through the manager's engine)
    expect(await new EngineRegistry(swarm.docker).digestOf(image)).toBe(pushed);
    expect(ok(ts('--dry-run', 'up', '-d'))).toContain('DRY-RUN MODE - nothing to do');

    writeFileSync(join(dir, 'dbpass.txt'), 'second');
    const plan = ok(ts('--dry-run', 'up', '-d'));
    expect(plan).toMatch(new RegExp(`service ${name}_db, UpdateService, content changed`));
    expect(plan).not.toContain(`${name}_app, UpdateService`);
    ok(ts('up', '-d', '--wait', '--wait-timeout', '120'));
    const secrets = await swarm.listSecrets(mine);
    expect(secrets).toHaveLength(1);

    // scale: app goes to 3 replicas of the same pinned image; ps shows them; db and web are not touched
    const webVersion = (await swarm.inspectService(`${name}_web`)).version;
    ok(ts('scale', 'app=3'));
    await eventually(60_000, () => {
      const apps = psRows().filter((r) => r.Service === 'app' && r.State === 'running');
      if (apps.length !== 3) throw new Error(`${apps.length} app tasks running`);
    });
    const scaled = await swarm.inspectService(`${name}_app`);
    expect(scaled.spec.Mode.Replicated?.Replicas).toBe(3);
    expect(scaled.spec.TaskTemplate.ContainerSpec.Image).toBe(appImage);
    expect((await swarm.inspectService(`${name}_web`)).version).toBe(webVersion);

    ok(ts('down'));
    expect(await swarm.listServices(mine)).toEqual([]);
    expect(await swarm.listSecrets(mine)).toEqual([]);
    expect(await swarm.listConfigs(mine)).toEqual([]);
    expect(await swarm.listNetworks(mine)).toEqual([]);
  }, 300_000);
});
