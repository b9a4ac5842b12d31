import { describe, expect, it } from '@jest/globals';
import type { Project } from '../project/types.js';
import { collector, project } from './__fixtures__/build.js';
import { convertService, type ServiceContext, withDefaultTag } from './convert-service.js';
import { UNSUPPORTED_SERVICE_KEYS, warnUnsupported } from './convert-unsupported.js';
import { stackOf } from './convert.js';
import { SwarmConvertError } from './errors.js';

function ctx(p: Project, extra: Partial<ServiceContext> = {}) {
  const c = collector();
  return { ...c, ctx: { project: p, secretNames: new Map([['s', 'p_s-abc']]), configNames: new Map([['c', 'p_c-def']]), warn: c.warn, ...extra } };
}

describe('convertService', () => {
  it('builds the spec docker stack would, for a minimal service', () => {
    const p = project({ web: { image: 'nginx' } });
    expect(convertService(ctx(p).ctx, 'web', p.services.web!)).toEqual({
      Name: 'p_web',
      Labels: { 'com.docker.stack.image': 'nginx', 'com.docker.stack.namespace': 'p' },
      TaskTemplate: {
        ContainerSpec: { Image: 'nginx:latest', Labels: { 'com.docker.stack.namespace': 'p' } },
        Networks: [{ Target: 'p_default', Aliases: ['web'] }],
      },
      Mode: { Replicated: {} },
      EndpointSpec: {},
    });
  });

  it('maps entrypoint to Command, command to Args, and the container fields', () => {
    const p = project({
      a: {
        image: 'x',
        entrypoint: ['/init'],
        command: ['run'],
        user: 'u',
        working_dir: '/w',
        hostname: 'h',
        labels: { c: '1' },
        stop_signal: 'SIGTERM',
        stop_grace_period: '1m0s',
        init: false,
        read_only: true,
        sysctls: { 'net.x': '1' },
        group_add: ['audio'],
        oom_score_adj: 100,
        deploy: { labels: { d: '1' } },
      },
    });
    const spec = convertService(ctx(p).ctx, 'a', p.services.a!);
    expect(spec.Labels).toEqual({ 'com.docker.stack.image': 'x', 'com.docker.stack.namespace': 'p', d: '1' });
    expect(spec.TaskTemplate.ContainerSpec).toEqual({
      Image: 'x:latest',
      Labels: { c: '1', 'com.docker.stack.namespace': 'p' },
      Command: ['/init'],
      Args: ['run'],
      Hostname: 'h',
      Dir: '/w',
      User: 'u',
      Groups: ['audio'],
      Init: false,
      StopSignal: 'SIGTERM',
      ReadOnly: true,
      StopGracePeriod: 60e9,
      Sysctls: { 'net.x': '1' },
      OomScoreAdj: 100,
    });
  });

  it('attaches networks sorted by target, with the service name as alias on user-defined ones', () => {
    const { ctx: c, warnings } = ctx(
      project(
        { a: { image: 'x', networks: { z: { aliases: ['zz'], driver_opts: { o: '1' } }, b: { ipv4_address: '10.0.0.9' }, h: null } } },
        { networks: { z: { ipam: {} }, b: { ipam: {} }, h: { external: true, name: 'host', ipam: {} } } },
      ),
    );
    expect(convertService(c, 'a', c.project.services.a!).TaskTemplate.Networks).toEqual([
      { Target: 'host' },
      { Target: 'p_b', Aliases: ['a'] },
      { Target: 'p_z', Aliases: ['zz', 'a'], DriverOpts: { o: '1' } },
    ]);
    expect(warnings).toEqual([{ service: 'a', key: 'networks.b.ipv4_address', message: expect.any(String) }]);
  });

  it('network_mode host attaches the host network; other modes attach nothing', () => {
    const p = project({ a: { image: 'x', network_mode: 'host' }, b: { image: 'x', network_mode: 'none' } });
    expect(convertService(ctx(p).ctx, 'a', p.services.a!).TaskTemplate.Networks).toEqual([{ Target: 'host' }]);
    expect(convertService(ctx(p).ctx, 'b', p.services.b!).TaskTemplate.Networks).toBeUndefined();
  });

  it('refers to secrets and configs by their stack names, mode 0444 and uid/gid 0 unless set', () => {
    const p = project({ a: { image: 'x', secrets: [{ source: 's', target: 'k', mode: '0400', uid: '1' }], configs: [{ source: 'c' }] } });
    const cs = convertService(ctx(p).ctx, 'a', p.services.a!).TaskTemplate.ContainerSpec;
    expect(cs.Secrets).toEqual([{ File: { Name: 'k', UID: '1', GID: '0', Mode: 0o400 }, SecretName: 'p_s-abc' }]);
    expect(cs.Configs).toEqual([{ File: { Name: 'c', UID: '0', GID: '0', Mode: 0o444 }, ConfigName: 'p_c-def' }]);
    const bad = project({ a: { image: 'x', secrets: [{ source: 'other' }] } });
    expect(() => convertService(ctx(bad).ctx, 'a', bad.services.a!)).toThrow('service "a": secrets[0]: undefined secret "other"');
  });

  it('pins the image by digest and keeps the compose name in the label', () => {
    const p = project({ a: { image: 'reg/app:1' } });
    const spec = convertService(ctx(p, { pinnedImages: { a: 'reg/app@sha256:00' } }).ctx, 'a', p.services.a!);
    expect(spec.TaskTemplate.ContainerSpec.Image).toBe('reg/app@sha256:00');
    expect(spec.Labels['com.docker.stack.image']).toBe('reg/app:1');
  });

  it('a built service without image gets the compose default name and a warning; no image at all is an error', () => {
    const p = project({ a: { build: { context: '/b' } }, b: {} });
    const { ctx: c, warnings } = ctx(p);
    expect(convertService(c, 'a', p.services.a!).TaskTemplate.ContainerSpec.Image).toBe('p-a:latest');
    expect(warnings.map((w) => [w.service, w.key])).toEqual([['a', 'build']]);
    expect(() => convertService(c, 'b', p.services.b!)).toThrow(SwarmConvertError);
    expect(() => convertService(c, 'b', p.services.b!)).toThrow(/service "b": image: no image/);
  });

  it('drops update and rollback config on jobs with a warning', () => {
    const p = project({ j: { image: 'x', deploy: { mode: 'replicated-job', update_config: { parallelism: 2 }, rollback_config: {} } } });
    const { ctx: c, warnings } = ctx(p);
    const spec = convertService(c, 'j', p.services.j!);
    expect(spec.UpdateConfig).toBeUndefined();
    expect(spec.RollbackConfig).toBeUndefined();
    expect(warnings.map((w) => w.key)).toEqual(['deploy.update_config', 'deploy.rollback_config']);
  });
});

describe('withDefaultTag', () => {
  it('adds :latest only to a reference without tag or digest', () => {
    expect(withDefaultTag('nginx')).toBe('nginx:latest');
    expect(withDefaultTag('reg:5000/team/app')).toBe('reg:5000/team/app:latest');
    expect(withDefaultTag('reg:5000/team/app:1')).toBe('reg:5000/team/app:1');
    expect(withDefaultTag('app@sha256:00')).toBe('app@sha256:00');
  });
});

describe('unsupported keys', () => {
  it('warns about each key a swarm cannot honour, by service and key, not about false flags or x- keys', () => {
    const { warn, warnings } = collector();
    warnUnsupported(
      's',
      { image: 'x', privileged: true, devices: [], ipc: 'host', 'x-custom': 1, init: true, weird_key: 1, deploy: { foo: 1 } } as never,
      warn,
    );
    warnUnsupported('t', { image: 'x', privileged: false, network_mode: 'host', depends_on: {} } as never, warn);
    expect(warnings).toEqual([
      { service: 's', key: 'ipc', message: UNSUPPORTED_SERVICE_KEYS.ipc },
      { service: 's', key: 'privileged', message: UNSUPPORTED_SERVICE_KEYS.privileged },
      { service: 's', key: 'weird_key', message: 'not supported on swarm; ignored' },
      { service: 's', key: 'deploy.foo', message: 'not supported on swarm; ignored' },
    ]);
  });

  it('covers docker stack’s unsupported, deprecated and forbidden lists (restart and build aside: both are honoured)', () => {
    for (const k of [
      'cgroupns_mode',
      'cgroup_parent',
      'devices',
      'domainname',
      'external_links',
      'ipc',
      'links',
      'mac_address',
      'network_mode',
      'pid',
      'privileged',
      'security_opt',
      'shm_size',
      'userns_mode',
      'container_name',
      'expose',
      'volume_driver',
      'volumes_from',
      'cpu_quota',
      'cpu_shares',
      'cpuset',
      'memswap_limit',
    ])
      if (k !== 'security_opt') expect(UNSUPPORTED_SERVICE_KEYS[k]).toBeDefined();
  });
});

describe('stackOf', () => {
  it('returns sorted services with their dependencies and collects warnings once', () => {
    const p = project({
      b: { image: 'x', depends_on: { a: { condition: 'service_healthy', required: true } }, privileged: true },
      a: { image: 'y' },
    });
    const s = stackOf(p);
    expect(s.namespace).toBe('p');
    expect(s.services.map((x) => [x.key, x.name, x.dependsOn])).toEqual([
      ['a', 'p_a', []],
      ['b', 'p_b', ['a']],
    ]);
    expect(s.warnings).toEqual([{ service: 'b', key: 'privileged', message: UNSUPPORTED_SERVICE_KEYS.privileged }]);
    expect(s.networks.map((n) => n.name)).toEqual(['p_default']);
  });

  it('applies a scale override', () => {
    const p = project({ a: { image: 'x', deploy: { replicas: 1 } } });
    expect(stackOf(p, { scale: { a: 4 } }).services[0]!.spec.Mode).toEqual({ Replicated: { Replicas: 4 } });
  });
});
