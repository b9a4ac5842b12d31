/**
 * Integration tests of the loader: profiles (--profile, COMPOSE_PROFILES, services enabled by name).
 */
import { describe, expect, test, afterAll } from '@jest/globals';
import { join } from 'node:path';
import { ConsistencyError } from '../errors.js';
import { caught, esc, load, project, removeTmpDirs } from './__fixtures__/load-helpers.js';
import type { LoadedProject } from './types.js';

afterAll(removeTmpDirs);

describe('profiles', () => {
  const files = {
    'compose.yaml': [
      'services:',
      '  web:',
      '    image: web',
      '  debug:',
      '    image: dbg',
      '    profiles: [debug]',
      '  tools:',
      '    image: tools',
      '    profiles: [tools, ops]',
      '',
    ].join('\n'),
  };
  const names = (l: LoadedProject) => Object.keys(l.project.services).sort();

  test('services with profiles are hidden by default', () => {
    const l = load(project(files));
    expect(names(l)).toEqual(['web']);
    expect(Object.keys(l.meta.disabledServices).sort()).toEqual(['debug', 'tools']);
  });

  test('--profile enables them', () => {
    expect(names(load(project(files), { profiles: ['debug'] }))).toEqual(['debug', 'web']);
    expect(names(load(project(files), { profiles: ['ops', 'debug'] }))).toEqual(['debug', 'tools', 'web']);
  });

  test('COMPOSE_PROFILES from the environment (comma list), also from .env', () => {
    expect(names(load(project(files), { env: { COMPOSE_PROFILES: 'debug,tools' } }))).toEqual(['debug', 'tools', 'web']);
    expect(names(load(project({ ...files, '.env': 'COMPOSE_PROFILES=ops\n' })))).toEqual(['tools', 'web']);
  });

  test('--profile wins over COMPOSE_PROFILES', () => {
    expect(names(load(project(files), { profiles: ['debug'], env: { COMPOSE_PROFILES: 'tools' } }))).toEqual(['debug', 'web']);
  });

  test('* enables every profile', () => {
    expect(names(load(project(files), { profiles: ['*'] }))).toEqual(['debug', 'tools', 'web']);
  });

  test('a service named in `services` enables its profiles', () => {
    const dir = project({
      'compose.yaml': [
        'services:',
        '  web:',
        '    image: web',
        '  tools:',
        '    image: tools',
        '    profiles: [ops]',
        '  monitor:',
        '    image: mon',
        '    profiles: [ops]',
        '  other:',
        '    image: o',
        '    profiles: [x]',
        '',
      ].join('\n'),
    });
    expect(names(load(dir, { services: ['tools'] }))).toEqual(['monitor', 'tools', 'web']);
  });

  test('depending on a disabled service is an error naming the profile', () => {
    const dir = project({
      'compose.yaml': 'services:\n  web:\n    image: web\n    depends_on: [debug]\n  debug:\n    image: dbg\n    profiles: [debugging]\n',
    });
    const e = caught(() => load(dir));
    expect(e).toBeInstanceOf(ConsistencyError);
    expect(e.message).toContain('debug');
    expect(e.message).toContain('debugging');
    expect(e.message).toMatch(new RegExp(`${esc(join(dir, 'compose.yaml'))}:\\d+:\\d+`));
    expect(names(load(dir, { profiles: ['debugging'] }))).toEqual(['debug', 'web']);
  });

  test('depending on a disabled service with required: false is fine', () => {
    const dir = project({
      'compose.yaml':
        'services:\n  web:\n    image: web\n    depends_on:\n      debug:\n        condition: service_started\n        required: false\n  debug:\n    image: dbg\n    profiles: [debugging]\n',
    });
    expect(names(load(dir))).toEqual(['web']);
  });
});
