/**
 * Integration tests of the loader: the errors of bad input (YAML, schema, casts, env files, paths) and what they name.
 */
import { describe, expect, test, afterAll } from '@jest/globals';
import { join } from 'node:path';
import { ConfigError, ConfigValidationError, FileNotFoundError, YamlSyntaxError } from '../errors.js';
import { caught, esc, load, project, removeTmpDirs, svc } from './__fixtures__/load-helpers.js';

afterAll(removeTmpDirs);

describe('errors', () => {
  test('YAML syntax error: FILE:LINE:COL: message', () => {
    const dir = project({ 'compose.yaml': 'services:\n  web:\n    image: nginx\n   bad: [\n' });
    const e = caught(() => load(dir));
    expect(e).toBeInstanceOf(YamlSyntaxError);
    expect(e.code).toBe('TSC_YAML_SYNTAX');
    expect(e.message).toMatch(new RegExp(`^${esc(join(dir, 'compose.yaml'))}:\\d+:\\d+: \\S`));
    expect((e as ConfigError).position?.line).toBeGreaterThanOrEqual(3);
  });

  test('duplicate keys are a YAML error', () => {
    const dir = project({ 'compose.yaml': 'services:\n  web:\n    image: a\n    image: b\n' });
    const e = caught(() => load(dir));
    expect(e).toBeInstanceOf(YamlSyntaxError);
    expect(e.message).toContain(`${join(dir, 'compose.yaml')}:4:`);
  });

  test('unknown anchor is a YAML error', () => {
    const dir = project({ 'compose.yaml': 'services:\n  web: *nope\n' });
    expect(caught(() => load(dir))).toBeInstanceOf(ConfigError);
  });

  test('a top-level list is an error', () => {
    const dir = project({ 'compose.yaml': '- a\n- b\n' });
    const e = caught(() => load(dir));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toContain(join(dir, 'compose.yaml'));
  });

  test('schema error names file:line:col and the path services.web.ports[0]', () => {
    const dir = project({ 'compose.yaml': 'services:\n  web:\n    image: nginx\n    ports:\n      - {target: [80]}\n' });
    const e = caught(() => load(dir));
    expect(e).toBeInstanceOf(ConfigValidationError);
    expect(e.code).toBe('TSC_SCHEMA');
    expect(e.message).toContain('services.web.ports[0]');
    expect(e.message).toMatch(new RegExp(`^${esc(join(dir, 'compose.yaml'))}:5:\\d+: `));
    expect((e as ConfigValidationError).issues.length).toBeGreaterThan(0);
  });

  test('schema error: wrong type of a scalar', () => {
    const dir = project({ 'compose.yaml': 'services:\n  web:\n    image: nginx\n    container_name: [a, b]\n' });
    const e = caught(() => load(dir));
    expect(e).toBeInstanceOf(ConfigValidationError);
    expect(e.message).toContain('services.web.container_name');
    expect(e.message).toContain(`${join(dir, 'compose.yaml')}:4:`);
  });

  test('a value that does not cast to its type fails as in compose-go (with path and position)', () => {
    const dir = project({ 'compose.yaml': 'services:\n  web:\n    image: nginx\n    privileged: maybe\n' });
    const e = caught(() => load(dir));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toContain('services.web.privileged');
    expect(e.message).toContain('maybe');
    expect(e.message).toContain(`${join(dir, 'compose.yaml')}:4:`);
  });

  test('unknown key is named with its path', () => {
    const dir = project({ 'compose.yaml': 'services:\n  web:\n    image: nginx\n    imagee: typo\n' });
    const e = caught(() => load(dir));
    expect(e).toBeInstanceOf(ConfigValidationError);
    expect(e.message).toContain('imagee');
    expect(e.message).toContain('services.web');
    expect(e.message).toContain(`${join(dir, 'compose.yaml')}:4:`);
  });

  test('unknown top-level key is named', () => {
    const dir = project({ 'compose.yaml': 'services:\n  web:\n    image: nginx\nservice:\n  x: {}\n' });
    const e = caught(() => load(dir));
    expect(e).toBeInstanceOf(ConfigValidationError);
    expect(e.message).toMatch(/\bservice\b/);
  });

  test('invalid service name', () => {
    const dir = project({ 'compose.yaml': 'services:\n  "web app":\n    image: nginx\n' });
    const e = caught(() => load(dir));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toContain('web app');
  });

  test('schema errors in the second file name the second file', () => {
    const dir = project({
      'compose.yaml': 'services:\n  web:\n    image: nginx\n',
      'compose.override.yaml': 'services:\n  web:\n    restart: 5\n    unknown_key: 1\n',
    });
    const e = caught(() => load(dir));
    expect(e.message).toContain(join(dir, 'compose.override.yaml'));
  });

  test('missing env_file names the file', () => {
    const dir = project({ 'compose.yaml': 'services:\n  web:\n    image: nginx\n    env_file: ./missing.env\n' });
    const e = caught(() => load(dir));
    expect(e).toBeInstanceOf(FileNotFoundError);
    expect(e.code).toBe('TSC_FILE_NOT_FOUND');
    expect(e.message).toContain(join(dir, 'missing.env'));
  });

  test('env_file with required: false may be missing', () => {
    const dir = project({
      'compose.yaml': 'services:\n  web:\n    image: nginx\n    env_file:\n      - path: ./missing.env\n        required: false\n      - ./ok.env\n',
      'ok.env': 'OK=1\n',
    });
    expect(svc(load(dir), 'web').environment).toEqual({ OK: '1' });
  });

  test('env_file values under environment', () => {
    const dir = project({
      'compose.yaml': 'services:\n  web:\n    image: nginx\n    env_file: [a.env, b.env]\n    environment:\n      C: from-env\n      INHERIT:\n',
      'a.env': 'A=a\nB=a\nC=a\n',
      'b.env': 'B=b\n',
    });
    expect(svc(load(dir, { env: { INHERIT: 'shell' } }), 'web').environment).toEqual({ A: 'a', B: 'b', C: 'from-env', INHERIT: 'shell' });
  });

  test('missing extends file names it, with the position of extends', () => {
    const dir = project({ 'compose.yaml': 'services:\n  web:\n    extends:\n      file: gone.yaml\n      service: base\n' });
    const e = caught(() => load(dir));
    expect(e).toBeInstanceOf(FileNotFoundError);
    expect(e.message).toContain(join(dir, 'gone.yaml'));
    expect(e.message).toMatch(new RegExp(`^${esc(join(dir, 'compose.yaml'))}:\\d+:\\d+: `));
  });

  test('a directory given as compose file is a ConfigError', () => {
    const dir = project({ 'sub/.keep': '' });
    const e = caught(() => load(dir, { files: ['sub'] }));
    expect(e).toBeInstanceOf(ConfigError);
  });
});
