/** buildOciSpec; the process part (args, env, cwd, capabilities) is in oci-spec-process.test.ts. */
import { describe, expect, test } from '@jest/globals';
import { statSync } from 'node:fs';
import {
  ALL_CAPABILITIES,
  DEFAULT_CAPABILITIES,
  DEFAULT_DEVICE_RULES,
  DEFAULT_MASKED_PATHS,
  DEFAULT_PATH_ENV,
  DEFAULT_READONLY_PATHS,
} from './defaults.js';
import { hostDevicesFor, listHostDevices } from './devices.js';
import { BUSYBOX, errOf, input } from './__fixtures__/spec-input.js';
import { buildOciSpec, ociSpecToJson } from './oci-spec.js';
import { RLIM_INFINITY } from './process.js';
import type { HostDevice } from './spec-types.js';

describe('buildOciSpec: a busybox-like service', () => {
  const s = buildOciSpec(
    input(
      { command: ['sh', '-c', 'sleep 1000'], env: ['FOO=bar'] },
      { etcFiles: { hosts: '/run/tsc/c0ffee/hosts', hostname: '/run/tsc/c0ffee/hostname', resolvConf: '/run/tsc/c0ffee/resolv.conf' } },
    ),
  );

  test('top level', () => {
    expect(s.ociVersion).toBe('1.0.2-dev');
    expect(s.root).toEqual({ path: '/var/lib/tscompose/c0ffee/rootfs', readonly: false });
    expect(s.hostname).toBe('c0ffee');
    expect(s.domainname).toBeUndefined();
    expect(s.annotations).toEqual({ 'com.docker.compose.service': 'web', 'org.opencontainers.image.stopSignal': 'SIGTERM' });
  });

  test('process', () => {
    expect(s.process).toEqual({
      terminal: false,
      user: { uid: 0, gid: 0, additionalGids: [10] },
      args: ['sh', '-c', 'sleep 1000'],
      env: [`PATH=${DEFAULT_PATH_ENV}`, 'HOSTNAME=c0ffee', 'FOO=bar'],
      cwd: '/',
      capabilities: { bounding: [...DEFAULT_CAPABILITIES], effective: [...DEFAULT_CAPABILITIES], permitted: [...DEFAULT_CAPABILITIES] },
    });
    expect(DEFAULT_CAPABILITIES).toHaveLength(14);
  });

  test('mounts: Docker defaults, then /etc files', () => {
    expect(s.mounts).toEqual([
      { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      {
        destination: '/dev/pts',
        type: 'devpts',
        source: 'devpts',
        options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
      },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid', 'noexec', 'nodev'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=67108864'] },
      { destination: '/etc/resolv.conf', type: 'bind', source: '/run/tsc/c0ffee/resolv.conf', options: ['rbind', 'rprivate'] },
      { destination: '/etc/hostname', type: 'bind', source: '/run/tsc/c0ffee/hostname', options: ['rbind', 'rprivate'] },
      { destination: '/etc/hosts', type: 'bind', source: '/run/tsc/c0ffee/hosts', options: ['rbind', 'rprivate'] },
    ]);
  });

  test('linux', () => {
    expect(s.linux).toEqual({
      namespaces: [{ type: 'mount' }, { type: 'network', path: '/run/netns/tsc-c0ffee' }, { type: 'uts' }, { type: 'pid' }, { type: 'ipc' }],
      resources: { devices: DEFAULT_DEVICE_RULES },
      cgroupsPath: '/tscompose/c0ffee',
      maskedPaths: [...DEFAULT_MASKED_PATHS],
      readonlyPaths: [...DEFAULT_READONLY_PATHS],
      seccomp: expect.objectContaining({ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 1 }),
    });
    expect(s.linux.resources?.devices?.[0]).toEqual({ allow: false, access: 'rwm' });
    expect(s.linux.resources?.devices?.at(-1)).toEqual({ allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' });
    expect(s.linux.maskedPaths).toContain('/proc/kcore');
    expect(s.linux.readonlyPaths).toContain('/proc/sys');
  });

  test('serializes to JSON losslessly', () => {
    expect(JSON.parse(ociSpecToJson(s))).toEqual(s);
  });

  test('input objects are not shared with the output', () => {
    const a = buildOciSpec(input());
    a.linux.resources?.devices?.push({ allow: true, access: 'rwm' });
    a.process.capabilities?.bounding.push('CAP_SYS_ADMIN');
    const b = buildOciSpec(input());
    expect(b.linux.resources?.devices).toEqual(DEFAULT_DEVICE_RULES);
    expect(b.process.capabilities?.bounding).toEqual(DEFAULT_CAPABILITIES);
  });
});

describe('network', () => {
  test('none: a new, empty network namespace', () => {
    const s = buildOciSpec(input({}, { network: 'none' }));
    expect(s.linux.namespaces).toEqual([{ type: 'mount' }, { type: 'network' }, { type: 'uts' }, { type: 'pid' }, { type: 'ipc' }]);
    expect(s.hostname).toBe('c0ffee');
  });

  test("host: no network namespace; the host's hostname stays", () => {
    const s = buildOciSpec(input({}, { network: 'host', hostname: 'myhost' }));
    expect(s.linux.namespaces.map((n) => n.type)).toEqual(['mount', 'uts', 'pid', 'ipc']);
    expect(s.hostname).toBeUndefined();
    expect(s.process.env).toContain('HOSTNAME=myhost');
  });

  test('host with an explicit hostname sets it', () => {
    const s = buildOciSpec(input({ hostname: 'web' }, { network: 'host', hostname: 'web' }));
    expect(s.hostname).toBe('web');
  });

  test('domainname', () => {
    expect(buildOciSpec(input({ hostname: 'web', domainname: 'example.org' }, { hostname: 'web' })).domainname).toBe('example.org');
  });
});

describe('privileged', () => {
  const dev: HostDevice = { path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 };
  const s = buildOciSpec(input({ privileged: true, capDrop: ['ALL'] }, { privilegedDevices: [dev] }));
  test('all capabilities, even with cap_drop', () => {
    expect(s.process.capabilities?.bounding).toEqual(ALL_CAPABILITIES);
    expect(s.process.capabilities?.effective).toEqual(ALL_CAPABILITIES);
  });
  test('no masked or read-only paths', () => {
    expect(s.linux.maskedPaths).toBeUndefined();
    expect(s.linux.readonlyPaths).toBeUndefined();
  });
  test('all devices allowed, host devices added', () => {
    expect(s.linux.resources?.devices).toEqual([{ allow: true, access: 'rwm' }]);
    expect(s.linux.devices).toEqual([{ path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 }]);
  });
  test('/sys and /sys/fs/cgroup read-write', () => {
    expect(s.mounts.find((m) => m.destination === '/sys')?.options).toEqual(['nosuid', 'noexec', 'nodev']);
    expect(s.mounts.find((m) => m.destination === '/sys/fs/cgroup')?.options).toEqual(['nosuid', 'noexec', 'nodev']);
  });
});

describe('resources', () => {
  test('mem_limit 64m, cpus 0.5, pids 20, cpuset "0"', () => {
    const s = buildOciSpec(input({ resources: { memoryBytes: 64 * 1024 * 1024, cpus: 0.5, pidsLimit: 20, cpuset: '0' } }));
    expect(s.linux.resources).toEqual({
      devices: DEFAULT_DEVICE_RULES,
      memory: { limit: 67108864, swap: 134217728 },
      cpu: { period: 100000, quota: 50000, cpus: '0' },
      pids: { limit: 20 },
    });
  });

  test('every field', () => {
    const s = buildOciSpec(
      input({
        resources: {
          memoryBytes: 512 * 1024 * 1024,
          memorySwapBytes: 1024 * 1024 * 1024,
          memoryReservationBytes: 256 * 1024 * 1024,
          cpus: 1.5,
          cpuShares: 512,
          cpuset: '0-1',
          pidsLimit: 100,
        },
      }),
    );
    expect(s.linux.resources).toMatchObject({
      memory: { limit: 536870912, reservation: 268435456, swap: 1073741824 },
      cpu: { shares: 512, period: 100000, quota: 150000, cpus: '0-1' },
      pids: { limit: 100 },
    });
  });

  test('unlimited swap, and no swap limit support', () => {
    expect(buildOciSpec(input({ resources: { memoryBytes: 1000000, memorySwapBytes: -1 } })).linux.resources?.memory).toEqual({
      limit: 1000000,
      swap: -1,
    });
    expect(buildOciSpec(input({ resources: { memoryBytes: 1000000 } }, { swapLimitSupported: false })).linux.resources?.memory).toEqual({
      limit: 1000000,
    });
  });

  test('swap smaller than memory is rejected', () => {
    expect(errOf(() => buildOciSpec(input({ resources: { memoryBytes: 2000000, memorySwapBytes: 1000000 } }))).code).toBe('TSC_INVALID_RESOURCES');
  });

  test('pids_limit 0 / -1 = unlimited (no limit written); odd cpus round', () => {
    const s = buildOciSpec(input({ resources: { pidsLimit: -1, cpus: 0.333333 } }));
    expect(s.linux.resources?.pids).toBeUndefined();
    expect(s.linux.resources?.cpu).toEqual({ period: 100000, quota: 33333 });
    expect(buildOciSpec(input({ resources: { pidsLimit: 0 } })).linux.resources).toEqual({ devices: DEFAULT_DEVICE_RULES });
  });
});

describe('init', () => {
  test('tini mounted read-only at /sbin/docker-init and prefixed', () => {
    const s = buildOciSpec(input({ init: true, command: ['sleep', '5'] }, { initBinary: '/usr/bin/tini-static' }));
    expect(s.process.args).toEqual(['/sbin/docker-init', '--', 'sleep', '5']);
    expect(s.mounts.find((m) => m.destination === '/sbin/docker-init')).toEqual({
      destination: '/sbin/docker-init',
      type: 'bind',
      source: '/usr/bin/tini-static',
      options: ['bind', 'ro'],
    });
  });
  test('without an init binary', () => {
    expect(errOf(() => buildOciSpec(input({ init: true }))).code).toBe('TSC_INIT_MISSING');
  });
  test('no init mount without init', () => {
    expect(buildOciSpec(input({}, { initBinary: '/usr/bin/tini-static' })).mounts.some((m) => m.destination === '/sbin/docker-init')).toBe(false);
  });
});

describe('read_only, tmpfs, binds, extra mounts', () => {
  test('read_only: root read-only, /etc files too', () => {
    const s = buildOciSpec(input({ readOnly: true }, { etcFiles: { hosts: '/h' } }));
    expect(s.root).toEqual({ path: '/var/lib/tscompose/c0ffee/rootfs', readonly: true });
    expect(s.mounts.find((m) => m.destination === '/etc/hosts')?.options).toEqual(['rbind', 'rprivate', 'ro']);
  });

  test('tmpfs and bind mounts, sorted parents first, volumes left to the caller', () => {
    const s = buildOciSpec(
      input(
        {
          mounts: [
            { type: 'tmpfs', target: '/run/app/cache' },
            { type: 'bind', source: '/srv/conf', target: '/etc/app', readOnly: true },
            { type: 'tmpfs', target: '/run', readOnly: true },
            { type: 'volume', source: 'data', target: '/data' },
            { type: 'bind', source: '/srv/code', target: '/app' },
          ],
        },
        { extraMounts: [{ destination: '/data', type: 'bind', source: '/var/lib/tscompose/volumes/data/_data', options: ['rbind', 'rprivate'] }] },
      ),
    );
    const user = s.mounts.slice(7);
    expect(user).toEqual([
      { destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['noexec', 'nosuid', 'nodev', 'rprivate', 'ro'] },
      { destination: '/app', type: 'bind', source: '/srv/code', options: ['rbind', 'rprivate'] },
      { destination: '/data', type: 'bind', source: '/var/lib/tscompose/volumes/data/_data', options: ['rbind', 'rprivate'] },
      { destination: '/etc/app', type: 'bind', source: '/srv/conf', options: ['rbind', 'ro', 'rprivate'] },
      { destination: '/run/app/cache', type: 'tmpfs', source: 'tmpfs', options: ['noexec', 'nosuid', 'nodev', 'rprivate'] },
    ]);
  });

  test('a service mount at /dev/shm replaces the default; shm_size sets the default size', () => {
    const a = buildOciSpec(input({ mounts: [{ type: 'tmpfs', target: '/dev/shm' }] }));
    expect(a.mounts.filter((m) => m.destination === '/dev/shm')).toEqual([
      { destination: '/dev/shm', type: 'tmpfs', source: 'tmpfs', options: ['noexec', 'nosuid', 'nodev', 'rprivate'] },
    ]);
    const b = buildOciSpec(input({ shmSizeBytes: 256 * 1024 * 1024 }));
    expect(b.mounts.find((m) => m.destination === '/dev/shm')?.options).toContain('size=268435456');
  });

  test('a service bind of /etc/hosts wins over the generated one', () => {
    const s = buildOciSpec(input({ mounts: [{ type: 'bind', source: '/my/hosts', target: '/etc/hosts' }] }, { etcFiles: { hosts: '/gen/hosts' } }));
    expect(s.mounts.filter((m) => m.destination === '/etc/hosts').map((m) => m.source)).toEqual(['/my/hosts']);
  });
});

describe('sysctls, ulimits, no-new-privileges, annotations', () => {
  test('sysctls', () => {
    const s = buildOciSpec(input({ sysctls: { 'net.core.somaxconn': '1024', 'net.ipv4.ip_unprivileged_port_start': '0' } }));
    expect(s.linux.sysctl).toEqual({ 'net.core.somaxconn': '1024', 'net.ipv4.ip_unprivileged_port_start': '0' });
    expect(buildOciSpec(input()).linux.sysctl).toBeUndefined();
    expect(errOf(() => buildOciSpec(input({ sysctls: { 'net.core.somaxconn': '1' } }, { network: 'host' }))).code).toBe('TSC_INVALID_SYSCTL');
  });

  test('ulimits', () => {
    const s = buildOciSpec(
      input({
        ulimits: [
          { name: 'nofile', soft: 20000, hard: 40000 },
          { name: 'nproc', soft: 65535, hard: 65535 },
          { name: 'memlock', soft: -1, hard: -1 },
        ],
      }),
    );
    expect(s.process.rlimits).toEqual([
      { type: 'RLIMIT_NOFILE', soft: 20000, hard: 40000 },
      { type: 'RLIMIT_NPROC', soft: 65535, hard: 65535 },
      { type: 'RLIMIT_MEMLOCK', soft: RLIM_INFINITY, hard: RLIM_INFINITY },
    ]);
    // unlimited is written as uint64 max
    expect(ociSpecToJson(s, 0)).toContain('{"type":"RLIMIT_MEMLOCK","hard":18446744073709551615,"soft":18446744073709551615}');
    expect(buildOciSpec(input()).process.rlimits).toBeUndefined();
    expect(errOf(() => buildOciSpec(input({ ulimits: [{ name: 'bogus', soft: 1, hard: 1 }] }))).message).toBe('invalid ulimit type: bogus');
    expect(errOf(() => buildOciSpec(input({ ulimits: [{ name: 'nofile', soft: 2, hard: 1 }] }))).code).toBe('TSC_INVALID_ULIMIT');
  });

  test('no-new-privileges', () => {
    expect(buildOciSpec(input({ security: { noNewPrivileges: true } })).process.noNewPrivileges).toBe(true);
    expect(buildOciSpec(input({ security: { noNewPrivileges: false } })).process.noNewPrivileges).toBeUndefined();
    expect(buildOciSpec(input()).process.noNewPrivileges).toBeUndefined();
  });

  test('annotations: image labels, compose labels, stop signal', () => {
    const s = buildOciSpec(input({ labels: { a: '1' }, stopSignal: 'quit' }, { image: { ...BUSYBOX, Labels: { a: '0', b: '2' } } }));
    expect(s.annotations).toEqual({ a: '1', b: '2', 'org.opencontainers.image.stopSignal': 'SIGQUIT' });
  });
});

describe('devices', () => {
  const fake = (source: string): HostDevice[] => {
    if (source === '/dev/fuse') return [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 }];
    if (source === '/dev/dri')
      return [
        { path: '/dev/dri/card0', type: 'c', major: 226, minor: 0, fileMode: 0o660, uid: 0, gid: 44 },
        { path: '/dev/dri/renderD128', type: 'c', major: 226, minor: 128, fileMode: 0o660, uid: 0, gid: 105 },
      ];
    return [];
  };

  test('a device node and a directory of devices', () => {
    const s = buildOciSpec(
      input(
        {
          devices: [
            { source: '/dev/fuse', target: '/dev/fuse' },
            { source: '/dev/dri', target: '/dev/gpu', permissions: 'rw' },
          ],
        },
        { hostDevices: fake },
      ),
    );
    expect(s.linux.devices).toEqual([
      { path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 },
      { path: '/dev/gpu/card0', type: 'c', major: 226, minor: 0, fileMode: 0o660, uid: 0, gid: 44 },
      { path: '/dev/gpu/renderD128', type: 'c', major: 226, minor: 128, fileMode: 0o660, uid: 0, gid: 105 },
    ]);
    expect(s.linux.resources?.devices?.slice(DEFAULT_DEVICE_RULES.length)).toEqual([
      { allow: true, type: 'c', major: 10, minor: 229, access: 'rwm' },
      { allow: true, type: 'c', major: 226, minor: 0, access: 'rw' },
      { allow: true, type: 'c', major: 226, minor: 128, access: 'rw' },
    ]);
  });

  test('not a device / bad mode', () => {
    expect(errOf(() => buildOciSpec(input({ devices: [{ source: '/etc/passwd', target: '/x' }] }, { hostDevices: fake }))).code).toBe(
      'TSC_INVALID_DEVICE',
    );
    expect(
      errOf(() => buildOciSpec(input({ devices: [{ source: '/dev/fuse', target: '/x', permissions: 'rwx' }] }, { hostDevices: fake }))).code,
    ).toBe('TSC_INVALID_DEVICE');
  });

  test('hostDevicesFor reads real nodes (/dev/null is c 1:3)', () => {
    // The owner the host gives it (read, not assumed to be root: this test is about reading the node).
    const { uid, gid } = statSync('/dev/null');
    expect(hostDevicesFor('/dev/null')).toEqual([{ path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o666, uid, gid }]);
    expect(hostDevicesFor('/etc/hostname')).toEqual([]);
    expect(errOf(() => hostDevicesFor('/dev/does-not-exist')).code).toBe('TSC_INVALID_DEVICE');
    const s = buildOciSpec(input({ devices: [{ source: '/dev/null', target: '/dev/mynull' }] }));
    expect(s.linux.devices).toEqual([{ path: '/dev/mynull', type: 'c', major: 1, minor: 3, fileMode: 0o666, uid, gid }]);
  });

  test('listHostDevices finds /dev/null and /dev/zero, skips /dev/pts', () => {
    const all = listHostDevices();
    expect(all.find((d) => d.path === '/dev/zero')).toMatchObject({ type: 'c', major: 1, minor: 5 });
    expect(all.some((d) => d.path.startsWith('/dev/pts/'))).toBe(false);
  });
});
