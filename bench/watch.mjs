#!/usr/bin/env node
// Times `develop.watch` (issue 17) on Docker Engine and on the native runtime (crun and runc), each figure beside a
// bare way of doing the same thing in the same run, alternating which goes first, and prints a markdown block:
//
// - sync: from a file write on the host to its content being readable inside the container. One service (busybox,
//   `develop.watch: [{path: ./src, target: /app, action: sync}]`) started with `up -d --watch` (the detached
//   watcher). The container polls /app/f every 5 ms with shell builtins only (`read -r t </app/f`, then
//   `read -t 0.005` on a fifo as the sleep: no process per poll, about 1 % of a CPU) and appends each new content
//   to /out/seen, a bind-mounted host directory; the bench notes the time of the inotify event (fs.watch) that
//   first shows the token in that file. Write time and seen time are both taken by the bench on the host (one
//   clock, process.hrtime); each figure includes 0–5 ms of polling (2.5 ms on average), the same for every row.
//   Rows, per runtime, into the same container (the baselines copy a file from outside the watched directory):
//     tscompose watch          write src/f (the watcher debounces 50 ms, then copies a tar of it);
//     docker cp                (Docker) write a file, then `docker cp FILE CTR:/app/f`;
//     tar -x into /proc/PID/root  (native) write a file, then `tar -c app/f | tar -x --no-overwrite-dir -C
//                              /proc/PID/root` — what the native runtime's copy runs, without the watcher or the CLI;
//     tscompose cp             write a file, then `tscompose cp FILE app:/app/f` (a CLI start included).
// - rebuild: from a write of index.html to the new content answering over HTTP. A service built from
//   `FROM busybox; COPY index.html /www/; CMD httpd -f -p 8080 -h /www` (init: true), published on 127.0.0.1,
//   `develop.watch: [{path: ./index.html, action: rebuild}]`; the bench GETs it every 20 ms (a new connection
//   each) until the body is the new token. Baselines, from the write, polled the same way:
//     Docker: `docker build -q -t IMG .`, `docker rm -f CTR`, `docker run -d --init -p 127.0.0.1:P:8080 IMG`
//             (the docker CLI here has no buildx: the classic builder; tscompose builds through the Engine API);
//     native: `tscompose build` then `tscompose up -d` of a second project without develop.watch.
//
// Usage: node bench/watch.mjs [--runtime docker|native|both] [--rounds N] [--rebuild-rounds N]
//          [--oci-runtime crun,runc] [--only sync|rebuild] [--keep]
//   --rounds N          sync rounds per row (default 30); --rebuild-rounds N (default 5);
//   --oci-runtime LIST  the native runtime's OCI runtimes (TSCOMPOSE_OCI_RUNTIME), default those installed of crun,runc.
// Needs: a build (`npx tsc -p tsconfig.build.json && node scripts/bundle.mjs`), and `bash scripts/engine-env.sh`
// (dockerd, the local registry with busybox). The native part runs as root under `flock -s
// /tmp/tscompose-native.lock`, with its own TSCOMPOSE_STATE_DIR / TSCOMPOSE_RUN_DIR in a temp directory and
// busybox pulled through TSCOMPOSE_REGISTRY_MIRRORS (default http://127.0.0.1:5001). Everything it made (projects,
// watchers, containers, images, temp directories) is removed at the end, also on failure or Ctrl-C (not with --keep).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, watch, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const root = resolve(new URL('..', import.meta.url).pathname);
const CLI = join(root, 'bin/tscompose');
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const runtimeOpt = opt('--runtime', 'both');
const runtimes = runtimeOpt === 'both' ? ['docker', 'native'] : [runtimeOpt];
const ROUNDS = Number(opt('--rounds', '30'));
const RB_ROUNDS = Number(opt('--rebuild-rounds', '5'));
const ONLY = opt('--only', '');
const KEEP = args.includes('--keep');
const OCI = (opt('--oci-runtime', '') || ['crun', 'runc'].filter(has).join(',')).split(',').filter(Boolean);
const PID = process.pid;
const LOCK = '/tmp/tscompose-native.lock';

const log = (m) => process.stderr.write(`bench: ${m}\n`);
const now = () => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.max(0, Math.ceil((p / 100) * xs.length) - 1)];

const baseEnv = { ...process.env, NO_COLOR: '1' };
for (const k of Object.keys(baseEnv)) if (k.startsWith('COMPOSE_') || k === 'TSCOMPOSE_RUNTIME' || k === 'TSCOMPOSE_OCI_RUNTIME') delete baseEnv[k];

/** Runs a command without blocking the event loop (the fs.watch callbacks must fire while it runs). */
function run(cmd, argv, options = {}) {
  return new Promise((res, rej) => {
    const c = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: baseEnv, ...options });
    let out = '';
    let err = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (err += d));
    c.on('error', rej);
    c.on('close', (code) =>
      code === 0 ? res(out) : rej(new Error(`${cmd} ${argv.join(' ')} failed (${code}): ${(err || out).trim().slice(-2000)}`)),
    );
  });
}
const quiet = (cmd, argv, options = {}) => spawnSync(cmd, argv, { encoding: 'utf8', env: baseEnv, timeout: 120_000, ...options });

function freePort() {
  return new Promise((res) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

/** The tokens the container appended to DIR/seen, each with the time of the first fs.watch event showing it. */
class Seen {
  constructor(dir) {
    this.file = join(dir, 'seen');
    this.times = new Map();
    this.waiters = new Map();
    this.late = 0;
    this.w = watch(dir, () => this.check(false));
    this.poll = setInterval(() => this.check(true), 250); // a safety net only (counted: `late`)
  }
  check(fromPoll) {
    const t = now();
    let text;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return;
    }
    for (const tok of text.split('\n')) {
      if (!tok || this.times.has(tok)) continue;
      this.times.set(tok, t);
      if (fromPoll && this.waiters.has(tok)) this.late++;
      this.waiters.get(tok)?.(t);
    }
  }
  wait(tok, timeoutMs) {
    if (this.times.has(tok)) return Promise.resolve(this.times.get(tok));
    return new Promise((res, rej) => {
      const timer = setTimeout(() => {
        this.waiters.delete(tok);
        rej(new Error(`token ${tok} not seen in the container within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.set(tok, (t) => {
        clearTimeout(timer);
        this.waiters.delete(tok);
        res(t);
      });
    });
  }
  close() {
    this.w.close();
    clearInterval(this.poll);
  }
}

/** GETs http://127.0.0.1:PORT/ every 20 ms until the body is `token`; resolves with the time of that answer. */
async function answering(port, token, timeoutMs) {
  const end = now() + timeoutMs;
  const get = () =>
    new Promise((res) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false, timeout: 1000 }, (r) => {
        let b = '';
        r.on('data', (d) => (b += d));
        r.on('end', () => res(b));
        r.on('error', () => res(''));
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => res(''));
    });
  while (now() < end) {
    const t0 = now();
    if ((await get()).trim() === token) return now();
    await sleep(Math.max(0, 20 - (now() - t0)));
  }
  throw new Error(`http://127.0.0.1:${port}/ did not answer ${token} within ${timeoutMs} ms`);
}

// The container of the sync rows: prints each new content of /app/f to /out/seen; polls with builtins only.
const LOOP =
  'mkdir -p /app; mkfifo /tmp/tick; exec 3<>/tmp/tick; last=; ' +
  'while :; do t=; read -r t 2>/dev/null </app/f; if [ "$$t" != "$$last" ]; then echo "$$t" >>/out/seen; last=$$t; fi; read -t 0.005 -u 3 x; done';

const syncCompose = () => `services:
  app:
    image: busybox:latest
    init: true
    network_mode: none
    command: ["sh", "-c", ${JSON.stringify(LOOP)}]
    volumes: ["./out:/out"]
    develop:
      watch:
        - path: ./src
          target: /app
          action: sync
`;
const DOCKERFILE = `FROM busybox:latest\nLABEL io.tscompose.bench=watch-${PID}\nCOPY index.html /www/\nCMD ["httpd", "-f", "-p", "8080", "-h", "/www"]\n`;
const rebuildCompose = (port, watched) => `services:
  web:
    build: .
    init: true
    ports: ["127.0.0.1:${port}:8080"]
${watched ? '    develop:\n      watch:\n        - path: ./index.html\n          action: rebuild\n' : ''}`;

const work = mkdtempSync(join(tmpdir(), 'tscompose-bench-watch-'));
const cleanups = []; // run last-in first-out
let nativeLock; // the `flock -s` holder process

/** A backend: how tscompose is run and what the bare rows do. */
function backend(rt, oci) {
  const key = rt === 'docker' ? 'docker' : `native-${oci}`;
  const label = rt === 'docker' ? 'Docker Engine' : `native (${oci})`;
  const env =
    rt === 'docker'
      ? baseEnv
      : {
          ...baseEnv,
          TSCOMPOSE_OCI_RUNTIME: oci,
          TSCOMPOSE_STATE_DIR: join(work, 'native', 'state'),
          TSCOMPOSE_RUN_DIR: join(work, 'native', 'run'),
          TSCOMPOSE_REGISTRY_MIRRORS: process.env.TSCOMPOSE_REGISTRY_MIRRORS ?? 'http://127.0.0.1:5001',
        };
  const ts = (project, dir, ...argv) => run(CLI, ['--runtime', rt, '-p', project, '--progress', 'quiet', ...argv], { cwd: dir, env });
  const down = (project, dir) => {
    const r = quiet(CLI, ['--runtime', rt, '-p', project, 'down', '-t', '0', '--rmi', 'local', '-v'], { cwd: dir, env });
    if (r.status !== 0) log(`cleanup: down of ${project} failed (${r.status}): ${(r.stderr ?? '').trim()}`);
  };
  return { rt, oci, key, label, env, ts, down };
}

/** The native container's pid (its record in the bench's state directory). */
function nativePid(b, name) {
  const dir = join(b.env.TSCOMPOSE_STATE_DIR, 'containers');
  for (const id of readdirSync(dir)) {
    try {
      const r = JSON.parse(readFileSync(join(dir, id, 'record.json'), 'utf8'));
      if (r.name === name && r.state?.pid) return r.state.pid;
    } catch {
      // not a record
    }
  }
  throw new Error(`no running native container ${name}`);
}

async function benchSync(b) {
  const project = `tscbw${PID}s-${b.key}`;
  const dir = join(work, `sync-${b.key}`);
  for (const d of ['src', 'out', 'base/app']) mkdirSync(join(dir, d), { recursive: true });
  writeFileSync(join(dir, 'compose.yaml'), syncCompose());
  cleanups.push(() => b.down(project, dir));
  await b.ts(project, dir, 'up', '-d', '--watch');
  const ctr = `${project}-app-1`;
  const seen = new Seen(join(dir, 'out'));
  cleanups.push(() => seen.close());
  const pid = b.rt === 'native' ? nativePid(b, ctr) : undefined;
  const base = join(dir, 'base', 'app', 'f');
  const rows = [
    { name: '`tscompose watch` (sync)', go: async (tok) => writeFileSync(join(dir, 'src', 'f'), `${tok}\n`) },
    ...(b.rt === 'docker'
      ? [{ name: '`docker cp` (bare)', bare: true, go: (tok) => (writeFileSync(base, `${tok}\n`), run('docker', ['cp', base, `${ctr}:/app/f`])) }]
      : [
          {
            name: '`tar -x` into /proc/PID/root (bare)',
            bare: true,
            go: (tok) => (
              writeFileSync(base, `${tok}\n`),
              run('sh', ['-c', 'tar -c -C "$1" app/f | tar -x --no-overwrite-dir -C "$2" -f -', 'sh', join(dir, 'base'), `/proc/${pid}/root`])
            ),
          },
        ]),
    { name: '`tscompose cp`', go: (tok) => (writeFileSync(base, `${tok}\n`), b.ts(project, dir, 'cp', base, 'app:/app/f')) },
  ];
  const res = rows.map(() => []);
  // Warm-up, untimed: also waits for the watcher's watches to be in place (its first sync).
  for (const [i, r] of rows.entries()) {
    const tok = `w${i}-${Math.random().toString(36).slice(2)}`;
    const done = r.go(tok);
    await seen.wait(tok, 60_000);
    await done;
    await sleep(200);
  }
  for (let n = 0; n < ROUNDS; n++) {
    const order = n % 2 ? [...rows.keys()].reverse() : [...rows.keys()];
    for (const i of order) {
      const tok = `r${n}-${i}-${Math.random().toString(36).slice(2)}`;
      const t0 = now();
      const done = rows[i].go(tok);
      const t1 = await seen.wait(tok, 30_000);
      await done;
      res[i].push(t1 - t0);
      await sleep(150); // the watcher's batch and the CLI have ended; the next write is a new batch
    }
    log(`sync ${b.label} round ${n + 1}/${ROUNDS}: ${rows.map((r, i) => `${r.name.replace(/`/g, '')} ${res[i].at(-1).toFixed(0)} ms`).join(', ')}`);
  }
  const late = seen.late;
  seen.close();
  return { rows: rows.map((r, i) => ({ name: r.name, ms: res[i] })), late };
}

async function benchRebuild(b) {
  const mk = async (suffix, watched) => {
    const dir = join(work, `rebuild-${b.key}-${suffix}`);
    mkdirSync(dir, { recursive: true });
    const port = await freePort();
    writeFileSync(join(dir, 'Dockerfile'), DOCKERFILE);
    writeFileSync(join(dir, 'index.html'), 'initial\n');
    writeFileSync(join(dir, 'compose.yaml'), rebuildCompose(port, watched));
    return { dir, port, project: `tscbw${PID}r${suffix}-${b.key}` };
  };
  const w = await mk('w', true);
  cleanups.push(() => b.down(w.project, w.dir));
  await b.ts(w.project, w.dir, 'up', '-d', '--watch');
  await answering(w.port, 'initial', 60_000);
  const bare = await mk('b', false);
  let bareRow;
  if (b.rt === 'docker') {
    const img = `tscbw${PID}-bare:latest`;
    const ctr = `tscbw${PID}-bare`;
    cleanups.push(() => (quiet('docker', ['rm', '-f', ctr]), quiet('docker', ['rmi', img])));
    bareRow = {
      name: '`docker build` + `docker rm -f` + `docker run -d` (bare)',
      go: async () => {
        await run('docker', ['build', '-q', '-t', img, '.'], { cwd: bare.dir, env: { ...baseEnv, DOCKER_BUILDKIT: '0' } });
        await run('docker', ['rm', '-f', ctr]);
        await run('docker', ['run', '-d', '--init', '--name', ctr, '-p', `127.0.0.1:${bare.port}:8080`, img]);
      },
    };
  } else {
    cleanups.push(() => b.down(bare.project, bare.dir));
    bareRow = {
      name: '`tscompose build` + `tscompose up -d`',
      go: async () => {
        await b.ts(bare.project, bare.dir, 'build');
        await b.ts(bare.project, bare.dir, 'up', '-d');
      },
    };
  }
  const rows = [
    { name: '`tscompose watch` (rebuild)', port: w.port, dir: w.dir, go: async () => undefined },
    { ...bareRow, port: bare.port, dir: bare.dir },
  ];
  const res = rows.map(() => []);
  const round = async (r, tok) => {
    const t0 = now();
    writeFileSync(join(r.dir, 'index.html'), `${tok}\n`);
    const done = r.go();
    const t1 = await answering(r.port, tok, 300_000);
    await done;
    return t1 - t0;
  };
  for (const r of rows) await round(r, `warm-${Math.random().toString(36).slice(2)}`); // warm-up (page cache, base layers)
  for (let n = 0; n < RB_ROUNDS; n++) {
    const order = n % 2 ? [...rows.keys()].reverse() : [...rows.keys()];
    for (const i of order) {
      res[i].push(await round(rows[i], `r${n}-${Math.random().toString(36).slice(2)}`));
      await sleep(1000); // the watcher's rebuild has fully returned
    }
    log(
      `rebuild ${b.label} round ${n + 1}/${RB_ROUNDS}: ${rows.map((r, i) => `${r.name.replace(/`/g, '')} ${res[i].at(-1).toFixed(0)} ms`).join(', ')}`,
    );
  }
  return { rows: rows.map((r, i) => ({ name: r.name, ms: res[i] })) };
}

/** Takes /tmp/tscompose-native.lock shared (the native test suites take it exclusive) for the native part. */
async function lockNative() {
  nativeLock = spawn('flock', ['-s', LOCK, 'sh', '-c', 'echo locked; exec cat'], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise((res, rej) => {
    nativeLock.stdout.once('data', res);
    nativeLock.on('exit', (c) => rej(new Error(`flock -s ${LOCK} exited (${c})`)));
  });
}

function cleanupNative() {
  const state = join(work, 'native');
  if (!existsSync(state)) return;
  const mounts = () =>
    readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[4] ?? '')
      .filter((m) => m.startsWith(state));
  for (const m of mounts().sort((a, c) => c.length - a.length)) quiet('umount', ['-l', m]);
  for (let i = 0; i < 50; i++) {
    if (!(quiet('ps', ['-eo', 'args']).stdout ?? '').split('\n').some((l) => l.includes(state))) break;
    quiet('sleep', ['0.2']);
  }
}

let cleanedUp = false;
function cleanup() {
  if (cleanedUp) return;
  cleanedUp = true;
  if (KEEP) {
    log(`--keep: left ${work} and the projects up`);
  } else {
    for (const f of cleanups.reverse()) {
      try {
        f();
      } catch (e) {
        log(`cleanup: ${e.message}`);
      }
    }
    quiet('docker', ['image', 'prune', '-f', '--filter', `label=io.tscompose.bench=watch-${PID}`]);
    cleanupNative();
    rmSync(work, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  }
  nativeLock?.stdin.end();
}
for (const sig of ['SIGINT', 'SIGTERM'])
  process.on(sig, () => {
    cleanup();
    process.exit(130);
  });

const HEAD = (quiet('git', ['-C', root, 'rev-parse', '--short', 'HEAD']).stdout ?? '').trim() || '?'; // at the start
const results = [];
let exitCode = 0;
try {
  if (!existsSync(join(root, 'dist/tscompose.cjs'))) throw new Error('build first: npx tsc -p tsconfig.build.json && node scripts/bundle.mjs');
  for (const rt of runtimes) {
    const list = rt === 'docker' ? [backend('docker')] : OCI.map((o) => backend('native', o));
    if (rt === 'docker') await run('docker', ['pull', '-q', 'busybox:latest']);
    else {
      if (process.getuid?.() !== 0) throw new Error('the native runtime needs root');
      await lockNative();
      mkdirSync(join(work, 'native'), { recursive: true });
      await run(CLI, ['--runtime', 'native', '--progress', 'quiet', 'image', 'pull', 'busybox:latest'], { env: list[0].env });
    }
    for (const b of list) {
      log(
        `${b.label}: ${ONLY === 'rebuild' ? '' : `sync, ${ROUNDS} rounds`}${ONLY ? '' : '; '}${ONLY === 'sync' ? '' : `rebuild, ${RB_ROUNDS} rounds`}`,
      );
      results.push({
        b,
        sync: ONLY === 'rebuild' ? undefined : await benchSync(b),
        rebuild: ONLY === 'sync' ? undefined : await benchRebuild(b),
      });
    }
  }
} catch (e) {
  log(`failed: ${e.stack ?? e}`);
  exitCode = 1;
} finally {
  cleanup();
}

// ---------------------------------------------------------------------------------------------------------
// Output

const f0 = (x) => (Number.isFinite(x) ? x.toFixed(0) : '–');
const table = (kind) => {
  let s = '| Runtime | How | median (ms) | p90 | max | min | rounds |\n|---|---|---:|---:|---:|---:|---:|\n';
  for (const r of results)
    for (const row of r[kind]?.rows ?? [])
      s += `| ${r.b.label} | ${row.name} | ${f0(median(row.ms))} | ${f0(pct(row.ms, 90))} | ${f0(Math.max(...row.ms))} | ${f0(Math.min(...row.ms))} | ${row.ms.length} |\n`;
  return s;
};
const ver = (cmd, argv) => (quiet(cmd, argv).stdout ?? '').split('\n')[0].trim() || '?';
let out = `\n${new Date().toISOString().slice(0, 10)}, tscompose ${HEAD}, Docker Engine ${ver('docker', ['version', '-f', '{{.Server.Version}}'])}, `;
if (runtimes.includes('native')) out += `${OCI.map((o) => `${o} ${ver(o, ['--version']).replace(/^\S+ version /, '')}`).join(', ')}, `;
out += `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? '?'}, load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')} at the end.\n`;
if (results.some((r) => r.sync)) {
  out += `\n#### sync: file write on the host → content readable in the container (${ROUNDS} alternating rounds)\n\n${table('sync')}`;
  const late = results.reduce((a, r) => a + (r.sync?.late ?? 0), 0);
  if (late) out += `\n(${late} token(s) were first noticed by the 250 ms safety poll, not by fs.watch: those figures are late.)\n`;
  const native = results.filter((r) => r.b.rt === 'native' && r.sync);
  if (native.length)
    out += `\nTarget, sync under 300 ms at the median on native: ${native.map((r) => `${r.b.oci} ${f0(median(r.sync.rows[0].ms))} ms (${median(r.sync.rows[0].ms) < 300 ? 'met' : '**not met**'})`).join(', ')}.\n`;
}
if (results.some((r) => r.rebuild))
  out += `\n#### rebuild: write of index.html → the new content answering over HTTP (${RB_ROUNDS} alternating rounds)\n\n${table('rebuild')}`;
process.stdout.write(out);
process.exit(exitCode);
