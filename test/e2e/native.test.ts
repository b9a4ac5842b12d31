/**
 * End-to-end on the native runtime: `bin/tscompose --runtime native` against the real OCI runtime of this host
 * (runc here; crun where the host is pure cgroup v2), conmon and overlayfs, with a state directory of its own.
 * Images come from the local registry (scripts/engine-env.sh seeds it and configures it as Docker Hub mirror).
 *
 * Runs as root when conmon and runc/crun are installed; with TSCOMPOSE_E2E=1 (.ci/run) their absence fails it.
 * After the suite: no mounts, cgroups, processes or runtime state of it may be left.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGzip } from 'node:zlib';
import { bin, required, root } from './helpers.js';
import { cgroupFiles, detectCgroupMode, listCgroupDirs, readLimits } from '../../src/runtime/native/oci/cgroups.js';
import { nativePaths } from '../../src/runtime/native/state.js';

const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const capable = process.getuid?.() === 0 && has('conmon') && (has('runc') || has('crun'));
const run = capable || required ? describe : describe.skip;

const REGISTRY = `127.0.0.1:${process.env.TSCOMPOSE_REGISTRY_PORT ?? '5001'}`;
const stateDir = mkdtempSync(join(tmpdir(), 'tscompose-native-e2e-'));
const runDir = join(stateDir, 'run');
const env = {
  ...process.env,
  NO_COLOR: '1',
  TSCOMPOSE_RUNTIME: 'native',
  TSCOMPOSE_STATE_DIR: join(stateDir, 'state'),
  TSCOMPOSE_RUN_DIR: runDir,
  // The registry scripts/engine-env.sh runs is the Docker Hub mirror (also read from /etc/docker/daemon.json).
  TSCOMPOSE_REGISTRY_MIRRORS: `http://${REGISTRY}`,
};
const paths = nativePaths({ stateDir: env.TSCOMPOSE_STATE_DIR, runDir: env.TSCOMPOSE_RUN_DIR });
const dirs: string[] = [];
const projectNames: string[] = [];

interface P {
  dir: string;
  name: string;
}

function project(files: Record<string, string>): P {
  const dir = mkdtempSync(join(tmpdir(), 'tscompose-native-p-'));
  dirs.push(dir);
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(join(dir, f, '..'), { recursive: true });
    writeFileSync(join(dir, f), text);
  }
  const name = `ne2e-${Math.random().toString(36).slice(2, 8)}`;
  projectNames.push(name);
  return { dir, name };
}

function ts(p: P | undefined, ...args: string[]): SpawnSyncReturns<string> {
  const pre = p ? ['-p', p.name] : [];
  return spawnSync(bin, [...pre, '--progress', 'plain', ...args], { cwd: p?.dir ?? stateDir, encoding: 'utf8', env, timeout: 120_000 });
}

function ok(r: SpawnSyncReturns<string>): string {
  if (r.status !== 0) throw new Error(`exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.stdout;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await sleep(100);
  }
}

const idOf = (p: P, service: string): string => ok(ts(p, 'ps', '-a', '-q', service)).trim();
const psLine = (p: P, service: string): string => ok(ts(p, 'ps', '-a', service)).split('\n')[1] ?? '';

beforeAll(() => {
  if (required && !capable)
    throw new Error('TSCOMPOSE_E2E=1 but the native runtime cannot run here (root, conmon and runc/crun needed): run scripts/engine-env.sh');
}, 5_000);

afterAll(async () => {
  if (!capable) return;
  for (const name of projectNames) spawnSync(bin, ['-p', name, 'down', '-v', '-t', '0'], { cwd: stateDir, env, encoding: 'utf8' });
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  // Images go too (rmi), then the whole state directory.
  spawnSync(bin, ['image', 'prune', '-a', '-f'], { cwd: stateDir, env, encoding: 'utf8' });
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.includes(stateDir));
  for (const m of mounts) spawnSync('umount', ['-l', m.split(' ')[4]!]);
  rmSync(stateDir, { recursive: true, force: true });
}, 120_000);

run('native runtime e2e', () => {
  test('image pull from the local registry (mirror and explicit), ls, inspect', () => {
    expect(ok(ts(undefined, 'image', 'pull', 'busybox:latest'))).toContain('busybox:latest');
    ok(ts(undefined, 'image', 'pull', `${REGISTRY}/library/busybox:latest`));
    const ls = ok(ts(undefined, 'image', 'ls'));
    expect(ls).toMatch(/busybox\s+latest/);
    expect(ls).toContain(`${REGISTRY}/library/busybox`);
    const inspect = JSON.parse(ok(ts(undefined, 'image', 'inspect', 'busybox'))) as { Id: string; RootFS: { Layers: string[] } }[];
    expect(inspect[0]!.Id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(inspect[0]!.RootFS.Layers.length).toBeGreaterThan(0);
  }, 60_000);

  test('containers outlive the CLI: logs, exit codes, cgroup limits, health, restart policy after exit', async () => {
    const p = project({
      'compose.yaml': `services:
  web:
    image: busybox:latest
    network_mode: none
    init: true
    command: ["sh", "-c", "echo hello-from-web; echo to-stderr >&2; while true; do sleep 1; done"]
    mem_limit: 64m
    pids_limit: 50
    cpus: 0.5
    cpu_shares: 512
    healthcheck:
      test: ["CMD-SHELL", "test -e /proc/1"]
      interval: 1s
      retries: 2
  once:
    image: busybox:latest
    network_mode: none
    command: ["sh", "-c", "echo once-ran; exit 3"]
  crash:
    image: busybox:latest
    network_mode: none
    restart: always
    command: ["sh", "-c", "echo crash-started; sleep 0.3; exit 1"]
`,
    });
    ok(ts(p, 'up', '-d'));
    // The CLI has exited; the containers keep running under conmon.
    const web = idOf(p, 'web');
    expect(web).toMatch(/^[0-9a-f]{64}$/);
    await until('web healthy', () => psLine(p, 'web').includes('(healthy)'));
    expect(psLine(p, 'once')).toContain('Exited (3)');
    const lr = ts(p, 'logs', '--no-log-prefix', 'web');
    const logs = ok(lr) + lr.stderr; // stderr lines go to stderr, as with docker compose
    expect(logs).toContain('hello-from-web');
    expect(logs).toContain('to-stderr');
    expect(ok(ts(p, 'logs', 'once'))).toContain('once-ran');
    expect(ok(ts(p, 'logs', '-t', '--tail', '1', 'once'))).toMatch(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z once-ran/);
    expect(ok(ts(p, 'logs', '--since', '2000-01-01T00:00:00Z', 'once'))).toContain('once-ran');
    expect(ok(ts(p, 'logs', '--since', '2999-01-01T00:00:00Z', 'once'))).not.toContain('once-ran');
    // restart: always keeps restarting the crashing service with no CLI running.
    await until('crash restarted twice', () => (ok(ts(p, 'logs', 'crash')).match(/crash-started/g) ?? []).length >= 3);
    // Limits are in the container's cgroup.
    const mode = detectCgroupMode();
    const limits = readLimits(mode, `/tscompose/${web}`);
    expect(limits.memoryLimit).toBe(64 * 1024 * 1024);
    expect(limits.pidsMax).toBe(50);
    expect(limits.cpuQuota).toBe(50_000);
    expect(existsSync(cgroupFiles(mode, `/tscompose/${web}`).memoryLimit)).toBe(true);
    // top shows the container's processes.
    expect(ok(ts(p, 'top', 'web'))).toMatch(/sleep|sh -c/);
    ok(ts(p, 'down', '-t', '1'));
    expect(listCgroupDirs('/tscompose').filter((d) => d.includes(web))).toEqual([]);
  }, 90_000);

  test('exec and run: exit codes, -e, -w, -u; user names resolved in the image', () => {
    const p = project({
      'compose.yaml': `services:
  s:
    image: busybox:latest
    network_mode: none
    init: true
    command: ["sleep", "3600"]
  n:
    image: busybox:latest
    network_mode: none
    user: nobody
    command: ["id", "-u"]
`,
    });
    ok(ts(p, 'up', '-d', 's'));
    expect(ts(p, 'exec', '-T', 's', 'sh', '-c', 'exit 7').status).toBe(7);
    expect(ts(p, 'exec', '-T', 's', 'no-such-command').status).toBe(127);
    expect(ok(ts(p, 'exec', '-T', '-e', 'FOO=bar', '-w', '/tmp', '-u', '1000', 's', 'sh', '-c', 'echo $FOO $(pwd) $(id -u)')).trim()).toBe(
      'bar /tmp 1000',
    );
    const r = ts(p, 'run', '--rm', 's', 'sh', '-c', 'echo from-run; exit 5');
    expect(r.status).toBe(5);
    expect(r.stdout).toContain('from-run');
    expect(ok(ts(p, 'run', '--rm', 'n')).trim()).toBe('65534');
    ok(ts(p, 'down', '-t', '0'));
  }, 60_000);

  test('lifecycle commands: stop, start, restart, kill, pause, unpause, wait, rm, cp, events', async () => {
    const p = project({
      'compose.yaml': `services:\n  s:\n    image: busybox:latest\n    network_mode: none\n    init: true\n    command: ["sleep", "3600"]\n`,
    });
    ok(ts(p, 'create'));
    expect(psLine(p, 's')).toContain('Created');
    ok(ts(p, 'start'));
    expect(psLine(p, 's')).toContain('Up');
    ok(ts(p, 'pause'));
    expect(psLine(p, 's')).toContain('Paused');
    ok(ts(p, 'unpause'));
    ok(ts(p, 'restart', '-t', '1'));
    expect(psLine(p, 's')).toContain('Up');
    writeFileSync(join(p.dir, 'in.txt'), 'copied-in\n');
    ok(ts(p, 'cp', 'in.txt', 's:/tmp/'));
    expect(ok(ts(p, 'exec', '-T', 's', 'cat', '/tmp/in.txt'))).toBe('copied-in\n');
    ok(ts(p, 'cp', 's:/etc/hostname', join(p.dir, 'hostname.out')));
    expect(readFileSync(join(p.dir, 'hostname.out'), 'utf8').trim()).toBe(idOf(p, 's').slice(0, 12));
    ok(ts(p, 'kill', '-s', 'SIGKILL'));
    await until('killed', () => psLine(p, 's').includes('Exited (137)'));
    // events streams what happens from now on.
    const events = spawn(bin, ['-p', p.name, 'events', '--json'], { cwd: p.dir, env });
    let evOut = '';
    events.stdout.on('data', (d: Buffer) => (evOut += d.toString()));
    await sleep(500);
    ok(ts(p, 'start'));
    ok(ts(p, 'stop', '-t', '1'));
    expect(psLine(p, 's')).toMatch(/Exited \((0|143)\)/);
    await until('start and stop events', () => evOut.includes('"action":"start"') && evOut.includes('"action":"stop"'), 5000).finally(() =>
      events.kill(),
    );
    ok(ts(p, 'rm', '-f'));
    expect(ok(ts(p, 'ps', '-a', '-q')).trim()).toBe('');
  }, 60_000);

  test('depends_on service_healthy and up --wait use the native healthchecks; logs -f, wait, on-failure, host network', async () => {
    const p = project({
      'compose.yaml': `services:
  db:
    image: busybox:latest
    network_mode: none
    init: true
    command: ["sh", "-c", "sleep 1; touch /tmp/ready; sleep 3600"]
    healthcheck:
      test: ["CMD", "test", "-e", "/tmp/ready"]
      interval: 500ms
      start_period: 5s
      start_interval: 200ms
  app:
    image: busybox:latest
    network_mode: host
    init: true
    depends_on:
      db: {condition: service_healthy}
    command: ["sh", "-c", "cat /proc/net/dev | grep -c : ; sleep 3600"]
  flaky:
    image: busybox:latest
    network_mode: none
    restart: on-failure:2
    command: ["sh", "-c", "echo flaky-run; exit 4"]
  counter:
    image: busybox:latest
    network_mode: none
    command: ["sh", "-c", "for i in 1 2 3; do echo line-$$i; sleep 0.3; done; exit 6"]
`,
    });
    ok(ts(p, 'up', '-d', '--wait', 'db', 'app'));
    expect(psLine(p, 'db')).toContain('(healthy)');
    // Host network: the container sees the host's interfaces (more than lo).
    await until('app logged', () => ok(ts(p, 'logs', '--no-log-prefix', 'app')).trim() !== '');
    expect(Number(ok(ts(p, 'logs', '--no-log-prefix', 'app')).trim())).toBeGreaterThan(1);
    // logs -f follows the lines as they come and reports the exit (then keeps waiting, as docker compose does).
    ok(ts(p, 'up', '-d', 'counter'));
    const follow = spawnSync(bin, ['-p', p.name, 'logs', '-f', '--no-log-prefix', 'counter'], { cwd: p.dir, env, encoding: 'utf8', timeout: 4000 });
    expect(follow.stdout.split('\n').filter((l) => l.startsWith('line-'))).toEqual(['line-1', 'line-2', 'line-3']);
    expect(follow.stdout).toContain('exited with code 6');
    const w = ts(p, 'wait', 'counter');
    expect(w.stdout.trim()).toBe('6');
    // on-failure:2 runs 1 + 2 times, then stays exited.
    ok(ts(p, 'up', '-d', 'flaky'));
    await until('flaky ran three times', () => (ok(ts(p, 'logs', 'flaky')).match(/flaky-run/g) ?? []).length === 3);
    await sleep(1500);
    expect((ok(ts(p, 'logs', 'flaky')).match(/flaky-run/g) ?? []).length).toBe(3);
    expect(psLine(p, 'flaky')).toContain('Exited (4)');
    ok(ts(p, 'down', '-t', '0'));
  }, 90_000);

  test('volumes: named (copy-up, survives down, gone with down -v), anonymous, overlay-backed :O, tmpfs, binds, volumes_from, secrets and configs', () => {
    const p = project({
      'data/f.txt': 'host-original\n',
      'compose.yaml': `services:
  s:
    image: busybox:latest
    network_mode: none
    init: true
    command: ["sh", "-c", "test -e /etc2/passwd && echo copied-up; echo changed > /data/f.txt; echo new > /data/new.txt; cat /data/f.txt; cat /run/secrets/token; echo; cat /cfg; df -k /scratch | tail -1; echo kept >> /etc2/mark; sleep 3600"]
    volumes:
      - etcvol:/etc2
      - ./data:/data:O
      - ./made:/made
      - /anon
      - type: tmpfs
        target: /scratch
        tmpfs: {size: 10m}
    secrets: [token]
    configs:
      - source: cfg
        target: /cfg
  t:
    image: busybox:latest
    network_mode: none
    volumes_from: ["s:ro"]
    command: ["sh", "-c", "cat /etc2/mark; touch /etc2/x 2>&1 | grep -o Read-only"]
volumes:
  etcvol:
    labels: {e2e: "yes"}
secrets:
  token: {environment: E2E_TOKEN}
configs:
  cfg: {file: ./data/f.txt}
`,
    });
    // The volume's first use copies the image's /etc2 … busybox has no /etc2: seed it from /etc via a second path.
    writeFileSync(
      join(p.dir, 'compose.yaml'),
      readFileSync(join(p.dir, 'compose.yaml'), 'utf8').replace('etcvol:/etc2', 'etcvol:/etc').replaceAll('/etc2/', '/etc/'),
    );
    const envWithToken = { ...env, E2E_TOKEN: 's3cret' };
    const up = spawnSync(bin, ['-p', p.name, '--progress', 'plain', 'up', '-d', 's'], { cwd: p.dir, env: envWithToken, encoding: 'utf8' });
    ok(up);
    ok(ts(p, 'up', '-d', '--no-deps', 't'));
    ok(spawnSync(bin, ['-p', p.name, 'wait', 't'], { cwd: p.dir, env, encoding: 'utf8' }));
    const logs = ok(ts(p, 'logs', '--no-log-prefix', 's'));
    expect(logs).toContain('copied-up');
    expect(logs).toContain('changed');
    expect(logs).toContain('s3cret');
    expect(logs).toContain('host-original');
    expect(logs).toMatch(/tmpfs\s+10240\s/);
    const t = ok(ts(p, 'logs', '--no-log-prefix', 't'));
    expect(t).toContain('kept');
    expect(t).toContain('Read-only');
    // The overlay-backed volume left the host directory unchanged; the missing bind source was created.
    expect(readFileSync(join(p.dir, 'data/f.txt'), 'utf8')).toBe('host-original\n');
    expect(existsSync(join(p.dir, 'data/new.txt'))).toBe(false);
    expect(existsSync(join(p.dir, 'made'))).toBe(true);
    // Named volume data survives down, and goes with down -v.
    ok(ts(p, 'down', '-t', '0'));
    const vol = join(paths.volumes, `${p.name}_etcvol`, '_data', 'mark');
    expect(readFileSync(vol, 'utf8')).toBe('kept\n');
    ok(ts(p, 'down', '-v'));
    expect(existsSync(vol)).toBe(false);
    expect(readdirSync(paths.volumes).filter((v) => v.startsWith(p.name))).toEqual([]);
    // As with Docker, the anonymous volume of a container removed without -v stays (unnamed, unlabelled).
  }, 60_000);

  test('image push to the local registry, then pull back', () => {
    const ref = `${REGISTRY}/tscompose-e2e/native-push:${Math.random().toString(36).slice(2, 8)}`;
    ok(ts(undefined, 'image', 'tag', 'busybox:latest', ref));
    ok(ts(undefined, 'image', 'push', ref));
    ok(ts(undefined, 'image', 'rm', ref));
    expect(ts(undefined, 'image', 'inspect', ref).status).not.toBe(0);
    ok(ts(undefined, 'image', 'pull', ref));
    expect(ts(undefined, 'image', 'inspect', ref).status).toBe(0);
    ok(ts(undefined, 'image', 'rm', ref));
  }, 60_000);

  test('clear errors: network_mode bridge is not supported, and leaves nothing behind', () => {
    const p = project({ 'compose.yaml': 'services:\n  s:\n    image: busybox:latest\n    network_mode: bridge\n' });
    const r = ts(p, 'up', '-d');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/not yet supported on the native runtime/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(ok(ts(p, 'ps', '-a', '-q')).trim()).toBe('');
  }, 30_000);

  test('bridge networks: DNS by service name and alias on the network only, published ports, internal network, isolation', async () => {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const p = project({
      'compose.yaml': `services:
  web:
    image: busybox:latest
    init: true
    command: ["sh", "-c", "echo hello-web > /index.html; httpd -f -p 8080 -h /"]
    ports: ["127.0.0.1:${port}:8080", "8080"]
    networks:
      front:
        aliases: [www]
      back: {}
  client:
    image: busybox:latest
    init: true
    command: ["sleep", "3600"]
    networks: [front]
  other:
    image: busybox:latest
    init: true
    command: ["sleep", "3600"]
    networks: [back]
  lonely:
    image: busybox:latest
    init: true
    command: ["sleep", "3600"]
    networks: [inner]
    links: ["web:ignored"]
networks:
  front: {}
  back: {}
  inner: {internal: true}
`,
    });
    ok(ts(p, 'up', '-d'));
    const sh = (svc: string, cmd: string) => ts(p, 'exec', '-T', svc, 'sh', '-c', cmd);
    // Names resolve on their network: service, alias, container name.
    for (const name of ['web', 'www', `${p.name}-web-1`])
      expect(ok(sh('client', `nslookup ${name}`))).toMatch(/Address: 10\.|Address: 172\.|Address: 192\./);
    expect(ok(sh('client', 'echo -e "GET /index.html HTTP/1.0\\r\\n\\r\\n" | nc -w 3 www 8080'))).toContain('hello-web');
    // …and not on another network.
    expect(sh('client', 'nslookup other').status).not.toBe(0);
    expect(sh('other', 'nslookup client').status).not.toBe(0);
    expect(sh('other', 'nslookup web').status).toBe(0);
    // Traffic between networks is dropped: client (front) cannot reach other (back) by address.
    const otherIp = /Address: (\d+\.\d+\.\d+\.\d+)$/m.exec(ok(sh('web', 'nslookup other')))![1]!;
    expect(sh('client', `ping -c1 -W1 ${otherIp}`).status).not.toBe(0);
    // Published ports answer on 127.0.0.1, the fixed one and the ephemeral one (shown by ps/port).
    const { request } = await import('node:http');
    const get = (hostPort: number) =>
      new Promise<string>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: hostPort, path: '/index.html', timeout: 3000 }, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve(body));
        });
        req.on('error', reject);
        req.end();
      });
    expect(await get(port)).toContain('hello-web');
    expect(ok(ts(p, 'port', 'web', '8080')).trim()).toBe(`127.0.0.1:${port}`); // the first binding, as docker compose
    const eph = Number(/0\.0\.0\.0:(\d+)->8080\/tcp/.exec(psLine(p, 'web'))?.[1]);
    expect(eph).toBeGreaterThan(0);
    expect(await get(eph)).toContain('hello-web');
    // The internal network has no way out: no default route, and the outside is unreachable.
    expect(ok(sh('lonely', 'ip route'))).not.toContain('default');
    // The host's own address (on this machine, so no traffic leaves it) answers the published port from the
    // host, but not from the internal network.
    const hostIp = /inet (\d+\.\d+\.\d+\.\d+)\//.exec(
      spawnSync('ip', ['-4', '-o', 'addr', 'show', 'scope', 'global'], { encoding: 'utf8' })
        .stdout.split('\n')
        .find((l) => !/tsc-|docker|br-/.test(l)) ?? '',
    )?.[1];
    if (hostIp) {
      expect(ok(sh('client', `echo -e "GET /index.html HTTP/1.0\\r\\n\\r\\n" | nc -w 3 ${hostIp} ${eph}`))).toContain('hello-web'); // hairpin
      expect(sh('lonely', `echo -e "GET / HTTP/1.0\\r\\n\\r\\n" | nc -w 2 ${hostIp} ${eph}`).stdout).not.toContain('hello-web');
    }
    // This project's bridges and network namespaces (other suites running at once, builds among them, have their own).
    const netState = JSON.parse(readFileSync(join(env.TSCOMPOSE_STATE_DIR, 'net', 'networks.json'), 'utf8')) as {
      networks: Record<string, { bridge: string; endpoints: Record<string, { netns: string; hostVeth: string }> }>;
    };
    const mine = Object.entries(netState.networks)
      .filter(([key]) => key.startsWith(`${p.name}_`))
      .flatMap(([, n]) => [n.bridge, ...Object.values(n.endpoints).flatMap((e) => [e.netns, e.hostVeth])]);
    expect(mine.length).toBeGreaterThan(3);
    ok(ts(p, 'down', '-t', '0'));
    // Nothing of the project is left in the kernel.
    const left = (text: string) => mine.filter((name) => new RegExp(`\\b${name}\\b`).test(text));
    expect(left(spawnSync('ip', ['-o', 'link'], { encoding: 'utf8' }).stdout)).toEqual([]);
    expect(left(spawnSync('ip', ['netns'], { encoding: 'utf8' }).stdout)).toEqual([]);
    expect(left(spawnSync('nft', ['list', 'tables'], { encoding: 'utf8' }).stdout)).toEqual([]);
  }, 90_000);

  test('the flask+redis example builds from its Dockerfile and answers on its published port with an increasing counter', async () => {
    ok(ts(undefined, 'image', 'pull', 'python:3.11-slim'));
    ok(ts(undefined, 'image', 'pull', 'redis:7'));
    const dir = join(root, 'examples/flask-redis');
    const name = `ne2e-flask-${Math.random().toString(36).slice(2, 6)}`;
    projectNames.push(name);
    const f = (...args: string[]) =>
      spawnSync(bin, ['-p', name, '-f', join(dir, 'compose.yaml'), '--progress', 'plain', ...args], {
        cwd: dir,
        env,
        encoding: 'utf8',
        timeout: 120_000,
      });
    ok(f('up', '-d', '--build'));
    const { request } = await import('node:http');
    const get = () =>
      new Promise<string>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: 5000, path: '/', timeout: 3000 }, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve(body));
        });
        req.on('error', reject);
        req.end();
      });
    let first = '';
    await until('flask answers', () => false, 1).catch(() => undefined);
    const end = Date.now() + 30_000;
    while (Date.now() < end) {
      first = await get().catch(() => '');
      if (first.includes('seen')) break;
      await sleep(300);
    }
    const n1 = Number(/seen (\d+) times/.exec(first)?.[1]);
    const n2 = Number(/seen (\d+) times/.exec(await get())?.[1]);
    expect(n1).toBeGreaterThan(0);
    expect(n2).toBe(n1 + 1);
    ok(f('down', '-t', '1'));
  }, 120_000);

  test('docker save archive loads; native save loads into Docker', () => {
    if (spawnSync('docker', ['version']).status !== 0) {
      if (required) throw new Error('Docker is needed for this test (docker save)');
      return;
    }
    const tar = join(stateDir, 'docker-saved.tar');
    expect(spawnSync('docker', ['pull', '-q', 'busybox:latest']).status).toBe(0);
    expect(spawnSync('docker', ['tag', 'busybox:latest', 'tscompose-e2e/saved:1']).status).toBe(0);
    expect(spawnSync('docker', ['save', '-o', tar, 'tscompose-e2e/saved:1']).status).toBe(0);
    spawnSync('docker', ['rmi', 'tscompose-e2e/saved:1']);
    expect(ok(ts(undefined, 'image', 'load', '-i', tar))).toContain('tscompose-e2e/saved:1');
    const p = project({
      'compose.yaml': 'services:\n  s:\n    image: tscompose-e2e/saved:1\n    network_mode: none\n    command: ["echo", "from-loaded-image"]\n',
    });
    ok(ts(p, 'up'));
    expect(ok(ts(p, 'logs', 's'))).toContain('from-loaded-image');
    ok(ts(p, 'down'));
    ok(ts(undefined, 'image', 'tag', 'tscompose-e2e/saved:1', 'tscompose-e2e/native-saved:2'));
    const out = join(stateDir, 'native-saved.tar');
    ok(ts(undefined, 'image', 'save', '-o', out, 'tscompose-e2e/native-saved:2'));
    expect(spawnSync('docker', ['load', '-i', out], { encoding: 'utf8' }).stdout).toContain('tscompose-e2e/native-saved:2');
    expect(spawnSync('docker', ['run', '--rm', 'tscompose-e2e/native-saved:2', 'echo', 'ok'], { encoding: 'utf8' }).stdout.trim()).toBe('ok');
    spawnSync('docker', ['rmi', 'tscompose-e2e/native-saved:2']);
    ok(ts(undefined, 'image', 'rm', 'tscompose-e2e/saved:1', 'tscompose-e2e/native-saved:2'));
  }, 90_000);

  test('a malicious layer (path escape, symlink escape) is rejected and writes nothing outside', async () => {
    const { pack } = await import('tar-stream');
    const { createHash } = await import('node:crypto');
    const outside = join(stateDir, `outside-${Math.random().toString(36).slice(2, 8)}`);
    mkdirSync(outside);
    const layer = async (entries: { name: string; type?: 'file' | 'symlink'; linkname?: string; body?: string }[]): Promise<Buffer> => {
      const t = pack();
      for (const e of entries) {
        if (e.type === 'symlink') t.entry({ name: e.name, type: 'symlink', linkname: e.linkname! });
        else t.entry({ name: e.name }, e.body ?? 'x');
      }
      t.finalize();
      const chunks: Buffer[] = [];
      for await (const c of t) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    };
    const archive = async (layerTar: Buffer): Promise<Buffer> => {
      const diffId = `sha256:${createHash('sha256').update(layerTar).digest('hex')}`;
      const config = JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['sh'] }, rootfs: { type: 'layers', diff_ids: [diffId] } });
      const configName = `${createHash('sha256').update(config).digest('hex')}.json`;
      const t = pack();
      t.entry({ name: 'layer/layer.tar' }, layerTar);
      t.entry({ name: configName }, config);
      t.entry({ name: 'manifest.json' }, JSON.stringify([{ Config: configName, RepoTags: ['tscompose-e2e/evil:1'], Layers: ['layer/layer.tar'] }]));
      t.finalize();
      const chunks: Buffer[] = [];
      for await (const c of t) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    };
    const cases = [
      await layer([
        { name: 'a', type: 'symlink', linkname: outside },
        { name: 'a/pwned', body: 'pwned' },
      ]),
      await layer([
        { name: 'b', type: 'symlink', linkname: '../../../../../../..' + outside },
        { name: 'b/pwned2', body: 'pwned' },
      ]),
      await layer([{ name: '../dotdot', body: 'pwned' }]),
    ];
    for (const [i, l] of cases.entries()) {
      const file = join(stateDir, `evil-${i}.tar`);
      writeFileSync(file, await archive(l));
      const r = ts(undefined, 'image', 'load', '-i', file);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/reject|escape|\.\./i);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(readdirSync(outside)).toEqual([]);
    expect(existsSync(join(paths.images, '..', 'dotdot'))).toBe(false);
    expect(ts(undefined, 'image', 'inspect', 'tscompose-e2e/evil:1').status).not.toBe(0);
    void createGzip;
  }, 30_000);

  test('after the suite: no leftover mounts, cgroups, processes or runtime state', async () => {
    for (const name of projectNames) ok(spawnSync(bin, ['-p', name, 'down', '-v', '-t', '0'], { cwd: stateDir, env, encoding: 'utf8' }));
    await sleep(300);
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .filter((l) => l.includes(stateDir));
    expect(mounts).toEqual([]);
    const containers = existsSync(paths.containers) ? readdirSync(paths.containers) : [];
    expect(containers).toEqual([]);
    const cg = listCgroupDirs('/tscompose').filter((d) => containers.some((c) => d.includes(c)));
    expect(cg).toEqual([]);
    // Exit hooks of the last containers may still be finishing: give them a few seconds.
    const procs = (): string[] =>
      spawnSync('ps', ['-eo', 'pid,stat,args'], { encoding: 'utf8' })
        .stdout.split('\n')
        .filter((l) => l.includes(stateDir) && !/^\s*\d+\s+Z/.test(l));
    await until('no processes of the suite left', () => procs().length === 0, 10_000).catch(() => undefined);
    expect(procs()).toEqual([]);
    const oci = existsSync(paths.ociRoot) ? readdirSync(paths.ociRoot) : [];
    expect(oci).toEqual([]);
  }, 60_000);
});
