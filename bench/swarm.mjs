#!/usr/bin/env node
// Times, on a single-node swarm of its own, how long it takes until a 20-service project has every task running:
// `tscompose --runtime swarm up -d --wait` against `docker stack deploy -c <the same file>`, which returns once the
// services are created (it neither orders nor waits), polled until every service has its replicas running. Then the
// removal of each until gone: `tscompose down` / `docker stack rm`, polled until no service, network or container of
// the stack is left. Several rounds, alternating which tool goes first, medians, a markdown table (issue 15).
//
// Usage: node bench/swarm.mjs [--rounds N] [--services N] [--variants chains,flat]
// Needs: root, dockerd, nsenter, unshare, ip, iptables (the swarm comes from test/e2e/swarm-harness.ts: an engine in
// a network namespace of its own, never the host engine's swarm), the docker CLI (`docker stack` is a CLI verb),
// busybox:latest in the local registry (npm run engine:setup), and dist/ built (bin/tscompose runs the bundle:
// `npx tsc -p tsconfig.build.json && node scripts/bundle.mjs`).
//
// The file: N services `busybox:latest` `sleep 3600` with init, an environment variable and a label, on the stack's
// default overlay network. Variant `chains`: `depends_on` chains of 5 services (as bench/engine.mjs), which tscompose
// honours (a service is created once its dependency's tasks run) and docker stack deploy ignores; `flat`: none.
// The rows:
// - tscompose: wall time of `up -d --wait` (then checked converged by the same poll as the others);
// - docker stack deploy: its default `--resolve-image always`, which asks the registry for each image's digest and
//   deploys `busybox:latest@sha256:…` (the node then skips the pull when it has those bytes);
// - docker stack deploy --resolve-image never: the tag as written, as tscompose deploys an image it did not build
//   (the node checks the registry for the tag at each task start, in both of these rows).
// "Converged" is read from the Engine API every 100 ms: every service of the stack listed with
// ServiceStatus.RunningTasks ≥ DesiredTasks > 0 (what `docker service ls` shows as 1/1).
// One untimed warm-up round of each tool first (pulls the image onto the node, creates the first overlay).
// The swarm is stopped and everything it made removed at the end, also on failure or Ctrl-C.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TSCOMPOSE = join(ROOT, 'bin', 'tscompose');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const ROUNDS = Number(opt('--rounds', '5'));
const SERVICES = Number(opt('--services', '20'));
const VARIANTS = opt('--variants', 'chains,flat').split(',');
const NS = 'com.docker.stack.namespace';

function generate(file, chains) {
  let y = 'services:\n';
  for (let i = 0; i < SERVICES; i++) {
    y += `  svc${i}:\n    image: busybox:latest\n    command: ["sleep", "3600"]\n    init: true\n`;
    y += `    environment:\n      INDEX: "${i}"\n    labels:\n      bench: "1"\n`;
    if (chains && i % 5 !== 0) y += `    depends_on: [svc${i - 1}]\n`;
  }
  writeFileSync(file, y);
}

/** One Engine API GET over the manager's socket, parsed. */
function get(sock, path) {
  return new Promise((ok, fail) => {
    const req = request({ socketPath: sock, path, timeout: 30_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => (res.statusCode === 200 ? ok(JSON.parse(text)) : fail(new Error(`GET ${path}: HTTP ${res.statusCode} ${text}`))));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: timed out`)));
    req.on('error', fail);
    req.end();
  });
}

const byStack = (name) => encodeURIComponent(JSON.stringify({ label: [`${NS}=${name}`] }));

async function converged(sock, name) {
  const services = await get(sock, `/services?status=true&filters=${byStack(name)}`);
  return (
    services.length === SERVICES &&
    services.every((s) => s.ServiceStatus && s.ServiceStatus.DesiredTasks > 0 && s.ServiceStatus.RunningTasks >= s.ServiceStatus.DesiredTasks)
  );
}

async function gone(sock, name) {
  const [services, networks, containers] = await Promise.all([
    get(sock, `/services?filters=${byStack(name)}`),
    get(sock, `/networks?filters=${byStack(name)}`),
    get(sock, `/containers/json?all=1&filters=${byStack(name)}`),
  ]);
  return services.length + networks.length + containers.length === 0;
}

/** Polls `check` every 100 ms; the time (ms since t0) it first held. */
async function until(check, t0, what, timeoutMs = 600_000) {
  for (;;) {
    if (await check()) return performance.now() - t0;
    if (performance.now() - t0 > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(100);
  }
}

function run(cmd, argv, env, cwd) {
  const r = spawnSync(cmd, argv, { encoding: 'utf8', env, cwd, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status ?? r.signal}):\n${r.stderr || r.stdout}`);
  return r.stdout;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const sec = (ms) => (ms / 1000).toFixed(1);

// -- the swarm --------------------------------------------------------------------------------------------------
const tmp = mkdtempSync(join(tmpdir(), 'tscompose-bench-swarm-'));
const { build } = await import('esbuild');
await build({
  entryPoints: [join(ROOT, 'test/e2e/swarm-harness.ts')],
  outfile: join(tmp, 'swarm-harness.mjs'),
  bundle: true, // its modules (./swarm-host.ts, ./swarm-engine.ts, ./swarm-cleanup.ts) into the one file
  format: 'esm',
  platform: 'node',
  logLevel: 'warning',
});
const { startSwarm, swarmUnavailable } = await import(pathToFileURL(join(tmp, 'swarm-harness.mjs')).href);
if (swarmUnavailable) {
  console.error(`bench/swarm.mjs: cannot start a swarm here: ${swarmUnavailable}`);
  process.exit(1);
}
let h;
let stopping;
const stop = async () => {
  stopping ??= (async () => {
    await h?.stop();
    rmSync(tmp, { recursive: true, force: true });
  })();
  return stopping;
};
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    console.error(`\n${sig}: removing the swarm`);
    void stop().finally(() => process.exit(130));
  });
}

try {
  const t = performance.now();
  h = await startSwarm({ nodes: 1 });
  const sock = h.managerHost.replace(/^unix:\/\//, '');
  console.error(`single-node swarm ${h.run} in ${sec(performance.now() - t)} s (${h.managerHost})`);
  const env = { ...process.env, DOCKER_HOST: h.managerHost, NO_COLOR: '1' };
  for (const k of Object.keys(env)) if (k.startsWith('COMPOSE_') || k === 'DOCKER_CONTEXT' || k === 'TSCOMPOSE_RUNTIME') delete env[k];
  const dockerCli = run('docker', ['version', '--format', '{{.Client.Version}}'], env).trim();
  const engine = run('docker', ['version', '--format', '{{.Server.Version}}'], env).trim();
  const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim();

  const tools = [
    {
      name: 'tscompose up -d --wait',
      stack: 'bts',
      up: (file) =>
        run(TSCOMPOSE, ['--runtime', 'swarm', '-f', file, '-p', 'bts', '--progress', 'quiet', 'up', '-d', '--wait', '--wait-timeout', '600'], env),
      down: (file) => run(TSCOMPOSE, ['--runtime', 'swarm', '-f', file, '-p', 'bts', '--progress', 'quiet', 'down'], env),
    },
    {
      name: 'docker stack deploy (polled)',
      stack: 'bsd',
      up: (file) => run('docker', ['stack', 'deploy', '--detach', '-q', '-c', file, 'bsd'], env),
      down: () => run('docker', ['stack', 'rm', 'bsd'], env),
    },
    {
      name: 'docker stack deploy --resolve-image never (polled)',
      stack: 'bsn',
      up: (file) => run('docker', ['stack', 'deploy', '--detach', '-q', '--resolve-image', 'never', '-c', file, 'bsn'], env),
      down: () => run('docker', ['stack', 'rm', 'bsn'], env),
    },
  ];

  const once = async (tool, file) => {
    let t0 = performance.now();
    tool.up(file);
    const exited = performance.now() - t0;
    const up = await until(() => converged(sock, tool.stack), t0, `${tool.name}: converged`);
    t0 = performance.now();
    tool.down(file);
    const down = await until(() => gone(sock, tool.stack), t0, `${tool.name}: gone`);
    return { up, exited, down };
  };

  const load0 = loadavg()[0];
  const results = [];
  for (const variant of VARIANTS) {
    const file = join(tmp, `${variant}.yaml`);
    generate(file, variant === 'chains');
    for (const tool of tools) await once(tool, file); // warm-up
    const times = new Map(tools.map((x) => [x.name, []]));
    for (let r = 0; r < ROUNDS; r++) {
      for (let i = 0; i < tools.length; i++) {
        const tool = tools[(r + i) % tools.length];
        const m = await once(tool, file);
        times.get(tool.name).push(m);
        console.error(
          `${variant} round ${r + 1}/${ROUNDS} ${tool.name}: every task running at ${sec(m.up)} s (command exited at ${sec(m.exited)} s), gone ${sec(m.down)} s after removal began`,
        );
      }
    }
    for (const tool of tools) results.push({ variant, tool: tool.name, ms: times.get(tool.name) });
  }

  const range = (xs) => `${sec(Math.min(...xs))}–${sec(Math.max(...xs))}`;
  const lines = [
    `${SERVICES} services on a single-node swarm (test/e2e/swarm-harness.ts; Docker Engine ${engine}, docker CLI ${dockerCli}), ` +
      `tscompose ${commit}, ${ROUNDS} rounds, ${cpus().length} CPUs (${cpus()[0]?.model.trim()}), load average ${load0.toFixed(1)} → ${loadavg()[0].toFixed(1)}`,
    '',
    '| File | Tool | Until every task runs: median (min–max), s | Deploy command exited, median s | Removal until gone: median (min–max), s |',
    '|---|---|---:|---:|---:|',
  ];
  for (const r of results) {
    const up = r.ms.map((m) => m.up);
    const down = r.ms.map((m) => m.down);
    lines.push(
      `| ${r.variant === 'chains' ? 'depends_on chains of 5' : 'no depends_on'} | ${r.tool} | ${sec(median(up))} (${range(up)}) | ` +
        `${sec(median(r.ms.map((m) => m.exited)))} | ${sec(median(down))} (${range(down)}) |`,
    );
  }
  console.log(lines.join('\n'));
} finally {
  await stop();
}
