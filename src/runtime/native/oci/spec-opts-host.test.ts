/** The host-level compose keys in the OCI spec (buildOciSpec with ./spec-opts-host.ts). */
import { describe, expect, test } from '@jest/globals';
import { errOf, input } from './__fixtures__/spec-input.js';
import { buildOciSpec } from './oci-spec.js';
import { parseDeviceCgroupRule } from './spec-opts-host.js';

describe('buildOciSpec: host-level keys', () => {
  test('pid/ipc/uts host: no namespace of that kind, no hostname; the default: all three', () => {
    const dflt = buildOciSpec(input()).linux.namespaces.map((n) => n.type);
    expect(dflt).toEqual(expect.arrayContaining(['pid', 'ipc', 'uts']));
    const s = buildOciSpec(input({ pidMode: 'host', ipcMode: 'host', utsMode: 'host', domainname: 'example.org' }));
    expect(s.linux.namespaces.map((n) => n.type)).toEqual(['mount', 'network']);
    expect(s.hostname).toBeUndefined();
    expect(s.domainname).toBeUndefined();
    expect(buildOciSpec(input({ pidMode: 'host' })).linux.namespaces.map((n) => n.type)).toEqual(['mount', 'network', 'uts', 'ipc']);
  });

  test('ipc host: the IPC sysctls are refused, as Docker does', () => {
    expect(errOf(() => buildOciSpec(input({ ipcMode: 'host', sysctls: { 'kernel.shmmax': '1' } }))).code).toBe('TSC_INVALID_SYSCTL');
  });

  test('cgroup: private adds a cgroup namespace, host none', () => {
    expect(buildOciSpec(input({ cgroupnsMode: 'private' })).linux.namespaces.map((n) => n.type)).toContain('cgroup');
    expect(buildOciSpec(input({ cgroupnsMode: 'host' })).linux.namespaces.map((n) => n.type)).not.toContain('cgroup');
  });

  test('oom_score_adj in the process; out of range refused', () => {
    expect(buildOciSpec(input({ oomScoreAdj: -500 })).process.oomScoreAdj).toBe(-500);
    expect(buildOciSpec(input()).process.oomScoreAdj).toBeUndefined();
    expect(errOf(() => buildOciSpec(input({ oomScoreAdj: 1001 }))).code).toBe('TSC_INVALID_RESOURCES');
  });

  test('swappiness, OOM killer, CFS period/quota, real-time budget', () => {
    const s = buildOciSpec(
      input({
        oomKillDisable: true,
        resources: { memorySwappiness: 10, cpuPeriod: 50000, cpuQuota: 25000, cpuRtPeriod: 1000000, cpuRtRuntime: 400000 },
      }),
    );
    expect(s.linux.resources?.memory).toEqual({ swappiness: 10, disableOOMKiller: true });
    expect(s.linux.resources?.cpu).toEqual({ period: 50000, quota: 25000, realtimePeriod: 1000000, realtimeRuntime: 400000 });
    expect(errOf(() => buildOciSpec(input({ resources: { memorySwappiness: 101 } }))).code).toBe('TSC_INVALID_RESOURCES');
  });

  test('cpus wins over cpu_period/cpu_quota (Docker refuses both; compose sends cpus as NanoCpus)', () => {
    expect(buildOciSpec(input({ resources: { cpus: 0.5, cpuPeriod: 50000, cpuQuota: 10000 } })).linux.resources?.cpu).toEqual({
      period: 100000,
      quota: 50000,
    });
  });

  test('device_cgroup_rules after the default rules', () => {
    const rules = buildOciSpec(input({ deviceCgroupRules: ['c 1:3 mr', 'b 8:* rwm', 'a *:* r'] })).linux.resources!.devices!;
    expect(rules.slice(-3)).toEqual([
      { allow: true, type: 'c', major: 1, minor: 3, access: 'mr' },
      { allow: true, type: 'b', major: 8, access: 'rwm' },
      { allow: true, type: 'a', access: 'r' },
    ]);
    expect(errOf(() => parseDeviceCgroupRule('x 1:3 rwm')).code).toBe('TSC_INVALID_DEVICE_RULE');
  });

  test('annotations over labels', () => {
    const s = buildOciSpec(input({ labels: { a: 'label' }, annotations: { a: 'annotation', b: '2' } }));
    expect(s.annotations).toMatchObject({ a: 'annotation', b: '2' });
  });

  test('bind propagation replaces rprivate; a shared bind makes the rootfs rshared', () => {
    const s = buildOciSpec(input({ mounts: [{ type: 'bind', source: '/srv', target: '/srv', propagation: 'rshared' }] }));
    expect(s.mounts.find((m) => m.destination === '/srv')!.options).toEqual(['rbind', 'rshared']);
    expect(s.linux.rootfsPropagation).toBe('rshared');
    const slave = buildOciSpec(input({ mounts: [{ type: 'bind', source: '/srv', target: '/srv', propagation: 'rslave' }] }));
    expect(slave.linux.rootfsPropagation).toBe('rslave');
    expect(buildOciSpec(input({ mounts: [{ type: 'bind', source: '/srv', target: '/srv' }] })).linux.rootfsPropagation).toBeUndefined();
    expect(errOf(() => buildOciSpec(input({ mounts: [{ type: 'bind', source: '/s', target: '/s', propagation: 'bogus' }] }))).code).toBe(
      'TSC_INVALID_MOUNT',
    );
  });
});
