import { describe, expect, test } from '@jest/globals';
import { mergeValue, untag } from './merge.js';
import { Tagged } from './yaml.js';

const svc = (s: object) => ({ services: { web: s } });
const merge = (a: object, b: object) => (untag(mergeValue(a, b)) as any).services.web;

describe('merge', () => {
  test('scalars override, maps merge, lists append without duplicates', () => {
    expect(
      merge(
        svc({ image: 'a', environment: { A: '1', B: '2' }, cap_add: ['X', 'Y'], dns: ['1.1.1.1'] }),
        svc({ image: 'b', environment: { B: '3' }, cap_add: ['Y', 'Z'], dns: ['1.1.1.1', '8.8.8.8'] }),
      ),
    ).toEqual({ image: 'b', environment: { A: '1', B: '3' }, cap_add: ['X', 'Y', 'Z'], dns: ['1.1.1.1', '8.8.8.8'] });
  });

  test('command, entrypoint and healthcheck.test are replaced', () => {
    expect(
      merge(svc({ command: ['a', 'b'], healthcheck: { test: ['CMD', 'x'], retries: 3 } }), svc({ command: ['c'], healthcheck: { test: ['NONE'] } })),
    ).toEqual({ command: ['c'], healthcheck: { test: ['NONE'], retries: 3 } });
  });

  test('volumes, secrets and ports are unique by their keys', () => {
    const m = merge(
      svc({
        volumes: [
          { type: 'volume', source: 'a', target: '/data' },
          { type: 'bind', source: '/x', target: '/x' },
        ],
        secrets: [{ source: 'foo' }, { source: 'bar' }],
        ports: [{ mode: 'ingress', target: 80, published: '8080', protocol: 'tcp' }],
      }),
      svc({
        volumes: [{ type: 'volume', source: 'b', target: '/data' }],
        secrets: [{ source: 'zot', target: '/run/secrets/foo' }],
        ports: [
          { mode: 'ingress', target: 80, published: '8080', protocol: 'tcp' },
          { mode: 'ingress', target: 81, protocol: 'tcp' },
        ],
      }),
    );
    expect(m.volumes).toEqual([
      { type: 'volume', source: 'b', target: '/data' },
      { type: 'bind', source: '/x', target: '/x' },
    ]);
    expect(m.secrets).toEqual([{ source: 'zot', target: '/run/secrets/foo' }, { source: 'bar' }]);
    expect(m.ports).toHaveLength(2);
  });

  test('logging: a different driver drops the old options', () => {
    expect(merge(svc({ logging: { driver: 'a', options: { x: '1' } } }), svc({ logging: { driver: 'b', options: { y: '2' } } }))).toEqual({
      logging: { driver: 'b', options: { y: '2' } },
    });
    expect(merge(svc({ logging: { options: { x: '1' } } }), svc({ logging: { options: { y: '2' } } }))).toEqual({
      logging: { options: { x: '1', y: '2' } },
    });
  });

  test('!reset and !override', () => {
    expect(
      merge(
        svc({ ports: [{ target: 80 }], environment: { A: '1' } }),
        svc({ ports: new Tagged('reset', []), environment: new Tagged('override', { B: '2' }) }),
      ),
    ).toEqual({
      ports: [],
      environment: { B: '2' },
    });
    expect(merge(svc({ image: 'x', build: { context: '/a' } }), svc({ build: new Tagged('reset', null) }))).toEqual({ image: 'x' });
    expect(untag({ a: new Tagged('reset', null), b: new Tagged('override', [1]) })).toEqual({ b: [1] });
  });

  test('null over a mapping keeps it; null over a scalar replaces it', () => {
    expect(merge(svc({ networks: { front: { aliases: ['x'] } } }), svc({ networks: { front: null } }))).toEqual({
      networks: { front: { aliases: ['x'] } },
    });
    expect(merge(svc({ environment: { A: '1' } }), svc({ environment: { A: null } }))).toEqual({ environment: { A: null } });
  });
});
