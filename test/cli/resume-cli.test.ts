/**
 * `resume --install-systemd` / `--uninstall-systemd` with the unit written to a temporary directory (`--unit-dir`).
 * On a machine without systemd (as in CI containers) the unit is written but not enabled, and the CLI says how to run
 * `resume` at boot instead.
 */
import { afterAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const bin = new URL('../../bin/tscompose', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'tsc-resume-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const systemd = existsSync('/run/systemd/system');

function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(bin, args, {
    cwd: dir,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', TSCOMPOSE_STATE_DIR: join(dir, 'state'), TSCOMPOSE_RUN_DIR: join(dir, 'run') },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

(systemd ? describe.skip : describe)('resume --install-systemd without systemd', () => {
  test('writes the unit for this state directory, says it is not enabled, and uninstalls it', () => {
    const units = join(dir, 'units');
    const r = cli('resume', '--install-systemd', '--unit-dir', units);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('systemd does not run this machine');
    const [name] = r.stdout.match(/tscompose-resume-[0-9a-f]{12}\.service/) ?? [];
    expect(name).toBeDefined();
    const unit = readFileSync(join(units, name!), 'utf8');
    expect(unit).toContain(`ExecStart=${bin} --runtime native --progress plain resume`);
    expect(unit).toContain(`Environment=TSCOMPOSE_STATE_DIR=${join(dir, 'state')}`);
    const u = cli('resume', '--uninstall-systemd', '--unit-dir', units);
    expect(u.code).toBe(0);
    expect(existsSync(join(units, name!))).toBe(false);
  });

  test('the two flags exclude each other', () => {
    const r = cli('resume', '--install-systemd', '--uninstall-systemd');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('exclude each other');
  });
});
