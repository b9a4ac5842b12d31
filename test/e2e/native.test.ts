/**
 * End-to-end on the native runtime: `bin/tscompose --runtime native` against the real OCI runtime of this host
 * (runc here; crun where the host is pure cgroup v2), conmon and overlayfs, with a state directory of its own.
 * Images come from the local registry (scripts/engine-env.sh seeds it and configures it as Docker Hub mirror).
 * This file: containers — outliving the CLI (logs, exit codes, cgroup limits, health, restart policies), exec
 * and run, the lifecycle commands, depends_on/up --wait on healthchecks, volumes, and the clear error for
 * network_mode bridge. Images: native-images.test.ts; bridge networks and the flask example: native-bridge.test.ts.
 *
 * Runs as root when conmon and runc/crun are installed; with TSCOMPOSE_E2E=1 (.ci/run) their absence fails it.
 * After the suite: no mounts, cgroups, processes or runtime state of it may be left. The state directory, helpers
 * and hooks are in ./native-e2e-helpers.ts (shared with native.test.ts, native-images.test.ts, native-bridge.test.ts).
 */
import { expect, test } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bin } from './helpers.js';
import { expectNoLeftovers, env, idOf, nativeE2eHooks, ok, paths, project, psLine, run, sleep, ts, until } from './native-e2e-helpers.js';
import { cgroupFiles, detectCgroupMode, listCgroupDirs, readLimits } from '../../src/runtime/native/oci/cgroups.js';

nativeE2eHooks();

run('native runtime e2e', () => {
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

  test('clear errors: network_mode bridge is not supported, and leaves nothing behind', () => {
    const p = project({ 'compose.yaml': 'services:\n  s:\n    image: busybox:latest\n    network_mode: bridge\n' });
    const r = ts(p, 'up', '-d');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/not yet supported on the native runtime/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(ok(ts(p, 'ps', '-a', '-q')).trim()).toBe('');
  }, 30_000);

  test('after the suite: no leftover mounts, cgroups, processes or runtime state', async () => {
    await expectNoLeftovers();
  }, 60_000);
});
