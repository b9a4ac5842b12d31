/**
 * Integration tests of the loader (`loadProjectSync`): every test writes its files into a fresh temporary
 * directory and passes the shell environment explicitly (never process.env).
 */
import { describe, expect, test, afterAll } from '@jest/globals';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  ConfigError,
  ConfigValidationError,
  ConsistencyError,
  DependencyCycleError,
  FileNotFoundError,
  InterpolationError,
  TsComposeError,
  UsageError,
  YamlSyntaxError,
} from '../errors.js';
import { loadProject, loadProjectSync, type LoadOptions } from './load.js';
import { projectToJson } from './serialize.js';
import type { LoadedProject } from './types.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A fresh temp dir (real path, so that comparisons with resolved paths hold). */
function tmp(): string {
  const d = realpathSync(mkdtempSync(join(tmpdir(), 'tsc-load-')));
  dirs.push(d);
  return d;
}

/** Writes `files` (relative path → content) under `dir`. */
function write(dir: string, files: Record<string, string>): string {
  for (const [rel, content] of Object.entries(files)) {
    const p = join(dir, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, content);
  }
  return dir;
}

/** A temp dir holding `files`. */
function project(files: Record<string, string>): string {
  return write(tmp(), files);
}

function load(dir: string, opts: Omit<LoadOptions, 'cwd' | 'env'> & { env?: Record<string, string> } = {}): LoadedProject {
  const { env, ...rest } = opts;
  return loadProjectSync({ cwd: dir, env: { HOME: dir, ...env }, ...rest });
}

/** The error thrown by `fn` (fails the test when nothing is thrown). */
function caught(fn: () => unknown): TsComposeError {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof TsComposeError)) throw new Error(`expected a TsComposeError, got ${String((e as Error)?.stack ?? e)}`);
    return e;
  }
  throw new Error('expected an error, nothing was thrown');
}

const svc = (l: LoadedProject, name: string) => {
  const s = (l.project.services as Record<string, any>)[name];
  if (!s) throw new Error(`no service ${name}; have ${Object.keys(l.project.services).join(', ')}`);
  return s;
};
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// ---------------------------------------------------------------------------------------------------------

describe('discovery', () => {
  test('compose.yaml is found from a subdirectory (walking up)', () => {
    const dir = project({ 'compose.yaml': 'services:\n  web:\n    image: nginx\n', 'a/b/.keep': '' });
    const l = load(join(dir, 'a', 'b'));
    expect(svc(l, 'web').image).toBe('nginx');
    expect(l.meta.configFiles).toEqual([join(dir, 'compose.yaml')]);
    expect(l.meta.workingDir).toBe(dir);
  });

  test('compose.yml and docker-compose.yml are found too', () => {
    const a = project({ 'compose.yml': 'services:\n  a:\n    image: x\n' });
    expect(Object.keys(load(a).project.services)).toEqual(['a']);
    const b = project({ 'docker-compose.yml': 'services:\n  b:\n    image: x\n' });
    expect(Object.keys(load(b).project.services)).toEqual(['b']);
  });

  test('several default names: compose.yaml wins, with a warning', () => {
    const dir = project({ 'compose.yaml': 'services:\n  a:\n    image: x\n', 'docker-compose.yml': 'services:\n  b:\n    image: x\n' });
    const warnings: string[] = [];
    const l = load(dir, { onWarning: (w) => warnings.push(w) });
    expect(Object.keys(l.project.services)).toEqual(['a']);
    expect(warnings.join('\n')).toMatch(/multiple config files/);
  });

  test('compose.override.yaml is merged automatically', () => {
    const dir = project({
      'compose.yaml': 'services:\n  web:\n    image: nginx\n    environment:\n      A: "1"\n',
      'compose.override.yaml': 'services:\n  web:\n    image: nginx:2\n    environment:\n      B: "2"\n',
    });
    const l = load(dir);
    expect(svc(l, 'web').image).toBe('nginx:2');
    expect(svc(l, 'web').environment).toEqual({ A: '1', B: '2' });
    expect(l.meta.configFiles).toEqual([join(dir, 'compose.yaml'), join(dir, 'compose.override.yaml')]);
  });

  test('the override file is not added when -f is given', () => {
    const dir = project({
      'compose.yaml': 'services:\n  web:\n    image: nginx\n',
      'compose.override.yaml': 'services:\n  web:\n    image: nginx:2\n',
    });
    expect(svc(load(dir, { files: ['compose.yaml'] }), 'web').image).toBe('nginx');
  });

  test('-f is repeatable, later files override earlier ones', () => {
    const dir = project({
      'one.yaml': 'services:\n  web:\n    image: a\n    cap_add: [NET_ADMIN]\n',
      'two.yaml': 'services:\n  web:\n    image: b\n    cap_add: [SYS_TIME]\n  db:\n    image: pg\n',
      'three.yaml': 'services:\n  web:\n    image: c\n',
    });
    const l = load(dir, { files: ['one.yaml', 'two.yaml', 'three.yaml'] });
    expect(svc(l, 'web').image).toBe('c');
    expect(svc(l, 'web').cap_add).toEqual(['NET_ADMIN', 'SYS_TIME']);
    expect(Object.keys(l.project.services).sort()).toEqual(['db', 'web']);
  });

  test('the project directory is the directory of the first -f file', () => {
    const dir = project({ 'sub/compose.yaml': 'services:\n  web:\n    build: ./app\n', 'sub/app/.keep': '' });
    const l = load(dir, { files: ['sub/compose.yaml'] });
    expect(l.meta.workingDir).toBe(join(dir, 'sub'));
    expect(svc(l, 'web').build.context).toBe(join(dir, 'sub', 'app'));
    expect(l.project.name).toBe('sub');
  });

  test('-f - reads standard input through readStdin', () => {
    const dir = project({ 'other.yaml': 'services:\n  db:\n    image: pg\n' });
    const l = load(dir, { files: ['-', 'other.yaml'], readStdin: () => 'services:\n  web:\n    image: from-stdin\n    build: ./ctx\n' });
    expect(svc(l, 'web').image).toBe('from-stdin');
    expect(svc(l, 'web').build.context).toBe(join(dir, 'ctx'));
    expect(svc(l, 'db').image).toBe('pg');
    expect(l.meta.workingDir).toBe(dir);
  });

  test('-f - position information names stdin', () => {
    const dir = tmp();
    const e = caught(() => load(dir, { files: ['-'], readStdin: () => 'services:\n  web:\n    image: [\n' }));
    expect(e).toBeInstanceOf(YamlSyntaxError);
    expect(e.message).toMatch(/stdin/);
  });

  test('COMPOSE_FILE with COMPOSE_PATH_SEPARATOR', () => {
    const dir = project({
      'a.yaml': 'services:\n  web:\n    image: a\n',
      'b.yaml': 'services:\n  web:\n    image: b\n  db:\n    image: pg\n',
      'compose.yaml': 'services:\n  ignored:\n    image: x\n',
    });
    const l = load(dir, { env: { COMPOSE_FILE: 'a.yaml;b.yaml', COMPOSE_PATH_SEPARATOR: ';' } });
    expect(svc(l, 'web').image).toBe('b');
    expect(Object.keys(l.project.services).sort()).toEqual(['db', 'web']);
  });

  test('COMPOSE_FILE uses the OS path separator by default, and may come from .env', () => {
    const dir = project({
      'a.yaml': 'services:\n  web:\n    image: a\n',
      'b.yaml': 'services:\n  web:\n    image: b\n',
      '.env': 'COMPOSE_FILE=a.yaml:b.yaml\n',
    });
    expect(svc(load(dir), 'web').image).toBe('b');
  });

  test('projectDirectory: discovery, .env and relative paths use it', () => {
    const dir = project({
      'proj/compose.yaml': 'services:\n  web:\n    image: ${IMG}\n    build: ./app\n',
      'proj/.env': 'IMG=from-proj-env\n',
      '.env': 'IMG=from-cwd-env\n',
    });
    const l = load(dir, { projectDirectory: 'proj' });
    expect(l.meta.workingDir).toBe(join(dir, 'proj'));
    expect(svc(l, 'web').image).toBe('from-proj-env');
    expect(svc(l, 'web').build.context).toBe(join(dir, 'proj', 'app'));
    expect(l.project.name).toBe('proj');
  });

  test('projectDirectory with -f elsewhere: relative paths resolve against the project directory', () => {
    const dir = project({
      'files/compose.yaml': 'services:\n  web:\n    image: x\n    volumes:\n      - ./data:/data\n',
      'proj/.keep': '',
    });
    const l = load(dir, { projectDirectory: 'proj', files: ['files/compose.yaml'] });
    expect(svc(l, 'web').volumes[0]).toMatchObject({ type: 'bind', source: join(dir, 'proj', 'data'), target: '/data' });
  });

  test('no compose file: FileNotFoundError', () => {
    const dir = tmp();
    const e = caught(() => load(dir, { files: ['nope.yaml'] }));
    expect(e).toBeInstanceOf(FileNotFoundError);
    expect(e.code).toBe('TSC_FILE_NOT_FOUND');
    expect(e.message).toContain(join(dir, 'nope.yaml'));
  });

  test('loadProject (async) gives the same project', async () => {
    const dir = project({ 'compose.yaml': 'services:\n  web:\n    image: nginx\n' });
    const a = await loadProject({ cwd: dir, env: { HOME: dir } });
    expect(projectToJson(a.project)).toBe(projectToJson(load(dir).project));
  });
});

// ---------------------------------------------------------------------------------------------------------

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

describe('project name', () => {
  const files = {
    'compose.yaml': 'name: from-file\nservices:\n  web:\n    image: nginx\n',
  };

  test('-p wins over everything', () => {
    const dir = project({ ...files, '.env': 'COMPOSE_PROJECT_NAME=from-dotenv\n' });
    expect(load(dir, { projectName: 'explicit', env: { COMPOSE_PROJECT_NAME: 'from-shell' } }).project.name).toBe('explicit');
  });

  test('COMPOSE_PROJECT_NAME from the shell beats .env and name:', () => {
    const dir = project({ ...files, '.env': 'COMPOSE_PROJECT_NAME=from-dotenv\n' });
    expect(load(dir, { env: { COMPOSE_PROJECT_NAME: 'from-shell' } }).project.name).toBe('from-shell');
  });

  test('COMPOSE_PROJECT_NAME from .env beats name:', () => {
    const dir = project({ ...files, '.env': 'COMPOSE_PROJECT_NAME=from-dotenv\n' });
    expect(load(dir).project.name).toBe('from-dotenv');
  });

  test('name: from the last file that sets it, interpolated', () => {
    const dir = project({
      'a.yaml': 'name: first\nservices:\n  web:\n    image: nginx\n',
      'b.yaml': 'name: ${PREFIX}-second\n',
      'c.yaml': 'services:\n  web:\n    image: nginx:2\n',
    });
    const l = load(dir, { files: ['a.yaml', 'b.yaml', 'c.yaml'], env: { PREFIX: 'my' } });
    expect(l.project.name).toBe('my-second');
  });

  test('the project name is available to interpolation as COMPOSE_PROJECT_NAME', () => {
    const dir = project({ 'compose.yaml': 'name: proj\nservices:\n  web:\n    image: nginx\n    container_name: ${COMPOSE_PROJECT_NAME}-web\n' });
    expect(svc(load(dir), 'web').container_name).toBe('proj-web');
  });

  test('directory basename normalised', () => {
    const root = tmp();
    const dir = write(join(root, 'My_App.1'), { 'compose.yaml': 'services:\n  web:\n    image: nginx\n' });
    expect(load(dir).project.name).toBe('my_app1');
  });

  test('directory basename: leading _ and - are dropped', () => {
    const root = tmp();
    const dir = write(join(root, '_-Foo Bar'), { 'compose.yaml': 'services:\n  web:\n    image: nginx\n' });
    expect(load(dir).project.name).toBe('foobar');
  });

  test.each([
    ['-p', { projectName: 'Bad Name' }],
    ['COMPOSE_PROJECT_NAME', { env: { COMPOSE_PROJECT_NAME: 'UPPER' } }],
    ['COMPOSE_PROJECT_NAME', { env: { COMPOSE_PROJECT_NAME: '_leading' } }],
  ] as const)('invalid explicit name from %s is a UsageError', (_from, opts) => {
    const dir = project(files);
    const e = caught(() => load(dir, opts as never));
    expect(e).toBeInstanceOf(UsageError);
    expect(e.code).toBe('TSC_USAGE');
    expect(e.message).toMatch(/invalid project name/);
  });

  test('invalid name: in the file is an error', () => {
    const dir = project({ 'compose.yaml': 'name: Not/Valid\nservices:\n  web:\n    image: nginx\n' });
    const e = caught(() => load(dir));
    expect(e.message).toMatch(/invalid project name "Not\/Valid"/);
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

// ---------------------------------------------------------------------------------------------------------

describe('composition', () => {
  test('override merge: scalars replaced, lists appended, environment/labels merged, command replaced', () => {
    const dir = project({
      'compose.yaml': [
        'services:',
        '  web:',
        '    image: a',
        '    command: ["run", "a"]',
        '    ports: ["8080:80"]',
        '    dns: [1.1.1.1]',
        '    environment:',
        '      A: "1"',
        '      B: "1"',
        '    labels: [x=1]',
        '',
      ].join('\n'),
      'compose.override.yaml': [
        'services:',
        '  web:',
        '    image: b',
        '    command: serve',
        '    ports: ["9090:90"]',
        '    dns: 8.8.8.8',
        '    environment:',
        '      - B=2',
        '      - C=3',
        '    labels:',
        '      y: "2"',
        '',
      ].join('\n'),
    });
    const s = svc(load(dir), 'web');
    expect(s.image).toBe('b');
    expect(s.command).toEqual(['serve']);
    expect(s.ports.map((p: any) => [p.target, p.published])).toEqual([
      [80, '8080'],
      [90, '9090'],
    ]);
    expect(s.dns).toEqual(['1.1.1.1', '8.8.8.8']);
    expect(s.environment).toEqual({ A: '1', B: '2', C: '3' });
    expect(s.labels).toEqual({ x: '1', y: '2' });
  });

  test('override merge: volumes unique by target, networks merged', () => {
    const dir = project({
      'compose.yaml':
        'services:\n  web:\n    image: a\n    volumes: ["./a:/data", "/x:/x"]\n    networks: [front]\nnetworks:\n  front: {}\n  back: {}\n',
      'compose.override.yaml': 'services:\n  web:\n    volumes: ["./b:/data"]\n    networks:\n      back:\n        aliases: [w]\n',
    });
    const s = svc(load(dir), 'web');
    expect(s.volumes.map((v: any) => [v.source, v.target])).toEqual([
      [join(dir, 'b'), '/data'],
      ['/x', '/x'],
    ]);
    expect(Object.keys(s.networks).sort()).toEqual(['back', 'front']);
    expect(s.networks.back).toMatchObject({ aliases: ['w'] });
  });

  test('extends in the same file', () => {
    const dir = project({
      'compose.yaml': [
        'services:',
        '  base:',
        '    image: base',
        '    environment: {A: "1", B: "1"}',
        '    cap_add: [NET_ADMIN]',
        '  web:',
        '    extends: base',
        '    environment: {B: "2"}',
        '    cap_add: [SYS_TIME]',
        '',
      ].join('\n'),
    });
    const s = svc(load(dir), 'web');
    expect(s.image).toBe('base');
    expect(s.environment).toEqual({ A: '1', B: '2' });
    expect(s.cap_add).toEqual(['NET_ADMIN', 'SYS_TIME']);
    expect(s.extends).toBeUndefined();
  });

  test('extends another file: its relative paths resolve against its own directory', () => {
    const dir = project({
      'compose.yaml': 'services:\n  web:\n    extends:\n      file: common/base.yaml\n      service: base\n    volumes: ["./local:/local"]\n',
      'common/base.yaml':
        'services:\n  base:\n    image: base\n    build: ./ctx\n    env_file: ./base.env\n    volumes: ["./shared:/shared"]\n',
      'common/base.env': 'FROM_BASE=1\n',
      'common/ctx/.keep': '',
    });
    const s = svc(load(dir), 'web');
    expect(s.image).toBe('base');
    expect(s.build.context).toBe(join(dir, 'common', 'ctx'));
    expect(s.environment).toMatchObject({ FROM_BASE: '1' });
    const vols = Object.fromEntries(s.volumes.map((v: any) => [v.target, v.source]));
    expect(vols).toEqual({ '/shared': join(dir, 'common', 'shared'), '/local': join(dir, 'local') });
  });

  test('nested extends (across files and within)', () => {
    const dir = project({
      'compose.yaml': 'services:\n  c:\n    extends: b\n    environment: {C: "c"}\n  b:\n    extends: {file: other.yaml, service: a}\n    environment: {B: "b"}\n',
      'other.yaml': 'services:\n  a:\n    image: a-img\n    environment: {A: "a"}\n  root:\n    image: never\n',
    });
    const l = load(dir);
    expect(svc(l, 'c').image).toBe('a-img');
    expect(svc(l, 'c').environment).toEqual({ A: 'a', B: 'b', C: 'c' });
    expect(Object.keys(l.project.services).sort()).toEqual(['b', 'c']);
  });

  test('extends cycle is an error', () => {
    const dir = project({ 'compose.yaml': 'services:\n  a:\n    image: x\n    extends: b\n  b:\n    extends: a\n' });
    const e = caught(() => load(dir));
    expect(e).toBeInstanceOf(DependencyCycleError);
    expect(e.message).toMatch(/a -> b -> a|b -> a -> b/);
  });

  test('extends cycle across files is an error', () => {
    const dir = project({
      'compose.yaml': 'services:\n  a:\n    extends: {file: b.yaml, service: b}\n',
      'b.yaml': 'services:\n  b:\n    extends: {file: compose.yaml, service: a}\n',
    });
    const e = caught(() => load(dir));
    expect(e).toBeInstanceOf(TsComposeError);
  });

  // BUG: a service extending itself through `file:` pointing at its own file is reported as
  // `cannot extend service "web": service "web" not found in …/compose.yaml` (FileLoader.loadOther caches the
  // file's entry with an empty model before loading it, so the re-entrant lookup finds nothing) instead of
  // compose-go's circular reference error.
  test('extends cycle through file: pointing at the same file is a cycle error', () => {
    const dir = project({ 'compose.yaml': 'services:\n  web:\n    image: x\n    extends: {file: compose.yaml, service: web}\n' });
    const e = caught(() => load(dir));
    expect(e).toBeInstanceOf(DependencyCycleError);
    expect(e.message).toMatch(/circular reference/);
  });

  test('extends of an unknown service is an error naming it', () => {
    const dir = project({ 'compose.yaml': 'services:\n  a:\n    extends: ghost\n' });
    const e = caught(() => load(dir));
    expect(e.message).toContain('ghost');
    expect(e.message).toMatch(new RegExp(`${esc(join(dir, 'compose.yaml'))}:3:\\d+`));
  });

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

  test('!reset and !override across files', () => {
    const dir = project({
      'compose.yaml': [
        'services:',
        '  web:',
        '    image: a',
        '    ports: ["80:80", "443:443"]',
        '    environment: {A: "1", B: "1"}',
        '    cap_add: [NET_ADMIN]',
        '    labels: {l: "1"}',
        '',
      ].join('\n'),
      'compose.override.yaml': [
        'services:',
        '  web:',
        '    ports: !reset []',
        '    environment: !override {C: "3"}',
        '    cap_add: !override [SYS_TIME]',
        '    labels: !reset {}',
        '',
      ].join('\n'),
    });
    const s = svc(load(dir), 'web');
    expect(s.ports ?? []).toEqual([]);
    expect(s.environment).toEqual({ C: '3' });
    expect(s.cap_add).toEqual(['SYS_TIME']);
    expect(s.labels ?? {}).toEqual({});
  });

  // BUG: a `!reset` / `!override` tag on a *sequence item* is not handled: the Tagged marker reaches the
  // canonical phase as an object, giving `cap_add: ["[object Object]"]`, `environment: {"[object Object]": null}`,
  // `volumes: [{}]` or a raw un-canonicalised `"/data"` string in `volumes`, and "undefined network [object
  // Object]"; with some inputs the fuzz test saw `TypeError: Cannot read properties of undefined (reading 'type')`
  // at consistency.ts:42. compose-go's ResetProcessor drops a `!reset` item and keeps an `!override` item's value.
  test('!reset / !override on sequence items: the item is dropped / kept', () => {
    const dir = project({
      'compose.yaml': [
        'services:',
        '  web:',
        '    image: x',
        '    cap_add: [!override NET_ADMIN, SYS_TIME]',
        '    environment: [!reset A=1, B=2]',
        '    volumes: [!reset /data, "/x:/x"]',
        '',
      ].join('\n'),
    });
    const s = svc(load(dir), 'web');
    expect(s.cap_add).toEqual(['NET_ADMIN', 'SYS_TIME']);
    expect(s.environment).toEqual({ B: '2' });
    expect(s.volumes.map((v: any) => v.target)).toEqual(['/x']);
  });

  // BUG (same cause): `- !reset null` as a volumes item crashes with
  // `TypeError: Cannot read properties of undefined (reading 'type')` at consistency.ts:42 — untag() turns the
  // item into `undefined` but keeps it in the array.
  test('`- !reset null` as a list item is dropped, not a TypeError', () => {
    const dir = project({ 'compose.yaml': 'services:\n  web:\n    image: x\n    volumes:\n      - !reset null\n      - /y\n' });
    const s = svc(load(dir), 'web');
    expect(s.volumes.map((v: any) => v.target)).toEqual(['/y']);
  });

  test('!reset null removes a whole service attribute', () => {
    const dir = project({
      'compose.yaml': 'services:\n  web:\n    image: a\n    build: ./ctx\n',
      'compose.override.yaml': 'services:\n  web:\n    build: !reset null\n',
    });
    expect(svc(load(dir), 'web').build).toBeUndefined();
  });

  test('anchors, merge keys and x- extensions', () => {
    const dir = project({
      'compose.yaml': [
        'x-common: &common',
        '  image: shared',
        '  environment: {A: "1"}',
        'services:',
        '  a:',
        '    <<: *common',
        '  b:',
        '    <<: *common',
        '    image: own',
        '',
      ].join('\n'),
    });
    const l = load(dir);
    expect(svc(l, 'a').image).toBe('shared');
    expect(svc(l, 'b').image).toBe('own');
    expect(svc(l, 'b').environment).toEqual({ A: '1' });
    expect((l.project as any)['x-common']).toEqual({ image: 'shared', environment: { A: '1' } });
  });
});

// ---------------------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------------------

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
    ['container_name with 2 replicas', 'services:\n  web:\n    image: x\n    container_name: fixed\n    deploy:\n      replicas: 2\n', /container_name/],
    ['dockerfile + dockerfile_inline', 'services:\n  web:\n    build:\n      context: .\n      dockerfile: D\n      dockerfile_inline: FROM x\n', /dockerfile_inline/],
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

  test.each(bad)('%s is a warning in mode warn', (_what, yaml, re) => {
    const dir = project({ 'compose.yaml': yaml });
    const warnings: string[] = [];
    load(dir, { consistency: 'warn', onWarning: (w) => warnings.push(w) });
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

// ---------------------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------------------

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
