#!/usr/bin/env node
// Benchmark: `tscompose -f FILE config` next to `docker-compose -f FILE config` (Debian's docker-compose 1.29.2)
// on a generated compose file with many services. See bench/README.md.
//
//   node bench/config.mjs [--runs N] [--services N] [--rss time|poll] [--tscompose PATH] [--keep] [--generate-only]
//
// Prints a markdown block (table + environment) ready to paste into the README.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TSCOMPOSE = join(ROOT, 'bin', 'tscompose');

// ---------------------------------------------------------------------------------------------------------
// Arguments

function parseArgs(argv) {
  const opts = { runs: 15, services: 500, keep: false, generateOnly: false, rss: 'time', tscompose: TSCOMPOSE };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const intArg = (name) => {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) fail(`${name} needs a positive integer, got ${JSON.stringify(v)}`);
      return n;
    };
    if (a === '--runs' || a.startsWith('--runs=')) opts.runs = intArg('--runs');
    else if (a === '--services' || a.startsWith('--services=')) opts.services = intArg('--services');
    else if (a === '--rss' || a.startsWith('--rss=')) {
      opts.rss = a.includes('=') ? a.slice(6) : argv[++i];
      if (opts.rss !== 'time' && opts.rss !== 'poll') fail('--rss takes time or poll');
    } else if (a === '--tscompose' || a.startsWith('--tscompose=')) {
      const v = a.includes('=') ? a.slice(12) : argv[++i];
      if (!v) fail('--tscompose needs a path');
      opts.tscompose = resolve(v);
    } else if (a === '--keep') opts.keep = true;
    else if (a === '--generate-only') opts.generateOnly = opts.keep = true;
    else if (a === '-h' || a === '--help') {
      process.stdout.write(
        'usage: node bench/config.mjs [--runs N] [--services N] [--rss time|poll] [--tscompose PATH] [--keep] [--generate-only]\n',
      );
      process.exit(0);
    } else fail(`unknown argument ${a}`);
  }
  return opts;
}

function fail(msg) {
  process.stderr.write(`bench: ${msg}\n`);
  process.exit(2);
}

const log = (msg) => process.stderr.write(`${msg}\n`);

// ---------------------------------------------------------------------------------------------------------
// A tiny YAML emitter (so the file can use anchors, aliases and `<<` merge keys, which a library would expand).

const alias = (name) => ({ $alias: name });
const PLAIN = /^[A-Za-z0-9_/.][A-Za-z0-9_./@+:-]*$/;
const YAML11_WORDS = /^(y|n|yes|no|on|off|true|false|null|~|\.inf|\.nan)$/i;
// Starts like a number and uses only characters of numbers (hex, exponents, base 60, dates): quote it.
const NUMBERISH = /^[-+.]?[0-9][0-9a-fA-FxXoO._:+-]*$/;

function scalar(v) {
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === null) return 'null';
  const s = String(v);
  // Quote anything that YAML 1.1 (PyYAML) or 1.2 could read as something other than a string: ports like
  // "80:80" (base 60 in 1.1), yes/no, numbers, `$` interpolation, etc.
  if (PLAIN.test(s) && !YAML11_WORDS.test(s) && !NUMBERISH.test(s)) return s;
  return JSON.stringify(s);
}

function isAlias(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && typeof v.$alias === 'string';
}

/** Emits `value` as block YAML lines at `indent`; keys `$anchor` on a map emit `&name` on its parent key. */
function emit(value, indent, out) {
  const pad = ' '.repeat(indent);
  if (Array.isArray(value)) {
    for (const item of value) {
      if (item !== null && typeof item === 'object' && !isAlias(item)) {
        const lines = [];
        emit(item, indent + 2, lines);
        out.push(pad + '- ' + (lines[0] ?? '').trimStart(), ...lines.slice(1));
      } else out.push(`${pad}- ${isAlias(item) ? '*' + item.$alias : scalar(item)}`);
    }
    return;
  }
  for (const [k, v] of Object.entries(value)) {
    if (k === '$anchor') continue;
    const key = k === '<<' ? '<<' : scalar(k);
    if (isAlias(v)) out.push(`${pad}${key}: *${v.$alias}`);
    else if (v !== null && typeof v === 'object') {
      const anchor = !Array.isArray(v) && v.$anchor ? ` &${v.$anchor}` : '';
      if (Array.isArray(v) && v.length === 0) out.push(`${pad}${key}: []`);
      else if (!Array.isArray(v) && Object.keys(v).filter((x) => x !== '$anchor').length === 0) out.push(`${pad}${key}:${anchor} {}`);
      else {
        out.push(`${pad}${key}:${anchor}`);
        emit(v, indent + 2, out);
      }
    } else out.push(`${pad}${key}: ${scalar(v)}`);
  }
}

// ---------------------------------------------------------------------------------------------------------
// The generated project: stacks of 10 services (db, cache, api, worker, web, ...) with dependency chains.

const ROLES = ['db', 'cache', 'queue', 'api', 'auth', 'worker', 'scheduler', 'web', 'proxy', 'metrics'];

function generate(dir, count) {
  const stacks = Math.ceil(count / ROLES.length);
  const doc = {
    'x-logging': { $anchor: 'default-logging', driver: 'json-file', options: { 'max-size': '10m', 'max-file': '3' } },
    'x-common': { $anchor: 'common', restart: 'unless-stopped', logging: alias('default-logging'), init: true },
    'x-app-env': { $anchor: 'app-env', TZ: 'UTC', LOG_LEVEL: '${LOG_LEVEL:-info}', NODE_ENV: 'production' },
    'x-healthcheck': { $anchor: 'http-health', interval: '15s', timeout: '5s', retries: 3, start_period: '20s' },
    services: {},
    networks: { frontend: {}, backend: { driver: 'bridge', labels: { 'com.example.tier': 'backend' } } },
    volumes: {},
  };
  const services = doc.services;
  let n = 0;
  for (let s = 0; s < stacks && n < count; s++) {
    const stack = `s${String(s).padStart(3, '0')}`;
    const net = `${stack}-net`;
    doc.networks[net] = s % 4 === 0 ? { driver: 'bridge', ipam: { config: [{ subnet: `10.${100 + (s >> 8)}.${s & 255}.0/24` }] } } : {};
    for (const role of ROLES) {
      if (n >= count) break;
      const name = `${stack}-${role}`;
      const port = 20000 + n;
      const svc = roleService(role, { dir, stack, name, net, port, s, n });
      services[name] = svc;
      if (role === 'db') doc.volumes[`${stack}-data`] = s % 3 === 0 ? { driver: 'local', labels: ['com.example.backup=daily'] } : {};
      n++;
    }
  }
  const lines = [
    `# Generated by bench/config.mjs: ${count} services in ${stacks} stacks.`,
    '# Version-less on purpose: docker-compose >= 1.27 reads it with the Compose Specification schema.',
  ];
  emit(doc, 0, lines);
  const file = join(dir, 'compose.yaml');
  writeFileSync(file, lines.join('\n') + '\n');
  writeFileSync(join(dir, 'common.env'), 'COMMON_FLAG=1\n# comment\nREGION=eu-west-1\n');
  return file;
}

function roleService(role, { dir, stack, name, net, port, s, n }) {
  const dep = (r) => `${stack}-${r}`;
  const labels =
    n % 2 === 0
      ? { 'com.example.stack': stack, 'com.example.role': role, 'traefik.enable': 'false' }
      : [`com.example.stack=${stack}`, `com.example.role=${role}`];
  switch (role) {
    case 'db':
      return {
        image: ['postgres:16-alpine', 'mysql:8.4', 'mariadb:11'][s % 3],
        '<<': alias('common'),
        environment: { POSTGRES_USER: 'app', POSTGRES_PASSWORD: '${DB_PASSWORD:-secret}', POSTGRES_DB: stack.replace('-', '_') },
        volumes: [
          `${stack}-data:/var/lib/postgresql/data`,
          { type: 'bind', source: `./stacks/${stack}/initdb`, target: '/docker-entrypoint-initdb.d', read_only: true },
        ],
        ports: [`127.0.0.1:${port}:5432`],
        networks: { [net]: { aliases: [`${stack}-database`] }, backend: {} },
        healthcheck: { test: ['CMD-SHELL', 'pg_isready -U app'], interval: '10s', timeout: '5s', retries: 5, start_period: '30s' },
        labels,
        shm_size: '256m',
      };
    case 'cache':
      return {
        image: 'redis:7-alpine',
        '<<': alias('common'),
        command: ['redis-server', '--appendonly', 'yes', '--maxmemory', '128mb'],
        volumes: [{ type: 'tmpfs', target: '/data', tmpfs: { size: 67108864 } }],
        networks: [net],
        healthcheck: { test: ['CMD', 'redis-cli', 'ping'], interval: '5s', timeout: '3s', retries: 10 },
        labels,
      };
    case 'queue':
      return {
        image: 'rabbitmq:3.13-management',
        '<<': alias('common'),
        hostname: name,
        environment: ['RABBITMQ_DEFAULT_USER=app', 'RABBITMQ_DEFAULT_PASS=${MQ_PASSWORD:-guest}'],
        ports: [`${port}:15672`, { target: 5672, published: String(port + 10000), protocol: 'tcp' }],
        volumes: [{ type: 'volume', source: `${stack}-data`, target: '/var/lib/rabbitmq', volume: { nocopy: true } }],
        networks: [net],
        labels,
      };
    case 'api': {
      const ctx = join(dir, 'stacks', stack, 'api');
      mkdirSync(ctx, { recursive: true });
      mkdirSync(join(dir, 'stacks', stack, 'initdb'), { recursive: true });
      writeFileSync(join(ctx, 'Dockerfile'), 'FROM node:20-alpine\nWORKDIR /app\nCOPY . .\nCMD ["node", "server.js"]\n');
      return {
        '<<': alias('common'),
        build: {
          context: `./stacks/${stack}/api`,
          dockerfile: 'Dockerfile',
          args: { NODE_VERSION: '20', BUILD_ID: `${n}` },
          labels: { 'com.example.built-by': 'bench' },
        },
        image: `registry.example.com/${stack}/api:1.${s}.0`,
        environment: {
          '<<': alias('app-env'),
          DATABASE_URL: `postgres://app:secret@${dep('db')}:5432/app`,
          REDIS_URL: `redis://${dep('cache')}:6379`,
          PORT: 8080,
        },
        ...(s % 5 === 0 ? { env_file: ['./common.env'] } : {}),
        ports: [{ target: 8080, published: String(port), protocol: 'tcp', mode: 'host' }],
        depends_on: { [dep('db')]: { condition: 'service_healthy' }, [dep('cache')]: { condition: 'service_started' } },
        networks: [net, 'backend'],
        healthcheck: { test: ['CMD', 'wget', '-qO-', 'http://localhost:8080/health'], '<<': alias('http-health') },
        volumes: [`./stacks/${stack}/api/config:/app/config:ro`],
        deploy: { resources: { limits: { cpus: '0.50', memory: '512M' } } },
        labels,
      };
    }
    case 'auth':
      return {
        image: 'quay.io/keycloak/keycloak:25.0',
        '<<': alias('common'),
        command: 'start-dev --http-port 8081',
        environment: { KC_DB: 'postgres', KC_DB_URL_HOST: dep('db'), KEYCLOAK_ADMIN: 'admin', KEYCLOAK_ADMIN_PASSWORD: '${KC_PASSWORD:-admin}' },
        depends_on: [dep('db')],
        networks: [net],
        expose: ['8081'],
        labels,
      };
    case 'worker': {
      const ctx = join(dir, 'stacks', stack, 'worker');
      mkdirSync(ctx, { recursive: true });
      writeFileSync(join(ctx, 'Dockerfile'), 'FROM python:3.12-slim\nCOPY . /app\nCMD ["python", "-m", "worker"]\n');
      return {
        '<<': alias('common'),
        build: `./stacks/${stack}/worker`,
        environment: ['QUEUE_URL=amqp://app:guest@' + dep('queue') + ':5672', 'CONCURRENCY=4', 'DEBUG'],
        depends_on: { [dep('queue')]: { condition: 'service_started' }, [dep('api')]: { condition: 'service_healthy' } },
        networks: [net, 'backend'],
        volumes: [{ type: 'bind', source: `./stacks/${stack}/worker`, target: '/app' }, `${stack}-data:/root/.cache`],
        stop_grace_period: '30s',
        labels,
      };
    }
    case 'scheduler':
      return {
        image: 'alpine:3.20',
        command: ['crond', '-f', '-l', '8'],
        entrypoint: ['/sbin/tini', '--'],
        depends_on: [dep('worker')],
        networks: [net],
        restart: 'on-failure',
        labels,
        user: '1000:1000',
      };
    case 'web':
      return {
        image: 'nginx:1.27-alpine',
        '<<': alias('common'),
        ports: [`${port}:80`, `${port + 5000}:443`],
        volumes: [
          `./stacks/${stack}/nginx.conf:/etc/nginx/nginx.conf:ro`,
          { type: 'volume', source: `${stack}-data`, target: '/usr/share/nginx/html', read_only: true },
        ],
        depends_on: { [dep('api')]: { condition: 'service_healthy' }, [dep('auth')]: { condition: 'service_started' } },
        networks: { frontend: {}, [net]: { aliases: [`${stack}.local`] } },
        healthcheck: { test: ['CMD', 'wget', '-qO-', 'http://localhost/'], '<<': alias('http-health') },
        labels,
      };
    case 'proxy':
      return {
        image: 'traefik:v3.1',
        command: ['--providers.docker=true', '--entrypoints.web.address=:80'],
        ports: [{ target: 80, published: String(port), protocol: 'tcp' }],
        volumes: ['/var/run/docker.sock:/var/run/docker.sock:ro'],
        depends_on: [dep('web')],
        networks: ['frontend'],
        labels,
      };
    case 'metrics':
      return {
        image: 'prom/node-exporter:v1.8.2',
        '<<': alias('common'),
        command: ['--path.rootfs=/host'],
        pid: 'host',
        volumes: [{ type: 'bind', source: '/', target: '/host', read_only: true }],
        depends_on: [dep('proxy')],
        networks: [net],
        labels,
      };
    default:
      throw new Error(role);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Tools

function which(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

function aptInstall(pkg) {
  if (!isRoot || !which('apt-get')) return false;
  log(`bench: installing ${pkg} with apt-get (running as root)...`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const up = spawnSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'], env });
  if (up.status !== 0) return false;
  const inst = spawnSync('apt-get', ['install', '-y', '-qq', pkg], { stdio: ['ignore', 'ignore', 'inherit'], env });
  return inst.status === 0;
}

function findDockerCompose() {
  let path = which('docker-compose');
  if (!path && aptInstall('docker-compose')) path = which('docker-compose');
  if (!path) return undefined;
  const v = spawnSync(path, ['version', '--short'], { encoding: 'utf8' });
  return { path, version: v.status === 0 ? v.stdout.trim() : 'unknown' };
}

function findGnuTime() {
  const ok = () => existsSync('/usr/bin/time') && spawnSync('/usr/bin/time', ['-f', '%M', 'true'], { encoding: 'utf8' }).status === 0;
  if (ok()) return '/usr/bin/time';
  if (aptInstall('time') && ok()) return '/usr/bin/time';
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Measuring one run: wall time around the child, peak RSS via GNU time (%M, KiB) or by polling VmHWM.

function readHwmKiB(pid) {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function runOnce(argv, { gnuTime, cwd, env }) {
  return new Promise((resolveRun) => {
    const rssFile = gnuTime ? join(cwd, `.rss-${process.pid}`) : undefined;
    const [cmd, args] = gnuTime ? [gnuTime, ['-f', '%M', '-o', rssFile, ...argv]] : [argv[0], argv.slice(1)];
    const started = process.hrtime.bigint();
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    child.stdout.on('data', (b) => out.push(b));
    child.stderr.on('data', (b) => err.push(b));
    let hwm = 0;
    const poll = gnuTime ? undefined : setInterval(() => (hwm = Math.max(hwm, readHwmKiB(child.pid))), 2);
    if (!gnuTime) child.on('spawn', () => (hwm = Math.max(hwm, readHwmKiB(child.pid))));
    child.on('error', (e) => err.push(Buffer.from(String(e))));
    child.on('close', (code, sig) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (poll) clearInterval(poll);
      let rssKiB = hwm;
      if (rssFile) {
        // GNU time writes "Command exited with non-zero status N" before the value when the command fails.
        const lines = existsSync(rssFile) ? readFileSync(rssFile, 'utf8').trim().split('\n') : [];
        rssKiB = Number(lines[lines.length - 1]) || 0;
        rmSync(rssFile, { force: true });
      }
      resolveRun({ ms, rssKiB, code: code ?? (sig ? 128 : 1), stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function countServices(text) {
  try {
    const { parse } = await import('yaml');
    const data = parse(text);
    return data && typeof data.services === 'object' ? Object.keys(data.services).length : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const dir = mkdtempSync(join(tmpdir(), 'tscompose-bench-'));
  const file = generate(dir, opts.services);
  const size = readFileSync(file).length;
  log(`bench: generated ${file} (${opts.services} services, ${(size / 1024).toFixed(0)} KiB)`);
  if (opts.generateOnly) {
    process.stdout.write(file + '\n');
    return;
  }

  // Same environment for both: no COMPOSE_* overrides leaking in from the caller.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('COMPOSE_')));
  const gnuTime = opts.rss === 'time' ? findGnuTime() : undefined;
  const rssMethod = gnuTime
    ? 'GNU time `%M` (max RSS of the process)'
    : 'polling /proc/PID/status VmHWM every 2 ms (approximate: can miss a last-moment peak)';
  if (!gnuTime && opts.rss === 'time') log('bench: GNU time not available; measuring peak RSS by polling VmHWM');

  const tools = [
    {
      name: 'tscompose',
      label: opts.tscompose === TSCOMPOSE ? `tscompose (Node ${process.version})` : `tscompose ${opts.tscompose} (Node ${process.version})`,
      argv: [process.execPath, opts.tscompose, '-f', file, 'config'],
    },
  ];
  const dc = findDockerCompose();
  if (dc) tools.push({ name: 'docker-compose', label: `docker-compose ${dc.version}`, argv: [dc.path, '-f', file, 'config'] });
  else log('bench: docker-compose not found (and could not be installed: needs root and apt-get); skipping the comparison');

  // Warm-up run of each (page cache, Python bytecode), which also checks that it works at all.
  for (const t of tools) {
    const r = await runOnce(t.argv, { gnuTime, cwd: dir, env });
    if (r.code !== 0) {
      t.failed = `exit ${r.code}: ${r.stderr.trim().split('\n').slice(0, 5).join(' | ')}`;
      log(`bench: ${t.name} config failed (${t.failed}); it is reported as failed and not timed`);
    } else {
      t.services = await countServices(r.stdout);
      t.outputBytes = r.stdout.length;
      if (t.services !== opts.services) log(`bench: warning: ${t.name} printed ${t.services ?? 'no parsable'} services, expected ${opts.services}`);
    }
    t.samples = [];
  }

  const live = tools.filter((t) => !t.failed);
  for (let i = 0; i < opts.runs; i++) {
    // Alternate the order so neither tool always runs right after the other.
    const order = i % 2 === 0 ? live : [...live].reverse();
    for (const t of order) {
      const r = await runOnce(t.argv, { gnuTime, cwd: dir, env });
      if (r.code !== 0) fail(`${t.name} failed on run ${i + 1}: exit ${r.code}: ${r.stderr.trim().slice(0, 500)}`);
      t.samples.push(r);
    }
    log(`bench: run ${i + 1}/${opts.runs}: ${order.map((t) => `${t.name} ${t.samples.at(-1).ms.toFixed(0)} ms`).join(', ')}`);
  }

  const rows = tools.map((t) => {
    if (t.failed) return { t, cells: [t.label, 'failed', '–', '–', '–'] };
    const ms = t.samples.map((s) => s.ms);
    const rss = t.samples.map((s) => s.rssKiB / 1024);
    t.medianMs = median(ms);
    t.medianRss = median(rss);
    return {
      t,
      cells: [
        t.label,
        t.medianMs.toFixed(0),
        `${Math.min(...ms).toFixed(0)}–${Math.max(...ms).toFixed(0)}`,
        t.medianRss.toFixed(1),
        Math.max(...rss).toFixed(1),
      ],
    };
  });

  const cpu = cpus()[0]?.model?.trim() ?? 'unknown CPU';
  const md = [
    `\`config\` on a generated ${opts.services}-service file (${(size / 1024).toFixed(0)} KiB), ${opts.runs} alternating runs each after one warm-up:`,
    '',
    '| Tool | Median wall (ms) | Min–max (ms) | Median peak RSS (MiB) | Max peak RSS (MiB) |',
    '|---|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.cells.join(' | ')} |`),
    '',
  ];
  const [ours, theirs] = tools;
  if (ours && theirs && ours.medianMs !== undefined && theirs.medianMs !== undefined) {
    md.push(
      `Ratio of medians (tscompose / docker-compose): wall **${(ours.medianMs / theirs.medianMs).toFixed(2)}×**, ` +
        `peak RSS **${(ours.medianRss / theirs.medianRss).toFixed(2)}×**.`,
      '',
    );
  }
  md.push(
    `Peak RSS: ${rssMethod}. Wall time: spawn to exit, measured by the Node driver. Machine: ${cpu}, ${cpus().length} CPUs, ${process.platform}/${process.arch}.`,
  );
  process.stdout.write('\n' + md.join('\n') + '\n');

  if (opts.keep) log(`bench: kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}

await main();
