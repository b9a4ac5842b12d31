/**
 * Integration tests of the loader: references between services and top-level elements, dependency cycles.
 */
import { describe, expect, test, afterAll } from '@jest/globals';
import { join } from 'node:path';
import { ConsistencyError, DependencyCycleError } from '../errors.js';
import { caught, esc, load, project, removeTmpDirs } from './__fixtures__/load-helpers.js';

afterAll(removeTmpDirs);

describe('consistency', () => {
  const bad: [string, string, RegExp][] = [
    ['undefined network', 'services:\n  web:\n    image: x\n    networks: [ghostnet]\n', /undefined network ghostnet/],
    ['undefined volume', 'services:\n  web:\n    image: x\n    volumes: ["ghostvol:/data"]\n', /undefined volume ghostvol/],
    ['undefined secret', 'services:\n  web:\n    image: x\n    secrets: [ghostsecret]\n', /undefined secret ghostsecret/],
    ['undefined config', 'services:\n  web:\n    image: x\n    configs: [ghostconfig]\n', /undefined config ghostconfig/],
    ['undefined depends_on service', 'services:\n  web:\n    image: x\n    depends_on: [ghost]\n', /undefined service "ghost"/],
    ['undefined links service', 'services:\n  web:\n    image: x\n    links: ["ghost:alias"]\n', /undefined service "ghost"/],
    ['undefined volumes_from service', 'services:\n  web:\n    image: x\n    volumes_from: [ghost]\n', /undefined service "ghost"/],
    ['undefined network_mode service', 'services:\n  web:\n    image: x\n    network_mode: service:ghost\n', /undefined service "ghost"/],
    ['neither image nor build', 'services:\n  web:\n    command: echo\n', /neither an image nor a build/],
    ['network_mode + networks', 'services:\n  web:\n    image: x\n    network_mode: host\n    networks: [default]\n', /network_mode.*networks/],
    ['container_name with scale 2', 'services:\n  web:\n    image: x\n    container_name: fixed\n    scale: 2\n', /container_name/],
    [
      'container_name with 2 replicas',
      'services:\n  web:\n    image: x\n    container_name: fixed\n    deploy:\n      replicas: 2\n',
      /container_name/,
    ],
    [
      'dockerfile + dockerfile_inline',
      'services:\n  web:\n    build:\n      context: .\n      dockerfile: D\n      dockerfile_inline: FROM x\n',
      /dockerfile_inline/,
    ],
    ['external + driver', 'services:\n  web:\n    image: x\nnetworks:\n  n:\n    external: true\n    driver: bridge\n', /external.*driver/],
  ];

  test.each(bad)('%s is a ConsistencyError with a position (mode error)', (_what, yaml, re) => {
    const dir = project({ 'compose.yaml': yaml });
    const e = caught(() => load(dir, { consistency: 'error' }));
    expect(e).toBeInstanceOf(ConsistencyError);
    expect(e.code).toBe('TSC_CONSISTENCY');
    expect(e.message).toMatch(re);
    expect(e.message).toMatch(new RegExp(`^${esc(join(dir, 'compose.yaml'))}:\\d+:\\d+: `));
  });

  // None is an error in mode warn (`config`): compose-go's full example, which must load, has an undefined network.
  const alwaysErrors = new Set<string>();

  test.each(bad.filter(([what]) => !alwaysErrors.has(what)))('%s is a warning in mode warn', (_what, yaml, re) => {
    const dir = project({ 'compose.yaml': yaml });
    const warnings: string[] = [];
    load(dir, { consistency: 'warn', onWarning: (w) => warnings.push(w) });
    expect(warnings.join('\n')).toMatch(re);
  });

  test.each(bad)('%s is a warning in mode off (--no-consistency)', (_what, yaml, re) => {
    const dir = project({ 'compose.yaml': yaml });
    const warnings: string[] = [];
    load(dir, { consistency: 'off', onWarning: (w) => warnings.push(w) });
    expect(warnings.join('\n')).toMatch(re);
  });

  test('the position is the offending line', () => {
    const dir = project({ 'compose.yaml': 'services:\n  web:\n    image: x\n    networks:\n      - ghostnet\n' });
    const e = caught(() => load(dir));
    expect(e.message).toContain(`${join(dir, 'compose.yaml')}:5:`);
  });

  test('a dependency cycle is an error naming the path, also in mode warn', () => {
    const yaml = 'services:\n  a:\n    image: x\n    depends_on: [b]\n  b:\n    image: x\n    depends_on: [a]\n';
    for (const mode of ['error', 'warn'] as const) {
      const dir = project({ 'compose.yaml': yaml });
      const e = caught(() => load(dir, { consistency: mode }));
      expect(e).toBeInstanceOf(DependencyCycleError);
      expect(e.code).toBe('TSC_CYCLE');
      expect(e.message).toContain('a -> b -> a');
    }
  });

  test('a longer cycle through links and network_mode', () => {
    const dir = project({
      'compose.yaml':
        'services:\n  a:\n    image: x\n    links: [b]\n  b:\n    image: x\n    network_mode: service:c\n  c:\n    image: x\n    depends_on: [a]\n',
    });
    const e = caught(() => load(dir));
    expect(e.message).toContain('a -> b -> c -> a');
  });

  test('a valid project with every kind of reference loads', () => {
    const dir = project({
      'compose.yaml': [
        'services:',
        '  db:',
        '    image: pg',
        '    volumes: ["data:/var/lib/pg"]',
        '    networks: [back]',
        '    secrets: [pw]',
        '    configs: [conf]',
        '  web:',
        '    build: .',
        '    depends_on: [db]',
        '    links: [db]',
        '    volumes_from: [db]',
        '  side:',
        '    image: side',
        '    network_mode: service:web',
        'networks:',
        '  back: {}',
        'volumes:',
        '  data: {}',
        'secrets:',
        '  pw:',
        '    file: ./pw.txt',
        'configs:',
        '  conf:',
        '    content: hello',
        '',
      ].join('\n'),
      'pw.txt': 'secret',
    });
    const l = load(dir, { consistency: 'error' });
    expect(Object.keys(l.project.services).sort()).toEqual(['db', 'side', 'web']);
    expect((l.project.secrets as any).pw.file).toBe(join(dir, 'pw.txt'));
  });
});
