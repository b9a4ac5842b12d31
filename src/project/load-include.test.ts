/**
 * Integration tests of the loader: `include`, its paths, env files, conflicts and cycles.
 */
import { describe, expect, test, afterAll } from '@jest/globals';
import { join } from 'node:path';
import { ConsistencyError, DependencyCycleError, FileNotFoundError } from '../errors.js';
import { caught, load, project, removeTmpDirs, svc } from './__fixtures__/load-helpers.js';

afterAll(removeTmpDirs);

describe('composition', () => {
  test('include: relative paths, own .env, parent env wins', () => {
    const dir = project({
      'compose.yaml': 'include:\n  - sub/compose.yaml\nservices:\n  web:\n    image: web\n    depends_on: [db]\n',
      'sub/compose.yaml': 'services:\n  db:\n    image: ${DB_IMAGE}\n    build: ./dbctx\n    environment:\n      OTHER: ${OTHER}\n',
      'sub/.env': 'DB_IMAGE=postgres:16\nOTHER=sub\n',
      'sub/dbctx/.keep': '',
    });
    const l = load(dir, { env: { OTHER: 'parent' } });
    expect(svc(l, 'db').image).toBe('postgres:16');
    expect(svc(l, 'db').build.context).toBe(join(dir, 'sub', 'dbctx'));
    expect(svc(l, 'db').environment).toEqual({ OTHER: 'parent' });
    expect(svc(l, 'web').depends_on).toHaveProperty('db');
  });

  test('include long form: several paths, project_directory, env_file', () => {
    const dir = project({
      'compose.yaml': [
        'include:',
        '  - path: [inc/a.yaml, inc/b.yaml]',
        '    project_directory: pd',
        '    env_file: inc/vars.env',
        'services:',
        '  web:',
        '    image: web',
        '',
      ].join('\n'),
      'inc/a.yaml': 'services:\n  x:\n    image: ${XIMG}\n    volumes: ["./data:/data"]\n',
      'inc/b.yaml': 'services:\n  x:\n    image: ${XIMG}:2\n',
      'inc/vars.env': 'XIMG=ximage\n',
      'pd/.keep': '',
    });
    const s = svc(load(dir), 'x');
    expect(s.image).toBe('ximage:2');
    expect(s.volumes[0].source).toBe(join(dir, 'pd', 'data'));
  });

  test('include conflict with a local definition is an error', () => {
    const dir = project({
      'compose.yaml': 'include:\n  - sub.yaml\nservices:\n  db:\n    image: mysql\n',
      'sub.yaml': 'services:\n  db:\n    image: postgres\n',
    });
    const e = caught(() => load(dir));
    expect(e).toBeInstanceOf(ConsistencyError);
    expect(e.message).toMatch(/conflicts/);
    expect(e.message).toContain('db');
  });

  test('include conflict between two included files is an error', () => {
    const dir = project({
      'compose.yaml': 'include:\n  - a.yaml\n  - b.yaml\nservices:\n  web:\n    image: web\n',
      'a.yaml': 'services:\n  db:\n    image: postgres\n',
      'b.yaml': 'services:\n  db:\n    image: mysql\n',
    });
    const e = caught(() => load(dir));
    expect(e.message).toMatch(/conflicts/);
  });

  test('include cycle is an error', () => {
    const dir = project({
      'compose.yaml': 'include:\n  - a.yaml\nservices:\n  web:\n    image: web\n',
      'a.yaml': 'include:\n  - b.yaml\nservices:\n  a:\n    image: a\n',
      'b.yaml': 'include:\n  - a.yaml\nservices:\n  b:\n    image: b\n',
    });
    const e = caught(() => load(dir));
    expect(e).toBeInstanceOf(DependencyCycleError);
    expect(e.message).toMatch(/include cycle/);
  });

  test('missing include file is a FileNotFoundError naming it', () => {
    const dir = project({ 'compose.yaml': 'include:\n  - nope.yaml\nservices:\n  web:\n    image: web\n' });
    const e = caught(() => load(dir));
    expect(e).toBeInstanceOf(FileNotFoundError);
    expect(e.message).toContain('nope.yaml');
  });
});
