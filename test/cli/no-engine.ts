/**
 * The built CLI (dist/cli/main.js) run with no engine at all: TSCOMPOSE_RUNTIME=native with an OCI runtime that does
 * not exist, and a Docker socket that does not exist. Runs in a temp directory removed after the suite.
 */
import { afterAll } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const main = new URL('../../dist/cli/main.js', import.meta.url).pathname;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function noEngineCli(prefix: string): { dir: string; cli: (...args: string[]) => CliResult } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const cli = (...args: string[]): CliResult => {
    const r = spawnSync(process.execPath, [main, ...args], {
      cwd: dir,
      encoding: 'utf8',
      input: '',
      env: {
        PATH: process.env.PATH ?? '',
        TSCOMPOSE_RUNTIME: 'native',
        TSCOMPOSE_OCI_RUNTIME: '/nonexistent/runc',
        NO_COLOR: '1',
        DOCKER_HOST: 'unix:///nonexistent.sock',
      },
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  return { dir, cli };
}
