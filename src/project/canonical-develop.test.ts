import { describe, expect, test } from '@jest/globals';
import { canonicalFile } from './canonical.js';
import { parseYaml } from './yaml.js';

function canon(text: string): Record<string, any> {
  const parsed = parseYaml(text, '/proj/compose.yaml');
  return canonicalFile(parsed.data, { baseDir: '/proj', home: '/home/u', source: parsed }) as Record<string, any>;
}

describe('develop.watch', () => {
  test('paths absolute, exec command split, environment a mapping, lists kept', () => {
    const m = canon(`
services:
  web:
    develop:
      watch:
        - { path: ./src, target: /app/src, action: sync, ignore: [node_modules/, "*.tmp"], include: ["*.py"], initial_sync: true }
        - { path: ~/shared, action: sync+exec, target: /s, exec: { command: "sh -c 'kill -HUP 1'", user: "1000", environment: [A=1, B] } }
        - { path: /abs/package.json, action: rebuild }
`);
    expect(m.services.web.develop.watch).toEqual([
      { path: '/proj/src', target: '/app/src', action: 'sync', ignore: ['node_modules/', '*.tmp'], include: ['*.py'], initial_sync: true },
      {
        path: '/home/u/shared',
        action: 'sync+exec',
        target: '/s',
        exec: { command: ['sh', '-c', 'kill -HUP 1'], user: '1000', environment: { A: '1', B: null } },
      },
      { path: '/abs/package.json', action: 'rebuild' },
    ]);
  });
});
