/**
 * End-to-end: examples/django-mysql (nginx in front of a Django blog served by gunicorn, MariaDB with a named volume
 * and a healthcheck, a one-shot `migrate` the app waits for with `service_completed_successfully`, the database
 * password as a compose secret), run from its own directory with its one compose file on Docker and on the native
 * runtime. On each: `up -d --build --wait` on a free BLOG_PORT from a clean state (`--wait` counts migrate's exit 0 as
 * done); `ps -a` shows migrate exited 0 and the others running; the page lists the post migration 0002 wrote (read
 * from MariaDB by Django under gunicorn, through nginx); the static CSS comes from nginx (still with `app` stopped);
 * posts created through the JSON API and through the CSRF-protected form appear on the page; after `down` and
 * `up -d --wait` they are still there (the named volume kept the data, migrate found nothing to do); `down -v` leaves
 * no container, volume or network of the project.
 *
 * Docker: runs when the engine answers (TSCOMPOSE_E2E=1 makes its absence a failure); the built images are removed
 * afterwards, the build cache stays. Native: a state directory of its own (NativeSuite), so every run builds cold;
 * the base images python:3.11, nginx:1 and mysql:8 come from the local registry (scripts/engine-env.sh).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { request, type IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { bin, docker, engine, env as dockerEnv, freePort, requireEngine, required, root } from './helpers.js';
import { capable, nativeDescribe, NativeSuite, ok, ProjectTraces } from './native-harness.js';

const EXAMPLE = join(root, 'examples/django-mysql');
/** The services built here (db runs the image mysql:8 as it is). */
const BUILT = ['app', 'migrate', 'nginx'];
const FIRST_POST = 'Hello from MariaDB';
const rand = (): string => Math.random().toString(36).slice(2, 8);

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * One request on a connection of its own (`agent: false`): a kept-alive connection from before a `down` would be
 * reused after the next `up` (the server's FIN arrives while spawnSync blocks the event loop) and fail with EPIPE.
 */
function http(port: number, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers, agent: false, timeout: 10_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => reject(new Error(`${method} ${path}: ${String(e)}`)));
    req.end(body);
  });
}

/**
 * The blog's page. Right after `up --wait` nginx (which has no healthcheck) may not listen yet: a refused connection
 * reached no Django code, so it is retried (for up to 30 s); any answer is final and must be the page Django rendered
 * under gunicorn with data from MariaDB.
 */
async function page(port: number): Promise<Answer> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    // (no `instanceof Error` here: errors from node:http come from another realm than Jest's test code)
    let failure: string;
    try {
      const a = await http(port, 'GET', '/');
      if (a.status !== 200) throw new Error(`GET / answered ${a.status}: ${a.body}`);
      expect(a.headers['server']).toMatch(/^nginx\//);
      expect(a.body).toMatch(/Django 3\.2\.\d+ on gunicorn\/\d+\.\d+\.\d+, MariaDB 10\.11\.\d+-MariaDB/);
      return a;
    } catch (e) {
      if (!/ECONNREFUSED|ECONNRESET|socket hang up/.test(String(e))) throw e;
      failure = String(e);
    }
    if (Date.now() > deadline) throw new Error(`GET / on 127.0.0.1:${port}: ${failure}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** The titles on the page, top to bottom (newest first). */
const titles = (a: Answer): string[] => [...a.body.matchAll(/<article class="post" id="post-\d+">\s*<h2>([^<]*)<\/h2>/g)].map((m) => m[1]!);

/** Adds a post through the page's form: a GET for the CSRF cookie and token, then the POST with both. */
async function postForm(port: number, title: string): Promise<Answer> {
  const form = await page(port);
  const cookie = String(form.headers['set-cookie'] ?? '').match(/csrftoken=([^;]+)/)?.[1];
  const token = /name="csrfmiddlewaretoken" value="([^"]+)"/.exec(form.body)?.[1];
  expect([typeof cookie, typeof token]).toEqual(['string', 'string']);
  const fields = new URLSearchParams({ csrfmiddlewaretoken: token!, title, body: 'Written through the form.' }).toString();
  return http(port, 'POST', '/', { 'content-type': 'application/x-www-form-urlencoded', cookie: `csrftoken=${cookie!}` }, fields);
}

/** One runtime's way to run `bin/tscompose -p NAME …` in the example's directory with BLOG_PORT set. */
type Run = (args: string[], timeoutMs?: number) => SpawnSyncReturns<string>;

function runner(name: string, baseEnv: NodeJS.ProcessEnv, port: number): Run {
  return (args, timeoutMs = 120_000) =>
    spawnSync(bin, ['-p', name, '--progress', 'plain', ...args], {
      cwd: EXAMPLE,
      env: { ...baseEnv, BLOG_PORT: String(port) },
      encoding: 'utf8',
      timeout: timeoutMs,
    });
}

/** `ps -a` as service → "state exit-code", e.g. { migrate: 'exited 0', db: 'running 0' }. */
function states(run: Run): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of ok(run(['ps', '-a', '--format', 'json']))
    .split('\n')
    .filter(Boolean)) {
    const c = JSON.parse(line) as { Service: string; State: string; ExitCode: number };
    out[c.Service] = `${c.State} ${c.ExitCode}`;
  }
  return out;
}

const UP = { app: 'running 0', db: 'running 0', migrate: 'exited 0', nginx: 'running 0' };
const seconds = (t0: number): string => `${((Date.now() - t0) / 1000).toFixed(1)} s`;

/**
 * The scenario both runtimes go through. `left` lists what of the project remains (containers, volumes, networks);
 * `whileUp` runs after each `up` (the native test notes the kernel objects the project made then).
 */
async function scenario(run: Run, port: number, left: () => string[], whileUp?: () => void): Promise<void> {
  expect(left()).toEqual([]);
  let t0 = Date.now();
  ok(run(['up', '-d', '--build', '--wait'], 900_000));
  const upTime = seconds(t0);
  // --wait returned 0 with migrate exited: it ran once, 0, and the app started after it.
  expect(states(run)).toEqual(UP);
  expect(
    ok(run(['ps', '--services']))
      .trim()
      .split('\n'),
  ).toEqual(['app', 'db', 'nginx']);
  expect(ok(run(['logs', '--no-color', 'migrate']))).toMatch(/Applying blog\.0002_first_post\.\.\. OK/);
  whileUp?.();

  // The post migration 0002 wrote, read from MariaDB by Django under gunicorn, through nginx.
  let a = await page(port);
  expect(titles(a)).toEqual([FIRST_POST]);
  expect(a.body).toContain('1 post in the database.');

  // Static files are nginx's own (Django, with DEBUG off, serves none).
  const css = await http(port, 'GET', '/static/blog/style.css');
  expect([css.status, css.headers['content-type']]).toEqual([200, 'text/css']);
  expect(css.body).toContain('article.post');

  // A post through the JSON API, one through the form (whose CSRF check refuses a POST without the token).
  const viaApi = `Posted through the API ${rand()}`;
  const created = await http(port, 'POST', '/api/posts', { 'content-type': 'application/json' }, JSON.stringify({ title: viaApi, body: 'Hi.' }));
  expect(created.status).toBe(201);
  expect(JSON.parse(created.body)).toMatchObject({ title: viaApi, body: 'Hi.' });
  expect((await http(port, 'POST', '/', { 'content-type': 'application/x-www-form-urlencoded' }, 'title=no-token')).status).toBe(403);
  const viaForm = `Posted through the form ${rand()}`;
  const posted = await postForm(port, viaForm);
  expect([posted.status, posted.headers['location']]).toEqual([302, '/']);
  a = await page(port);
  expect(titles(a)).toEqual([viaForm, viaApi, FIRST_POST]);
  expect(a.body).toContain('3 posts in the database.');
  const api = JSON.parse((await http(port, 'GET', '/api/posts')).body) as { posts: { title: string }[] };
  expect(api.posts.map((p) => p.title)).toEqual([viaForm, viaApi, FIRST_POST]);

  // With the app stopped nginx still serves the CSS, and answers the page with its own error (502 when the kernel
  // refuses the connection, 504 after nginx's proxy_connect_timeout of 3 s when nothing answers at the app's address).
  ok(run(['stop', 'app']));
  expect((await http(port, 'GET', '/static/blog/style.css')).status).toBe(200);
  expect([502, 504]).toContain((await http(port, 'GET', '/')).status);

  // The named volume keeps the posts across down and up (no build this time; migrate runs again, finds nothing to do).
  t0 = Date.now();
  ok(run(['down']));
  expect(ok(run(['ps', '-a', '-q'])).trim()).toBe('');
  ok(run(['up', '-d', '--wait'], 300_000));
  const againTime = seconds(t0);
  expect(states(run)).toEqual(UP);
  expect(ok(run(['logs', '--no-color', 'migrate']))).toMatch(/No migrations to apply\./);
  whileUp?.();
  expect(titles(await page(port))).toEqual([viaForm, viaApi, FIRST_POST]);

  ok(run(['down', '-v']));
  expect(left()).toEqual([]);
  console.log(`django-mysql: up --build --wait ${upTime}; down + up --wait ${againTime}`);
}

const onDocker = engine || required ? describe : describe.skip;
const TITLE = 'builds; the page lists posts from MariaDB through nginx and gunicorn; posts survive down/up; leaves nothing';

onDocker('examples/django-mysql on Docker', () => {
  const name = `e2e-django-${rand()}`;
  const byLabel = (kind: 'container' | 'volume' | 'network'): string[] =>
    docker(...(kind === 'container' ? ['ps', '-a'] : [kind, 'ls']), '-q', '--filter', `label=com.docker.compose.project=${name}`)
      .split('\n')
      .filter(Boolean)
      .map((id) => `${kind} ${id}`);
  const left = (): string[] => [...byLabel('container'), ...byLabel('volume'), ...byLabel('network')];

  beforeAll(requireEngine);
  afterAll(() => {
    if (!engine) return;
    spawnSync(bin, ['-p', name, 'down', '-v', '-t', '0', '--rmi', 'local'], { cwd: EXAMPLE, env: dockerEnv, encoding: 'utf8' });
    for (const s of BUILT) spawnSync('docker', ['rmi', '-f', `${name}-${s}`]);
  }, 120_000);

  test(
    TITLE,
    async () => {
      const port = await freePort();
      await scenario(runner(name, dockerEnv, port), port, left);
    },
    900_000,
  );
});

(nativeDescribe ? describe : describe.skip)('examples/django-mysql on the native runtime', () => {
  let suite: NativeSuite | undefined;
  const name = `nb-django-${rand()}`;

  beforeAll(() => {
    if (required && !capable) throw new Error('TSCOMPOSE_E2E=1 but the native runtime cannot run here (root, conmon and runc/crun needed)');
    suite = new NativeSuite();
  });
  afterAll(() => {
    if (!suite) return;
    spawnSync(bin, ['-p', name, 'down', '-v', '-t', '0'], { cwd: EXAMPLE, env: suite.env, encoding: 'utf8' });
    suite.cleanup();
  }, 180_000);

  test(
    TITLE,
    async () => {
      const s = suite!;
      const traces = new ProjectTraces(s, name, EXAMPLE);
      const left = (): string[] => traces.left();
      const noteKernel = (): void => {
        expect(traces.noteKernel()).toBeGreaterThan(3);
      };
      const port = await freePort();
      await scenario(runner(name, s.env, port), port, left, noteKernel);
    },
    900_000,
  );
});
