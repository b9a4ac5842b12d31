/**
 * The CLI where no engine is needed: `--dry-run` (planned against an empty in-memory runtime, forced with
 * TSCOMPOSE_RUNTIME=native, which is unavailable) and usage errors. Runs the built dist/cli/main.js.
 */
import { afterAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const main = new URL('../../dist/cli/main.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'tsc-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(
  join(dir, 'compose.yaml'),
  `
services:
  web:
    image: nginx
    depends_on: [db]
  db:
    image: postgres
    volumes: [data:/data]
volumes:
  data: {}
`,
);

function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [main, ...args], {
    cwd: dir,
    encoding: 'utf8',
    // An OCI runtime that does not exist: the native runtime cannot run either (no engine at all).
    env: {
      PATH: process.env.PATH ?? '',
      TSCOMPOSE_RUNTIME: 'native',
      TSCOMPOSE_OCI_RUNTIME: '/nonexistent/runc',
      NO_COLOR: '1',
      DOCKER_HOST: 'unix:///nonexistent.sock',
    },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('tscompose CLI without an engine', () => {
  test('--dry-run up prints the plan and changes nothing', () => {
    const r = cli('-p', 'clitest', '--dry-run', 'up', '-d');
    // No engine answers: said once, on stderr, through the CLI's warnings (issue 18).
    expect(r.stderr).toMatch(/^WARN --dry-run: no container engine answered \(.+\); the plan assumes no container, network or volume exists yet\n$/);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        'DRY-RUN MODE - plan:',
        '[] -> #1 network:default, CreateNetwork, missing',
        '[] -> #2 volume:data, CreateVolume, missing',
        '[1,2] -> #3 service:db:1, CreateContainer, missing',
        '[3] -> #4 service:db:1, StartContainer, created',
        '[1,3] -> #5 service:web:1, CreateContainer, missing',
        '[4,5] -> #6 service:web:1, StartContainer, created',
        '',
      ].join('\n'),
    );
  });

  test('--dry-run up --no-deps web', () => {
    const r = cli('-p', 'clitest', '--dry-run', 'up', '-d', '--no-deps', 'web');
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('service:db');
    expect(r.stdout).toContain('service:web:1, CreateContainer');
  });

  test('--dry-run down with -p and no compose file', () => {
    const empty = mkdtempSync(join(tmpdir(), 'tsc-cli-empty-'));
    try {
      const r = spawnSync(process.execPath, [main, '-p', 'nothing', '--dry-run', 'down'], {
        cwd: empty,
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '', TSCOMPOSE_RUNTIME: 'native', NO_COLOR: '1' },
      });
      expect(r.status).toBe(0);
      expect(r.stdout).toBe('DRY-RUN MODE - nothing to do\n');
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  test('without an engine, commands fail with a hint', () => {
    const r = cli('ps');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('runtime unavailable');
    expect(r.stderr).toContain('hint');
  });

  test.each([
    [['up', '-d', '--abort-on-container-exit'], '--detach cannot be combined'],
    [['up', '--no-recreate', '--force-recreate'], '--no-recreate cannot be combined'],
    [['up', '--scale', 'web'], 'invalid --scale value: web'],
    [['up', '-t', 'soon'], 'invalid --timeout value: soon'],
    [['logs', '--tail', 'x'], 'invalid --tail value: x'],
    [['down', '--rmi', 'some'], 'invalid --rmi value: some'],
    [['ps', '--format', '{{.Name'], 'template parsing error: unclosed action'],
    [['ls', '--format', '{{.Name'], 'template parsing error: unclosed action'],
    [['images', '--format', '{{if .Name}}'], 'template parsing error: {{if}} is not supported'],
    [['volumes', '--format', '{{nosuch .Name}}'], 'template parsing error: function "nosuch" not defined'],
    [['--dry-run', 'up', 'nosuch'], 'no such service: nosuch'],
  ])('usage error: %j', (args, message) => {
    const r = cli(...args);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(message);
  });

  test('unknown option and bad --progress value are rejected by the parser', () => {
    expect(cli('up', '--frobnicate').code).toBe(1);
    expect(cli('--progress', 'fancy', 'ps').code).toBe(1);
  });

  test('config still works', () => {
    const r = cli('config', '--services');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean).sort()).toEqual(['db', 'web']);
  });
});
