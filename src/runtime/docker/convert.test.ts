import { describe, expect, test } from '@jest/globals';
import { toContainerInspect, toContainerSummary, toImageSummary, toNetworkInfo, toProtocol, toRuntimeEvent } from './convert-answers.js';
import {
  healthConfig,
  labelFilters,
  orderEndpoints,
  restartPolicy,
  securityOpts,
  toCreateBody,
  toNetworkCreateBody,
  toUnixSeconds,
} from './convert.js';

describe('toCreateBody', () => {
  test('a full spec', () => {
    const { body, connectAfter } = toCreateBody({
      name: 'p-web-1',
      image: 'busybox:latest',
      labels: { 'com.docker.compose.project': 'p' },
      command: ['sleep', '60'],
      entrypoint: ['/bin/sh', '-c'],
      env: ['A=1'],
      workingDir: '/app',
      user: '1000',
      hostname: 'web',
      tty: true,
      openStdin: true,
      stdinOnce: true,
      init: true,
      privileged: false,
      readOnly: true,
      capAdd: ['NET_ADMIN'],
      capDrop: ['ALL'],
      extraHosts: ['db:10.0.0.2'],
      dns: ['8.8.8.8'],
      stopSignal: 'SIGINT',
      stopTimeoutSeconds: 3,
      restart: 'on-failure:5',
      exposedPorts: ['9000', '53/udp'],
      ports: [
        { containerPort: 80, protocol: 'tcp', hostPort: { start: 8080, end: 8080 } },
        { containerPort: 80, protocol: 'tcp', hostIp: '127.0.0.1' },
      ],
      mounts: [
        { type: 'bind', source: '/src', target: '/app', readOnly: true },
        { type: 'volume', source: 'data', target: '/data' },
        { type: 'volume', target: '/anon' },
        { type: 'tmpfs', target: '/tmp' },
      ],
      networks: [
        { network: 'p_back', aliases: ['web'] },
        { network: 'p_front', aliases: ['w'], ipv4Address: '172.30.0.5', priority: 10 },
      ],
      healthcheck: { test: ['CMD', 'true'], intervalMs: 1500, timeoutMs: 1000, startPeriodMs: 0, retries: 3 },
    });
    expect(body).toEqual({
      name: 'p-web-1',
      Image: 'busybox:latest',
      Labels: { 'com.docker.compose.project': 'p' },
      Cmd: ['sleep', '60'],
      Entrypoint: ['/bin/sh', '-c'],
      Env: ['A=1'],
      WorkingDir: '/app',
      User: '1000',
      Hostname: 'web',
      Tty: true,
      OpenStdin: true,
      AttachStdin: true,
      StdinOnce: true,
      AttachStdout: true,
      AttachStderr: true,
      StopSignal: 'SIGINT',
      StopTimeout: 3,
      Healthcheck: { Test: ['CMD', 'true'], Interval: 1_500_000_000, Timeout: 1_000_000_000, StartPeriod: 0, Retries: 3 },
      ExposedPorts: { '9000/tcp': {}, '53/udp': {}, '80/tcp': {} },
      HostConfig: {
        PortBindings: { '80/tcp': [{ HostPort: '8080' }, { HostIp: '127.0.0.1', HostPort: '' }] },
        Binds: ['/src:/app:ro'],
        Mounts: [
          { Type: 'volume', Source: 'data', Target: '/data' },
          { Type: 'volume', Source: '', Target: '/anon' },
          { Type: 'tmpfs', Source: '', Target: '/tmp' },
        ],
        RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 5 },
        CapAdd: ['NET_ADMIN'],
        CapDrop: ['ALL'],
        Privileged: false,
        ReadonlyRootfs: true,
        Init: true,
        ExtraHosts: ['db:10.0.0.2'],
        Dns: ['8.8.8.8'],
        NetworkMode: 'p_front',
      },
      NetworkingConfig: { EndpointsConfig: { p_front: { Aliases: ['w'], IPAMConfig: { IPv4Address: '172.30.0.5' } } } },
    });
    expect(connectAfter).toEqual([{ network: 'p_back', aliases: ['web'] }]);
  });

  test('network mode wins over networks; anonymous volumes inherited by target', () => {
    const { body, connectAfter } = toCreateBody(
      { name: 'x', image: 'i', labels: {}, networkMode: 'host', networks: [{ network: 'n' }], mounts: [{ type: 'volume', target: '/d' }] },
      new Map([['/d', 'abc123']]),
    );
    expect(body.HostConfig?.NetworkMode).toBe('host');
    expect(body.NetworkingConfig).toBeUndefined();
    expect(connectAfter).toEqual([]);
    expect(body.HostConfig?.Mounts).toEqual([{ Type: 'volume', Source: 'abc123', Target: '/d' }]);
  });

  test('minimal spec leaves engine defaults alone', () => {
    const { body } = toCreateBody({ name: 'x', image: 'i', labels: {} });
    expect(body).toEqual({ name: 'x', Image: 'i', Labels: {}, HostConfig: {}, AttachStdout: true, AttachStderr: true });
  });

  test('helpers', () => {
    expect(healthConfig('none')).toEqual({ Test: ['NONE'] });
    expect(restartPolicy('always')).toEqual({ Name: 'always' });
    expect(restartPolicy('on-failure')).toEqual({ Name: 'on-failure' });
    expect(labelFilters({ a: '1', b: true })).toEqual({ label: ['a=1', 'b'] });
    expect(labelFilters({})).toBeUndefined();
    expect(orderEndpoints([{ network: 'a' }, { network: 'b', priority: 1 }, { network: 'c' }]).map((e) => e.network)).toEqual(['b', 'a', 'c']);
    expect(toUnixSeconds(5)).toBe(5);
    expect(toUnixSeconds('1970-01-01T00:00:10.5Z')).toBe(10.5);
    expect(() => toUnixSeconds('yesterday')).toThrow(TypeError);
  });
});

describe('toCreateBody: limits and kernel settings', () => {
  test('resources, ulimits, sysctls, devices, shm and security options reach HostConfig', () => {
    const { body } = toCreateBody({
      name: 'x',
      image: 'busybox',
      labels: {},
      resources: {
        memoryBytes: 64 * 1024 * 1024,
        memorySwapBytes: -1,
        memoryReservationBytes: 1024,
        cpus: 0.5,
        cpuShares: 512,
        cpuset: '0',
        pidsLimit: 50,
      },
      ulimits: [{ name: 'nofile', soft: 1024, hard: 2048 }],
      sysctls: { 'net.core.somaxconn': '1024' },
      devices: [{ source: '/dev/fuse', target: '/dev/fuse' }],
      shmSizeBytes: 33554432,
      security: { noNewPrivileges: true },
    });
    expect(body.HostConfig).toMatchObject({
      Memory: 67108864,
      MemorySwap: -1,
      MemoryReservation: 1024,
      NanoCpus: 500000000,
      CpuShares: 512,
      CpusetCpus: '0',
      PidsLimit: 50,
      Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 2048 }],
      Sysctls: { 'net.core.somaxconn': '1024' },
      Devices: [{ PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rwm' }],
      ShmSize: 33554432,
      SecurityOpt: ['no-new-privileges:true'],
    });
  });
});

describe('securityOpts', () => {
  test('the typed security_opt back as Docker strings; defaults as nothing; a profile as its JSON', () => {
    expect(securityOpts({})).toEqual([]);
    expect(securityOpts({ seccomp: 'default' })).toEqual([]);
    expect(securityOpts({ seccomp: 'unconfined', apparmor: 'unconfined', noNewPrivileges: false })).toEqual([
      'apparmor=unconfined',
      'seccomp=unconfined',
      'no-new-privileges:false',
    ]);
    const profile = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] };
    expect(securityOpts({ seccomp: { file: '/p.json', profile }, labels: ['disable'], unconfinedSystemPaths: true, writableCgroups: true })).toEqual([
      'label=disable',
      `seccomp=${JSON.stringify(profile)}`,
      'systempaths=unconfined',
      'writable-cgroups=true',
    ]);
    expect(toCreateBody({ name: 'x', image: 'i', labels: {}, security: { seccomp: 'default' } }).body.HostConfig?.SecurityOpt).toBeUndefined();
    expect(toCreateBody({ name: 'x', image: 'i', labels: {}, usernsMode: 'host' }).body.HostConfig?.UsernsMode).toBe('host');
    expect(toCreateBody({ name: 'x', image: 'i', labels: {} }).body.HostConfig?.UsernsMode).toBeUndefined();
  });
});

describe('engine answers to DTOs', () => {
  test('container inspect', () => {
    const inspect = toContainerInspect({
      Id: 'abc',
      Name: '/p-web-1',
      Image: 'sha256:img',
      Created: '2024-01-02T03:04:05.000Z',
      State: { Status: 'running', ExitCode: 0, StartedAt: '2024-01-02T03:04:06Z', FinishedAt: '0001-01-01T00:00:00Z', Health: { Status: 'healthy' } },
      Config: { Image: 'busybox', Labels: { l: '1' } },
      NetworkSettings: {
        Networks: { p_default: { NetworkID: 'net1', Aliases: ['web', 'abc'], IPAddress: '172.18.0.2' } },
        Ports: {
          '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }],
          '81/tcp': null,
          '53/udp': [{ HostIp: '127.0.0.1', HostPort: '9005' }],
          '7/sctp': [{ HostPort: '7000' }],
        },
      },
      Mounts: [
        { Type: 'bind', Source: '/a', Destination: '/b', RW: true },
        { Type: 'volume', Name: 'v', Source: '/var/lib/docker/volumes/v/_data', Destination: '/v', RW: false },
      ],
    });
    expect(inspect).toEqual({
      id: 'abc',
      name: 'p-web-1',
      image: 'busybox',
      imageId: 'sha256:img',
      labels: { l: '1' },
      status: 'running',
      exitCode: 0,
      health: 'healthy',
      created: Date.parse('2024-01-02T03:04:05.000Z'),
      startedAt: '2024-01-02T03:04:06Z',
      networks: { p_default: { networkId: 'net1', aliases: ['web', 'abc'], ipAddress: '172.18.0.2' } },
      mounts: [
        { type: 'bind', source: '/a', target: '/b', readOnly: false },
        { type: 'volume', source: 'v', target: '/v', readOnly: true },
      ],
      publishedPorts: [
        { containerPort: 80, protocol: 'tcp', hostIp: '0.0.0.0', hostPort: 8080 },
        { containerPort: 53, protocol: 'udp', hostIp: '127.0.0.1', hostPort: 9005 },
        { containerPort: 7, protocol: 'sctp', hostPort: 7000 },
      ],
    });
  });

  test('published ports: a host range is handed to Docker as a range (Docker picks one free port of it)', () => {
    const { body } = toCreateBody({
      name: 'x',
      image: 'i',
      labels: {},
      ports: [
        { containerPort: 80, protocol: 'tcp', hostIp: '127.0.0.1', hostPort: { start: 9000, end: 9010 } },
        { containerPort: 53, protocol: 'udp', hostPort: { start: 5353, end: 5353 } },
        { containerPort: 7, protocol: 'sctp' },
      ],
    });
    expect(body.ExposedPorts).toEqual({ '80/tcp': {}, '53/udp': {}, '7/sctp': {} });
    expect(body.HostConfig?.PortBindings).toEqual({
      '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '9000-9010' }],
      '53/udp': [{ HostPort: '5353' }],
      '7/sctp': [{ HostPort: '' }],
    });
    expect(toProtocol('UDP')).toBe('udp');
    expect(toProtocol('sctp')).toBe('sctp');
    expect(toProtocol(undefined)).toBe('tcp');
  });

  test('container summary, network, image, event', () => {
    expect(
      toContainerSummary({
        Id: 'c1',
        Names: ['/p-db-1'],
        Image: 'redis',
        ImageID: 'sha256:r',
        Labels: null,
        State: 'exited',
        Created: 1700000000,
        Ports: [
          { PrivatePort: 6379, Type: 'tcp' },
          { PrivatePort: 80, PublicPort: 8080, Type: 'tcp', IP: '0.0.0.0' },
        ],
        NetworkSettings: { Networks: { b: { NetworkID: 'nb' }, a: { NetworkID: 'na', Aliases: null } } },
        Mounts: [{ Type: 'volume', Name: 'v', Destination: '/data', RW: true }],
      }),
    ).toEqual({
      id: 'c1',
      name: 'p-db-1',
      image: 'redis',
      imageId: 'sha256:r',
      labels: {},
      status: 'exited',
      created: 1700000000000,
      networks: { a: { networkId: 'na', aliases: [] }, b: { networkId: 'nb', aliases: [] } },
      mounts: [{ type: 'volume', source: 'v', target: '/data', readOnly: false }],
      publishedPorts: [{ containerPort: 80, protocol: 'tcp', hostIp: '0.0.0.0', hostPort: 8080 }],
    });
    expect(toNetworkInfo({ Id: 'n', Name: 'p_default', Driver: 'bridge', Labels: null, Containers: { z: {}, a: {} } })).toEqual({
      id: 'n',
      name: 'p_default',
      driver: 'bridge',
      labels: {},
      internal: false,
      attachable: false,
      containers: ['a', 'z'],
    });
    expect(
      toNetworkCreateBody({
        name: 'n',
        labels: { a: 'b' },
        driver: 'bridge',
        internal: true,
        ipam: { config: [{ subnet: '10.5.0.0/16', gateway: '10.5.0.1' }] },
      }),
    ).toEqual({
      Name: 'n',
      Labels: { a: 'b' },
      CheckDuplicate: true,
      Driver: 'bridge',
      Internal: true,
      IPAM: { Config: [{ Subnet: '10.5.0.0/16', Gateway: '10.5.0.1' }] },
    });
    expect(toImageSummary({ Id: 'sha256:i', RepoTags: ['<none>:<none>'], RepoDigests: null, Created: 2, Size: 10 })).toEqual({
      id: 'sha256:i',
      repoTags: [],
      repoDigests: [],
      labels: {},
      created: 2000,
      sizeBytes: 10,
    });
    expect(
      toRuntimeEvent({ Type: 'container', Action: 'start', Actor: { ID: 'c', Attributes: { name: 'x' } }, time: 1, timeNano: 1_500_000_000 }),
    ).toEqual({
      type: 'container',
      action: 'start',
      id: 'c',
      attributes: { name: 'x' },
      time: 1500,
    });
  });
});
