/**
 * Integration tests of the loader: the canonical JSON output (projectToJson) round-trips and is deterministic.
 */
import { describe, expect, test, afterAll } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { load, project, removeTmpDirs, svc, tmp } from './__fixtures__/load-helpers.js';
import { loadProjectSync } from './load.js';
import { projectToJson } from './serialize.js';

afterAll(removeTmpDirs);

describe('canonical output', () => {
  const compose = [
    'name: roundtrip',
    'services:',
    '  web:',
    '    build:',
    '      context: ./app',
    '      args: [A=1]',
    '    image: web:${TAG:-1}',
    '    command: npm start',
    '    ports: ["127.0.0.1:8080:80/udp", "9000-9001:9000-9001", 3000]',
    '    volumes: ["./src:/app:ro", "data:/var/lib/data", "/anon"]',
    '    environment: [A=1, "B=x y", C]',
    '    depends_on:',
    '      db:',
    '        condition: service_healthy',
    '    networks: [front]',
    '    secrets: [pw]',
    '    healthcheck:',
    '      test: curl -f http://localhost',
    '      interval: 90s',
    '    labels: {a: b}',
    '    x-note: hi',
    '  db:',
    '    image: postgres',
    '    healthcheck:',
    '      test: ["CMD", "pg_isready"]',
    'networks:',
    '  front: {}',
    'volumes:',
    '  data: {}',
    'secrets:',
    '  pw:',
    '    file: ./pw.txt',
    'x-top: {k: v}',
    '',
  ].join('\n');

  test('projectToJson of a small project round-trips', () => {
    const dir = project({ 'compose.yaml': compose, 'pw.txt': 'pw', 'app/.keep': '' });
    const first = projectToJson(load(dir, { env: { C: 'inherited' } }).project);
    const parsed = JSON.parse(first);
    expect(parsed.name).toBe('roundtrip');
    expect(parsed.services.web.environment).toEqual({ A: '1', B: 'x y', C: 'inherited' });
    expect(parsed.services.web.ports).toHaveLength(4);
    expect(parsed.services.web.volumes[0]).toMatchObject({ type: 'bind', source: join(dir, 'src'), target: '/app', read_only: true });

    const again = tmp();
    writeFileSync(join(again, 'compose.yaml'), first);
    const second = projectToJson(load(again, { files: ['compose.yaml'] }).project);
    expect(second).toBe(first);
  });

  // BUG: serialize.ts `normalize` escapes with `value.replaceAll('$', '$$')`, but `$$` in a replacement string
  // means a single `$`, so nothing is escaped: `$$HOME` in the file gives the value `$HOME`, `config` prints
  // `$HOME`, and loading that output again interpolates HOME. Fix: `replaceAll('$', '$$$$')` (or a function).
  test('`$` in values is escaped as `$$` in config output, so the output round-trips', () => {
    const dir = project({
      'compose.yaml': 'services:\n  web:\n    image: nginx\n    command: echo $$HOME\n    environment:\n      A: "cost: $$5 $${X}"\n',
    });
    const l = load(dir, { env: { HOME: '/home/someone', X: 'x' } });
    expect(svc(l, 'web').environment).toEqual({ A: 'cost: $5 ${X}' });
    const first = projectToJson(l.project);
    expect(JSON.parse(first).services.web.environment).toEqual({ A: 'cost: $$5 $${X}' });
    expect(JSON.parse(first).services.web.command).toEqual(['echo', '$$HOME']);
    const again = tmp();
    writeFileSync(join(again, 'compose.yaml'), first);
    const second = projectToJson(loadProjectSync({ cwd: again, env: { HOME: '/home/someone', X: 'x' }, files: ['compose.yaml'] }).project);
    expect(second).toBe(first);
  });

  test('the JSON output is deterministic (sorted keys)', () => {
    const dir = project({ 'compose.yaml': compose, 'pw.txt': 'pw', 'app/.keep': '' });
    const a = projectToJson(load(dir).project);
    const b = projectToJson(load(dir).project);
    expect(a).toBe(b);
    const keys = Object.keys(JSON.parse(a).services);
    expect(keys).toEqual([...keys].sort());
  });
});
