/**
 * End-to-end (issue 18): namespace joins, cgroup_parent, blkio_config and volume subpath on the native runtime,
 * with runc and with crun: `pid`/`ipc`/`uts: service:X` join X's namespaces (the joiner sees X's processes, X's
 * /dev/shm and hostname), a non-shareable IPC donor and a stopped one are refused as Docker refuses them, a joiner
 * restarted by its restart policy joins X's new namespaces, `ipc: none` has no /dev/shm and `ipc: host` the host's,
 * `cgroup_parent` places the container's cgroup (and `down` removes the parent it made), a `blkio_config` throttle
 * is in the container's blkio cgroup, a volume `subpath` mounts only that directory, and `down` leaves nothing.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { required } from './helpers.js';
import { capable, nativeDescribe, NativeSuite, ok, type NativeProject } from './native-harness.js';

const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const runtimes = ['runc', 'crun'].filter(has);
const run = nativeDescribe && runtimes.length > 0 ? describe : describe.skip;

/** A block device of this host for the throttles: a disk (not a loop or zram device) when there is one. */
function blockDevice(): { path: string; dev: string } | undefined {
  let names: string[];
  try {
    names = readdirSync('/sys/block');
  } catch {
    return undefined;
  }
  const sorted = [...names.filter((n) => !/^(loop|zram|ram)/.test(n)), ...names];
  for (const n of sorted) if (existsSync(`/dev/${n}`)) return { path: `/dev/${n}`, dev: readFileSync(`/sys/block/${n}/dev`, 'utf8').trim() };
  return undefined;
}

const V1_BLKIO = '/sys/fs/cgroup/blkio';
const cgroupRoots = (): string[] =>
  existsSync('/sys/fs/cgroup/cgroup.controllers')
    ? ['/sys/fs/cgroup']
    : readdirSync('/sys/fs/cgroup', { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => join('/sys/fs/cgroup', e.name));

run.each(runtimes)('native (%s): pid/ipc/uts service:, cgroup_parent, blkio_config, volume subpath', (oci) => {
  const suite = new NativeSuite();
  suite.env.TSCOMPOSE_OCI_RUNTIME = oci;
  const parent = `tsc-e2e-parent-${Math.random().toString(36).slice(2, 8)}`;
  const disk = blockDevice();
  let p: NativeProject;
  const sh = (service: string, cmd: string): string => ok(suite.ts(p, 'exec', '-T', service, 'sh', '-c', cmd)).trim();

  beforeAll(() => {
    if (required && !capable) throw new Error('TSCOMPOSE_E2E=1 but the native runtime cannot run here (root, conmon and runc/crun needed)');
    if (!capable) return;
    const blkio = disk
      ? `    blkio_config:\n      device_read_bps: [{path: ${disk.path}, rate: 1mb}]\n      device_write_iops: [{path: ${disk.path}, rate: 120}]\n`
      : '';
    p = suite.project({
      'compose.yaml': `services:
  donor:
    image: busybox
    network_mode: none
    hostname: donorhost
    ipc: shareable
    command: ["sh", "-c", "echo from-donor > /dev/shm/marker && exec sleep 3600"]
  joiner:
    image: busybox
    network_mode: none
    pid: "service:donor"
    ipc: "service:donor"
    uts: "service:donor"
    command: ["sleep", "3601"]
  tuned:
    image: busybox
    network_mode: none
    cgroup_parent: /${parent}
${blkio}    command: ["sleep", "3602"]
  ipcnone:
    image: busybox
    network_mode: none
    ipc: none
    command: ["sleep", "3604"]
  ipchost:
    image: busybox
    network_mode: none
    ipc: host
    command: ["sleep", "3605"]
  seed:
    image: busybox
    network_mode: none
    volumes: [data:/data]
    command: ["sh", "-c", "mkdir -p /data/site && echo in-subpath > /data/site/index.html && echo outside > /data/top.txt"]
  reader:
    image: busybox
    network_mode: none
    depends_on:
      seed: {condition: service_completed_successfully}
    volumes:
      - type: volume
        source: data
        target: /srv
        volume: {subpath: site}
    command: ["sleep", "3603"]
  late:
    image: busybox
    network_mode: none
    profiles: [late]
    volumes:
      - type: volume
        source: data
        target: /srv
        volume: {subpath: later}
    command: ["sleep", "3606"]
volumes:
  data: {}
`,
    });
    ok(suite.ts(undefined, 'image', 'pull', 'busybox'));
    ok(suite.ts(p, 'up', '-d'));
  }, 300_000);

  afterAll(() => {
    if (capable) suite.cleanup();
  }, 120_000);

  test('pid: service:donor — one PID namespace: each sees the other’s processes', () => {
    expect(sh('joiner', 'ps -o args')).toContain('sleep 3600');
    expect(sh('donor', 'ps -o args')).toContain('sleep 3601');
    expect(sh('joiner', 'readlink /proc/self/ns/pid')).toBe(sh('donor', 'readlink /proc/self/ns/pid'));
    // not the other services'
    expect(sh('tuned', 'readlink /proc/self/ns/pid')).not.toBe(sh('donor', 'readlink /proc/self/ns/pid'));
  });

  test('ipc: service:donor (donor shareable) — one IPC namespace and the donor’s /dev/shm; uts: its hostname', () => {
    expect(sh('joiner', 'readlink /proc/self/ns/ipc')).toBe(sh('donor', 'readlink /proc/self/ns/ipc'));
    expect(sh('joiner', 'cat /dev/shm/marker')).toBe('from-donor');
    expect(sh('joiner', 'readlink /proc/self/ns/uts')).toBe(sh('donor', 'readlink /proc/self/ns/uts'));
    expect(sh('joiner', 'hostname')).toBe('donorhost');
  });

  test('ipc: none has no /dev/shm; ipc: host the host’s IPC namespace and /dev/shm (as Docker)', () => {
    expect(sh('ipcnone', 'test -e /dev/shm && echo present || echo absent')).toBe('absent');
    expect(sh('ipchost', 'readlink /proc/self/ns/ipc')).toBe(readlinkSync('/proc/self/ns/ipc'));
    const file = `/dev/shm/tsc-e2e-${Math.random().toString(36).slice(2, 8)}`;
    writeFileSync(file, 'from-host');
    try {
      expect(sh('ipchost', `cat ${file}`)).toBe('from-host');
    } finally {
      rmSync(file, { force: true });
    }
  });

  test('cgroup_parent: the container’s cgroup is under it', () => {
    const procCgroup = sh('tuned', 'cat /proc/1/cgroup');
    expect(procCgroup).toContain(`/${parent}/`);
    const memory = existsSync('/sys/fs/cgroup/cgroup.controllers') ? `/sys/fs/cgroup/${parent}` : `/sys/fs/cgroup/memory/${parent}`;
    const ids = readdirSync(memory, { withFileTypes: true }).filter((e) => e.isDirectory());
    expect(ids.map((e) => e.name)).toEqual([expect.stringMatching(/^[0-9a-f]{64}$/)]);
  });

  (disk && existsSync(`${V1_BLKIO}/blkio.throttle.read_bps_device`) ? test : test.skip)(
    'blkio_config: the throttles in the container’s blkio cgroup',
    () => {
      const dir = join(V1_BLKIO, parent);
      const [id] = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory());
      expect(readFileSync(join(dir, id!.name, 'blkio.throttle.read_bps_device'), 'utf8').trim()).toBe(`${disk!.dev} 1048576`);
      expect(readFileSync(join(dir, id!.name, 'blkio.throttle.write_iops_device'), 'utf8').trim()).toBe(`${disk!.dev} 120`);
    },
  );

  test('volume subpath: only that directory of the volume', () => {
    expect(sh('reader', 'cat /srv/index.html')).toBe('in-subpath');
    expect(sh('reader', 'ls /srv')).toBe('index.html');
  });

  test('a volume subpath is checked at start, as Docker does: created without it, started once it exists', () => {
    ok(suite.ts(p, '--profile', 'late', 'create', 'late'));
    const r = suite.ts(p, '--profile', 'late', 'start', 'late');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/cannot access path \S*_data\/later: lstat \S*: no such file or directory/);
    expect(ok(suite.ts(p, '--profile', 'late', 'ps', '-a', '--format', '{{.Service}} {{.State}}', 'late')).trim()).toBe('late created');
    ok(suite.ts(p, '--profile', 'late', 'run', '--rm', '-T', '--no-deps', 'seed', 'sh', '-c', 'mkdir /data/later && echo made > /data/later/f'));
    ok(suite.ts(p, '--profile', 'late', 'start', 'late'));
    expect(sh('late', 'cat /srv/f')).toBe('made');
    ok(suite.ts(p, '--profile', 'late', 'stop', '-t', '0', 'late'));
    ok(suite.ts(p, '--profile', 'late', 'rm', '-f', 'late'));
  });

  test('a stopped donor: the joiner cannot start ("not running"); up brings both back', () => {
    ok(suite.ts(p, 'stop', '-t', '0', 'donor'));
    const r = suite.ts(p, 'start', 'joiner');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/cannot join the PID namespace of container \S*donor\S*: it is not running/);
    ok(suite.ts(p, 'up', '-d'));
    expect(sh('joiner', 'ps -o args')).toContain('sleep 3600');
  });

  test('create with the donor not running (Docker creates, checks at start); start then joins it', () => {
    const q = suite.project({
      'compose.yaml': `services:
  d:
    image: busybox
    network_mode: none
    ipc: shareable
    command: ["sleep", "3700"]
  j:
    image: busybox
    network_mode: none
    pid: "service:d"
    ipc: "service:d"
    command: ["sleep", "3701"]
`,
    });
    ok(suite.ts(q, 'create'));
    ok(suite.ts(q, 'start'));
    expect(ok(suite.ts(q, 'exec', '-T', 'j', 'ps', '-o', 'args'))).toContain('sleep 3700');
    ok(suite.ts(q, 'down', '-t', '0'));
  });

  test('restart: always — the donor killed takes the joiner’s PID namespace with it; both come back, joined again', () => {
    const tag = String(3800 + Math.floor(Math.random() * 100));
    const q = suite.project({
      'compose.yaml': `services:
  d:
    image: busybox
    network_mode: none
    restart: always
    command: ["sleep", "${tag}"]
  j:
    image: busybox
    network_mode: none
    restart: always
    pid: "service:d"
    command: ["sleep", "${tag}1"]
`,
    });
    ok(suite.ts(q, 'up', '-d'));
    const hostPid = (args: string): number | undefined => {
      const ps = spawnSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).stdout;
      const line = ps.split('\n').find((l) => l.trim().split(/\s+/).slice(1).join(' ') === args);
      return line === undefined ? undefined : Number(line.trim().split(/\s+/)[0]);
    };
    const before = hostPid(`sleep ${tag}`);
    expect(before).toBeDefined();
    process.kill(before!, 'SIGKILL');
    let seen = '';
    for (let i = 0; i < 100; i++) {
      spawnSync('sleep', ['0.2']);
      const after = hostPid(`sleep ${tag}`);
      const r = suite.ts(q, 'exec', '-T', 'j', 'ps', '-o', 'args');
      seen = r.stdout;
      if (after !== undefined && after !== before && r.status === 0 && seen.includes(`sleep ${tag}\n`)) break;
    }
    expect(seen).toContain(`sleep ${tag}\n`);
    expect(hostPid(`sleep ${tag}`)).not.toBe(before);
    ok(suite.ts(q, 'down', '-t', '0'));
  });

  test('a donor whose IPC is not shareable is refused as Docker refuses it', () => {
    const q = suite.project({
      'compose.yaml': `services:
  a:
    image: busybox
    network_mode: none
    command: ["sleep", "3600"]
  b:
    image: busybox
    network_mode: none
    ipc: "service:a"
    command: ["sleep", "3600"]
`,
    });
    const r = suite.ts(q, 'up', '-d');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/non-shareable IPC/);
    ok(suite.ts(q, 'down', '-t', '0'));
  });

  test('down leaves nothing: containers, mounts, OCI state, the cgroup_parent directories', () => {
    ok(suite.ts(p, 'down', '-v', '-t', '0'));
    expect(ok(suite.ts(p, 'ps', '-a', '-q')).trim()).toBe('');
    expect(suite.mounts()).toEqual([]);
    expect(suite.leftovers()).toEqual([]);
    for (const root of cgroupRoots()) expect(existsSync(join(root, parent))).toBe(false);
  });
});
