/** The host-level keys and the rarer resources of a service's ContainerSpec, from a loaded compose file. */
import { afterAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProjectSync } from '../project/load.js';
import type { Project } from '../project/types.js';
import { containerSpec } from './container-spec.js';
import { parseByteSize } from './container-spec-host.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function load(yaml: string): Project {
  const dir = mkdtempSync(join(tmpdir(), 'tsc-spec-host-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'compose.yaml'), yaml);
  return loadProjectSync({ cwd: dir, env: {}, projectName: 'demo' }).project;
}

const spec = (p: Project, service: string) =>
  containerSpec({ project: p, service, svc: p.services[service]!, name: `demo-${service}-1`, labels: {} });

describe('containerSpec: host-level keys', () => {
  const p = load(`
services:
  a:
    image: alpine
    pid: "service:b"
    ipc: host
    uts: host
    cgroup: private
    cgroup_parent: mine
    group_add: [audio, 1234]
    oom_score_adj: -500
    oom_kill_disable: true
    runtime: runc
    storage_opt: {size: 1G}
    logging: {driver: json-file, options: {max-size: 10m, max-file: "3"}}
    device_cgroup_rules: ["c 1:3 mr"]
    gpus: all
    annotations: {com.example/a: "1"}
    mem_swappiness: 10
    cpu_period: 50000
    cpu_quota: 25000
    cpu_rt_period: 1000000
    cpu_rt_runtime: 400000
    blkio_config:
      weight: 300
      weight_device: [{path: /dev/sda, weight: 400}]
      device_read_bps: [{path: /dev/sda, rate: 1mb}]
      device_write_iops: [{path: /dev/sda, rate: 120}]
    mac_address: 02:42:ac:11:00:02
    volumes:
      - {type: bind, source: /srv, target: /srv, bind: {propagation: rshared, selinux: z}}
      - {type: volume, source: v, target: /v, volume: {subpath: sub}}
    networks:
      front: {gw_priority: 5, interface_name: eth5}
      back: {priority: 10}
  b:
    image: alpine
volumes: {v: {}}
networks: {front: {}, back: {}}
`);

  test('namespaces, groups, OOM, cgroups, runtime, storage, logging, devices, annotations', () => {
    const s = spec(p, 'a');
    expect(s).toMatchObject({
      pidMode: 'container:demo-b-1',
      ipcMode: 'host',
      utsMode: 'host',
      cgroupnsMode: 'private',
      cgroupParent: 'mine',
      groupAdd: ['audio', '1234'],
      oomScoreAdj: -500,
      oomKillDisable: true,
      runtime: 'runc',
      storageOpt: { size: '1G' },
      logging: { driver: 'json-file', options: { 'max-size': '10m', 'max-file': '3' } },
      deviceCgroupRules: ['c 1:3 mr'],
      deviceRequests: [{ count: -1, capabilities: [['gpu']] }],
      annotations: { 'com.example/a': '1' },
    });
  });

  test('swappiness, CFS and real-time periods (microseconds), block IO (sizes in bytes)', () => {
    expect(spec(p, 'a').resources).toEqual({
      memorySwappiness: 10,
      cpuPeriod: 50000,
      cpuQuota: 25000,
      cpuRtPeriod: 1000000,
      cpuRtRuntime: 400000,
      blkio: {
        weight: 300,
        weightDevice: [{ path: '/dev/sda', value: 400 }],
        deviceReadBps: [{ path: '/dev/sda', value: 1048576 }],
        deviceWriteIops: [{ path: '/dev/sda', value: 120 }],
      },
    });
  });

  test('bind propagation and SELinux label, volume subpath', () => {
    const mounts = spec(p, 'a').mounts!;
    expect(mounts[0]).toMatchObject({ type: 'bind', propagation: 'rshared', selinux: 'z' });
    expect(mounts[1]).toMatchObject({ type: 'volume', subpath: 'sub' });
  });

  test('gw_priority and interface_name on the endpoint; mac_address on the endpoint the container is created with', () => {
    const eps = spec(p, 'a').networks!;
    expect(eps.find((e) => e.network === 'demo_front')).toMatchObject({ gwPriority: 5, interfaceName: 'eth5' });
    expect(eps.find((e) => e.network === 'demo_front')!.macAddress).toBeUndefined();
    expect(eps.find((e) => e.network === 'demo_back')!.macAddress).toBe('02:42:ac:11:00:02');
  });

  test('none of them when the service has none', () => {
    const s = spec(p, 'b');
    for (const k of ['pidMode', 'groupAdd', 'logging', 'deviceRequests', 'resources', 'annotations'] as const) expect(s[k]).toBeUndefined();
  });

  test('gpus as a list and device reservations', () => {
    const q = load(`
services:
  a:
    image: alpine
    gpus: [{driver: nvidia, count: 2}, {device_ids: ["0"], capabilities: [gpu, utility]}]
    deploy: {resources: {reservations: {devices: [{capabilities: [gpu], driver: nvidia, count: all}]}}}
`);
    expect(spec(q, 'a').deviceRequests).toEqual([
      { driver: 'nvidia', count: 2, capabilities: [['gpu']] },
      { deviceIds: ['0'], capabilities: [['gpu', 'utility']] },
      { driver: 'nvidia', count: -1, capabilities: [['gpu']] },
    ]);
  });

  test('byte sizes as go-units reads them', () => {
    expect([parseByteSize('1mb'), parseByteSize('512k'), parseByteSize(7), parseByteSize('x')]).toEqual([1048576, 524288, 7, undefined]);
  });
});
