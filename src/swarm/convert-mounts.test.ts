import { describe, expect, it } from '@jest/globals';
import { collector, project } from './__fixtures__/build.js';
import { convertMounts, tmpfsMount } from './convert-mounts.js';
import type { ServiceVolumeConfig } from '../project/types.js';
import { SwarmConvertError } from './errors.js';

const volumes = { data: { driver: 'local', driver_opts: { type: 'nfs' }, labels: { l: 'v' } }, plain: {}, ext: { external: true, name: 'shared' } };
const mounts = (vols: ServiceVolumeConfig[], tmpfs?: string[]) => {
  const p = project({ s: { image: 'x', volumes: vols, ...(tmpfs ? { tmpfs } : {}) } }, { volumes });
  return convertMounts(p, 's', p.services.s!, collector().warn);
};

describe('mounts', () => {
  it('mounts a named volume scoped, with the stack label, its labels and its driver', () => {
    expect(
      mounts([{ type: 'volume', source: 'data', target: '/d', read_only: true, volume: { nocopy: true, subpath: 'sub', labels: { m: '1' } } }]),
    ).toEqual([
      {
        Type: 'volume',
        Source: 'p_data',
        Target: '/d',
        ReadOnly: true,
        VolumeOptions: {
          NoCopy: true,
          Subpath: 'sub',
          Labels: { 'com.docker.stack.namespace': 'p', l: 'v', m: '1' },
          DriverConfig: { Name: 'local', Options: { type: 'nfs' } },
        },
      },
    ]);
    expect(mounts([{ type: 'volume', source: 'plain', target: '/d' }])[0]).toEqual({
      Type: 'volume',
      Source: 'p_plain',
      Target: '/d',
      VolumeOptions: { Labels: { 'com.docker.stack.namespace': 'p' } },
    });
  });

  it('mounts an external volume by name without options, an anonymous one without source', () => {
    expect(
      mounts([
        { type: 'volume', source: 'ext', target: '/e' },
        { type: 'volume', target: '/a' },
      ]),
    ).toEqual([
      { Type: 'volume', Source: 'shared', Target: '/e', VolumeOptions: {} },
      { Type: 'volume', Target: '/a' },
    ]);
  });

  it('maps binds, tmpfs, image and cluster mounts', () => {
    expect(
      mounts([
        { type: 'bind', source: '/srv', target: '/s', bind: { propagation: 'rshared' }, consistency: 'cached' },
        { type: 'tmpfs', target: '/t', tmpfs: { size: '1024', mode: 0o700 } },
        { type: 'image', source: 'alpine', target: '/i', image: { subpath: 'etc' } },
        { type: 'cluster', source: 'data', target: '/c' },
        { type: 'cluster', source: 'group:g', target: '/g' },
      ]),
    ).toEqual([
      { Type: 'bind', Source: '/srv', Target: '/s', Consistency: 'cached', BindOptions: { Propagation: 'rshared' } },
      { Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 1024, Mode: 0o700 } },
      { Type: 'image', Source: 'alpine', Target: '/i', ImageOptions: { Subpath: 'etc' } },
      { Type: 'cluster', Source: 'p_data', Target: '/c', ClusterOptions: {} },
      { Type: 'cluster', Source: 'group:g', Target: '/g', ClusterOptions: {} },
    ]);
  });

  it('refuses an undefined volume and a bind without source', () => {
    expect(() => mounts([{ type: 'volume', source: 'nope', target: '/x' }])).toThrow('service "s": volumes[0].source: undefined volume "nope"');
    expect(() => mounts([{ type: 'bind', target: '/x' }])).toThrow(SwarmConvertError);
  });

  it('appends the tmpfs list after the volumes', () => {
    expect(mounts([{ type: 'volume', target: '/a' }], ['/run'])).toEqual([
      { Type: 'volume', Target: '/a' },
      { Type: 'tmpfs', Target: '/run' },
    ]);
  });

  it('parses tmpfs option strings', () => {
    expect(tmpfsMount('/tmp:size=64m,mode=1777,noexec,uid=1000', 's', 'tmpfs[0]')).toEqual({
      Type: 'tmpfs',
      Target: '/tmp',
      TmpfsOptions: { SizeBytes: 64 * 1024 * 1024, Mode: 0o1777, Options: [['noexec'], ['uid', '1000']] },
    });
    expect(tmpfsMount('/ro:ro', 's', 'tmpfs[0]')).toEqual({ Type: 'tmpfs', Target: '/ro', ReadOnly: true });
    expect(() => tmpfsMount('relative', 's', 'tmpfs[0]')).toThrow(/tmpfs\[0\]/);
    expect(() => tmpfsMount('/x:mode=999', 's', 'tmpfs[1]')).toThrow(/tmpfs\[1\]\.mode/);
  });
});
