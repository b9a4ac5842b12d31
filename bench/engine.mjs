#!/usr/bin/env node
// Times `up -d`, a second (no-op) `up -d`, and `down` of a generated 20-service project with tscompose and with
// Debian's docker-compose 1.29.2 against the same Docker Engine, alternating which tool goes first, and prints
// medians and ratios as a markdown block for the README.
//
// Usage: node bench/engine.mjs [--runs N] [--services N] [--runtime docker|native] [--oci-runtime crun,runc] [--compare DIR]
// `--compare DIR` times another build of tscompose too (DIR is a checkout with its own `npm run build`, e.g. a git
// worktree of an earlier commit), in the same alternation, and prints this build's time over that one's.
// Needs: a running Docker Engine with busybox:latest pullable (npm run engine:setup), `npm run build`.
// With `--runtime native`, tscompose runs the project on its native runtime (default network: a bridge with DNS)
// while docker-compose runs it on Docker, as the issue's comparison asks; `--oci-runtime crun,runc` (native only)
// times it once per OCI runtime (TSCOMPOSE_OCI_RUNTIME), in the same alternation (default: the one it picks).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const runs = Number(opt('--runs', '7'));
const services = Number(opt('--services', '20'));
const runtime = opt('--runtime', 'docker');
const compare = opt('--compare', undefined);
const ociRuntimes = runtime === 'native' ? (opt('--oci-runtime', '') || '').split(',').filter(Boolean) : [];
const root = resolve(new URL('..', import.meta.url).pathname);
const tscompose = join(root, 'bin/tscompose');

function sh(cmd, argv, options = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, { encoding: 'utf8', ...options });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status}):\n${r.stderr || r.stdout}`);
  return ms;
}

function ensureDockerCompose() {
  if (spawnSync('docker-compose', ['version'], { encoding: 'utf8' }).status === 0) return true;
  if (process.getuid?.() === 0) {
    spawnSync('apt-get', ['install', '-y', '-q', 'docker-compose'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    return spawnSync('docker-compose', ['version'], { encoding: 'utf8' }).status === 0;
  }
  return false;
}

function generate(dir) {
  let y = 'services:\n';
  for (let i = 0; i < services; i++) {
    y += `  svc${i}:\n    image: busybox:latest\n    command: ["sleep", "3600"]\n    init: true\n`;
    y += `    environment:\n      INDEX: "${i}"\n    labels:\n      bench: "1"\n`;
    if (i > 0 && i % 5 !== 0) y += `    depends_on: [svc${i - 1}]\n`;
  }
  writeFileSync(join(dir, 'compose.yaml'), y);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const haveDc = ensureDockerCompose();
const dir = mkdtempSync(join(tmpdir(), 'tscompose-bench-engine-'));
generate(dir);
sh('docker', ['pull', '-q', 'busybox:latest']);
if (runtime === 'native') sh(tscompose, ['--runtime', 'native', 'image', 'pull', 'busybox:latest']);
const env = { ...process.env };
const cmpCache = mkdtempSync(join(tmpdir(), 'tscompose-bench-cache-'));
for (const k of Object.keys(env)) if (k.startsWith('COMPOSE_')) delete env[k];
const nativeTools = Object.fromEntries(
  (ociRuntimes.length > 0 ? ociRuntimes : ['']).map((oci, i) => [
    runtime === 'native' ? `tscompose (native${oci ? `, ${oci}` : ''})` : 'tscompose',
    (verb, extra = []) => [
      tscompose,
      ['--runtime', runtime, '-p', `benchts${i || ''}`, '--progress', 'quiet', verb, ...extra],
      oci ? { TSCOMPOSE_OCI_RUNTIME: oci } : undefined,
    ],
  ]),
);
const tools = {
  ...nativeTools,
  // Its own code-cache directory: a bundle removes the caches of other bundles from its directory.
  ...(compare
    ? {
        [`tscompose at ${compare}`]: (verb, extra = []) => [
          join(resolve(compare), 'bin/tscompose'),
          ['--runtime', runtime, '-p', 'benchcmp', '--progress', 'quiet', verb, ...extra],
          { XDG_CACHE_HOME: cmpCache },
        ],
      }
    : {}),
  ...(haveDc ? { 'docker-compose': (verb, extra = []) => ['docker-compose', ['-p', 'benchdc', verb, ...extra]] } : {}),
};
const results = Object.fromEntries(Object.keys(tools).map((t) => [t, { up: [], noop: [], down: [] }]));
try {
  for (let r = 0; r < runs; r++) {
    const order = r % 2 ? Object.keys(tools).reverse() : Object.keys(tools);
    for (const t of order) {
      const time = (verb, extra) => {
        const [cmd, argv, extraEnv] = tools[t](verb, extra);
        return sh(cmd, argv, { cwd: dir, env: extraEnv ? { ...env, ...extraEnv } : env });
      };
      results[t].up.push(time('up', ['-d']));
      results[t].noop.push(time('up', ['-d']));
      results[t].down.push(time('down', ['-t', '1']));
      process.stderr.write(
        `bench: run ${r + 1}/${runs} ${t}: up ${results[t].up.at(-1).toFixed(0)} ms, no-op ${results[t].noop.at(-1).toFixed(0)} ms, down ${results[t].down.at(-1).toFixed(0)} ms\n`,
      );
    }
  }
} finally {
  for (const t of Object.keys(tools)) {
    const [cmd, argv, extraEnv] = tools[t]('down', ['-t', '0']);
    spawnSync(cmd, argv, { cwd: dir, env: extraEnv ? { ...env, ...extraEnv } : env, encoding: 'utf8' });
  }
  rmSync(dir, { recursive: true, force: true });
  rmSync(cmpCache, { recursive: true, force: true });
}

const fmt = (x) => x.toFixed(0);
let out = `\n${services} services (busybox, depends_on chains), ${runs} alternating runs each, Docker Engine ${spawnSync('docker', ['version', '-f', '{{.Server.Version}}'], { encoding: 'utf8' }).stdout.trim()}:\n\n`;
out += '| Tool | `up -d` median (ms) | no-op `up -d` median (ms) | `down` median (ms) |\n|---|---:|---:|---:|\n';
for (const [t, r] of Object.entries(results)) out += `| ${t} | ${fmt(median(r.up))} | ${fmt(median(r.noop))} | ${fmt(median(r.down))} |\n`;
if (haveDc) {
  const b = results['docker-compose'];
  for (const t of Object.keys(nativeTools)) {
    const a = results[t];
    out += `\nRatios (${t} / docker-compose): up **${(median(a.up) / median(b.up)).toFixed(2)}×**, no-op up **${(median(a.noop) / median(b.noop)).toFixed(2)}×**, down **${(median(a.down) / median(b.down)).toFixed(2)}×**.\n`;
  }
} else out += '\n(docker-compose 1.29.2 not available: no comparison)\n';
if (compare) {
  const a = results[Object.keys(tools)[0]];
  const b = results[`tscompose at ${compare}`];
  out += `\nThis build / the build at ${compare}: up **${(median(a.up) / median(b.up)).toFixed(2)}×**, no-op up **${(median(a.noop) / median(b.noop)).toFixed(2)}×**, down **${(median(a.down) / median(b.down)).toFixed(2)}×**.\n`;
}
process.stdout.write(out);
