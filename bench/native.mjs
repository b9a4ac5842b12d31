#!/usr/bin/env node
// Times `tscompose --runtime native up -d` and `down -t 0` of a generated 20-service project (busybox
// `sleep 3600`, `network_mode: none`) next to the bare OCI runtime running the same containers the way a shell
// script would, alternating, and prints medians, per-container wall and CPU times and ratios as a markdown block.
// CPU time is that of a cgroup the timed command runs in (v1 cpuacct or v2 cpu.stat): the command and everything
// it starts, daemons included (conmon, runc, exit hooks), not the containers (runc moves them to their own).
//
// Usage: node bench/native.mjs [--rounds N] [--services N] [--variants init,no-init] [--tscompose PATH] [--keep]
// Needs: root, runc, conmon, overlayfs, `npm run build`, and busybox:latest pullable by the native runtime
// (set TSCOMPOSE_REGISTRY_MIRRORS, e.g. http://127.0.0.1:5001, when Docker Hub is not reachable).
//
// Everything lives under one mkdtemp directory (TSCOMPOSE_STATE_DIR, TSCOMPOSE_RUN_DIR, the bare bundles and
// runc --root) and is removed at the end, also on failure or Ctrl-C: `down`, runc kill/delete, unmount, rm.
//
// The bare runtime, per container, as generated shell (bare/one.sh, run through `xargs -P`):
//   up:   mkdir bundle/{rootfs,upper,work}; sed the config.json template (from `runc spec`: terminal false,
//         args [docker-init --] sleep 3600, root read-write, its own cgroup, the default new network namespace
//         = network_mode none); mount -t overlay (lowerdir = the image layer, extracted once, untimed); then
//         `runc run -d` with stdio on /dev/null (a detached container would hold pipes open);
//   down: runc kill ID KILL; runc delete --force ID; umount rootfs; rm -rf bundle.
// i.e. the same per-container work tscompose does (overlay mount, config.json, create+start, kill, delete,
// unmount, remove), minus its own bookkeeping (records, locks, events, /etc files, conmon).
// It runs sequentially (-P 1) and with tscompose's parallelism (parallelLimit() from dist/: --parallel /
// COMPOSE_PARALLEL_LIMIT, unlimited by default, i.e. all services at once).
//
// Orphaned `runc run -d` containers need a parent that reaps them; when pid 1 does not (some VMs), killed bare
// containers stay zombies. So the script re-runs itself under `tini -s` (a reaping subreaper) when tini exists.
//
// Exits non-zero on errors only, never on a missed target.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, rmdirSync, writeFileSync, chmodSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TSCOMPOSE = join(ROOT, 'bin', 'tscompose');
const SELF = fileURLToPath(import.meta.url);

// ---------------------------------------------------------------------------------------------------------
// Arguments

function fail(msg) {
  process.stderr.write(`bench: ${msg}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { rounds: 5, services: 20, variants: ['init', 'no-init'], keep: false, tscompose: TSCOMPOSE };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => (a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i]);
    const intArg = (name) => {
      const v = value();
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) fail(`${name} needs a positive integer, got ${JSON.stringify(v)}`);
      return n;
    };
    if (a === '--rounds' || a.startsWith('--rounds=')) opts.rounds = intArg('--rounds');
    else if (a === '--services' || a.startsWith('--services=')) opts.services = intArg('--services');
    else if (a === '--variants' || a.startsWith('--variants=')) {
      opts.variants = String(value() ?? '')
        .split(',')
        .filter(Boolean);
      if (opts.variants.length === 0 || opts.variants.some((v) => v !== 'init' && v !== 'no-init'))
        fail('--variants takes init, no-init or init,no-init');
    } else if (a === '--tscompose' || a.startsWith('--tscompose=')) {
      const v = value();
      if (!v) fail('--tscompose needs a path');
      opts.tscompose = resolve(v);
    } else if (a === '--keep') opts.keep = true;
    else if (a === '-h' || a === '--help') {
      process.stdout.write('usage: node bench/native.mjs [--rounds N] [--services N] [--variants init,no-init] [--tscompose PATH] [--keep]\n');
      process.exit(0);
    } else fail(`unknown argument ${a}`);
  }
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
// The CLI under test and its dist/ (another build with --tscompose: a copy whose bin/ runs its own dist/).
const CLI = opts.tscompose;
const DIST = join(dirname(CLI), '..', 'dist');
const log = (msg) => process.stderr.write(`${msg}\n`);

function which(cmd) {
  for (const d of [...(process.env.PATH ?? '').split(':'), '/usr/local/sbin', '/usr/sbin', '/sbin', '/usr/bin', '/bin']) {
    if (d && existsSync(join(d, cmd))) return join(d, cmd);
  }
  return undefined;
}

// Re-run under a reaping subreaper (see the header).
if (!process.env.TSCOMPOSE_BENCH_REAPER) {
  const tini = which('tini') ?? which('tini-static');
  if (tini) {
    const child = spawn(tini, ['-s', '-g', '--', process.execPath, SELF, ...process.argv.slice(2)], {
      stdio: 'inherit',
      env: { ...process.env, TSCOMPOSE_BENCH_REAPER: tini },
    });
    // tini passes signals on to the bench, which then cleans up.
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
    const [code, signal] = await new Promise((res) => child.on('exit', (c, s) => res([c, s])));
    process.exit(code ?? (signal ? 130 : 1));
  }
  log('bench: warning: tini not found; if pid 1 does not reap orphans, the killed bare containers stay zombies');
}

if (process.getuid?.() !== 0) fail('the native runtime needs root');
const RUNC = which('runc');
if (!RUNC) fail('runc not found');
if (!which('conmon')) fail('conmon not found');
if (!existsSync(join(DIST, 'cli'))) fail(`${DIST} is missing: run \`npm run build\` first`);
const INIT_BINARY = ['/usr/bin/tini-static', '/usr/bin/catatonit', '/usr/libexec/podman/catatonit'].find((p) => existsSync(p));
if (opts.variants.includes('init') && !INIT_BINARY) fail('init: true needs tini-static or catatonit (apt-get install tini)');

// ---------------------------------------------------------------------------------------------------------
// Helpers

function sh(cmd, argv, options = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, { encoding: 'utf8', maxBuffer: 64 << 20, ...options });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.error) throw new Error(`${cmd} ${argv.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status ?? r.signal}):\n${(r.stderr || r.stdout || '').trim()}`);
  return { ms, stdout: r.stdout };
}

// CPU time of a command and everything it starts, daemons included (conmon, its runc, exit hooks; not the
// containers, which runc moves to their own cgroups): the command runs in a cgroup of its own.
const cpuCgroup = (() => {
  const name = `tscompose-bench-cpu-${process.pid}`;
  const v1 = join('/sys/fs/cgroup/cpuacct', name);
  const v2 = existsSync('/sys/fs/cgroup/cgroup.controllers') ? join('/sys/fs/cgroup', name) : join('/sys/fs/cgroup/unified', name);
  for (const [dir, read] of [
    [v1, () => Number(readFileSync(join(v1, 'cpuacct.usage'), 'utf8')) / 1e6],
    [v2, () => Number(/usage_usec (\d+)/.exec(readFileSync(join(v2, 'cpu.stat'), 'utf8'))?.[1]) / 1e3],
  ]) {
    try {
      if (!existsSync(dirname(dir))) continue;
      mkdirSync(dir);
      if (Number.isFinite(read())) return { dir, read };
      rmdirSync(dir);
    } catch {
      // not this one
    }
  }
  log('bench: no cpuacct (v1) or cpu.stat (v2) cgroup available: CPU time not measured');
  return undefined;
})();

const cgroupProcs = () => (cpuCgroup ? readFileSync(join(cpuCgroup.dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean) : []);
const sleepMs = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * Runs a command (in the CPU cgroup) and returns its wall time and the cgroup's CPU time. With `settle`, waits
 * (up to 10 s, after the wall time is taken) until the cgroup has no processes left, so processes that outlive the
 * command (conmon, exit hooks after a `down`) are counted too.
 */
function measured(cmd, argv, options = {}, { settle = false } = {}) {
  if (!cpuCgroup) return { ...sh(cmd, argv, options), cpuMs: NaN };
  const c0 = cpuCgroup.read();
  const r = sh('sh', ['-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', cpuCgroup.dir, cmd, ...argv], options);
  for (let i = 0; settle && i < 200 && cgroupProcs().length > 0; i++) sleepMs(50);
  return { ...r, cpuMs: cpuCgroup.read() - c0 };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const mountsUnder = (dir) =>
  readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m) => m && (m === dir || m.startsWith(dir + '/')))
    .map((m) => m.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8))));

function runcList(root) {
  const r = spawnSync(RUNC, ['--root', root, 'list', '-f', 'json'], { encoding: 'utf8', detached: true });
  if (r.status !== 0) return [];
  return JSON.parse(r.stdout.trim() || 'null') ?? [];
}

/** Processes (conmon, exit hooks, containers' runc) whose command line mentions `dir`. */
function processesMentioning(dir) {
  const out = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').join(' ').trim();
      if (cmd.includes(dir)) out.push(`${p} ${cmd.slice(0, 120)}`);
    } catch {
      // gone
    }
  }
  return out;
}

const CGROUP_ROOT = '/sys/fs/cgroup';
const cgroupHierarchies = () => {
  try {
    return readdirSync(CGROUP_ROOT)
      .map((h) => join(CGROUP_ROOT, h))
      .filter((h) => existsSync(join(h, 'cgroup.procs')));
  } catch {
    return [];
  }
};

// ---------------------------------------------------------------------------------------------------------
// Setup

const dir = mkdtempSync(join(tmpdir(), 'tscompose-bench-native-'));
const state = join(dir, 'state');
const run = join(dir, 'run');
const bare = join(dir, 'bare');
const bareCgroupParent = `tscompose-bench-${process.pid}`;
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('COMPOSE_') && k !== 'TSCOMPOSE_BENCH_REAPER'));
Object.assign(env, { TSCOMPOSE_STATE_DIR: state, TSCOMPOSE_RUN_DIR: run, TSCOMPOSE_OCI_RUNTIME: RUNC });
delete env.TSCOMPOSE_RUNTIME;
const seenIds = new Set(); // tscompose container ids, for the cgroup leak check
const project = (variant) => `tscbench-${variant}`;
const projectDir = (variant) => join(dir, variant);
const tsc = (variant, ...argv) => [
  process.execPath,
  [CLI, '--runtime', 'native', '-p', project(variant), '--progress', 'quiet', ...argv],
  { cwd: projectDir(variant), env },
];

let cleanedUp = false;
function cleanup() {
  if (cleanedUp) return [];
  cleanedUp = true;
  const problems = [];
  for (const v of opts.variants) {
    if (!existsSync(join(projectDir(v), 'compose.yaml'))) continue;
    const [cmd, argv, o] = tsc(v, 'down', '-t', '0');
    const r = spawnSync(cmd, argv, { ...o, encoding: 'utf8', detached: true });
    if (r.status !== 0) problems.push(`tscompose down (${v}) failed: ${(r.stderr || '').trim().split('\n')[0]}`);
  }
  for (const c of runcList(join(bare, 'runc'))) {
    spawnSync(RUNC, ['--root', join(bare, 'runc'), 'kill', c.id, 'KILL'], { stdio: 'ignore', detached: true });
    spawnSync(RUNC, ['--root', join(bare, 'runc'), 'delete', '--force', c.id], { stdio: 'ignore', detached: true });
  }
  for (const m of mountsUnder(dir).sort((a, b) => b.length - a.length)) {
    if (spawnSync('umount', [m], { stdio: 'ignore', detached: true }).status !== 0)
      spawnSync('umount', ['-l', m], { stdio: 'ignore', detached: true });
  }
  for (const h of cgroupHierarchies()) {
    const p = join(h, bareCgroupParent);
    if (!existsSync(p)) continue;
    for (const c of readdirSync(p, { withFileTypes: true })) {
      if (!c.isDirectory()) continue;
      try {
        rmdirSync(join(p, c.name));
      } catch {
        // still used: reported below
      }
    }
    try {
      rmdirSync(p);
    } catch (e) {
      problems.push(`cannot remove cgroup ${p}: ${e.code}`);
    }
  }
  if (cpuCgroup) {
    for (let i = 0; i < 100 && cgroupProcs().length > 0; i++) sleepMs(50);
    try {
      rmdirSync(cpuCgroup.dir);
    } catch (e) {
      problems.push(`cannot remove cgroup ${cpuCgroup.dir}: ${e.code} (processes: ${cgroupProcs().join(' ')})`);
    }
  }
  // What is left (before removing the directory, so processes can still be matched by path).
  for (const m of mountsUnder(dir)) problems.push(`mount left: ${m}`);
  for (const p of processesMentioning(dir)) problems.push(`process left: ${p}`);
  for (const h of cgroupHierarchies()) {
    for (const id of seenIds) if (existsSync(join(h, 'tscompose', id))) problems.push(`cgroup left: ${join(h, 'tscompose', id)}`);
    if (existsSync(join(h, bareCgroupParent))) problems.push(`cgroup left: ${join(h, bareCgroupParent)}`);
  }
  if (opts.keep) log(`bench: kept ${dir}`);
  else if (mountsUnder(dir).length === 0) rmSync(dir, { recursive: true, force: true });
  else problems.push(`${dir} not removed: mounts remain`);
  return problems;
}

// A signal interrupts the timed command (same process group); cleanup() then runs its commands in their own
// sessions, so that further Ctrl-Cs do not interrupt the cleanup.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    if (cleanedUp) return;
    log(`bench: ${sig}: cleaning up`);
    for (const p of cleanup()) log(`bench: ${p}`);
    process.exit(130);
  });
}

function generateProject(variant) {
  mkdirSync(projectDir(variant), { recursive: true });
  let y = 'services:\n';
  for (let i = 0; i < opts.services; i++) {
    y += `  svc${i}:\n    image: busybox:latest\n    network_mode: none\n    command: ["sleep", "3600"]\n`;
    if (variant === 'init') y += '    init: true\n';
  }
  writeFileSync(join(projectDir(variant), 'compose.yaml'), y);
}

/** The bare runtime's inputs, untimed: the image's layers extracted once, config.json templates from `runc spec`. */
function prepareBare() {
  mkdirSync(join(bare, 'bundles'), { recursive: true });
  mkdirSync(join(bare, 'runc'), { recursive: true });
  mkdirSync(join(bare, 'logs'), { recursive: true });
  // The same image, out of tscompose's store: `image save` (docker-archive), then each layer.tar into its own dir.
  const archive = join(bare, 'image.tar');
  sh(process.execPath, [CLI, '--runtime', 'native', 'image', 'save', '-o', archive, 'busybox:latest'], { env });
  const manifest = JSON.parse(sh('tar', ['-xOf', archive, 'manifest.json']).stdout)[0];
  const lowers = [];
  manifest.Layers.forEach((layer, i) => {
    const d = join(bare, `layer${i}`);
    mkdirSync(d);
    sh('sh', ['-c', 'tar -xOf "$1" "$2" | tar -x -C "$3" -f -', 'sh', archive, layer, d]);
    lowers.unshift(d); // overlay: the top layer first
  });
  rmSync(archive);

  const tmpl = join(bare, 'spec');
  mkdirSync(tmpl);
  sh(RUNC, ['spec', '--bundle', tmpl]);
  const base = JSON.parse(readFileSync(join(tmpl, 'config.json'), 'utf8'));
  for (const variant of opts.variants) {
    const s = structuredClone(base);
    s.process.terminal = false;
    s.process.args = ['sleep', '3600'];
    s.root = { path: 'rootfs', readonly: false };
    s.hostname = '@ID@';
    s.linux.cgroupsPath = `/${bareCgroupParent}/@ID@`;
    // runc spec's namespaces include a new network namespace with only lo: network_mode none.
    if (variant === 'init') {
      s.process.args = ['/sbin/docker-init', '--', ...s.process.args];
      s.mounts.push({ destination: '/sbin/docker-init', type: 'bind', source: INIT_BINARY, options: ['bind', 'ro', 'nosuid', 'nodev'] });
    }
    writeFileSync(join(bare, `config-${variant}.json`), JSON.stringify(s, null, 2));
  }
  rmSync(tmpl, { recursive: true });

  const one = join(bare, 'one.sh');
  writeFileSync(
    one,
    `#!/bin/sh
# one.sh up|down VARIANT ID: one container, the minimal way.
set -eu
B=${JSON.stringify(bare)}
b="$B/bundles/$3"
case "$1" in
up)
  mkdir -p "$b/rootfs" "$b/upper" "$b/work"
  sed "s/@ID@/$3/g" "$B/config-$2.json" > "$b/config.json"
  mount -t overlay overlay -o "lowerdir=${lowers.join(':')},upperdir=$b/upper,workdir=$b/work" "$b/rootfs"
  ${RUNC} --root "$B/runc" run -d --bundle "$b" "$3" </dev/null >/dev/null 2>"$B/logs/$3.err"
  ;;
down)
  ${RUNC} --root "$B/runc" kill "$3" KILL
  ${RUNC} --root "$B/runc" delete --force "$3"
  umount "$b/rootfs"
  rm -rf "$b"
  ;;
esac
`,
  );
  chmodSync(one, 0o755);
  return one;
}

// ---------------------------------------------------------------------------------------------------------
// One measurement each

function checkTscompose(variant, expectRunning) {
  const ids = existsSync(join(state, 'containers')) ? readdirSync(join(state, 'containers')) : [];
  ids.forEach((id) => seenIds.add(id));
  const running = runcList(join(run, 'oci')).filter((c) => c.status === 'running');
  if (ids.length !== expectRunning || running.length !== expectRunning) {
    throw new Error(
      `tscompose (${variant}): expected ${expectRunning} containers running, found ${ids.length} records and ${running.length} running in runc`,
    );
  }
}

function checkBare(variant, expectRunning) {
  const running = runcList(join(bare, 'runc')).filter((c) => c.status === 'running');
  if (running.length !== expectRunning) throw new Error(`bare runc (${variant}): expected ${expectRunning} running, found ${running.length}`);
  if (expectRunning === 0 && mountsUnder(join(bare, 'bundles')).length > 0) throw new Error(`bare runc (${variant}): mounts left after down`);
}

function timeTscompose(variant) {
  const up = measured(...tsc(variant, 'up', '-d'));
  checkTscompose(variant, opts.services);
  const down = measured(...tsc(variant, 'down', '-t', '0'), { settle: true });
  checkTscompose(variant, 0);
  if (mountsUnder(state).length > 0) throw new Error(`tscompose (${variant}): mounts left after down`);
  return { up, down };
}

function timeBare(one, variant, parallel, round) {
  const ids = Array.from({ length: opts.services }, (_, i) => `b${round}-${variant}-${parallel}-${i}`).join('\n') + '\n';
  const xargs = (verb) => measured('xargs', ['-P', String(parallel), '-n', '1', one, verb, variant], { input: ids }, { settle: verb === 'down' });
  let up;
  try {
    up = xargs('up');
  } catch (e) {
    const errs = readdirSync(join(bare, 'logs'))
      .map((f) => readFileSync(join(bare, 'logs', f), 'utf8').trim())
      .filter(Boolean);
    throw new Error(`${e.message}\n${errs.slice(0, 3).join('\n')}`, { cause: e });
  }
  checkBare(variant, opts.services);
  const down = xargs('down');
  checkBare(variant, 0);
  return { up, down };
}

// ---------------------------------------------------------------------------------------------------------

let exitCode = 0;
let out = '';
try {
  const { parallelLimit } = await import(join(DIST, 'project', 'graph.js'));
  const limit = parallelLimit(undefined, env);
  const parallel = Math.min(limit ?? opts.services, opts.services);

  log(`bench: ${dir}: pulling busybox:latest (untimed)`);
  sh(process.execPath, [CLI, '--runtime', 'native', '--progress', 'quiet', 'image', 'pull', 'busybox:latest'], { env });
  for (const v of opts.variants) generateProject(v);
  const one = prepareBare();

  const tools = [
    { key: 'tscompose', label: 'tscompose `--runtime native`', time: (v) => timeTscompose(v) },
    { key: 'barePar', label: `bare runc, ${parallel} at once (xargs -P ${parallel})`, time: (v, r) => timeBare(one, v, parallel, r) },
    { key: 'bareSeq', label: 'bare runc, sequential', time: (v, r) => timeBare(one, v, 1, r) },
  ];
  const results = {};
  for (const v of opts.variants) results[v] = Object.fromEntries(tools.map((t) => [t.key, { up: [], down: [] }]));
  const noop = [];

  // One warm-up of each (page cache, runc and node binaries), untimed.
  for (const v of opts.variants) for (const t of tools) t.time(v, 'w');
  for (let r = 0; r < opts.rounds; r++) {
    for (const v of opts.variants) {
      const order = r % 2 ? [...tools].reverse() : tools;
      for (const t of order) {
        const m = t.time(v, r);
        results[v][t.key].up.push(m.up);
        results[v][t.key].down.push(m.down);
      }
      const last = (t, k) => `${results[v][t.key][k].at(-1).ms.toFixed(0)} ms (CPU ${results[v][t.key][k].at(-1).cpuMs.toFixed(0)})`;
      log(`bench: round ${r + 1}/${opts.rounds} ${v}: ${order.map((t) => `${t.key} up ${last(t, 'up')}, down ${last(t, 'down')}`).join('; ')}`);
    }
    noop.push(measured(...tsc(opts.variants[0], 'ps')));
  }

  const n = opts.services;
  const f0 = (x) => (Number.isFinite(x) ? x.toFixed(0) : '–');
  const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '–');
  const x2 = (x) => (Number.isFinite(x) ? `${x.toFixed(2)}×` : '–');
  const wall = (ms) => ms.map((m) => m.ms);
  const cpu = (ms) => ms.map((m) => m.cpuMs);
  const range = (xs) => `${f0(Math.min(...xs))}–${f0(Math.max(...xs))}`;
  const noopMs = median(wall(noop));
  const runcVersion = spawnSync(RUNC, ['--version'], { encoding: 'utf8' })
    .stdout.split('\n')[0]
    .replace(/^runc version /, '');
  const conmonVersion = (spawnSync('conmon', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0] ?? '').replace(/^conmon version /, '');
  out += `\n${n} services (busybox \`sleep 3600\`, \`network_mode: none\`), ${opts.rounds} alternating rounds after one warm-up each, runc ${runcVersion}, conmon ${conmonVersion}, Node ${process.version}:\n`;
  for (const v of opts.variants) {
    const R = results[v];
    out += `\n${v === 'init' ? '`init: true` (bare: the same init binary bind-mounted as /sbin/docker-init)' : 'Without init'}:\n\n`;
    out +=
      '| Runtime | `up` median (ms) | min–max | per container | CPU per container | `down` median (ms) | min–max | per container | CPU per container |\n';
    out += '|---|---:|---:|---:|---:|---:|---:|---:|---:|\n';
    for (const t of tools) {
      const { up, down } = R[t.key];
      out += `| ${t.label} | ${f0(median(wall(up)))} | ${range(wall(up))} | ${f1(median(wall(up)) / n)} | ${f1(median(cpu(up)) / n)} `;
      out += `| ${f0(median(wall(down)))} | ${range(wall(down))} | ${f1(median(wall(down)) / n)} | ${f1(median(cpu(down)) / n)} |\n`;
    }
    const ts = R.tscompose;
    const ratio = (a, b, f = wall) => median(f(a)) / median(f(b));
    const rUp = ratio(ts.up, R.barePar.up);
    const rDown = ratio(ts.down, R.barePar.down);
    const verdict = (x) => (x <= 2 ? 'met' : '**not met**');
    out += `\nPer container, tscompose / bare runc at the same parallelism: up **${x2(rUp)}** (target ≤ 2×: ${verdict(rUp)}), down **${x2(rDown)}** (target ≤ 2×: ${verdict(rDown)}).`;
    out += ` Without the fixed CLI cost (the no-op median subtracted once): up ${x2((median(wall(ts.up)) - noopMs) / median(wall(R.barePar.up)))}, down ${x2((median(wall(ts.down)) - noopMs) / median(wall(R.barePar.down)))}.`;
    out += ` CPU time: up ${x2(ratio(ts.up, R.barePar.up, cpu))}, down ${x2(ratio(ts.down, R.barePar.down, cpu))}.`;
    out += ` Against bare sequential: up ${x2(ratio(ts.up, R.bareSeq.up))}, down ${x2(ratio(ts.down, R.bareSeq.down))}.\n`;
  }
  out += `\nNo-op CLI (\`tscompose --runtime native ps\`, no containers): median ${f0(noopMs)} ms (${range(wall(noop))}), CPU ${f0(median(cpu(noop)))} ms; every \`up\` and \`down\` above pays it once.\n`;
  out +=
    '\nWall time: spawn to exit, measured by the driver. CPU time: the cgroup of the command and everything it started (the CLI, conmon, runc, exit hooks, mount; not the containers themselves), for `down` until the last such process ended.';
  out += ` Bare runc: a generated shell script per container (mkdir, sed config.json from \`runc spec\`, overlay mount of the image layer extracted once, \`runc run -d\` with stdio on /dev/null; down: \`runc kill KILL\`, \`runc delete --force\`, umount, rm -rf), run by \`xargs -P\`. Machine: ${cpus()[0]?.model?.trim() ?? 'unknown CPU'}, ${cpus().length} CPUs, ${process.platform}/${process.arch}.\n`;
} catch (e) {
  log(`bench: error: ${e.stack ?? e}`);
  exitCode = 1;
} finally {
  const problems = cleanup();
  if (problems.length > 0) {
    for (const p of problems) log(`bench: ${p}`);
    exitCode = 1;
  } else log(`bench: cleaned up: no mounts, processes or cgroups left from ${dir}`);
}
process.stdout.write(out);
process.exit(exitCode);
