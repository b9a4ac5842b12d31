import { describe, expect, it } from '@jest/globals';
import type { ServiceConfig } from '../project/types.js';
import { collector } from './__fixtures__/build.js';
import {
  convertEndpoint,
  convertMode,
  convertPlacement,
  convertPorts,
  convertResources,
  convertRestartPolicy,
  convertUpdateConfig,
} from './convert-deploy.js';
import { SwarmConvertError } from './errors.js';

const svc = (s: Partial<ServiceConfig>): ServiceConfig => ({ image: 'x', ...s }) as ServiceConfig;

describe('mode', () => {
  it('maps replicated, global and the job modes', () => {
    expect(convertMode('s', svc({}), undefined)).toEqual({ Replicated: {} });
    expect(convertMode('s', svc({ deploy: { replicas: 3 } }), undefined)).toEqual({ Replicated: { Replicas: 3 } });
    expect(convertMode('s', svc({ scale: 2 }), undefined)).toEqual({ Replicated: { Replicas: 2 } });
    expect(convertMode('s', svc({ deploy: { replicas: 3 } }), 5)).toEqual({ Replicated: { Replicas: 5 } });
    expect(convertMode('s', svc({ deploy: { mode: 'global' } }), undefined)).toEqual({ Global: {} });
    expect(convertMode('s', svc({ deploy: { mode: 'replicated-job', replicas: 4 } }), undefined)).toEqual({
      ReplicatedJob: { MaxConcurrent: 4, TotalCompletions: 4 },
    });
    expect(convertMode('s', svc({ deploy: { mode: 'replicated-job' } }), undefined)).toEqual({ ReplicatedJob: {} });
    expect(convertMode('s', svc({ deploy: { mode: 'global-job' } }), undefined)).toEqual({ GlobalJob: {} });
  });

  it('refuses replicas on global modes and unknown modes', () => {
    expect(() => convertMode('s', svc({ deploy: { mode: 'global', replicas: 2 } }), undefined)).toThrow(
      'service "s": deploy.replicas: replicas can only be used',
    );
    expect(() => convertMode('s', svc({ deploy: { mode: 'global-job' } }), 2)).toThrow(SwarmConvertError);
    expect(() => convertMode('s', svc({ deploy: { mode: 'daemonset' } }), undefined)).toThrow(/deploy\.mode: unknown mode "daemonset"/);
  });
});

describe('resources', () => {
  it('maps limits and reservations', () => {
    const { warn, warnings } = collector();
    const r = convertResources(
      's',
      svc({
        deploy: {
          resources: {
            limits: { cpus: 1.5, memory: '536870912', pids: 100 },
            reservations: { cpus: 0.5, memory: '1048576', generic_resources: [{ discrete_resource_spec: { kind: 'gpu', value: 2 } }] },
          },
        },
      }),
      warn,
    );
    expect(r).toEqual({
      Limits: { NanoCPUs: 1_500_000_000, MemoryBytes: 536870912, Pids: 100 },
      Reservations: { NanoCPUs: 500_000_000, MemoryBytes: 1048576, GenericResources: [{ DiscreteResourceSpec: { Kind: 'gpu', Value: 2 } }] },
    });
    expect(warnings).toEqual([]);
  });

  it('falls back to cpus, mem_limit, pids_limit and mem_reservation; warns when both differ', () => {
    const { warn, warnings } = collector();
    expect(convertResources('s', svc({ cpus: 0.5, mem_limit: '1024', pids_limit: 9, mem_reservation: '512' }), warn)).toEqual({
      Limits: { NanoCPUs: 500_000_000, MemoryBytes: 1024, Pids: 9 },
      Reservations: { MemoryBytes: 512 },
    });
    expect(convertResources('s', svc({ cpus: 0.5, deploy: { resources: { limits: { cpus: 1 } } } }), warn)).toEqual({ Limits: { NanoCPUs: 1e9 } });
    expect(warnings).toEqual([{ service: 's', key: 'cpus', message: 'differs from deploy.resources.limits.cpus, which is used' }]);
    expect(convertResources('s', svc({}), warn)).toBeUndefined();
  });

  it('warns about device reservations', () => {
    const { warn, warnings } = collector();
    convertResources('s', svc({ deploy: { resources: { reservations: { devices: [{ capabilities: ['gpu'] }] } } } }), warn);
    expect(warnings.map((w) => w.key)).toEqual(['deploy.resources.reservations.devices']);
  });
});

describe('restart policy', () => {
  it.each([
    [{ restart: 'no' }, { Condition: 'none' }],
    [{ restart: 'always' }, { Condition: 'any' }],
    [{ restart: 'unless-stopped' }, { Condition: 'any' }],
    [{ restart: 'on-failure' }, { Condition: 'on-failure' }],
    [{ restart: 'on-failure:3' }, { Condition: 'on-failure', MaxAttempts: 3 }],
    [{}, undefined],
  ])('%j → %j', (s, expected) => {
    expect(convertRestartPolicy('s', svc(s))).toEqual(expected);
  });

  it('deploy.restart_policy wins over restart', () => {
    expect(
      convertRestartPolicy(
        's',
        svc({ restart: 'always', deploy: { restart_policy: { condition: 'none', delay: '5s', max_attempts: 2, window: '1m0s' } } }),
      ),
    ).toEqual({
      Condition: 'none',
      Delay: 5e9,
      MaxAttempts: 2,
      Window: 60e9,
    });
  });

  it('refuses unknown conditions and policies', () => {
    expect(() => convertRestartPolicy('s', svc({ restart: 'sometimes' }))).toThrow(/restart: unknown restart policy/);
    expect(() => convertRestartPolicy('s', svc({ deploy: { restart_policy: { condition: 'always' } } }))).toThrow(
      /deploy\.restart_policy\.condition/,
    );
  });
});

describe('update and rollback config', () => {
  it('maps every field; parallelism defaults to 1', () => {
    expect(
      convertUpdateConfig(
        's',
        { parallelism: 2, delay: '10s', failure_action: 'rollback', monitor: '1m0s', max_failure_ratio: 0.3, order: 'start-first' },
        'deploy.update_config',
      ),
    ).toEqual({ Parallelism: 2, Delay: 10e9, FailureAction: 'rollback', Monitor: 60e9, MaxFailureRatio: 0.3, Order: 'start-first' });
    expect(convertUpdateConfig('s', {}, 'deploy.update_config')).toEqual({ Parallelism: 1 });
    expect(convertUpdateConfig('s', undefined, 'deploy.update_config')).toBeUndefined();
  });

  it('refuses bad values', () => {
    expect(() => convertUpdateConfig('s', { order: 'random' }, 'deploy.update_config')).toThrow(/deploy\.update_config\.order/);
    expect(() => convertUpdateConfig('s', { failure_action: 'panic' }, 'deploy.rollback_config')).toThrow(/deploy\.rollback_config\.failure_action/);
    expect(() => convertUpdateConfig('s', { max_failure_ratio: 2 }, 'deploy.update_config')).toThrow(/max_failure_ratio/);
  });
});

describe('placement', () => {
  it('maps constraints, spread preferences, max replicas per node and platform', () => {
    const { warn } = collector();
    expect(
      convertPlacement(
        's',
        svc({
          platform: 'linux/arm64',
          deploy: { placement: { constraints: ['node.role==worker'], preferences: [{ spread: 'node.labels.az' }], max_replicas_per_node: 2 } },
        }),
        warn,
      ),
    ).toEqual({
      Constraints: ['node.role==worker'],
      Preferences: [{ Spread: { SpreadDescriptor: 'node.labels.az' } }],
      MaxReplicas: 2,
      Platforms: [{ Architecture: 'arm64', OS: 'linux' }],
    });
    expect(convertPlacement('s', svc({}), warn)).toBeUndefined();
  });

  it('warns that max_replicas_per_node means nothing in global mode', () => {
    const { warn, warnings } = collector();
    expect(convertPlacement('s', svc({ deploy: { mode: 'global', placement: { max_replicas_per_node: 1 } } }), warn)).toBeUndefined();
    expect(warnings.map((w) => w.key)).toEqual(['deploy.placement.max_replicas_per_node']);
  });
});

describe('ports and endpoint', () => {
  it('expands published ranges, keeps host mode, sorts as moby does, warns about a host IP', () => {
    const { warn, warnings } = collector();
    const ports = convertPorts(
      's',
      [
        { mode: 'ingress', target: 8080, published: '9000-9001', protocol: 'tcp' },
        { mode: 'host', target: 53, published: '53', protocol: 'UDP' },
        { mode: 'ingress', target: 3000, protocol: 'tcp' },
        { mode: 'ingress', host_ip: '127.0.0.1', target: 80, published: '80', protocol: 'tcp', name: 'http' },
      ],
      warn,
    );
    expect(ports).toEqual([
      { Protocol: 'tcp', TargetPort: 3000, PublishMode: 'ingress' },
      { Protocol: 'udp', TargetPort: 53, PublishedPort: 53, PublishMode: 'host' },
      { Name: 'http', Protocol: 'tcp', TargetPort: 80, PublishedPort: 80, PublishMode: 'ingress' },
      { Protocol: 'tcp', TargetPort: 8080, PublishedPort: 9000, PublishMode: 'ingress' },
      { Protocol: 'tcp', TargetPort: 8080, PublishedPort: 9001, PublishMode: 'ingress' },
    ]);
    expect(warnings).toEqual([{ service: 's', key: 'ports[3].host_ip', message: expect.stringContaining('127.0.0.1 is ignored') }]);
  });

  it('refuses unknown modes and protocols', () => {
    const { warn } = collector();
    expect(() => convertPorts('s', [{ mode: 'mesh', target: 80, protocol: 'tcp' }], warn)).toThrow(/ports\[0\]\.mode/);
    expect(() => convertPorts('s', [{ mode: 'ingress', target: 80, protocol: 'quic' }], warn)).toThrow(/ports\[0\]\.protocol/);
  });

  it('maps endpoint_mode; dnsrr cannot publish through ingress', () => {
    const { warn } = collector();
    expect(convertEndpoint('s', svc({ deploy: { endpoint_mode: 'DNSRR' } }), warn)).toEqual({ Mode: 'dnsrr' });
    expect(convertEndpoint('s', svc({}), warn)).toEqual({});
    expect(
      convertEndpoint('s', svc({ deploy: { endpoint_mode: 'dnsrr' }, ports: [{ mode: 'host', target: 80, published: '80', protocol: 'tcp' }] }), warn)
        .Ports,
    ).toHaveLength(1);
    expect(() =>
      convertEndpoint('s', svc({ deploy: { endpoint_mode: 'dnsrr' }, ports: [{ mode: 'ingress', target: 80, protocol: 'tcp' }] }), warn),
    ).toThrow(/dnsrr cannot publish/);
    expect(() => convertEndpoint('s', svc({ deploy: { endpoint_mode: 'lb' } }), warn)).toThrow(/deploy\.endpoint_mode/);
  });
});
