/**
 * `config`: golden outputs of the model (normalised as docker compose prints it, and with --no-normalize) and of
 * --variables (table, json, yaml), --environment and --no-env-resolution. Files in a temp dir, the environment
 * passed explicitly.
 */
import { afterAll, describe, expect, test } from '@jest/globals';
import { PassThrough } from 'node:stream';
import { project, removeTmpDirs } from '../../project/__fixtures__/load-helpers.js';
import type { CommandContext } from '../context.js';
import { runConfig, type ConfigOptions } from './config.js';

afterAll(removeTmpDirs);

const COMPOSE = [
  'name: demo',
  'services:',
  '  web:',
  '    image: nginx:${TAG:-1.27}',
  '    build:',
  '      context: ./app',
  '      args: [FROM_ENV, UNSET_ARG, FIXED=1]',
  '    links: [db:database]',
  '    env_file: [./web.env]',
  '    label_file: [./web.labels]',
  '    environment:',
  '      PASSWORD: ${PASSWORD:?set a password}',
  '  db:',
  '    image: postgres',
  '    volumes: [data:/var/lib/postgresql/data]',
  '    networks: [back]',
  '  side:',
  '    image: busybox',
  '    network_mode: service:web',
  '    volumes_from: [db]',
  'networks:',
  '  back: {}',
  '  outside: {external: true}',
  'volumes:',
  '  data: {}',
  'secrets:',
  '  key: {file: ./key.txt}',
  '',
].join('\n');

const dir = project({ 'compose.yaml': COMPOSE, 'web.env': 'FROM_FILE=1\n', 'web.labels': 'team=a\n', 'app/.keep': '', 'key.txt': 'k' });
const ENV = { HOME: dir, PASSWORD: 'pw', FROM_ENV: 'e' };

async function config(opts: Partial<ConfigOptions> = {}, services: string[] = []): Promise<{ stdout: string; warnings: string[] }> {
  let stdout = '';
  const warnings: string[] = [];
  const out = new PassThrough();
  out.on('data', (b: Buffer) => (stdout += b.toString()));
  const ctx: CommandContext = {
    globals: {},
    out: { stdout: out, stderr: new PassThrough(), warn: (m) => warnings.push(m), error: () => 1 },
    loadOptions: (s) => ({ cwd: dir, env: ENV, ...(s ? { services: s } : {}) }),
  };
  await runConfig(ctx, services, { interpolate: true, consistency: true, ...opts });
  return { stdout, warnings };
}

describe('config: the model', () => {
  test('--normalize: as docker compose prints it: default network, resource names, implicit dependencies, env files merged and left out', async () => {
    expect((await config({ normalize: true })).stdout).toBe(
      [
        'name: demo',
        'services:',
        '  db:',
        '    image: postgres',
        '    networks:',
        '      back: null',
        '    volumes:',
        '      - source: data',
        '        target: /var/lib/postgresql/data',
        '        type: volume',
        '        volume: {}',
        '  side:',
        '    depends_on:',
        '      db:',
        '        condition: service_started',
        '        required: true',
        '      web:',
        '        condition: service_started',
        '        required: true',
        '        restart: true',
        '    image: busybox',
        '    network_mode: service:web',
        '    volumes_from:',
        '      - db',
        '  web:',
        '    build:',
        '      args:',
        "        FIXED: '1'",
        '        FROM_ENV: e',
        `      context: ${dir}/app`,
        '      dockerfile: Dockerfile',
        '    depends_on:',
        '      db:',
        '        condition: service_started',
        '        required: true',
        '        restart: true',
        '    environment:',
        "      FROM_FILE: '1'",
        '      PASSWORD: pw',
        '    image: nginx:1.27',
        '    labels:',
        '      team: a',
        '    links:',
        '      - db:database',
        '    networks:',
        '      default: null',
        'networks:',
        '  back:',
        '    name: demo_back',
        '  default:',
        '    name: demo_default',
        '  outside:',
        '    external: true',
        '    name: outside',
        'volumes:',
        '  data:',
        '    name: demo_data',
        'secrets:',
        '  key:',
        `    file: ${dir}/key.txt`,
        '    name: demo_key',
        '',
      ].join('\n'),
    );
  });

  test("--format json: the same model; networks keep their empty ipam as compose-go's JSON does", async () => {
    const json = JSON.parse((await config({ format: 'json', normalize: true })).stdout);
    expect(json.networks.default).toEqual({ name: 'demo_default', ipam: {} });
    expect(json.services.web.networks).toEqual({ default: null });
    expect(json.services.web.env_file).toBeUndefined();
  });

  test('the default (and --no-normalize): the model as loaded (compose-go SkipNormalization), env and label files kept', async () => {
    expect((await config({})).stdout).toBe((await config({ normalize: false })).stdout);
    const { stdout } = await config({ normalize: false });
    expect(stdout).not.toContain('default');
    expect(stdout).not.toContain('name: demo_');
    expect(stdout).not.toContain('depends_on');
    expect(stdout).toContain(`    env_file:\n      - path: ${dir}/web.env\n`);
    expect(stdout).toContain(`    label_file:\n      - ${dir}/web.labels\n`);
    expect(stdout).toContain("      args:\n        FIXED: '1'\n        FROM_ENV: null\n        UNSET_ARG: null\n");
    expect(stdout).toContain('networks:\n  back: {}\n  outside:\n    external: true\n');
  });

  test('service arguments render those services, still normalised', async () => {
    const { stdout } = await config({ normalize: true }, ['db']);
    expect(stdout).toContain('services:\n  db:\n');
    expect(stdout).not.toContain('  web:\n');
    expect(stdout).toContain('    name: demo_data\n');
  });
});

describe('config --no-env-resolution', () => {
  test('env_file is neither read into environment nor left out (docker compose: SkipResolveEnvironment)', async () => {
    const { stdout } = await config({ envResolution: false, normalize: true });
    expect(stdout).toContain(`    env_file:\n      - path: ${dir}/web.env\n    environment:\n      PASSWORD: pw\n`);
    expect(stdout).not.toContain('FROM_FILE');
    expect(stdout).not.toContain('label_file');
    expect(stdout).toContain('      team: a\n');
  });
});

describe('config --no-path-resolution', () => {
  test('relative paths as written (the build context default `.`), files still read from the project directory', async () => {
    const { stdout } = await config({ pathResolution: false, normalize: false });
    expect(stdout).toContain('    build:\n      args:\n');
    expect(stdout).toContain('      context: ./app\n');
    expect(stdout).toContain("    env_file:\n      - path: ./web.env\n    environment:\n      FROM_FILE: '1'\n");
    expect(stdout).toContain('    label_file:\n      - ./web.labels\n    labels:\n      team: a\n');
    expect(stdout).toContain('  key:\n    file: ./key.txt\n');
    expect(stdout).not.toContain(dir);
  });
});

describe('config --variables', () => {
  test('a table by default, sorted by name, in Go tabwriter columns (min width 20, padding 3)', async () => {
    expect((await config({ variables: true })).stdout).toBe(
      [
        'NAME                REQUIRED            DEFAULT VALUE       ALTERNATE VALUE',
        'PASSWORD            true                                    ',
        'TAG                 false               1.27                ',
        '',
      ].join('\n'),
    );
  });

  test("--format json: docker compose's field names, 4-space indent", async () => {
    expect((await config({ variables: true, format: 'json' })).stdout).toBe(
      [
        '{',
        '    "PASSWORD": {',
        '        "Name": "PASSWORD",',
        '        "DefaultValue": "",',
        '        "PresenceValue": "",',
        '        "Required": true',
        '    },',
        '    "TAG": {',
        '        "Name": "TAG",',
        '        "DefaultValue": "1.27",',
        '        "PresenceValue": "",',
        '        "Required": false',
        '    }',
        '}',
        '',
        '',
      ].join('\n'),
    );
  });

  test('--format yaml: lowercased field names, strings that read as numbers quoted', async () => {
    expect((await config({ variables: true, format: 'yaml' })).stdout).toBe(
      [
        'PASSWORD:',
        '    name: PASSWORD',
        '    defaultvalue: ""',
        '    presencevalue: ""',
        '    required: true',
        'TAG:',
        '    name: TAG',
        '    defaultvalue: "1.27"',
        '    presencevalue: ""',
        '    required: false',
        '',
      ].join('\n'),
    );
  });

  test('service arguments are ignored with a warning, as docker compose does', async () => {
    const { stdout, warnings } = await config({ variables: true }, ['web']);
    expect(stdout).toContain('PASSWORD');
    expect(warnings).toEqual(['service filtering is not applied when --variables is set, variables from the full model will be rendered']);
  });

  test('--format table without --variables is a usage error', async () => {
    await expect(config({ format: 'table' })).rejects.toMatchObject({ code: 'TSC_USAGE' });
  });
});

describe('config --environment', () => {
  test('the interpolation environment, KEY=VALUE sorted, the project name included', async () => {
    expect((await config({ environment: true })).stdout).toBe(
      [`COMPOSE_PROJECT_NAME=demo`, 'FROM_ENV=e', `HOME=${dir}`, 'PASSWORD=pw', ''].join('\n'),
    );
  });
});
