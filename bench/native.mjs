#!/usr/bin/env node
// Times `tscompose --runtime native up -d` and `down -t 0` of generated projects of 20 (or more) services (busybox
// `sleep 3600`, `network_mode: none`) next to the bare OCI runtimes, crun and runc, running the same containers the
// way a shell script would, alternating, and prints medians, per-container wall and CPU times, ratios, how the
// per-container figures grow with the number of services, and a breakdown per step, as a markdown block.
// CPU time is that of a cgroup the timed command runs in (v1 cpuacct or v2 cpu.stat): the command and everything
// it starts, daemons included (conmon, the OCI runtime, exit hooks), not the containers (the runtime moves them
// to their own).
//
// Usage: node bench/native.mjs [--rounds N[,N…]] [--services N[,N…]] [--variants init,no-init]
//          [--oci-runtime crun|runc|both] [--bare-config tscompose|runc-spec] [--install] [--no-breakdown]
//          [--tscompose PATH] [--keep]
//   --services 20,100,200   sizes, each measured in full (default 20);
//   --rounds 5,2,1          timed rounds per size (the last value repeats; default 5 up to 50 services, else 2);
//   --oci-runtime           which OCI runtime tscompose uses (TSCOMPOSE_OCI_RUNTIME) and the bare rows run:
//                           both by default when crun can run here (`tscompose version --verbose` picks it), else runc;
//   --bare-config           the config.json the bare containers run (see below): tscompose (default), the one
//                           tscompose generates for the same service; runc-spec, the old `runc spec` template;
//   --install               apt-get install acct when accton is missing (for the CPU breakdown), else it is skipped.
// Needs: root, runc and/or crun, conmon, overlayfs, a build (`npx tsc -p tsconfig.build.json && node
// scripts/bundle.mjs`), and busybox:latest pullable by the native runtime (set TSCOMPOSE_REGISTRY_MIRRORS, e.g.
// http://127.0.0.1:5001, when Docker Hub is not reachable). crun 1.8 needs the hugetlb controller off cgroup2 on
// hybrid hosts: `bash scripts/engine-env.sh` does that.
//
// Everything lives under one mkdtemp directory (TSCOMPOSE_STATE_DIR, TSCOMPOSE_RUN_DIR, the bare bundles, runc's
// and crun's --root, accounting and trace files) and is removed at the end, also on failure or Ctrl-C: accounting
// off, `down`, kill/delete in both runtimes, unmount, rm; then it checks that no mount, process, cgroup or OCI
// runtime state is left.
//
// The bare runtime, per container, as generated shell (bare/one-RUNTIME.sh, run through `xargs -P`):
//   up:   mkdir bundle/{rootfs,upper,work}; copy the container's files (tscompose config: etc/hosts, etc/hostname,
//         etc/resolv.conf, one cp); sed the config.json template (@ID@ → the container's id); mount -t overlay
//         (lowerdir = the image layers, extracted once, untimed); then `RUNTIME run -d` with stdio on /dev/null (a
//         detached container would hold pipes open);
//   down: RUNTIME kill ID KILL; RUNTIME delete --force ID; umount rootfs; rm -rf bundle.
// i.e. the same per-container work tscompose does (overlay mount, config.json, /etc files, create+start, kill,
// delete, unmount, remove), minus its own bookkeeping (records, locks, events, conmon). The bundles' and the
// runtime's state directories get the placement hint tscompose gives its own (chattr +T, src/lib/fs/spread.ts).
// The config.json template, per variant, untimed:
//   --bare-config tscompose (default): the one tscompose itself writes. One container of the same service
//         (`tscompose --runtime native create svc0` in the bench's own state dir) is created, its
//         bundle/config.json and the files its bind mounts take from its directory (etc/hosts, etc/hostname,
//         etc/resolv.conf) copied, and it is removed again (`down`) before any timing. In the template, root.path
//         becomes the bare bundle's rootfs, linux.cgroupsPath the bare container's own cgroup, those bind mounts'
//         sources the copies in the bare bundle; everything else stays: Docker's default seccomp filter,
//         capabilities, masked and read-only paths, mounts, namespaces, devices, hostname, env, annotations, the
//         init binary bind mount (tscompose binds it from the host). No other mention of the container's id or
//         of tscompose's state/run directories may remain (checked). Each bare container's first process is
//         checked to run under a seccomp filter.
//   --bare-config runc-spec: from `runc spec` (which crun takes as is): no seccomp filter, runc's default
//         capabilities and mounts; terminal false, args [docker-init --] sleep 3600, root read-write, its own
//         cgroup, the default new network namespace = network_mode none, the init binary bind-mounted.
// It runs sequentially (-P 1) and with tscompose's parallelism (parallelLimit() from dist/: --parallel /
// COMPOSE_PARALLEL_LIMIT, unlimited by default, i.e. all services at once). Ratios compare tscompose on runtime X
// with bare X at the same parallelism. One untimed warm-up of every row runs first, at the smallest size only.
//
// The breakdown (at the smallest size, first variant; one extra up+down cycle per row, untimed in the tables):
//   - CPU by process name from BSD process accounting (`accton FILE`, records parsed by bench/native-lib.mjs),
//     kept to the measured commands' descendants and the daemons reparented to the bench's reaper during the cycle;
//     the kernel rounds each process's CPU down to 10 ms, so short processes mostly count 0: the cgroup total is
//     printed beside the sum. Accounting is host-wide: benches running at once take turns (a lock directory,
//     /tmp/tscompose-bench-acct.lock), and the bench turns it off (or back to the distribution's file if that was
//     being written) on every exit path but SIGKILL.
//   - Wall time per step inside the CLI: TSCOMPOSE_TRACE=<file> (src/util/trace.ts), per span name.
//
// Orphaned `run -d` containers and daemonized conmons need a parent that reaps them; when pid 1 does not (some
// VMs), killed bare containers stay zombies. So the script re-runs itself under `tini -s` (a reaping subreaper)
// when tini exists; the accounting breakdown also uses it to tell the session's daemons from the host's.
//
// Exits non-zero on errors only, never on a missed target.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  breakdownSection,
  cgroupHierarchies,
  cpuByCommand,
  createCpuCgroup,
  f0,
  f1,
  fail,
  log,
  median,
  mountsUnder,
  ociList,
  ociStateLeft,
  processAccounting,
  processesMentioning,
  range,
  readTrace,
  sh,
  sleepMs,
  versionOf,
  which,
  x2,
} from './native-lib.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TSCOMPOSE = join(ROOT, 'bin', 'tscompose');
const SELF = fileURLToPath(import.meta.url);
const TARGET_RATIO = 1.2; // issue 16: tscompose per container at most 1.2× the bare OCI runtime
const TARGET_LINEAR = 1.3; // issue 16: per-container figures at the largest size within 1.3× of the smallest
const BARE_CONFIG_NOTE = {
  tscompose:
    "tscompose's own config.json for the same service (Docker's default seccomp filter, capabilities, masked paths, /etc/hosts, hostname and resolv.conf bind mounts; only the rootfs, cgroup and those files' paths changed)",
  'runc-spec': "the `runc spec` template (no seccomp filter, runc's default capabilities and mounts, no /etc files)",
};

// ---------------------------------------------------------------------------------------------------------
// Arguments

const USAGE =
  'usage: node bench/native.mjs [--rounds N[,N…]] [--services N[,N…]] [--variants init,no-init] [--oci-runtime crun|runc|both] [--bare-config tscompose|runc-spec] [--install] [--no-breakdown] [--tscompose PATH] [--keep]\n';

function parseArgs(argv) {
  const opts = { rounds: undefined, services: [20], variants: ['init', 'no-init'], ociRuntime: undefined, install: false, breakdown: true };
  Object.assign(opts, { keep: false, tscompose: TSCOMPOSE, bareConfig: 'tscompose' });
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const is = (name) => a === name || a.startsWith(`${name}=`);
    const value = () => (a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i]);
    const intList = (name) => {
      const v = String(value() ?? '');
      const ns = v.split(',').map(Number);
      if (ns.some((n) => !Number.isInteger(n) || n < 1)) fail(`${name} needs positive integers separated by commas, got ${JSON.stringify(v)}`);
      return ns;
    };
    if (is('--rounds')) opts.rounds = intList('--rounds');
    else if (is('--services')) opts.services = [...new Set(intList('--services'))].sort((x, y) => x - y);
    else if (is('--variants')) {
      opts.variants = String(value() ?? '')
        .split(',')
        .filter(Boolean);
      if (opts.variants.length === 0 || opts.variants.some((v) => v !== 'init' && v !== 'no-init'))
        fail('--variants takes init, no-init or init,no-init');
    } else if (is('--oci-runtime')) {
      const v = value();
      if (!['crun', 'runc', 'both'].includes(v)) fail(`--oci-runtime takes crun, runc or both, not ${JSON.stringify(v)}`);
      opts.ociRuntime = v;
    } else if (is('--bare-config')) {
      const v = value();
      if (!['tscompose', 'runc-spec'].includes(v)) fail(`--bare-config takes tscompose or runc-spec, not ${JSON.stringify(v)}`);
      opts.bareConfig = v;
    } else if (is('--tscompose')) {
      const v = value();
      if (!v) fail('--tscompose needs a path');
      opts.tscompose = resolve(v);
    } else if (a === '--install') opts.install = true;
    else if (a === '--no-breakdown') opts.breakdown = false;
    else if (a === '--keep') opts.keep = true;
    else if (a === '-h' || a === '--help') {
      process.stdout.write(USAGE);
      process.exit(0);
    } else fail(`unknown argument ${a}`);
  }
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
const roundsFor = (sizeIndex) => opts.rounds?.[Math.min(sizeIndex, opts.rounds.length - 1)] ?? (opts.services[sizeIndex] <= 50 ? 5 : 2);
// The CLI under test and its dist/ (another build with --tscompose: a copy whose bin/ runs its own dist/).
const CLI = opts.tscompose;
const DIST = join(dirname(CLI), '..', 'dist');

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
// Where orphans go: tini when the bench runs under it (it is this process's parent), else pid 1.
const REAPER_PID = process.env.TSCOMPOSE_BENCH_REAPER ? process.ppid : 1;

if (process.getuid?.() !== 0) fail('the native runtime needs root');
const BIN = { runc: which('runc'), crun: which('crun') };
if (!BIN.runc && !BIN.crun) fail('neither runc nor crun found');
if (!which('conmon')) fail('conmon not found');
if (!existsSync(join(DIST, 'cli'))) fail(`${DIST} is missing: build first (npx tsc -p tsconfig.build.json && node scripts/bundle.mjs)`);
const INIT_BINARY = ['/usr/bin/tini-static', '/usr/bin/catatonit', '/usr/libexec/podman/catatonit'].find((p) => existsSync(p));
if (opts.variants.includes('init') && !INIT_BINARY) fail('init: true needs tini-static or catatonit (apt-get install tini)');

// ---------------------------------------------------------------------------------------------------------
// Setup

const dir = mkdtempSync(join(tmpdir(), 'tscompose-bench-native-'));
const state = join(dir, 'state');
const run = join(dir, 'run');
const bare = join(dir, 'bare');
const bareRoot = (rt) => join(bare, rt);
const bareCgroupParent = `tscompose-bench-${process.pid}`;
const baseEnv = Object.fromEntries(
  Object.entries(process.env).filter(
    ([k]) => !k.startsWith('COMPOSE_') && !['TSCOMPOSE_BENCH_REAPER', 'TSCOMPOSE_RUNTIME', 'TSCOMPOSE_OCI_RUNTIME', 'TSCOMPOSE_TRACE'].includes(k),
  ),
);
Object.assign(baseEnv, { TSCOMPOSE_STATE_DIR: state, TSCOMPOSE_RUN_DIR: run });
const envFor = (rt, extra = {}) => ({ ...baseEnv, ...(rt ? { TSCOMPOSE_OCI_RUNTIME: rt } : {}), ...extra });
const seenIds = new Set(); // tscompose container ids, for the cgroup leak check
const project = (variant) => `tscbench-${variant}`;
const projectDir = (variant) => join(dir, variant);
// The CLI is executed as a user's shell does (bin/tscompose, a shell line that execs Node), not as `node CLI`: run
// through Node directly it loses the launcher's deferral of NODE_EXTRA_CA_CERTS, which Node parses at every start
// where the variable is set (~40 ms here), and is loaded as an ES module, a start no installed command takes.
const tsc = (variant, rt, extraEnv, ...argv) => [
  CLI,
  ['--runtime', 'native', '-p', project(variant), '--progress', 'quiet', ...argv],
  { cwd: projectDir(variant), env: envFor(rt, extraEnv) },
];

const cpuCgroup = createCpuCgroup(`tscompose-bench-cpu-${process.pid}`);
const acct = opts.breakdown ? processAccounting({ install: opts.install }) : { available: false, stop: () => undefined };
process.on('exit', () => acct.stop()); // a last resort: cleanup() stops it first

/**
 * Runs a command (in the CPU cgroup) and returns its wall time, pid and the cgroup's CPU time. With `settle`,
 * waits (up to 10 s, after the wall time is taken) until the cgroup has no processes left, so processes that
 * outlive the command (conmon, exit hooks after a `down`) are counted too.
 */
function measured(cmd, argv, options = {}, { settle = false } = {}) {
  if (!cpuCgroup) return { ...sh(cmd, argv, options), cpuMs: NaN };
  const c0 = cpuCgroup.read();
  const r = sh('sh', ['-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', cpuCgroup.dir, cmd, ...argv], options);
  for (let i = 0; settle && i < 200 && cpuCgroup.procs().length > 0; i++) sleepMs(50);
  return { ...r, cpuMs: cpuCgroup.read() - c0 };
}

let cleanedUp = false;
function cleanup() {
  if (cleanedUp) return [];
  cleanedUp = true;
  acct.stop();
  const problems = [];
  for (const v of opts.variants) {
    if (!existsSync(join(projectDir(v), 'compose.yaml'))) continue;
    // The runtime that made a container handles it, whichever is chosen here (native/oci/oci-choice.ts).
    const [cmd, argv, o] = tsc(v, undefined, {}, 'down', '-t', '0', '--remove-orphans');
    const r = spawnSync(cmd, argv, { ...o, encoding: 'utf8', detached: true });
    if (r.status !== 0) problems.push(`tscompose down (${v}) failed: ${(r.stderr || '').trim().split('\n')[0]}`);
  }
  for (const [rt, bin] of Object.entries(BIN)) {
    for (const c of ociList(bin, bareRoot(rt))) {
      spawnSync(bin, ['--root', bareRoot(rt), 'kill', c.id, 'KILL'], { stdio: 'ignore', detached: true });
      spawnSync(bin, ['--root', bareRoot(rt), 'delete', '--force', c.id], { stdio: 'ignore', detached: true });
    }
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
    for (let i = 0; i < 100 && cpuCgroup.procs().length > 0; i++) sleepMs(50);
    try {
      rmdirSync(cpuCgroup.dir);
    } catch (e) {
      problems.push(`cannot remove cgroup ${cpuCgroup.dir}: ${e.code} (processes: ${cpuCgroup.procs().join(' ')})`);
    }
  }
  // What is left (before removing the directory, so processes can still be matched by path).
  for (const m of mountsUnder(dir)) problems.push(`mount left: ${m}`);
  for (const p of processesMentioning(dir)) problems.push(`process left: ${p}`);
  for (const root of [join(run, 'oci'), bareRoot('runc'), bareRoot('crun')])
    for (const s of ociStateLeft(root)) problems.push(`OCI runtime state left: ${s}`);
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

/** The OCI runtimes to measure (see --oci-runtime), and why. */
function chooseRuntimes() {
  const chosen = spawnSync(process.execPath, [CLI, 'version', '--verbose'], { encoding: 'utf8', env: baseEnv });
  const line = (chosen.stdout ?? '').split('\n').find((l) => l.startsWith('native OCI runtime:')) ?? '';
  const crunUsable = Boolean(BIN.crun) && line.startsWith('native OCI runtime: crun');
  const wanted = opts.ociRuntime ?? (crunUsable ? 'both' : 'runc');
  if (!opts.ociRuntime && !crunUsable) log(`bench: crun not measured: ${line || 'tscompose version --verbose names no OCI runtime'}`);
  const list = wanted === 'both' ? ['crun', 'runc'] : [wanted];
  for (const rt of list) if (!BIN[rt]) fail(`--oci-runtime ${wanted}: ${rt} is not installed`);
  if (list.includes('crun') && !crunUsable) log(`bench: warning: tscompose would not pick crun here (${line}); measuring it as asked`);
  return list;
}
const runtimes = chooseRuntimes();

function generateProject(variant, n) {
  mkdirSync(projectDir(variant), { recursive: true });
  let y = 'services:\n';
  for (let i = 0; i < n; i++) {
    y += `  svc${i}:\n    image: busybox:latest\n    network_mode: none\n    command: ["sleep", "3600"]\n`;
    if (variant === 'init') y += '    init: true\n';
  }
  writeFileSync(join(projectDir(variant), 'compose.yaml'), y);
}

/**
 * config.json templates (bare/config-VARIANT.json, `@ID@` for the container's id) from `runc spec` (see the
 * header, --bare-config runc-spec).
 */
function runcSpecTemplates() {
  const tmpl = join(bare, 'spec');
  mkdirSync(tmpl);
  sh(BIN.runc ?? BIN.crun, ['spec', '--bundle', tmpl]);
  const base = JSON.parse(readFileSync(join(tmpl, 'config.json'), 'utf8'));
  for (const variant of opts.variants) {
    const s = structuredClone(base);
    s.process.terminal = false;
    s.process.args = ['sleep', '3600'];
    s.root = { path: 'rootfs', readonly: false };
    s.hostname = '@ID@';
    s.linux.cgroupsPath = `/${bareCgroupParent}/@ID@`;
    // `runc spec`'s namespaces include a new network namespace with only lo: network_mode none.
    if (variant === 'init') {
      s.process.args = ['/sbin/docker-init', '--', ...s.process.args];
      s.mounts.push({ destination: '/sbin/docker-init', type: 'bind', source: INIT_BINARY, options: ['bind', 'ro', 'nosuid', 'nodev'] });
    }
    writeFileSync(join(bare, `config-${variant}.json`), JSON.stringify(s, null, 2));
  }
  rmSync(tmpl, { recursive: true });
}

/**
 * config.json templates from the one tscompose writes for svc0 (see the header, --bare-config tscompose), and the
 * files its bind mounts take from the container's directory, copied to bare/files-VARIANT/ (the script copies them
 * into each bundle). Untimed; the container is removed again.
 */
function tscomposeTemplates() {
  const rt = runtimes[0];
  for (const variant of opts.variants) {
    generateProject(variant, 1);
    sh(...tsc(variant, rt, {}, 'create', 'svc0'));
    const ids = readdirSync(join(state, 'containers'));
    ids.forEach((id) => seenIds.add(id));
    if (ids.length !== 1) throw new Error(`tscompose create (${variant}): expected one container record, found ${ids.length}`);
    const [id] = ids;
    const cdir = join(state, 'containers', id);
    const s = JSON.parse(readFileSync(join(cdir, 'bundle', 'config.json'), 'utf8'));
    const bundle = join(bare, 'bundles', '@ID@');
    const files = join(bare, `files-${variant}`);
    s.root = { ...s.root, path: join(bundle, 'rootfs') };
    s.linux.cgroupsPath = `/${bareCgroupParent}/@ID@`;
    for (const m of s.mounts) {
      if (typeof m.source !== 'string' || !m.source.startsWith(cdir + '/')) continue;
      const rel = m.source.slice(cdir.length + 1);
      mkdirSync(dirname(join(files, rel)), { recursive: true });
      cpSync(m.source, join(files, rel), { recursive: true });
      m.source = join(bundle, rel);
    }
    const text = JSON.stringify(s, null, 2);
    for (const needle of [id, state, run]) {
      if (text.includes(needle)) throw new Error(`tscompose's config.json (${variant}) still mentions ${needle} after the rewrite`);
    }
    if (!s.linux.seccomp) throw new Error(`tscompose's config.json (${variant}) has no seccomp filter`);
    writeFileSync(join(bare, `config-${variant}.json`), text);
    sh(...tsc(variant, rt, {}, 'down', '-t', '0'));
    checkTscompose(variant, rt, 0);
  }
}

/** The bare runtimes' inputs, untimed: the image's layers extracted once, the config.json templates, the scripts. */
function prepareBare() {
  for (const d of ['bundles', 'logs', ...runtimes]) mkdirSync(join(bare, d), { recursive: true });
  // The placement hint tscompose gives its own per-container directories (src/lib/fs/spread.ts: chattr +T), given to
  // the bare ones too: without it, on ext4 without a journal, only the bare containers' inode allocations would scan
  // their block group's recently deleted inodes. Where the flag cannot be set, neither side has it.
  spawnSync('chattr', ['+T', join(bare, 'bundles'), ...runtimes.map((rt) => join(bare, rt))]);
  // The same image, out of tscompose's store: `image save` (docker-archive), then each layer.tar into its own dir.
  const archive = join(bare, 'image.tar');
  sh(process.execPath, [CLI, '--runtime', 'native', 'image', 'save', '-o', archive, 'busybox:latest'], { env: baseEnv });
  const manifest = JSON.parse(sh('tar', ['-xOf', archive, 'manifest.json']).stdout)[0];
  const lowers = [];
  manifest.Layers.forEach((layer, i) => {
    const d = join(bare, `layer${i}`);
    mkdirSync(d);
    sh('sh', ['-c', 'tar -xOf "$1" "$2" | tar -x -C "$3" -f -', 'sh', archive, layer, d]);
    lowers.unshift(d); // overlay: the top layer first
  });
  rmSync(archive);
  if (opts.bareConfig === 'tscompose') tscomposeTemplates();
  else runcSpecTemplates();
  // Files for the bundle (tscompose's /etc files): copied per container, as tscompose writes them per container.
  const copyFiles = opts.bareConfig === 'tscompose' ? '\n  cp -R "$B/files-$2/." "$b/"' : '';

  const scripts = {};
  for (const rt of runtimes) {
    scripts[rt] = join(bare, `one-${rt}.sh`);
    writeFileSync(
      scripts[rt],
      `#!/bin/sh
# one-${rt}.sh up|down VARIANT ID: one container, the minimal way.
set -eu
B=${JSON.stringify(bare)}
R="$B/${rt}"
b="$B/bundles/$3"
case "$1" in
up)
  mkdir -p "$b/rootfs" "$b/upper" "$b/work"${copyFiles}
  sed "s/@ID@/$3/g" "$B/config-$2.json" > "$b/config.json"
  mount -t overlay overlay -o "lowerdir=${lowers.join(':')},upperdir=$b/upper,workdir=$b/work" "$b/rootfs"
  ${BIN[rt]} --root "$R" run -d --bundle "$b" "$3" </dev/null >/dev/null 2>"$B/logs/$3.err"
  ;;
down)
  ${BIN[rt]} --root "$R" kill "$3" KILL
  ${BIN[rt]} --root "$R" delete --force "$3"
  umount "$b/rootfs"
  rm -rf "$b"
  ;;
esac
`,
    );
    chmodSync(scripts[rt], 0o755);
  }
  return scripts;
}

// ---------------------------------------------------------------------------------------------------------
// One measurement each

function checkTscompose(variant, rt, expectRunning) {
  const ids = existsSync(join(state, 'containers')) ? readdirSync(join(state, 'containers')) : [];
  ids.forEach((id) => seenIds.add(id));
  const running = ociList(BIN[rt], join(run, 'oci')).filter((c) => c.status === 'running');
  if (ids.length !== expectRunning || running.length !== expectRunning) {
    throw new Error(
      `tscompose (${variant}, ${rt}): expected ${expectRunning} containers running, found ${ids.length} records and ${running.length} running in ${rt}`,
    );
  }
  // runc keeps state.json per container, crun `status`: the containers are the asked runtime's.
  const marker = rt === 'crun' ? 'status' : 'state.json';
  if (running.length > 0 && !existsSync(join(run, 'oci', running[0].id, marker)))
    throw new Error(`tscompose (${variant}): containers not made by ${rt}`);
}

function checkBare(rt, variant, expectRunning) {
  const running = ociList(BIN[rt], bareRoot(rt)).filter((c) => c.status === 'running');
  if (running.length !== expectRunning) throw new Error(`bare ${rt} (${variant}): expected ${expectRunning} running, found ${running.length}`);
  // tscompose's config: the first process runs under its seccomp filter (mode 2), as in tscompose's containers.
  if (opts.bareConfig === 'tscompose' && running.length > 0) {
    const seccomp = /^Seccomp:\s*(\d+)/m.exec(readFileSync(`/proc/${running[0].pid}/status`, 'utf8'))?.[1];
    if (seccomp !== '2') throw new Error(`bare ${rt} (${variant}): ${running[0].id} runs with Seccomp: ${seccomp}, not 2 (filter)`);
  }
  if (expectRunning === 0 && mountsUnder(join(bare, 'bundles')).length > 0) throw new Error(`bare ${rt} (${variant}): mounts left after down`);
}

function timeTscompose(variant, rt, n, extraEnv = {}) {
  const up = measured(...tsc(variant, rt, extraEnv, 'up', '-d'));
  checkTscompose(variant, rt, n);
  const down = measured(...tsc(variant, rt, extraEnv, 'down', '-t', '0'), { settle: true });
  checkTscompose(variant, rt, 0);
  if (mountsUnder(state).length > 0) throw new Error(`tscompose (${variant}, ${rt}): mounts left after down`);
  return { up, down };
}

function timeBare(script, rt, variant, parallel, n, round) {
  const ids = Array.from({ length: n }, (_, i) => `b${round}-${rt}-${variant}-${parallel}-${i}`).join('\n') + '\n';
  const xargs = (verb) => measured('xargs', ['-P', String(parallel), '-n', '1', script, verb, variant], { input: ids }, { settle: verb === 'down' });
  let up;
  try {
    up = xargs('up');
  } catch (e) {
    const errs = readdirSync(join(bare, 'logs'))
      .map((f) => readFileSync(join(bare, 'logs', f), 'utf8').trim())
      .filter(Boolean);
    throw new Error(`${e.message}\n${errs.slice(0, 3).join('\n')}`, { cause: e });
  }
  checkBare(rt, variant, n);
  const down = xargs('down');
  checkBare(rt, variant, 0);
  return { up, down };
}

/** One up+down cycle under process accounting (when available): the measurement and CPU per command name. */
function accounted(name, cycle) {
  if (!acct.available) return { m: cycle(), byComm: undefined };
  const file = join(dir, `acct-${name}`);
  const sinceSec = Math.floor(Date.now() / 1000);
  let m;
  acct.start(file);
  try {
    m = cycle();
  } finally {
    acct.stop();
  }
  return { m, byComm: cpuByCommand(acct.read(file, { roots: [m.up.pid, m.down.pid], reaper: REAPER_PID, sinceSec })) };
}

// ---------------------------------------------------------------------------------------------------------
// Output

const wall = (ms) => ms.map((m) => m.ms);
const cpu = (ms) => ms.map((m) => m.cpuMs);
const perContainer = (R, n) => ({
  upWall: median(wall(R.up)) / n,
  upCpu: median(cpu(R.up)) / n,
  downWall: median(wall(R.down)) / n,
  downCpu: median(cpu(R.down)) / n,
});

function sizeSection(n, rounds, R, noop, tools) {
  const noopMs = median(wall(noop));
  let s = `\n#### ${n} services, ${rounds} alternating round${rounds > 1 ? 's' : ''}\n`;
  for (const v of opts.variants) {
    s += `\n${v === 'init' ? '`init: true` (bare: the same init binary bind-mounted as /sbin/docker-init)' : 'Without init'}, ${n} services:\n\n`;
    s +=
      '| Runtime | `up` median (ms) | min–max | per container | CPU per container | `down` median (ms) | min–max | per container | CPU per container |\n';
    s += '|---|---:|---:|---:|---:|---:|---:|---:|---:|\n';
    for (const t of tools) {
      const { up, down } = R[v][t.key];
      const p = perContainer(R[v][t.key], n);
      s += `| ${t.label} | ${f0(median(wall(up)))} | ${range(wall(up))} | ${f1(p.upWall)} | ${f1(p.upCpu)} `;
      s += `| ${f0(median(wall(down)))} | ${range(wall(down))} | ${f1(p.downWall)} | ${f1(p.downCpu)} |\n`;
    }
    const verdict = (x) => (x <= TARGET_RATIO ? 'met' : '**not met**');
    for (const rt of runtimes) {
      const ts = R[v][`ts-${rt}`];
      const par = R[v][`par-${rt}`];
      const seq = R[v][`seq-${rt}`];
      const ratio = (a, b, f = wall) => median(f(a)) / median(f(b));
      const rUp = ratio(ts.up, par.up);
      const rDown = ratio(ts.down, par.down);
      s += `\nPer container, tscompose (${rt}) / bare ${rt} at the same parallelism: up **${x2(rUp)}** (target ≤ ${TARGET_RATIO}×: ${verdict(rUp)}), down **${x2(rDown)}** (${verdict(rDown)}).`;
      s += ` Without the fixed CLI cost (the no-op median subtracted once): up ${x2((median(wall(ts.up)) - noopMs) / median(wall(par.up)))}, down ${x2((median(wall(ts.down)) - noopMs) / median(wall(par.down)))}.`;
      s += ` CPU time: up ${x2(ratio(ts.up, par.up, cpu))}, down ${x2(ratio(ts.down, par.down, cpu))}.`;
      s += ` Against bare ${rt} sequential: up ${x2(ratio(ts.up, seq.up))}, down ${x2(ratio(ts.down, seq.down))}.\n`;
    }
  }
  s += `\nNo-op CLI (\`tscompose --runtime native ps\` of the ${n}-service project, no containers): median ${f0(noopMs)} ms (${range(wall(noop))}), CPU ${f0(median(cpu(noop)))} ms; every \`up\` and \`down\` above pays it once.\n`;
  return s;
}

function linearitySection(sizes, results, tools) {
  const [lo, hi] = [sizes[0], sizes.at(-1)];
  let s = `\n#### Linearity: per-container figures at ${hi} services / at ${lo} (target ≤ ${TARGET_LINEAR}×)\n\n`;
  s += '| Variant | Runtime | `up` wall | `up` CPU | `down` wall | `down` CPU |\n|---|---|---:|---:|---:|---:|\n';
  for (const v of opts.variants) {
    for (const t of tools) {
      const a = perContainer(results[lo][v][t.key], lo);
      const b = perContainer(results[hi][v][t.key], hi);
      const cell = (k) => {
        const r = b[k] / a[k];
        return r > TARGET_LINEAR ? `**${x2(r)}**` : x2(r);
      };
      s += `| ${v} | ${t.label.replace(/, \d+ at once \(xargs -P \d+\)/, ', all at once')} | ${cell('upWall')} | ${cell('upCpu')} | ${cell('downWall')} | ${cell('downCpu')} |\n`;
    }
  }
  return s;
}

// ---------------------------------------------------------------------------------------------------------

let exitCode = 0;
let out = '';
try {
  const { parallelLimit } = await import(join(DIST, 'project', 'graph.js'));
  const limit = parallelLimit(undefined, baseEnv);
  const parallelFor = (n) => Math.min(limit ?? n, n);

  log(`bench: ${dir}: pulling busybox:latest (untimed); OCI runtimes: ${runtimes.join(', ')}`);
  sh(process.execPath, [CLI, '--runtime', 'native', '--progress', 'quiet', 'image', 'pull', 'busybox:latest'], { env: baseEnv });
  const scripts = prepareBare();

  const toolsFor = (n) => {
    const p = parallelFor(n);
    return runtimes.flatMap((rt) => [
      { key: `ts-${rt}`, label: `tscompose \`--runtime native\` (${rt})`, time: (v) => timeTscompose(v, rt, n) },
      { key: `par-${rt}`, label: `bare ${rt}, ${p} at once (xargs -P ${p})`, time: (v, r) => timeBare(scripts[rt], rt, v, p, n, r) },
      { key: `seq-${rt}`, label: `bare ${rt}, sequential`, time: (v, r) => timeBare(scripts[rt], rt, v, 1, n, r) },
    ]);
  };
  const results = {};
  const noops = {};
  const sections = [];
  for (const [si, n] of opts.services.entries()) {
    const tools = toolsFor(n);
    const rounds = roundsFor(si);
    for (const v of opts.variants) generateProject(v, n);
    results[n] = {};
    for (const v of opts.variants) results[n][v] = Object.fromEntries(tools.map((t) => [t.key, { up: [], down: [] }]));
    noops[n] = [];
    // One warm-up of each (page cache, the runtimes' and node's binaries), untimed, at the first size.
    if (si === 0) for (const v of opts.variants) for (const t of tools) t.time(v, 'w');
    for (let r = 0; r < rounds; r++) {
      for (const v of opts.variants) {
        const order = r % 2 ? [...tools].reverse() : tools;
        for (const t of order) {
          const m = t.time(v, r);
          results[n][v][t.key].up.push(m.up);
          results[n][v][t.key].down.push(m.down);
        }
        const last = (t, k) => `${f0(results[n][v][t.key][k].at(-1).ms)} ms (CPU ${f0(results[n][v][t.key][k].at(-1).cpuMs)})`;
        log(
          `bench: ${n} services, round ${r + 1}/${rounds} ${v}: ${order.map((t) => `${t.key} up ${last(t, 'up')}, down ${last(t, 'down')}`).join('; ')}`,
        );
      }
      noops[n].push(measured(...tsc(opts.variants[0], runtimes[0], {}, 'ps')));
    }
    sections.push(sizeSection(n, rounds, results[n], noops[n], tools));
  }

  let breakdown = '';
  if (opts.breakdown) {
    const n = opts.services[0];
    const v = opts.variants[0];
    const p = parallelFor(n);
    generateProject(v, n);
    const rows = [];
    for (const rt of runtimes) {
      log(`bench: breakdown (${rt}): one up+down cycle of tscompose and of bare ${rt}, ${n} services, ${v}`);
      const traceFile = join(dir, `trace-${rt}.jsonl`);
      const ts = accounted(`ts-${rt}`, () => timeTscompose(v, rt, n, { TSCOMPOSE_TRACE: traceFile }));
      rows.push({ label: `tscompose (${rt})`, ...ts, trace: readTrace(traceFile) });
      rows.push({ label: `bare ${rt}`, ...accounted(`bare-${rt}`, () => timeBare(scripts[rt], rt, v, p, n, 'acct')) });
    }
    breakdown = breakdownSection({ n, variant: v, rows, parallel: p, acctNote: acct.note });
  }

  const versions = runtimes.map((rt) => `${rt} ${versionOf(BIN[rt])}`).join(', ');
  out += `\nbusybox \`sleep 3600\`, \`network_mode: none\`; one warm-up of each row first; OCI runtimes ${versions}, conmon ${versionOf('conmon')}, Node ${process.version}; bare containers run ${BARE_CONFIG_NOTE[opts.bareConfig]}.\n`;
  out += sections.join('');
  if (opts.services.length > 1) out += linearitySection(opts.services, results, toolsFor(opts.services.at(-1)));
  out += breakdown;
  out +=
    '\nWall time: spawn to exit, measured by the driver. CPU time: the cgroup of the command and everything it started (the CLI, conmon, the OCI runtime, exit hooks, mount; not the containers themselves), for `down` until the last such process ended.';
  out += ` Bare rows: a generated shell script per container (mkdir, ${opts.bareConfig === 'tscompose' ? 'cp of the /etc files, ' : ''}sed of the config.json template, overlay mount of the image layers extracted once, \`RUNTIME run -d\` with stdio on /dev/null; down: \`RUNTIME kill KILL\`, \`RUNTIME delete --force\`, umount, rm -rf), run by \`xargs -P\`; the template is ${BARE_CONFIG_NOTE[opts.bareConfig]}. Machine: ${cpus()[0]?.model?.trim() ?? 'unknown CPU'}, ${cpus().length} CPUs, ${process.platform}/${process.arch}.\n`;
} catch (e) {
  log(`bench: error: ${e.stack ?? e}`);
  exitCode = 1;
} finally {
  const problems = cleanup();
  if (problems.length > 0) {
    for (const p of problems) log(`bench: ${p}`);
    exitCode = 1;
  } else log(`bench: cleaned up: no mounts, processes, cgroups or OCI runtime state left from ${dir}`);
}
process.stdout.write(out);
process.exit(exitCode);
