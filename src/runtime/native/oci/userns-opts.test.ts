import { describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { input } from './__fixtures__/spec-input.js';
import { buildOciSpec } from './oci-spec.js';
import { MOVE_NETNS_SCRIPT, moveNetnsHook } from './userns-opts.js';

const userns = { uid: 100000, gid: 200000, size: 65536 };

describe('withUserNamespace', () => {
  test('without a remap: no user namespace, no mappings, no hook', () => {
    const s = buildOciSpec(input());
    expect(s.linux.namespaces.map((n) => n.type)).not.toContain('user');
    expect(s.linux.uidMappings).toBeUndefined();
    expect(s.hooks).toBeUndefined();
    expect(s.linux.namespaces.find((n) => n.type === 'network')).toEqual({ type: 'network', path: '/run/netns/tsc-c0ffee' });
  });

  test('a bridge network: a user namespace with one mapping each, a new netns and the hook moving the bridge one', () => {
    const s = buildOciSpec(input({}, { userns }));
    expect(s.linux.namespaces).toContainEqual({ type: 'user' });
    expect(s.linux.uidMappings).toEqual([{ containerID: 0, hostID: 100000, size: 65536 }]);
    expect(s.linux.gidMappings).toEqual([{ containerID: 0, hostID: 200000, size: 65536 }]);
    expect(s.linux.namespaces.find((n) => n.type === 'network')).toEqual({ type: 'network' });
    expect(s.hooks?.createRuntime).toEqual([moveNetnsHook('tsc-c0ffee', '/run/tscompose-userns/100000.200000.65536/c0ffee.userns')]);
    expect(s.hooks?.createRuntime?.[0]?.args?.slice(-2)).toEqual(['tsc-c0ffee', '/run/tscompose-userns/100000.200000.65536/c0ffee.userns']);
    // sysfs stays sysfs: the container's user namespace owns its network namespace.
    expect(s.mounts.find((m) => m.destination === '/sys')?.type).toBe('sysfs');
  });

  test('network none: a user namespace and a new netns, no hook', () => {
    const s = buildOciSpec(input({}, { userns, network: 'none' }));
    expect(s.linux.namespaces).toContainEqual({ type: 'user' });
    expect(s.linux.namespaces.find((n) => n.type === 'network')).toEqual({ type: 'network' });
    expect(s.hooks).toBeUndefined();
  });

  test("another container's netns (container:/service:) is joined as it is, with that container's user namespace", () => {
    const path = '/run/tscompose-userns/other.userns';
    const s = buildOciSpec(input({}, { userns: { ...userns, path }, network: { netnsPath: '/proc/42/ns/net' } }));
    expect(s.linux.namespaces.find((n) => n.type === 'network')).toEqual({ type: 'network', path: '/proc/42/ns/net' });
    expect(s.linux.namespaces.filter((n) => n.type === 'user')).toEqual([{ type: 'user', path }]);
    expect(s.linux.uidMappings).toEqual([{ containerID: 0, hostID: 100000, size: 65536 }]);
    expect(s.hooks).toBeUndefined();
  });

  test('the hook script is valid sh', () => {
    expect(() => execFileSync('sh', ['-n', '-c', MOVE_NETNS_SCRIPT])).not.toThrow();
  });

  test("the hook finds the container's pid in runc's and in crun's state (their keys in another order)", () => {
    const line = MOVE_NETNS_SCRIPT.split('\n').find((l) => l.startsWith('pid='))!;
    const pidOf = (state: string): string => execFileSync('sh', ['-c', `${line}; echo "$pid"`], { input: state, encoding: 'utf8' }).trim();
    expect(pidOf('{"ociVersion":"1.0.2-dev","id":"c","status":"creating","pid":17134,"bundle":"/b"}')).toBe('17134');
    expect(pidOf('{"ociVersion":"1.0","id":"c","pid":17078,"root":"rootfs","bundle":"/b","status":"created"}')).toBe('17078');
  });
});
