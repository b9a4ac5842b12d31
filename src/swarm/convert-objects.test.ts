import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import type { FileObjectConfig } from '../project/types.js';
import { collector, project } from './__fixtures__/build.js';
import { convertConfigs, convertNetworks, convertSecrets, convertVolumes, MAX_SECRET_BYTES } from './convert-objects.js';
import { SwarmConvertError, SwarmSourceError } from './errors.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const files: Record<string, string> = { '/p/a.txt': 'alpha', '/p/b.txt': 'beta' };
const readFile = (p: string): Buffer => {
  if (!(p in files)) throw new Error(`ENOENT: ${p}`);
  return Buffer.from(files[p]!);
};

describe('networks', () => {
  it('creates only used networks, default included, overlay by default, external by name', () => {
    const { warn, warnings } = collector();
    const p = project(
      { a: { image: 'x' }, b: { image: 'x', networks: { front: null, ext: null } } },
      {
        networks: {
          front: { ipam: { config: [{ subnet: '10.1.0.0/24', ip_range: '10.1.0.0/25', aux_addresses: { h: '10.1.0.5' } }] }, labels: { l: 'v' } },
          ext: { external: true, name: 'shared', ipam: {} },
          unused: { ipam: {} },
        },
      },
    );
    const nets = convertNetworks(p, warn);
    expect(nets.map((n) => [n.key, n.name, n.external])).toEqual([
      ['default', 'p_default', false],
      ['ext', 'shared', true],
      ['front', 'p_front', false],
    ]);
    expect(nets[2]).toEqual({
      key: 'front',
      name: 'p_front',
      external: false,
      spec: {
        Name: 'p_front',
        Driver: 'overlay',
        Labels: { 'com.docker.stack.namespace': 'p', l: 'v' },
        IPAM: { Config: [{ Subnet: '10.1.0.0/24', IPRange: '10.1.0.0/25', AuxiliaryAddresses: { h: '10.1.0.5' } }] },
      },
    });
    expect(warnings).toEqual([]);
  });

  it('maps attachable, internal, encrypted and IPv6; warns about a bridge driver', () => {
    const { warn, warnings } = collector();
    const p = project(
      { a: { image: 'x', networks: { n: null } } },
      { networks: { n: { driver: 'bridge', attachable: true, internal: true, enable_ipv6: true, driver_opts: { encrypted: '' }, ipam: {} } } },
    );
    const [n] = convertNetworks(p, warn);
    expect(n).toMatchObject({ spec: { Driver: 'bridge', Attachable: true, Internal: true, EnableIPv6: true, Options: { encrypted: '' } } });
    expect(warnings).toEqual([{ key: 'networks.n.driver', message: expect.stringContaining('local to one node') }]);
  });

  it('a network named by the compose file keeps its name', () => {
    const p = project({ a: { image: 'x', networks: { n: null } } }, { networks: { n: { name: 'fixed', ipam: {} } } });
    expect(convertNetworks(p, collector().warn)[0]!.name).toBe('fixed');
  });

  it('services with network_mode use no stack network', () => {
    const p = project({ a: { image: 'x', network_mode: 'host' } });
    expect(convertNetworks(p, collector().warn)).toEqual([]);
  });
});

describe('secrets and configs by content', () => {
  const secrets: Record<string, FileObjectConfig> = {
    f: { file: '/p/a.txt', labels: { l: 'v' } },
    named: { file: '/p/b.txt', name: 'custom' },
    ext: { external: true, name: 'org_token' },
    extkey: { external: true },
    unused: { file: '/nope' },
  };
  const p = project({ a: { image: 'x', secrets: [{ source: 'f' }, { source: 'named' }, { source: 'ext' }, { source: 'extkey' }] } }, { secrets });

  it('names them <project>_<key>-<hash> or <name>-<hash>, external by their name, unused ones left out', () => {
    const out = convertSecrets(p, readFile);
    expect(out.map((s) => [s.key, s.name, s.external])).toEqual([
      ['ext', 'org_token', true],
      ['extkey', 'extkey', true],
      ['f', `p_f-${sha('alpha').slice(0, 10)}`, false],
      ['named', `custom-${sha('beta').slice(0, 10)}`, false],
    ]);
    expect(out[2]).toEqual({
      key: 'f',
      name: `p_f-${sha('alpha').slice(0, 10)}`,
      external: false,
      hash: sha('alpha'),
      spec: {
        Name: `p_f-${sha('alpha').slice(0, 10)}`,
        Labels: { 'com.docker.stack.namespace': 'p', 'io.tscompose.swarm.hash': sha('alpha'), 'io.tscompose.swarm.key': 'f', l: 'v' },
        Data: Buffer.from('alpha').toString('base64'),
      },
    });
  });

  it('reads environment and content sources', () => {
    const env: FileObjectConfig = { environment: 'TOKEN' };
    Object.defineProperty(env, 'environmentValue', { value: 's3cret', enumerable: false });
    const q = project(
      { a: { image: 'x', secrets: [{ source: 'e' }], configs: [{ source: 'c' }] } },
      { secrets: { e: env }, configs: { c: { content: 'hello' } } },
    );
    expect(convertSecrets(q, readFile)[0]).toMatchObject({
      name: `p_e-${sha('s3cret').slice(0, 10)}`,
      spec: { Data: Buffer.from('s3cret').toString('base64') },
    });
    expect(convertConfigs(q, readFile)[0]).toMatchObject({
      name: `p_c-${sha('hello').slice(0, 10)}`,
      spec: { Data: Buffer.from('hello').toString('base64') },
    });
  });

  it('fails with TSC_SWARM_SOURCE for an unset variable, an unreadable file or too much data', () => {
    const q = (obj: FileObjectConfig) => project({ a: { image: 'x', secrets: [{ source: 's' }] } }, { secrets: { s: obj } });
    expect(() => convertSecrets(q({ environment: 'NOPE' }), readFile)).toThrow(SwarmSourceError);
    expect(() => convertSecrets(q({ environment: 'NOPE' }), readFile)).toThrow('secrets.s.environment: environment variable NOPE is not set');
    expect(() => convertSecrets(q({ file: '/p/missing' }), readFile)).toThrow(/secrets\.s\.file: cannot read \/p\/missing/);
    const big = () => Buffer.alloc(MAX_SECRET_BYTES + 1);
    expect(() => convertSecrets(q({ file: '/big' }), big)).toThrow(/more than a swarm secret may hold/);
    try {
      convertSecrets(q({ environment: 'NOPE' }), readFile);
    } catch (e) {
      expect((e as SwarmSourceError).code).toBe('TSC_SWARM_SOURCE');
    }
  });

  it('a secret from a driver has no data and no hash', () => {
    const q = project({ a: { image: 'x', secrets: [{ source: 'v' }] } }, { secrets: { v: { driver: 'vault', driver_opts: { path: 'x' } } } });
    expect(convertSecrets(q, readFile)[0]).toEqual({
      key: 'v',
      name: 'p_v',
      external: false,
      spec: {
        Name: 'p_v',
        Labels: { 'com.docker.stack.namespace': 'p', 'io.tscompose.swarm.key': 'v' },
        Driver: { Name: 'vault', Options: { path: 'x' } },
      },
    });
  });

  it('a template driver is part of the identity', () => {
    const q = (t?: string) =>
      project({ a: { image: 'x', configs: [{ source: 'c' }] } }, { configs: { c: { content: 'x', ...(t ? { template_driver: t } : {}) } } });
    const plain = convertConfigs(q(), readFile)[0]!;
    const templated = convertConfigs(q('golang'), readFile)[0]!;
    expect(templated.name).not.toBe(plain.name);
    expect(templated).toMatchObject({ spec: { Templating: { Name: 'golang' } } });
  });

  it('refuses a name swarm would refuse', () => {
    const q = project({ a: { image: 'x', configs: [{ source: 'c' }] } }, { configs: { c: { content: 'x', name: 'n'.repeat(60) } } });
    expect(() => convertConfigs(q, readFile)).toThrow(SwarmConvertError);
  });
});

describe('volumes', () => {
  it('lists the named volumes services mount, with driver, options and labels', () => {
    const p = project(
      {
        a: {
          image: 'x',
          volumes: [
            { type: 'volume', source: 'data', target: '/d' },
            { type: 'volume', source: 'ext', target: '/e' },
            { type: 'volume', target: '/anon' },
            { type: 'bind', source: '/host', target: '/h' },
          ],
        },
      },
      { volumes: { data: { driver: 'local', driver_opts: { o: 'bind' }, labels: { l: 'v' } }, ext: { external: true, name: 'shared' }, unused: {} } },
    );
    expect(convertVolumes(p)).toEqual([
      {
        key: 'data',
        name: 'p_data',
        external: false,
        driver: 'local',
        driverOpts: { o: 'bind' },
        labels: { 'com.docker.stack.namespace': 'p', l: 'v' },
      },
      { key: 'ext', name: 'shared', external: true },
    ]);
  });
});
