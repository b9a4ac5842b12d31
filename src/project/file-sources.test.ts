/**
 * Secrets' and configs' `environment:` sources: resolved from the project's environment at load (the .env file
 * included, the shell over it), carried non-enumerable so that `config` output never shows the value.
 */
import { afterAll, describe, expect, test } from '@jest/globals';
import { load, project, removeTmpDirs } from './__fixtures__/load-helpers.js';
import { inlineContent, resolveFileSources, withEnvironmentValue } from './file-sources.js';
import { projectToJson, projectToYaml } from './serialize.js';
import type { Project } from './types.js';

afterAll(removeTmpDirs);

const COMPOSE = [
  'services:',
  '  app:',
  '    image: busybox',
  '    secrets: [token]',
  '    configs: [conf]',
  'secrets:',
  '  token:',
  '    environment: MY_TOKEN',
  '  plain:',
  '    file: ./plain.txt',
  'configs:',
  '  conf:',
  '    environment: MY_CONF',
  '',
].join('\n');

describe('environment: sources at load', () => {
  test('the value comes from the .env file; config output keeps `environment: NAME` only', () => {
    const dir = project({ 'compose.yaml': COMPOSE, '.env': 'MY_TOKEN=s3cr3t-from-dotenv\nMY_CONF=conf-value\n', 'plain.txt': 'x' });
    const l = load(dir);
    expect(l.project.secrets?.token?.environmentValue).toBe('s3cr3t-from-dotenv');
    expect(l.project.configs?.conf?.environmentValue).toBe('conf-value');
    expect(l.project.secrets?.plain?.environmentValue).toBeUndefined();
    expect(l.project.secrets?.token).toEqual({ environment: 'MY_TOKEN' });
    const yaml = projectToYaml(l.project);
    const json = projectToJson(l.project);
    expect(yaml).toContain('environment: MY_TOKEN');
    expect(yaml).not.toContain('s3cr3t');
    expect(json).not.toContain('s3cr3t');
    expect(JSON.stringify(l.project)).not.toContain('s3cr3t');
  });

  test('the shell wins over .env (compose-go precedence); the CLI process environment is not read', () => {
    const dir = project({ 'compose.yaml': COMPOSE, '.env': 'MY_TOKEN=from-dotenv\n' });
    process.env.MY_CONF = 'from-process-env';
    try {
      const l = load(dir, { env: { MY_TOKEN: 'from-shell' } });
      expect(l.project.secrets?.token?.environmentValue).toBe('from-shell');
      expect(l.project.configs?.conf?.environmentValue).toBeUndefined();
    } finally {
      delete process.env.MY_CONF;
    }
  });

  test('a spread of the project keeps the resolved definitions', () => {
    const dir = project({ 'compose.yaml': COMPOSE, '.env': 'MY_TOKEN=v\n' });
    const l = load(dir);
    const copy: Project = { ...l.project, services: {} };
    expect(copy.secrets?.token?.environmentValue).toBe('v');
  });
});

describe('inlineContent', () => {
  const unset = (msg: string): never => {
    throw new Error(msg);
  };

  test('content, a resolved environment value, nothing for files', () => {
    expect(inlineContent('a', { content: 'c' }, unset)).toBe('c');
    expect(inlineContent('a', withEnvironmentValue({ environment: 'X' }, { X: '' }), unset)).toBe('');
    expect(inlineContent('a', withEnvironmentValue({ environment: 'X' }, { X: 'v' }), unset)).toBe('v');
    expect(inlineContent('a', { file: '/f' }, unset)).toBeUndefined();
  });

  test("an unset variable: docker compose's message, with the definition's name", () => {
    expect(() => inlineContent('a', withEnvironmentValue({ environment: 'X' }, {}), unset)).toThrow(
      'environment variable "X" required by file "a" is not set',
    );
    expect(() => inlineContent('a', { name: 'p_a', environment: 'X' }, unset)).toThrow('required by file "p_a"');
  });

  test('resolveFileSources leaves a project without environment sources as it is', () => {
    const p: Project = { name: 'p', services: {}, secrets: { a: { file: '/f' } } };
    expect(resolveFileSources(p, { X: '1' })).toBe(p);
  });

  test('an unset variable is no load error (docker compose fails at create)', () => {
    const dir = project({ 'compose.yaml': COMPOSE });
    expect(() => load(dir)).not.toThrow();
  });
});
