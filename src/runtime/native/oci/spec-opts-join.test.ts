/** `pid`/`ipc`/`uts: container:X` and /dev/shm by IPC mode in the OCI spec (./spec-opts-host.ts withHostNamespaces, withIpcShm). */
import { describe, expect, test } from '@jest/globals';
import { errOf, input } from './__fixtures__/spec-input.js';
import { buildOciSpec } from './oci-spec.js';

const joined = { pid: '/proc/42/ns/pid', ipc: '/proc/42/ns/ipc', uts: '/proc/42/ns/uts' };
const shm = (s: ReturnType<typeof buildOciSpec>) => s.mounts.filter((m) => m.destination === '/dev/shm');

describe('joining another container’s namespaces', () => {
  test('pid, ipc, uts container:X: the namespaces by path; no hostname in a joined UTS namespace', () => {
    const s = buildOciSpec(
      input(
        { pidMode: 'container:p-db-1', ipcMode: 'container:p-db-1', utsMode: 'container:p-db-1', domainname: 'example.org' },
        { joinedNamespaces: joined, shmSource: '/var/lib/tscompose/containers/42/shm' },
      ),
    );
    expect(s.linux.namespaces).toEqual([
      { type: 'mount' },
      { type: 'network', path: '/run/netns/tsc-c0ffee' },
      { type: 'uts', path: '/proc/42/ns/uts' },
      { type: 'pid', path: '/proc/42/ns/pid' },
      { type: 'ipc', path: '/proc/42/ns/ipc' },
    ]);
    expect(s.hostname).toBeUndefined();
    expect(s.domainname).toBeUndefined();
    expect(shm(s)).toEqual([
      {
        destination: '/dev/shm',
        type: 'bind',
        source: '/var/lib/tscompose/containers/42/shm',
        options: ['rbind', 'rprivate', 'nosuid', 'noexec', 'nodev'],
      },
    ]);
  });

  test('only pid joined: the others stay private, the hostname is set', () => {
    const s = buildOciSpec(input({ pidMode: 'container:x' }, { joinedNamespaces: { pid: '/proc/7/ns/pid' } }));
    expect(s.linux.namespaces.find((n) => n.type === 'pid')).toEqual({ type: 'pid', path: '/proc/7/ns/pid' });
    expect(s.linux.namespaces.find((n) => n.type === 'ipc')).toEqual({ type: 'ipc' });
    expect(s.hostname).toBe('c0ffee');
  });

  test('a container: mode whose path was not resolved, and invalid modes, are refused', () => {
    expect(errOf(() => buildOciSpec(input({ pidMode: 'container:x' }))).code).toBe('TSC_INVALID_NAMESPACE');
    expect(errOf(() => buildOciSpec(input({ ipcMode: 'bogus' }))).message).toBe('invalid IPC mode: bogus');
    expect(errOf(() => buildOciSpec(input({ pidMode: 'service:x' }))).message).toBe('invalid PID mode: service:x');
  });
});

describe('/dev/shm by IPC mode', () => {
  test('default and private: a tmpfs of its own; shareable: its host tmpfs; none: no /dev/shm; host: the host’s', () => {
    expect(shm(buildOciSpec(input()))[0]?.type).toBe('tmpfs');
    expect(shm(buildOciSpec(input({ ipcMode: 'private' })))[0]?.type).toBe('tmpfs');
    expect(shm(buildOciSpec(input({ ipcMode: 'shareable' }, { shmSource: '/s/shm' })))[0]).toMatchObject({ type: 'bind', source: '/s/shm' });
    expect(shm(buildOciSpec(input({ ipcMode: 'none' })))).toEqual([]);
    expect(shm(buildOciSpec(input({ ipcMode: 'host' })))[0]).toMatchObject({ type: 'bind', source: '/dev/shm' });
  });

  test('a /dev/shm the service mounts itself is kept', () => {
    const s = buildOciSpec(input({ ipcMode: 'none', mounts: [{ type: 'tmpfs', target: '/dev/shm' }] }));
    expect(shm(s)).toHaveLength(1);
  });
});
