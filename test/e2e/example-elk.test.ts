/**
 * End-to-end: examples/elk (Elasticsearch, Logstash and Kibana as docker-elk lays them out, plus a setup one-shot
 * and an app that ships its logs to Logstash). Elastic's images are not reachable here, so:
 *
 * - golden files (test/e2e/fixtures/elk/): `config` of compose.yaml alone and with compose.offline.yaml, and the
 *   `up --dry-run` plan of compose.yaml on Docker (when the engine answers) and on the native runtime (an empty
 *   state directory of its own); the plan needs no image, so it is the real compose file's. UPDATE_GOLDEN=1
 *   rewrites them. Only .env sets variables (the caller's environment is not passed on), paths are <EXAMPLE>.
 * - the run: `-f compose.yaml -f compose.offline.yaml` (stand-ins FROM python:3.11 on the same ports, with the same
 *   health endpoints and mounted configuration) with `up -d --build --wait` from a clean state on free ports, on
 *   Docker and on the native runtime. Every service took part when: setup exited 0 and the users it made exist in
 *   Elasticsearch; the app's log lines arrive in Elasticsearch through Logstash's TCP input and the pipeline (the
 *   compose config); a line sent to the published TCP port arrives too; Kibana's status is available (it logged
 *   in as kibana_system); the ulimits reached Elasticsearch's process. After `down` and `up -d --wait` the documents
 *   are still there (the data volume) and new ones come; `down -v` leaves no container, volume or network (and, on
 *   the native runtime, no bridge, veth, namespace, mount or OCI container).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createConnection, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bin, docker, engine, env as dockerEnv, requireEngine, required, root } from './helpers.js';
import { capable, nativeDescribe, NativeSuite, ok, ProjectTraces } from './native-harness.js';

const EXAMPLE = join(root, 'examples/elk');
const FIXTURES = join(root, 'test/e2e/fixtures/elk');
const SERVICES = ['app', 'elasticsearch', 'kibana', 'logstash', 'setup'];
const FILES = ['-f', 'compose.yaml', '-f', 'compose.offline.yaml'];
const ELASTIC = 'Basic ' + Buffer.from('elastic:changeme').toString('base64');
const rand = (): string => Math.random().toString(36).slice(2, 8);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const seconds = (t0: number): string => `${((Date.now() - t0) / 1000).toFixed(1)} s`;

// ---------------------------------------------------------------------------------------------------------------
// Golden files

/** Only what running needs from the caller's environment: every compose variable comes from .env. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const keep = ['PATH', 'HOME', 'DOCKER_HOST', 'TSCOMPOSE_REGISTRY_MIRRORS'];
  return { ...Object.fromEntries(keep.filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]])), NO_COLOR: '1', ...extra };
}

function golden(name: string, actual: string): void {
  const file = join(FIXTURES, name);
  const text = actual.split(EXAMPLE).join('<EXAMPLE>');
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(FIXTURES, { recursive: true });
    writeFileSync(file, text);
  }
  if (!existsSync(file)) throw new Error(`${file} is missing: run with UPDATE_GOLDEN=1 to write it`);
  expect(text).toBe(readFileSync(file, 'utf8'));
}

function tscompose(args: string[], env: NodeJS.ProcessEnv): string {
  return ok(spawnSync(bin, args, { cwd: EXAMPLE, env, encoding: 'utf8', timeout: 60_000 }));
}

describe('examples/elk golden files', () => {
  test('config of compose.yaml', () => {
    golden('config.yaml', tscompose(['config'], cleanEnv()));
  });

  test('config of compose.yaml with compose.offline.yaml', () => {
    golden('config.offline.yaml', tscompose([...FILES, 'config'], cleanEnv()));
  });

  (engine || required ? test : test.skip)('up --dry-run on Docker', () => {
    requireEngine();
    golden('up-dry-run.docker.txt', tscompose(['-p', 'elk-golden', '--dry-run', 'up', '-d', '--build'], cleanEnv({ TSCOMPOSE_RUNTIME: 'docker' })));
  });

  test('up --dry-run on the native runtime', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tscompose-elk-golden-'));
    try {
      const env = cleanEnv({ TSCOMPOSE_RUNTIME: 'native', TSCOMPOSE_STATE_DIR: join(dir, 'state'), TSCOMPOSE_RUN_DIR: join(dir, 'run') });
      golden('up-dry-run.native.txt', tscompose(['-p', 'elk-golden', '--dry-run', 'up', '-d', '--build'], env).split(dir).join('<STATE>'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The run with the stand-ins

const PORT_VARS = ['ES_PORT', 'ES_TRANSPORT_PORT', 'LOGSTASH_BEATS_PORT', 'LOGSTASH_PORT', 'LOGSTASH_API_PORT', 'KIBANA_PORT'] as const;
type Ports = Record<(typeof PORT_VARS)[number], number>;

/** TCP ports nothing listens on now, all different (each held until all are picked). */
async function freePorts(): Promise<Ports> {
  const servers: Server[] = [];
  const ports: number[] = [];
  for (const _ of PORT_VARS) {
    const s = createServer();
    servers.push(s);
    ports.push(
      await new Promise<number>((resolve, reject) => {
        s.once('error', reject);
        s.listen(0, '127.0.0.1', () => {
          const a = s.address();
          if (a && typeof a === 'object') resolve(a.port);
          else reject(new Error('no port'));
        });
      }),
    );
  }
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return Object.fromEntries(PORT_VARS.map((k, i) => [k, ports[i]])) as Ports;
}

interface Answer {
  status: number;
  body: unknown;
}

/** One GET on a connection of its own (a kept-alive one would outlive a `down`). */
function get(port: number, path: string, auth?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers = auth ? { Authorization: auth } : {};
    const req = request({ host: '127.0.0.1', port, path, headers, agent: false, timeout: 10_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          /* not JSON */
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** Documents in the index logstash-app matching `q` (Elasticsearch's published port, as elastic). */
async function count(ports: Ports, q: string): Promise<number> {
  const a = await get(ports.ES_PORT, `/logstash-app/_count?q=${encodeURIComponent(q)}`, ELASTIC);
  if (a.status === 404) return 0;
  if (a.status !== 200) throw new Error(`_count: ${a.status} ${JSON.stringify(a.body)}`);
  return (a.body as { count: number }).count;
}

/** Polls `count` until it is at least `min` (fails with the last answer after `timeoutMs`). */
async function countAtLeast(ports: Ports, q: string, min: number, timeoutMs = 60_000): Promise<number> {
  const end = Date.now() + timeoutMs;
  let last: string;
  for (;;) {
    try {
      const n = await count(ports, q);
      if (n >= min) return n;
      last = `${n} documents`;
    } catch (e) {
      last = String(e);
    }
    if (Date.now() > end) throw new Error(`fewer than ${min} documents for ${q} after ${timeoutMs / 1000} s: ${last}`);
    await sleep(500);
  }
}

/** One JSON line to Logstash's TCP input on its published port. */
function ship(port: number, event: object): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = createConnection({ host: '127.0.0.1', port }, () => c.end(JSON.stringify(event) + '\n'));
    c.on('error', reject);
    c.on('close', () => resolve());
  });
}

/**
 * The ulimits the run asks for: compose.yaml's (memlock unlimited, 65536 files) where the host lets root raise its
 * limits that far, else what it allows (raising a hard limit takes CAP_SYS_RESOURCE, which this project's VMs lack:
 * runc fails with "error setting rlimit type 8: operation not permitted"). nofile is one below the host's hard limit
 * then, so that it differs from what a container gets without ulimits.
 */
function hostUlimits(): { env: NodeJS.ProcessEnv; mlockall: boolean; nofile: number } {
  const hard = (what: string): number => {
    const v = / +\S+ +(\S+)/.exec(
      readFileSync('/proc/self/limits', 'utf8')
        .split('\n')
        .find((l) => l.startsWith(what))
        ?.slice(what.length) ?? '',
    )?.[1];
    return v === undefined || v === 'unlimited' ? Infinity : Number(v);
  };
  const env: NodeJS.ProcessEnv = {};
  const memlock = hard('Max locked memory');
  if (memlock !== Infinity) env.ES_MEMLOCK = String(memlock);
  const nofile = Math.min(65536, hard('Max open files') - 1);
  if (nofile !== 65536) env.ES_NOFILE = String(nofile);
  return { env, mlockall: memlock === Infinity, nofile };
}
const ULIMITS = hostUlimits();

/** One runtime's way to run `bin/tscompose -p NAME -f compose.yaml -f compose.offline.yaml …` with the ports set. */
type Run = (args: string[], timeoutMs?: number) => SpawnSyncReturns<string>;

function runner(name: string, baseEnv: NodeJS.ProcessEnv, ports: Ports): Run {
  return (args, timeoutMs = 180_000) =>
    spawnSync(bin, ['-p', name, '--progress', 'plain', ...FILES, ...args], {
      cwd: EXAMPLE,
      env: { ...baseEnv, ...ULIMITS.env, ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])) },
      encoding: 'utf8',
      timeout: timeoutMs,
    });
}

interface PsRow {
  Service: string;
  State: string;
  Health: string;
  ExitCode: number;
}

/** What proves every service took part (after an `up --wait`); returns the app's documents so far. */
async function tookPart(run: Run, ports: Ports, atLeast: number): Promise<number> {
  const rows = ok(run(['ps', '-a', '--format', 'json']))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as PsRow);
  expect(rows.map((r) => r.Service).sort()).toEqual(SERVICES);
  const state = Object.fromEntries(rows.map((r) => [r.Service, r.Service === 'setup' ? `${r.State} ${r.ExitCode}` : `${r.State} ${r.Health}`]));
  expect(state).toEqual({
    app: 'running ',
    elasticsearch: 'running healthy',
    kibana: 'running healthy',
    logstash: 'running healthy',
    setup: 'exited 0',
  });
  // setup: the role and users it made, in Elasticsearch.
  const user = await get(ports.ES_PORT, '/_security/user/logstash_internal', ELASTIC);
  expect(user).toMatchObject({ status: 200, body: { logstash_internal: { roles: ['logstash_writer'] } } });
  // Security is on: no credentials, no answer.
  expect((await get(ports.ES_PORT, '/')).status).toBe(401);
  // The ulimits reached Elasticsearch's process (memlock unlimited lets it lock its memory).
  const nodes = (await get(ports.ES_PORT, '/_nodes/process', ELASTIC)).body as { nodes: Record<string, { process: object }> };
  expect(Object.values(nodes.nodes).map((n) => n.process)).toEqual([
    expect.objectContaining({ mlockall: ULIMITS.mlockall, max_file_descriptors: ULIMITS.nofile }),
  ]);
  // Kibana logged in to Elasticsearch as kibana_system, with the password setup gave it.
  const status = await get(ports.KIBANA_PORT, '/api/status');
  expect(status).toMatchObject({ status: 200, body: { status: { overall: { level: 'available' } } } });
  // The app's log lines, through Logstash's TCP input, its pipeline (the compose config) and its output.
  const n = await countAtLeast(ports, 'app:elk-example-app', atLeast);
  const hit = (await get(ports.ES_PORT, '/logstash-app/_search?q=app:elk-example-app&size=1', ELASTIC)).body as {
    hits: { hits: { _source: Record<string, unknown> }[] };
  };
  expect(hit.hits.hits[0]?._source).toMatchObject({
    message: expect.stringMatching(/^request \d+ handled$/),
    pipeline: 'elk-example',
    '@version': '1',
  });
  const events = (await get(ports.LOGSTASH_API_PORT, '/_node/stats/events')).body as { status: string; events: { in: number; out: number } };
  expect(events.status).toBe('green');
  expect(events.events.out).toBeGreaterThanOrEqual(1);
  // A line sent to the published TCP port arrives too.
  const marker = rand();
  await ship(ports.LOGSTASH_PORT, { message: 'from the test', marker });
  await countAtLeast(ports, `marker:${marker}`, 1, 30_000);
  return n;
}

/**
 * The scenario both runtimes go through. `left` lists what of the project remains; `whileUp` runs after each `up`
 * (the native test notes the kernel objects the project made then).
 */
async function scenario(run: Run, ports: Ports, left: () => string[], whileUp?: () => void): Promise<void> {
  expect(left()).toEqual([]);
  let t0 = Date.now();
  const up = run(['up', '-d', '--build', '--wait'], 900_000);
  ok(up);
  const upTime = seconds(t0);
  // tscompose warns before up when the host cannot give Elasticsearch its vm.max_map_count (the stand-in is named
  // elasticsearch too): both runtimes run on this machine's kernel.
  const mapCount = Number(readFileSync('/proc/sys/vm/max_map_count', 'utf8'));
  const warning = 'service "elasticsearch": Elasticsearch needs vm.max_map_count >= 262144';
  if (mapCount < 262144) expect(up.stderr).toContain(`${warning}, this host has ${mapCount}`);
  else expect(up.stderr).not.toContain(warning);
  whileUp?.();
  t0 = Date.now();
  const before = await tookPart(run, ports, 3);
  const checkTime = seconds(t0);
  // The data volume keeps the documents (and the users) across down and up; the app goes on shipping.
  t0 = Date.now();
  ok(run(['down']));
  expect(ok(run(['ps', '-a', '-q'])).trim()).toBe('');
  ok(run(['up', '-d', '--wait'], 300_000));
  const againTime = seconds(t0);
  whileUp?.();
  expect(await count(ports, 'app:elk-example-app')).toBeGreaterThanOrEqual(before);
  await tookPart(run, ports, before + 2);
  ok(run(['down', '-v']));
  expect(left()).toEqual([]);
  console.log(`elk (stand-ins): up --build --wait ${upTime}; checks ${checkTime}; down + up --wait ${againTime}`);
}

const onDocker = engine || required ? describe : describe.skip;

onDocker('examples/elk with the stand-ins on Docker', () => {
  const name = `e2e-elk-${rand()}`;
  const byLabel = (kind: 'container' | 'volume' | 'network'): string[] =>
    docker(...(kind === 'container' ? ['ps', '-a'] : [kind, 'ls']), '-q', '--filter', `label=com.docker.compose.project=${name}`)
      .split('\n')
      .filter(Boolean)
      .map((id) => `${kind} ${id}`);
  const left = (): string[] => [...byLabel('container'), ...byLabel('volume'), ...byLabel('network')];

  beforeAll(requireEngine);
  afterAll(() => {
    if (!engine) return;
    spawnSync(bin, ['-p', name, ...FILES, 'down', '-v', '-t', '0', '--rmi', 'local'], { cwd: EXAMPLE, env: dockerEnv, encoding: 'utf8' });
    for (const s of SERVICES) spawnSync('docker', ['rmi', '-f', `${name}-${s}`]);
  }, 120_000);

  test('setup, health-gated start, logs from the app through Logstash into Elasticsearch, Kibana available, the volume kept, nothing left', async () => {
    const ports = await freePorts();
    await scenario(runner(name, dockerEnv, ports), ports, left);
  }, 900_000);
});

(nativeDescribe ? describe : describe.skip)('examples/elk with the stand-ins on the native runtime', () => {
  let suite: NativeSuite | undefined;
  const name = `nb-elk-${rand()}`;

  beforeAll(() => {
    if (required && !capable) throw new Error('TSCOMPOSE_E2E=1 but the native runtime cannot run here (root, conmon and runc/crun needed)');
    suite = new NativeSuite();
  });
  afterAll(() => {
    if (!suite) return;
    spawnSync(bin, ['-p', name, ...FILES, 'down', '-v', '-t', '0'], { cwd: EXAMPLE, env: suite.env, encoding: 'utf8' });
    suite.cleanup();
  }, 180_000);

  test('setup, health-gated start, logs from the app through Logstash into Elasticsearch, Kibana available, the volume kept, nothing left', async () => {
    const s = suite!;
    const traces = new ProjectTraces(s, name, EXAMPLE, FILES);
    const left = (): string[] => traces.left();
    const noteKernel = (): void => {
      expect(traces.noteKernel()).toBeGreaterThan(4);
    };
    const ports = await freePorts();
    await scenario(runner(name, s.env, ports), ports, left, noteKernel);
  }, 900_000);
});
