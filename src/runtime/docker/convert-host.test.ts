/** The host-level keys of a ContainerSpec in Docker's create body (toCreateBody with ./convert-host.ts). */
import { describe, expect, test } from '@jest/globals';
import type { ContainerSpec } from '../runtime.js';
import { toCreateBody } from './convert.js';

const base: ContainerSpec = { name: 'demo-a-1', image: 'alpine', labels: {} };

describe('toCreateBody: host-level keys', () => {
  test('namespaces, groups, OOM, cgroups, runtime, storage, logging, device rules and requests, annotations, isolation', () => {
    const { body } = toCreateBody({
      ...base,
      pidMode: 'container:demo-b-1',
      ipcMode: 'shareable',
      utsMode: 'host',
      cgroupnsMode: 'private',
      cgroupParent: 'mine',
      groupAdd: ['audio', '1234'],
      oomScoreAdj: -500,
      oomKillDisable: true,
      runtime: 'runc',
      storageOpt: { size: '1G' },
      logging: { driver: 'json-file', options: { 'max-size': '10m' } },
      deviceCgroupRules: ['c 1:3 mr'],
      deviceRequests: [{ count: -1, capabilities: [['gpu']] }],
      annotations: { a: '1' },
      isolation: 'default',
    });
    expect(body.HostConfig).toMatchObject({
      PidMode: 'container:demo-b-1',
      IpcMode: 'shareable',
      UTSMode: 'host',
      CgroupnsMode: 'private',
      CgroupParent: 'mine',
      GroupAdd: ['audio', '1234'],
      OomScoreAdj: -500,
      OomKillDisable: true,
      Runtime: 'runc',
      StorageOpt: { size: '1G' },
      LogConfig: { Type: 'json-file', Config: { 'max-size': '10m' } },
      DeviceCgroupRules: ['c 1:3 mr'],
      DeviceRequests: [{ Count: -1, Capabilities: [['gpu']] }],
      Annotations: { a: '1' },
      Isolation: 'default',
    });
  });

  test('swappiness, CFS and real-time periods, block IO', () => {
    const { body } = toCreateBody({
      ...base,
      resources: {
        memorySwappiness: 10,
        cpuPeriod: 50000,
        cpuQuota: 25000,
        cpuRtPeriod: 1000000,
        cpuRtRuntime: 400000,
        blkio: { weight: 300, weightDevice: [{ path: '/dev/sda', value: 400 }], deviceReadBps: [{ path: '/dev/sda', value: 1048576 }] },
      },
    });
    expect(body.HostConfig).toMatchObject({
      MemorySwappiness: 10,
      CpuPeriod: 50000,
      CpuQuota: 25000,
      CpuRealtimePeriod: 1000000,
      CpuRealtimeRuntime: 400000,
      BlkioWeight: 300,
      BlkioWeightDevice: [{ Path: '/dev/sda', Weight: 400 }],
      BlkioDeviceReadBps: [{ Path: '/dev/sda', Rate: 1048576 }],
    });
  });

  test('bind propagation and SELinux label in Binds, propagation and subpath in Mounts', () => {
    const { body } = toCreateBody({
      ...base,
      mounts: [
        { type: 'bind', source: '/srv', target: '/srv', readOnly: true, propagation: 'rshared', selinux: 'z', createHostPath: true },
        { type: 'bind', source: '/opt', target: '/opt', propagation: 'rslave', createHostPath: false },
        { type: 'volume', source: 'demo_v', target: '/v', subpath: 'sub', noCopy: true },
      ],
    });
    expect(body.HostConfig?.Binds).toEqual(['/srv:/srv:ro,rshared,z']);
    expect(body.HostConfig?.Mounts).toEqual([
      { Type: 'bind', Source: '/opt', Target: '/opt', BindOptions: { Propagation: 'rslave' } },
      { Type: 'volume', Source: 'demo_v', Target: '/v', VolumeOptions: { NoCopy: true, Subpath: 'sub' } },
    ]);
  });

  test('gateway priority and interface name on the endpoint', () => {
    const { body } = toCreateBody({ ...base, networks: [{ network: 'demo_front', gwPriority: 5, interfaceName: 'eth5' }] });
    expect(body.NetworkingConfig?.EndpointsConfig?.['demo_front']).toEqual({
      GwPriority: 5,
      DriverOpts: { 'com.docker.network.endpoint.ifname': 'eth5' },
    });
  });

  test('a spec without them adds nothing', () => {
    expect(toCreateBody(base).body.HostConfig).toEqual({});
  });
});
