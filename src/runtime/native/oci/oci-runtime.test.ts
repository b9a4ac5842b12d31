import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errOf } from './__fixtures__/spec-input.js';
import {
  cgroupFiles,
  cgroupsPathFor,
  cpuSharesToWeight,
  crunCgroupSupport,
  detectCgroupMode,
  listCgroupDirs,
  readLimits,
  removeCgroup,
} from './cgroups.js';
import { currentCapabilities } from './process.js';
import { buildOciSpec, ociSpecToJson } from './oci-spec.js';
import type { OciSpec } from './spec-types.js';
import { OciRuntime, OciRuntimeError, execProcess, runtimeErrorMessage, whichSync, type OciRuntimeName } from './oci-runtime.js';

describe('OciRuntime argv', () => {
  const rt = new OciRuntime('/usr/sbin/runc', '/run/tscompose/runc');
  const G = ['--root', '/run/tscompose/runc'];

  test('name', () => {
    expect(rt.name).toBe('runc');
    expect(new OciRuntime('/usr/bin/crun', '/x').name).toBe('crun');
  });
  test('create', () => {
    expect(rt.createArgs('c1', '/b/c1', { pidFile: '/b/c1/pid' })).toEqual([...G, 'create', '--bundle', '/b/c1', '--pid-file', '/b/c1/pid', 'c1']);
    expect(rt.createArgs('c1', '/b', { consoleSocket: '/s', noPivot: true, preserveFds: 2 })).toEqual([
      ...G,
      'create',
      '--bundle',
      '/b',
      '--console-socket',
      '/s',
      '--no-pivot',
      '--preserve-fds',
      '2',
      'c1',
    ]);
  });
  test('run', () => {
    expect(rt.runArgs('c1', '/b')).toEqual([...G, 'run', '--bundle', '/b', 'c1']);
    expect(rt.runArgs('c1', '/b', { detach: true, pidFile: '/p' })).toEqual([...G, 'run', '--bundle', '/b', '--detach', '--pid-file', '/p', 'c1']);
  });
  test('start, state, pause, resume, ps', () => {
    expect(rt.startArgs('c1')).toEqual([...G, 'start', 'c1']);
    expect(rt.stateArgs('c1')).toEqual([...G, 'state', 'c1']);
    expect(rt.pauseArgs('c1')).toEqual([...G, 'pause', 'c1']);
    expect(rt.resumeArgs('c1')).toEqual([...G, 'resume', 'c1']);
    expect(rt.psArgs('c1')).toEqual([...G, 'ps', '--format', 'json', 'c1']);
  });
  test('kill', () => {
    expect(rt.killArgs('c1')).toEqual([...G, 'kill', 'c1', 'SIGTERM']);
    expect(rt.killArgs('c1', 'kill', true)).toEqual([...G, 'kill', '--all', 'c1', 'SIGKILL']);
    expect(rt.killArgs('c1', 10)).toEqual([...G, 'kill', 'c1', 'SIGUSR1']);
    expect(() => rt.killArgs('c1', 'NOPE')).toThrow(/invalid signal/);
  });
  test('delete', () => {
    expect(rt.deleteArgs('c1')).toEqual([...G, 'delete', 'c1']);
    expect(rt.deleteArgs('c1', true)).toEqual([...G, 'delete', '--force', 'c1']);
  });
  test('exec', () => {
    expect(rt.execArgs('c1', '/b/exec-1.json')).toEqual([...G, 'exec', '--process', '/b/exec-1.json', 'c1']);
    expect(rt.exe).toBe('/usr/sbin/runc');
    expect(rt.execArgs('c1', '/p.json', { detach: true, pidFile: '/pid' })).toEqual([
      ...G,
      'exec',
      '--process',
      '/p.json',
      '--detach',
      '--pid-file',
      '/pid',
      'c1',
    ]);
  });
  test('global options', () => {
    const r = new OciRuntime('/usr/bin/crun', '/r', { logFile: '/l.json', logFormat: 'json', systemdCgroup: true });
    expect(r.startArgs('x')).toEqual(['--root', '/r', '--log', '/l.json', '--log-format', 'json', '--systemd-cgroup', 'start', 'x']);
    // an exec's own log, in JSON, in place of the runtime's (exec.ts and exec-detached.ts read it)
    expect(r.execArgs('x', '/p.json', { pidFile: '/pid', logFile: '/e.log' })).toEqual([
      ...['--root', '/r', '--log', '/e.log', '--log-format', 'json', '--systemd-cgroup'],
      ...['exec', '--process', '/p.json', '--pid-file', '/pid', 'x'],
    ]);
    expect(rt.execArgs('c1', '/p.json', { logFile: '/e.log' })).toEqual([
      ...G,
      '--log',
      '/e.log',
      '--log-format',
      'json',
      'exec',
      '--process',
      '/p.json',
      'c1',
    ]);
  });
});

test('runtimeErrorMessage', () => {
  expect(runtimeErrorMessage('time="2026-11-24T02:42:27Z" level=error msg="container does not exist"\n')).toBe('container does not exist');
  expect(runtimeErrorMessage('time="x" level=warning msg="w"\ntime="x" level=error msg="a \\"quoted\\" thing"')).toBe('a "quoted" thing');
  expect(runtimeErrorMessage('error opening file `/r/x/status`: No such file or directory\n')).toBe(
    'error opening file `/r/x/status`: No such file or directory',
  );
  expect(runtimeErrorMessage('{"level":"error","msg":"boom","time":"t"}')).toBe('boom');
  expect(runtimeErrorMessage('')).toBe('failed');
});

describe('execProcess', () => {
  const spec: OciSpec = buildOciSpec({
    id: 'c1',
    spec: {
      name: 'x',
      image: 'i',
      labels: {},
      command: ['sleep', '100'],
      env: ['A=1', 'B=2'],
      workingDir: '/app',
      security: { noNewPrivileges: true },
      ulimits: [{ name: 'nofile', soft: 100, hard: 200 }],
      capDrop: ['NET_RAW'],
    },
    image: {},
    rootfsPath: '/r',
    user: { uid: 1000, gid: 1000, additionalGids: [100] },
    hostname: 'h',
    cgroupsPath: '/tscompose/c1',
    network: 'none',
  });

  test('inherits the container process settings', () => {
    const p = execProcess(spec, { cmd: ['ls', '-l'] });
    expect(p).toEqual({
      terminal: false,
      user: { uid: 1000, gid: 1000, additionalGids: [100] },
      args: ['ls', '-l'],
      env: spec.process.env,
      cwd: '/app',
      capabilities: spec.process.capabilities,
      rlimits: [{ type: 'RLIMIT_NOFILE', soft: 100, hard: 200 }],
      noNewPrivileges: true,
    });
    expect(p.capabilities?.bounding).not.toContain('CAP_NET_RAW');
    // copies, not shared references
    p.env.push('X=1');
    expect(spec.process.env).not.toContain('X=1');
  });

  test('overrides', () => {
    const p = execProcess(spec, {
      cmd: ['id'],
      env: ['B=3', 'C=4'],
      user: { uid: 0, gid: 0, additionalGids: [] },
      cwd: '/tmp',
      tty: true,
      privileged: true,
    });
    expect(p.env.slice(-3)).toEqual(['A=1', 'B=3', 'C=4']);
    // a TTY: TERM=xterm after HOSTNAME, as Docker's exec environment
    expect(p.env.slice(1, 3)).toEqual(['HOSTNAME=h', 'TERM=xterm']);
    expect(execProcess(spec, { cmd: ['id'], tty: true, env: ['TERM=vt100'] }).env.filter((e) => e.startsWith('TERM='))).toEqual(['TERM=vt100']);
    expect(execProcess(spec, { cmd: ['id'] }).env.some((e) => e.startsWith('TERM='))).toBe(false);
    expect(p.user).toEqual({ uid: 0, gid: 0 });
    expect(p.cwd).toBe('/tmp');
    expect(p.terminal).toBe(true);
    expect(p.capabilities?.effective).toEqual(currentCapabilities()); // what this process has, as a privileged container gets
  });

  test('empty command', () => {
    expect(errOf(() => execProcess(spec, { cmd: [] })).code).toBe('TSC_NO_COMMAND');
  });
});

describe('runners against a fake runtime binary', () => {
  let dir: string;
  let rt: OciRuntime;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsc-fake-oci-'));
    const bin = join(dir, 'fake-runc');
    // Records argv; `state known` prints JSON; unknown ids fail like runc; `start` leaves a background child
    // holding stdout/stderr (as a container would) to prove the runner does not wait on them.
    writeFileSync(
      bin,
      `#!/bin/sh
echo "$@" >> "${dir}/argv.log"
shift 2
cmd="$1"; shift
for last; do :; done
case "$cmd" in
  state)
    if [ "$last" = known ]; then echo '{"ociVersion":"1.0.2","id":"known","status":"running","pid":42,"bundle":"/b"}'; exit 0; fi
    echo 'time="t" level=error msg="container does not exist"' >&2; exit 1 ;;
  ps) echo '[42,43]'; exit 0 ;;
  start)
    if [ "$last" = bad ]; then echo 'time="t" level=error msg="cannot start a container that has stopped"' >&2; exit 1; fi
    sleep 5 &
    exit 0 ;;
  kill) if [ "$last" = known ] || [ "$last" = SIGTERM ]; then exit 0; fi; echo 'time="t" level=error msg="container does not exist"' >&2; exit 1 ;;
  run) echo "out-line"; echo "err-line" >&2; exit 3 ;;
  *) exit 0 ;;
esac
`,
    );
    chmodSync(bin, 0o755);
    rt = new OciRuntime(bin, join(dir, 'root'));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test('state: parsed JSON, undefined when missing', async () => {
    await expect(rt.state('known')).resolves.toMatchObject({ id: 'known', status: 'running', pid: 42 });
    await expect(rt.state('nosuch')).resolves.toBeUndefined();
  });

  test('ps', async () => {
    await expect(rt.ps('known')).resolves.toEqual([42, 43]);
  });

  test('start does not wait for children holding its stdio', async () => {
    const t0 = Date.now();
    await rt.start('ok');
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  test('start failure carries the runtime message', async () => {
    const e = await rt.start('bad').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OciRuntimeError);
    expect((e as OciRuntimeError).message).toMatch(/cannot start a container that has stopped/);
    expect((e as OciRuntimeError).code).toBe('TSC_OCI_RUNTIME');
  });

  test('kill error', async () => {
    await expect(rt.kill('gone', 'SIGKILL')).rejects.toThrow(/container does not exist/);
  });

  test('run writes to files and returns the exit status', async () => {
    const out = join(dir, 'run.out');
    const err = join(dir, 'run.err');
    await expect(rt.run('x', '/b', { stdout: out, stderr: err })).resolves.toBe(3);
    expect(readFileSync(out, 'utf8')).toBe('out-line\n');
    expect(readFileSync(err, 'utf8')).toBe('err-line\n');
  });

  test('argv actually passed', () => {
    const log = readFileSync(join(dir, 'argv.log'), 'utf8');
    expect(log).toContain(`--root ${join(dir, 'root')} state known`);
    expect(log).toContain(`--root ${join(dir, 'root')} kill gone SIGKILL`);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Real runtime smoke tests (root + busybox): runc always, crun where it can run (on this project's hybrid hosts once
// scripts/engine-env.sh has given hugetlb a v1 hierarchy), whichever the native runtime would choose.

const SMOKE: readonly (readonly [OciRuntimeName, string | undefined, boolean])[] = [
  ['runc', whichSync('runc'), true],
  ['crun', whichSync('crun'), crunCgroupSupport().ok],
];

for (const [name, RUNC, usable] of SMOKE) {
  const canRun = process.getuid?.() === 0 && RUNC !== undefined && usable && existsSync('/bin/busybox');

  (canRun ? describe : describe.skip)(`${name} smoke test (${RUNC ?? 'not installed'}${usable ? '' : ', cannot run here'})`, () => {
    let dir: string;
    let stateDir: string;
    const id = `tsc-smoke-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    const mode = canRun ? detectCgroupMode() : 'v1';
    const cgPath = cgroupsPathFor(id);
    const rt = new OciRuntime(RUNC ?? '/nonexistent', '/tmp/unused');
    let runtime: OciRuntime = rt;

    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'tsc-runc-smoke-'));
      stateDir = join(dir, 'state');
      runtime = new OciRuntime(RUNC!, stateDir);
      const rootfs = join(dir, 'bundle/rootfs');
      mkdirSync(join(rootfs, 'bin'), { recursive: true });
      copyFileSync('/bin/busybox', join(rootfs, 'bin/busybox'));
      chmodSync(join(rootfs, 'bin/busybox'), 0o755);
      for (const app of ['sh', 'cat', 'sleep', 'echo']) symlinkSync('busybox', join(rootfs, 'bin', app));
    });

    afterAll(async () => {
      await runtime.delete(id, true).catch(() => undefined);
      await removeCgroup(mode, cgPath).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    });

    test('runs a container with memory, pids and cpu shares limits, output and cgroup checked, nothing left after delete', async () => {
      const bundle = join(dir, 'bundle');
      const spec = buildOciSpec({
        id,
        spec: {
          name: 'smoke',
          image: 'busybox',
          labels: {},
          entrypoint: ['/bin/sh', '-c'],
          command: ['echo hi; cat /proc/self/cgroup; sleep 0.5'],
          resources: { memoryBytes: 64 * 1024 * 1024, pidsLimit: 20, cpuShares: 512 },
        },
        image: {},
        rootfsPath: join(bundle, 'rootfs'),
        user: { uid: 0, gid: 0, additionalGids: [] },
        hostname: id.slice(0, 12),
        cgroupsPath: cgPath,
        network: 'none',
        swapLimitSupported: existsSync(cgroupFiles(mode, '/').memorySwap),
      });
      writeFileSync(join(bundle, 'config.json'), ociSpecToJson(spec));

      const out = join(dir, 'out.txt');
      const err = join(dir, 'err.txt');
      const files = cgroupFiles(mode, cgPath);
      const running = runtime.run(id, bundle, { stdout: out, stderr: err });

      // While it runs: the cgroup exists with the limit asked for (runc creates the dir, then writes the limits).
      let limits: ReturnType<typeof readLimits> = {};
      const deadline = Date.now() + 5000;
      while (Date.now() < deadline) {
        if (existsSync(files.memoryLimit)) {
          limits = readLimits(mode, cgPath);
          if (limits.memoryLimit !== undefined && limits.memoryLimit !== -1 && limits.pidsMax !== undefined && limits.pidsMax !== -1) break;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(limits.memoryLimit).toBe(64 * 1024 * 1024);
      expect(limits.pidsMax).toBe(20);
      // v1: cpu.shares as asked; v2: cpu.weight by the runtime's own mapping (runc linear, crun logarithmic)
      if (mode === 'v2') expect(limits.cpuWeight).toBe(cpuSharesToWeight(512, name));
      else expect(limits.cpuShares).toBe(512);
      expect(listCgroupDirs().some((d) => d.endsWith(`/tscompose/${id}`))).toBe(true);

      const code = await running;
      const stdout = readFileSync(out, 'utf8');
      expect({ code, stderr: readFileSync(err, 'utf8') }).toEqual({ code: 0, stderr: '' });
      expect(stdout.split('\n')[0]).toBe('hi');
      // v1: "4:memory:/tscompose/<id>"; v2: "0::/tscompose/<id>"
      expect(stdout).toMatch(new RegExp(`:${mode === 'v2' ? '' : 'memory'}:/tscompose/${id}\\n`));

      // Foreground run deletes the container; delete --force is idempotent.
      await runtime.delete(id, true);
      await expect(runtime.state(id)).resolves.toBeUndefined();
      expect(listCgroupDirs().filter((d) => d.includes(id))).toEqual([]);
    });

    (existsSync('/usr/bin/tini-static') ? test : test.skip)(
      `${name} accepts the full Docker-style spec (init, read_only, tmpfs, binds, ulimits, sysctls, cpus)`,
      async () => {
        const id2 = `${id}-full`;
        const bundle = join(dir, 'bundle');
        const share = join(dir, 'share');
        mkdirSync(share);
        writeFileSync(join(share, 'greeting'), 'from-host\n');
        const hosts = join(dir, 'hosts');
        writeFileSync(hosts, '127.0.0.1\tlocalhost\n10.0.0.5\tweb\n');
        const spec = buildOciSpec({
          id: id2,
          spec: {
            name: 'full',
            image: 'busybox',
            labels: { 'com.docker.compose.service': 'full' },
            command: [
              '/bin/sh',
              '-c',
              'cat /proc/1/cmdline | tr "\\0" " "; echo; ulimit -n; cat /proc/sys/net/ipv4/ip_unprivileged_port_start; ' +
                'cat /share/greeting; grep web /etc/hosts; touch /rootfs-file 2>/dev/null && echo rw || echo ro; ' +
                'touch /run/ok && echo tmpfs-rw; cat /proc/self/status | grep NoNewPrivs; echo "$FOO $HOSTNAME"',
            ],
            init: true,
            readOnly: true,
            env: ['FOO=bar'],
            mounts: [
              { type: 'tmpfs', target: '/run' },
              { type: 'bind', source: share, target: '/share', readOnly: true },
            ],
            ulimits: [{ name: 'nofile', soft: 1234, hard: 2048 }],
            sysctls: { 'net.ipv4.ip_unprivileged_port_start': '80' },
            security: { noNewPrivileges: true },
            resources: { cpus: 0.5, cpuset: '0' },
          },
          image: {},
          rootfsPath: join(bundle, 'rootfs'),
          user: { uid: 0, gid: 0, additionalGids: [] },
          hostname: 'full-host',
          cgroupsPath: cgroupsPathFor(id2),
          network: 'none',
          initBinary: '/usr/bin/tini-static',
          etcFiles: { hosts },
        });
        for (const app of ['tr', 'ulimit', 'grep', 'touch']) {
          if (!existsSync(join(bundle, 'rootfs/bin', app))) symlinkSync('busybox', join(bundle, 'rootfs/bin', app));
        }
        writeFileSync(join(bundle, 'config.json'), ociSpecToJson(spec));
        const out = join(dir, 'full.out');
        const err = join(dir, 'full.err');
        try {
          const code = await runtime.run(id2, bundle, { stdout: out, stderr: err });
          expect({ code, stderr: readFileSync(err, 'utf8') }).toEqual({ code: 0, stderr: '' });
          expect(readFileSync(out, 'utf8').split('\n')).toEqual([
            '/sbin/docker-init -- /bin/sh -c ' + spec.process.args[4] + ' ',
            '1234',
            '80',
            'from-host',
            '10.0.0.5\tweb',
            'ro',
            'tmpfs-rw',
            'NoNewPrivs:\t1',
            'bar full-host',
            '',
          ]);
        } finally {
          await runtime.delete(id2, true).catch(() => undefined);
          await removeCgroup(mode, cgroupsPathFor(id2)).catch(() => undefined);
        }
        expect(listCgroupDirs().filter((d) => d.includes(id2))).toEqual([]);
      },
    );
  });
}
