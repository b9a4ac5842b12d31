import { describe, expect, test } from '@jest/globals';
import { normalizeProject, withoutEnvFiles } from './normalize.js';
import type { Project } from './types.js';

const p = (o: object): Project => ({ name: 'proj', ...o }) as unknown as Project;

describe('normalizeProject (compose-go loader/normalize.go)', () => {
  test('a service with no networks, or an empty networks:, is on the default network, which the project then declares', () => {
    const out = normalizeProject(p({ services: { a: { image: 'x' }, b: { image: 'x', networks: {} } } }));
    expect(out.services).toEqual({ a: { image: 'x', networks: { default: null } }, b: { image: 'x', networks: { default: null } } });
    expect(out.networks).toEqual({ default: { name: 'proj_default', ipam: {} } });
  });

  test('network_mode or provider: no default network; none used, none declared', () => {
    const out = normalizeProject(p({ services: { a: { image: 'x', network_mode: 'host' }, b: { provider: { type: 'model' } } } }));
    expect(out.services.a).toEqual({ image: 'x', network_mode: 'host' });
    expect(out.networks).toBeUndefined();
  });

  test('a declared default network is kept as declared, named unless it has a name', () => {
    const out = normalizeProject(p({ services: { a: { networks: { default: null } } }, networks: { default: { driver: 'bridge' } } }));
    expect(out.networks).toEqual({ default: { driver: 'bridge', name: 'proj_default' } });
  });

  test('resources are named <project>_<key>, external ones <key>; a name given stays', () => {
    const out = normalizeProject(
      p({
        services: {},
        volumes: { v: {}, e: { external: true }, n: { name: 'mine' } },
        secrets: { s: { file: '/s' } },
        configs: { c: { external: true, name: 'real' } },
      }),
    );
    expect(out.volumes).toEqual({ v: { name: 'proj_v' }, e: { external: true, name: 'e' }, n: { name: 'mine' } });
    expect(out.secrets).toEqual({ s: { file: '/s', name: 'proj_s' } });
    expect(out.configs).toEqual({ c: { external: true, name: 'real' } });
  });

  test('build: dockerfile defaults to Dockerfile unless inline; args without value from the environment, else dropped', () => {
    const out = normalizeProject(
      p({
        services: {
          a: { network_mode: 'none', build: { context: '/ctx', args: { SET: null, UNSET: null, FIXED: '1' } } },
          b: { network_mode: 'none', build: { context: '/ctx', dockerfile_inline: 'FROM x' } },
        },
      }),
      { SET: 'v' },
    );
    expect(out.services.a!.build).toEqual({ context: '/ctx', dockerfile: 'Dockerfile', args: { SET: 'v', FIXED: '1' } });
    expect(out.services.b!.build).toEqual({ context: '/ctx', dockerfile_inline: 'FROM x' });
  });

  test('links, service: namespaces and volumes_from are dependencies unless declared; container: ones are not', () => {
    const out = normalizeProject(
      p({
        services: {
          a: {
            network_mode: 'service:n',
            ipc: 'service:i',
            pid: 'host',
            links: ['l', 'm:alias'],
            volumes_from: ['v:ro', 'container:c', 'l'],
            depends_on: { m: { condition: 'service_healthy', required: false } },
          },
        },
      }),
    );
    const started = { condition: 'service_started', required: true };
    expect(out.services.a!.depends_on).toEqual({
      l: { ...started, restart: true },
      m: { condition: 'service_healthy', required: false },
      n: { ...started, restart: true },
      i: { ...started, restart: true },
      v: started,
    });
  });

  test('pre_start hooks without an image take the service image', () => {
    const out = normalizeProject(p({ services: { a: { image: 'app', network_mode: 'none', pre_start: [{ command: ['x'] }, { image: 'other' }] } } }));
    expect((out.services.a as unknown as { pre_start: unknown }).pre_start).toEqual([{ command: ['x'], image: 'app' }, { image: 'other' }]);
  });

  test('the input is not modified', () => {
    const input = p({ services: { a: { image: 'x' } }, volumes: { v: {} } });
    const copy = JSON.parse(JSON.stringify(input));
    normalizeProject(input);
    expect(input).toEqual(copy);
  });
});

describe('withoutEnvFiles', () => {
  test('drops env_file and label_file as asked', () => {
    const input = p({ services: { a: { env_file: [{ path: '/e' }], label_file: ['/l'], image: 'x' } } });
    expect(withoutEnvFiles(input, { envFiles: true, labelFiles: true }).services.a).toEqual({ image: 'x' });
    expect(withoutEnvFiles(input, { envFiles: false, labelFiles: true }).services.a).toEqual({ env_file: [{ path: '/e' }], image: 'x' });
  });
});
