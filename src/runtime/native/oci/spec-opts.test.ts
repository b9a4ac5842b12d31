import { describe, expect, test } from '@jest/globals';
import type { ContainerSpec } from '../../runtime.js';
import { DEFAULT_DEVICE_RULES } from './defaults.js';
import { buildOciSpec } from './oci-spec.js';
import {
  withDefaultMounts,
  withDevices,
  withEnv,
  withEtcFiles,
  withHostname,
  withInit,
  withMounts,
  withProcessArgs,
  withResources,
  withUser,
  type SpecOpt,
} from './spec-opts.js';
import type { OciSpec, OciSpecInput } from './spec-types.js';

function input(spec: Partial<ContainerSpec> = {}, over: Partial<OciSpecInput> = {}): OciSpecInput {
  return {
    id: 'c0ffee',
    spec: { name: 'p-web-1', image: 'busybox', labels: {}, ...spec },
    image: { Cmd: ['sh'] },
    rootfsPath: '/rootfs',
    user: { uid: 0, gid: 0, additionalGids: [] },
    hostname: 'c0ffee',
    cgroupsPath: '/tscompose/c0ffee',
    network: 'none',
    ...over,
  };
}

/** The base spec with only `opts` applied. */
function apply(opts: SpecOpt[], inp: OciSpecInput): OciSpec {
  const s: OciSpec = {
    ociVersion: '1.0.2-dev',
    process: { terminal: false, user: { uid: 0, gid: 0 }, args: [], env: [], cwd: '/' },
    root: { path: inp.rootfsPath, readonly: false },
    mounts: [],
    linux: { namespaces: [], resources: { devices: [] }, cgroupsPath: inp.cgroupsPath },
  };
  for (const o of opts) o(s, inp);
  return s;
}

describe('spec options', () => {
  test('withInit wraps the args withProcessArgs set and mounts the init read-only', () => {
    const s = apply([withProcessArgs, withInit], input({ init: true, command: ['top'] }, { initBinary: '/usr/bin/tini-static' }));
    expect(s.process.args).toEqual(['/sbin/docker-init', '--', 'top']);
    expect(s.mounts).toEqual([{ destination: '/sbin/docker-init', type: 'bind', source: '/usr/bin/tini-static', options: ['bind', 'ro'] }]);
    expect(apply([withProcessArgs, withInit], input({ command: ['top'] })).process.args).toEqual(['top']);
  });

  test('withEnv adds HOME from the user only when unset', () => {
    expect(apply([withEnv], input({}, { user: { uid: 1, gid: 1, additionalGids: [], home: '/home/u' } })).process.env).toContain('HOME=/home/u');
    expect(
      apply([withEnv], input({ env: ['HOME=/x'] }, { user: { uid: 1, gid: 1, additionalGids: [], home: '/home/u' } })).process.env,
    ).not.toContain('HOME=/home/u');
  });

  test('withUser sets supplementary groups only when there are some', () => {
    expect(apply([withUser], input({}, { user: { uid: 5, gid: 6, additionalGids: [] } })).process.user).toEqual({ uid: 5, gid: 6 });
    expect(apply([withUser], input({}, { user: { uid: 5, gid: 6, additionalGids: [7] } })).process.user).toEqual({
      uid: 5,
      gid: 6,
      additionalGids: [7],
    });
  });

  test('withMounts keeps the service order of tmpfs and binds; withDefaultMounts puts the defaults first, sorted parents first', () => {
    const inp = input({
      mounts: [
        { type: 'bind', source: '/h', target: '/a/b' },
        { type: 'tmpfs', target: '/dev/shm' },
        { type: 'bind', source: '/h2', target: '/a' },
      ],
    });
    const s = apply([withMounts, withDefaultMounts], inp);
    const dests = s.mounts.map((m) => m.destination);
    expect(dests.slice(0, 6)).toEqual(['/proc', '/dev', '/dev/pts', '/sys', '/sys/fs/cgroup', '/dev/mqueue']);
    expect(dests.slice(6)).toEqual(['/a', '/a/b', '/dev/shm']); // the service's /dev/shm replaces Docker's
  });

  test('withEtcFiles skips a file the service mounts and is read-only with read_only', () => {
    const inp = input(
      { readOnly: true, mounts: [{ type: 'bind', source: '/mine', target: '/etc/hosts' }] },
      { etcFiles: { hosts: '/e/hosts', resolvConf: '/e/rc' } },
    );
    const s = apply([withMounts, withEtcFiles], inp);
    expect(s.mounts.map((m) => [m.destination, m.source])).toEqual([
      ['/etc/hosts', '/mine'],
      ['/etc/resolv.conf', '/e/rc'],
    ]);
    expect(s.mounts[1]?.options).toEqual(['rbind', 'rprivate', 'ro']);
  });

  test('withDevices: Docker rules plus the device; privileged gets every host device and all access', () => {
    const dev = { path: '/dev/fuse', type: 'c' as const, major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 };
    const s = apply(
      [withDevices],
      input({ devices: [{ source: '/dev/fuse', target: '/dev/fuse', permissions: 'rw' }] }, { hostDevices: () => [dev] }),
    );
    expect(s.linux.resources?.devices).toEqual([...DEFAULT_DEVICE_RULES, { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' }]);
    expect(s.linux.devices).toEqual([dev]);
    const p = apply([withDevices], input({ privileged: true }, { privilegedDevices: [dev] }));
    expect(p.linux.resources?.devices).toEqual([{ allow: true, access: 'rwm' }]);
    expect(p.linux.devices).toEqual([dev]);
  });

  test('withResources keeps the device rules', () => {
    const s = apply([withDevices, withResources], input({ resources: { memoryBytes: 1 << 20, pidsLimit: 10 } }));
    expect(s.linux.resources).toEqual({ devices: DEFAULT_DEVICE_RULES, memory: { limit: 1 << 20, swap: 2 << 20 }, pids: { limit: 10 } });
  });

  test('withHostname: host network without a compose hostname keeps the host name', () => {
    expect(apply([withHostname], input({}, { network: 'host', hostname: 'myhost' })).hostname).toBeUndefined();
    expect(apply([withHostname], input({ hostname: 'h' }, { network: 'host', hostname: 'h' })).hostname).toBe('h');
    expect(apply([withHostname], input()).hostname).toBe('c0ffee');
  });

  test('buildOciSpec: the first invalid field in option order is reported', () => {
    const both = input(
      { devices: [{ source: '/dev/x', target: '/dev/x', permissions: 'rwz' }], sysctls: { 'net.core.somaxconn': '1' } },
      { network: 'host' },
    );
    expect(() => buildOciSpec(both)).toThrow('invalid device mode: rwz');
  });
});
