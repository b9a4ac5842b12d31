/**
 * Integration tests of the loader: the .env file, --env-file and interpolation from the shell environment.
 */
import { describe, expect, test, afterAll } from '@jest/globals';
import { join } from 'node:path';
import { ConfigError, FileNotFoundError, InterpolationError } from '../errors.js';
import { caught, esc, load, project, removeTmpDirs, svc } from './__fixtures__/load-helpers.js';

afterAll(removeTmpDirs);

describe('.env', () => {
  const compose = [
    'services:',
    '  web:',
    '    image: nginx',
    '    environment:',
    '      A: ${A}',
    '      B: ${B}',
    '      C: ${C}',
    '      D: ${D}',
    '      E: ${E}',
    '      F: ${F}',
    '      G: ${G}',
    '',
  ].join('\n');

  test('quotes, export, comments, multi-line values, interpolation inside', () => {
    const dir = project({
      'compose.yaml': compose,
      '.env': [
        '# a comment',
        'export A=1',
        'B="two words" # trailing comment',
        "C='single $A ${B}'",
        'D="line1',
        'line2"',
        'E=${A}-x',
        'F=a#b',
        'G="tab\\there"',
        '',
      ].join('\n'),
    });
    const l = load(dir);
    expect(svc(l, 'web').environment).toEqual({
      A: '1',
      B: 'two words',
      C: 'single $A ${B}',
      D: 'line1\nline2',
      E: '1-x',
      F: 'a#b',
      G: 'tab\there',
    });
    expect(l.meta.envFiles).toEqual([join(dir, '.env')]);
    expect(l.meta.environment.E).toBe('1-x');
  });

  test('.env values are not container environment unless referenced', () => {
    const dir = project({ 'compose.yaml': 'services:\n  web:\n    image: nginx\n', '.env': 'SECRET=1\n' });
    expect(svc(load(dir), 'web').environment).toBeUndefined();
  });

  test('envFiles is repeatable; later files override earlier ones; .env is then not read', () => {
    const dir = project({
      'compose.yaml': 'services:\n  web:\n    image: nginx\n    environment:\n      X: ${X}\n      Y: ${Y}\n      Z: ${Z:-unset}\n',
      'a.env': 'X=a\nY=a\n',
      'b.env': 'Y=b\n',
      '.env': 'X=dotenv\nY=dotenv\nZ=dotenv\n',
    });
    const l = load(dir, { envFiles: ['a.env', 'b.env'] });
    expect(svc(l, 'web').environment).toEqual({ X: 'a', Y: 'b', Z: 'unset' });
    expect(l.meta.envFiles).toEqual([join(dir, 'a.env'), join(dir, 'b.env')]);
  });

  test('precedence: shell > env files > .env', () => {
    const dir = project({
      'compose.yaml': 'services:\n  web:\n    image: nginx\n    environment:\n      X: ${X}\n      Y: ${Y}\n',
      '.env': 'X=dotenv\nY=dotenv\n',
      'e.env': 'X=envfile\nY=envfile\n',
    });
    expect(svc(load(dir), 'web').environment).toEqual({ X: 'dotenv', Y: 'dotenv' });
    expect(svc(load(dir, { env: { X: 'shell' } }), 'web').environment).toEqual({ X: 'shell', Y: 'dotenv' });
    expect(svc(load(dir, { envFiles: ['e.env'] }), 'web').environment).toEqual({ X: 'envfile', Y: 'envfile' });
    expect(svc(load(dir, { envFiles: ['e.env'], env: { Y: 'shell' } }), 'web').environment).toEqual({ X: 'envfile', Y: 'shell' });
  });

  test('an empty shell value still wins over .env', () => {
    const dir = project({
      'compose.yaml': 'services:\n  web:\n    image: nginx\n    environment:\n      X: "[${X}]"\n',
      '.env': 'X=dotenv\n',
    });
    expect(svc(load(dir, { env: { X: '' } }), 'web').environment).toEqual({ X: '[]' });
  });

  test('.env interpolation sees the shell environment', () => {
    const dir = project({
      'compose.yaml': 'services:\n  web:\n    image: ${IMG}\n',
      '.env': 'IMG=${REGISTRY}/app\n',
    });
    expect(svc(load(dir, { env: { REGISTRY: 'reg.example' } }), 'web').image).toBe('reg.example/app');
  });

  test('COMPOSE_DISABLE_ENV_FILE skips .env', () => {
    const dir = project({ 'compose.yaml': 'services:\n  web:\n    image: ${IMG:-none}\n', '.env': 'IMG=dotenv\n' });
    expect(svc(load(dir, { env: { COMPOSE_DISABLE_ENV_FILE: 'true' } }), 'web').image).toBe('none');
  });

  test('a missing --env-file is a FileNotFoundError naming it', () => {
    const dir = project({ 'compose.yaml': 'services:\n  web:\n    image: nginx\n' });
    const e = caught(() => load(dir, { envFiles: ['missing.env'] }));
    expect(e).toBeInstanceOf(FileNotFoundError);
    expect(e.message).toContain('missing.env');
  });

  test('a malformed .env line is a ConfigError with file and line', () => {
    const dir = project({ 'compose.yaml': 'services:\n  web:\n    image: nginx\n', '.env': 'OK=1\nBAD KEY=2\n' });
    const e = caught(() => load(dir));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toContain(`${join(dir, '.env')}:2`);
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('interpolation', () => {
  test('${X:-d}, ${X-d}, ${X:+a}, $$ and nesting', () => {
    const dir = project({
      'compose.yaml': [
        'services:',
        '  web:',
        '    image: ${IMG:-nginx}:${TAG-latest}',
        '    environment:',
        '      EMPTY_DEFAULT: "${EMPTY:-d}"',
        '      EMPTY_DASH: "${EMPTY-d}"',
        '      ALT: "${SET:+alt}"',
        '      DOLLAR: "$$HOME and $${X}"',
        '      NESTED: "${NOPE:-${SET}-x}"',
        '      BARE: "$SET/path"',
        '',
      ].join('\n'),
    });
    const l = load(dir, { env: { EMPTY: '', SET: 'yes' } });
    expect(svc(l, 'web').image).toBe('nginx:latest');
    expect(svc(l, 'web').environment).toEqual({
      EMPTY_DEFAULT: 'd',
      EMPTY_DASH: '',
      ALT: 'alt',
      DOLLAR: '$HOME and ${X}',
      NESTED: 'yes-x',
      BARE: 'yes/path',
    });
  });

  test('unset variable without default: empty string and a warning', () => {
    const dir = project({ 'compose.yaml': 'services:\n  web:\n    image: nginx\n    environment:\n      A: "x${UNSET_VAR}y"\n' });
    const warnings: string[] = [];
    const l = load(dir, { onWarning: (w) => warnings.push(w) });
    expect(svc(l, 'web').environment).toEqual({ A: 'xy' });
    expect(warnings.join('\n')).toMatch(/UNSET_VAR/);
  });

  test('${X:?boom}: InterpolationError with the message and file:line:col', () => {
    const dir = project({ 'compose.yaml': 'services:\n  web:\n    image: nginx\n    environment:\n      A: ${X:?boom}\n' });
    const e = caught(() => load(dir));
    expect(e).toBeInstanceOf(InterpolationError);
    expect(e.code).toBe('TSC_INTERPOLATION');
    expect(e.message).toContain('boom');
    expect(e.message).toContain(`${join(dir, 'compose.yaml')}:5:10`);
  });

  test('invalid template is an InterpolationError with a position', () => {
    const dir = project({ 'compose.yaml': 'services:\n  web:\n    image: "${"\n' });
    const e = caught(() => load(dir));
    expect(e).toBeInstanceOf(InterpolationError);
    expect(e.message).toMatch(new RegExp(`${esc(join(dir, 'compose.yaml'))}:3:\\d+`));
  });

  test('interpolation does not apply to keys', () => {
    const dir = project({ 'compose.yaml': 'services:\n  web:\n    image: nginx\n    labels:\n      ${K}: v\n' });
    expect(svc(load(dir, { env: { K: 'x' } }), 'web').labels).toEqual({ '${K}': 'v' });
  });

  test('interpolate: false keeps ${X}', () => {
    const dir = project({ 'compose.yaml': 'services:\n  web:\n    image: ${X}\n    environment:\n      A: ${Y:?boom}\n' });
    const l = load(dir, { interpolate: false, env: { X: 'set' } });
    expect(svc(l, 'web').image).toBe('${X}');
    expect(svc(l, 'web').environment).toEqual({ A: '${Y:?boom}' });
  });

  test('interpolated strings are cast by path (ports, booleans, numbers)', () => {
    const dir = project({
      'compose.yaml': 'services:\n  web:\n    image: nginx\n    privileged: ${PRIV}\n    deploy:\n      replicas: ${N}\n',
    });
    const s = svc(load(dir, { env: { PRIV: 'true', N: '3' } }), 'web');
    expect(s.privileged).toBe(true);
    expect(s.deploy.replicas).toBe(3);
  });
});
