/**
 * `tscompose image …` through the built CLI (dist/cli/main.js) with no engine (TSCOMPOSE_RUNTIME=native, which is
 * unavailable) and no compose file: registration, usage errors that need no engine, and clean errors.
 */
import { describe, expect, test } from '@jest/globals';
import { join } from 'node:path';
import { noEngineCli } from './no-engine.js';

const { dir, cli } = noEngineCli('tsc-image-cli-');

describe('tscompose image (CLI, no engine)', () => {
  test('image --help lists the subcommands', () => {
    const r = cli('image', '--help');
    expect(r.code).toBe(0);
    for (const c of ['ls|list', 'pull', 'push', 'tag', 'rm|remove', 'inspect', 'load', 'save', 'prune']) expect(r.stdout).toContain(c);
  });

  test('no compose file is needed: the error is about the runtime, not the project', () => {
    const r = cli('image', 'ls');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: native runtime unavailable/);
    expect(r.stderr).not.toMatch(/compose|internal error|\n\s+at /);
  });

  test('prune without -f and without a terminal: usage error with a hint, before the engine', () => {
    const r = cli('image', 'prune', '-a');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'error: image prune asks for confirmation, but stdin is not a terminal\nhint: pass -f (--force) to prune without a prompt\n',
    );
  });

  test('usage errors: a bad reference, a missing input file, --dry-run, a missing argument', () => {
    expect(cli('image', 'tag', 'busybox', 'Busybox:x')).toMatchObject({
      code: 1,
      stderr: 'error: invalid reference format: repository name (Busybox) must be lowercase\n',
    });
    expect(cli('image', 'load', '-i', join(dir, 'nope.tar'))).toMatchObject({ code: 1, stderr: `error: ${join(dir, 'nope.tar')}: no such file\n` });
    expect(cli('--dry-run', 'image', 'rm', 'busybox')).toMatchObject({ code: 1, stderr: 'error: --dry-run is not supported by image rm\n' });
    const r = cli('image', 'save');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("missing required argument 'refs'");
  });
});
