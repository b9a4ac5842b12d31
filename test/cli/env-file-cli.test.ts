/**
 * `--env-file` through bin/tscompose (issue 18): it is docker compose's option — the project's env file, used for
 * interpolation below the shell's environment — and never Node's own `--env-file`, which Node 20-24 read anywhere
 * on its command line (a missing file ended in `node: FILE: not found`, exit 9; an existing file's NODE_OPTIONS
 * applied to tscompose). Runs `config` only (no engine). Needs the build (dist/).
 */
import { afterAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const bin = join(root, 'bin/tscompose');
const dir = mkdtempSync(join(tmpdir(), 'tsc-env-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

writeFileSync(join(dir, 'compose.yaml'), 'services:\n  web:\n    image: "busybox:${TAG}"\n    environment:\n      A: ${A:-unset}\n');
// Loaded into this process by Node, the marker would print LEAK (NODE_OPTIONS=--require …).
writeFileSync(join(dir, 'leak.cjs'), "process.stderr.write('LEAK\\n');\n");
writeFileSync(join(dir, 'my.env'), `TAG=fromfile\nA=fromfile\nNODE_OPTIONS=--require=${join(dir, 'leak.cjs')}\n`);

function run(cmd: string, args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(cmd, args, {
    cwd: dir,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', HOME: dir, TSCOMPOSE_RUNTIME: 'native', NO_COLOR: '1', ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('--env-file is the project env file, not Node’s', () => {
  test('a missing file: tscompose’s own error naming the file, not Node’s', () => {
    const r = run(bin, ['--env-file', 'missing.env', 'config']);
    expect(r.stderr).not.toMatch(/^node:/m);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(join(dir, 'missing.env'));
    expect(r.stdout).toBe('');
  });

  test('an existing file: its variables interpolate, below the shell’s; nothing of it reaches Node', () => {
    const r = run(bin, ['--env-file', 'my.env', 'config', '--format', 'json'], { A: 'shell' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const web = (JSON.parse(r.stdout) as { services: { web: { image: string; environment: Record<string, string> } } }).services.web;
    expect(web.image).toBe('busybox:fromfile');
    expect(web.environment).toEqual({ A: 'shell' });
  });

  test('the same through a symlink (npm’s bin link), the unbundled build, and `node bin/tscompose -- …` / `node dist/cli/main.js -- …`', () => {
    const link = join(dir, 'tscompose-link');
    symlinkSync(bin, link);
    for (const r of [
      run(link, ['--env-file', 'my.env', 'config', '--images']),
      run(bin, ['--env-file', 'my.env', 'config', '--images'], { TSCOMPOSE_NO_BUNDLE: '1' }),
      // Run by Node directly, Node sees the command line first: `--` keeps the rest for tscompose.
      run(process.execPath, [bin, '--', '--env-file', 'my.env', 'config', '--images']),
      run(process.execPath, [join(root, 'dist/cli/main.js'), '--', '--env-file', 'my.env', 'config', '--images']),
    ]) {
      expect(r).toEqual({ code: 0, stdout: 'busybox:fromfile\n', stderr: '' });
    }
  });
});
