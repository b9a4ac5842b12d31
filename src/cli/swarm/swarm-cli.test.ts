/**
 * The `--runtime swarm` hand-over where no engine is needed (the built dist/cli/main.js, DOCKER_HOST nowhere):
 * `config` works; commands without a swarm form refuse naming those that have one; a built service whose image names
 * no registry is refused before any engine call; the swarm forms' own usage errors.
 */
import { afterAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const main = new URL('../../../dist/cli/main.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'tsc-swarm-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, 'compose.yaml'), 'services:\n  app: {build: ., image: "app:1"}\n  web: {image: busybox}\n');
writeFileSync(join(dir, 'Dockerfile'), 'FROM busybox\n');

function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [main, '--runtime', 'swarm', ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', DOCKER_HOST: 'unix:///nonexistent.sock' },
    timeout: 30_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('--runtime swarm without an engine', () => {
  test('config is not refused', () => {
    const r = cli('config', '--services');
    expect([r.code, r.stdout]).toEqual([0, 'app\nweb\n']);
  });

  test('a command without a swarm form refuses, naming those that have one', () => {
    const r = cli('exec', 'web', 'true');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      'this command is not available with --runtime swarm (up, down, ps, logs, scale, images, pull, push, build and config are)',
    );
  });

  test.each([['build'], ['push'], ['up', '-d', '--build']])('%s: a built image without a registry name is refused first', (...args) => {
    const r = cli(...args);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('service "app": image "app:1" names no registry to push the built image to');
    expect(r.stderr).toContain('give it an image: a registry can serve, e.g. registry:5000/app');
  });

  test('usage errors of the swarm forms', () => {
    expect(cli('logs', '--since', '1m').stderr).toContain('--since and --until are not available with --runtime swarm');
    expect(cli('scale', 'web').stderr).toContain('invalid --scale value: web (expected SERVICE=NUM)');
    expect(cli('up', 'web', '-d').stderr).toContain('--runtime swarm deploys the whole stack: no service names');
  });
});
