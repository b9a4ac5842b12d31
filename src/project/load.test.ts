/**
 * Integration tests of the loader: which files make the project (discovery, -f, COMPOSE_FILE, the project
 * directory) and the project's name. The other load-*.test.ts files test the rest; helpers in __fixtures__/load-helpers.ts.
 */
import { describe, expect, test, afterAll } from '@jest/globals';
import { join } from 'node:path';
import { FileNotFoundError, UsageError, YamlSyntaxError } from '../errors.js';
import { caught, load, project, removeTmpDirs, svc, tmp, write } from './__fixtures__/load-helpers.js';
import { loadProject } from './load.js';
import { projectToJson } from './serialize.js';

afterAll(removeTmpDirs);

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
