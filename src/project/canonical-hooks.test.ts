/** Canonical form of the `post_start` / `pre_stop` lifecycle hooks (canonical-service.ts `toHooks`). */
import { describe, expect, test } from '@jest/globals';
import { canonicalFile } from './canonical.js';
import { parseYaml } from './yaml.js';

const ctx = { baseDir: '/proj', home: '/home/u' };

function canon(text: string): Record<string, any> {
  const parsed = parseYaml(text, '/proj/compose.yaml');
  return canonicalFile(parsed.data, { ...ctx, source: parsed }) as Record<string, any>;
}

describe('lifecycle hooks', () => {
  test('command split as command: is, environment a mapping, privileged a boolean', () => {
    const svc = canon(`
services:
  web:
    image: alpine
    post_start:
      - command: sh -c "id -u > /x"
        user: nobody
        privileged: "true"
        working_dir: /tmp
        environment: [A=1, B]
      - command: [echo, 1]
    pre_stop:
      - command: echo bye
        environment: {X: 1, Y: null}
`).services.web;
    expect(svc.post_start).toEqual([
      { command: ['sh', '-c', 'id -u > /x'], user: 'nobody', privileged: true, working_dir: '/tmp', environment: { A: '1', B: null } },
      { command: ['echo', '1'] },
    ]);
    expect(svc.pre_stop).toEqual([{ command: ['echo', 'bye'], environment: { X: '1', Y: null } }]);
  });

  test('a malformed list is left for the schema', () => {
    expect(canon('services: {web: {image: a, post_start: oops}}').services.web.post_start).toBe('oops');
  });
});
