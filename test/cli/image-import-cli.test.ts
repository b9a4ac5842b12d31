/**
 * `tscompose image import` through the built CLI (dist/cli/main.js) with no engine (as image-cli.test.ts): the
 * command is registered and its usage errors come before any engine is asked.
 */
import { describe, expect, test } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { noEngineCli } from './no-engine.js';

const { dir, cli } = noEngineCli('tsc-image-import-cli-');

describe('tscompose image import (CLI, no engine)', () => {
  test('registered, with docker import options', () => {
    expect(cli('image', '--help').stdout).toContain('import');
    const r = cli('image', 'import', '--help');
    expect(r.code).toBe(0);
    for (const o of ['-c, --change', '-m, --message', '--platform', '<file>', '[repository]']) expect(r.stdout).toContain(o);
  });

  test('usage errors before the engine: an unsupported --change, another platform, a bad name, a missing file', () => {
    const tar = join(dir, 'rootfs.tar');
    writeFileSync(tar, Buffer.alloc(1024));
    expect(cli('image', 'import', '-c', 'RUN make', tar, 'x:1')).toMatchObject({
      code: 1,
      stderr: 'error: run is not a valid change command\nhint: supported: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL\n',
    });
    expect(cli('image', 'import', '--platform', 'windows/amd64', tar).stderr).toMatch(
      /^error: image import: platform windows\/amd64 is not supported, only the host's/,
    );
    expect(cli('image', 'import', tar, 'Bad:x')).toMatchObject({
      code: 1,
      stderr: 'error: invalid reference format: repository name (Bad) must be lowercase\n',
    });
    expect(cli('image', 'import', join(dir, 'nope.tar'))).toMatchObject({ code: 1, stderr: `error: ${join(dir, 'nope.tar')}: no such file\n` });
    expect(cli('--dry-run', 'image', 'import', tar)).toMatchObject({ code: 1, stderr: 'error: --dry-run is not supported by image import\n' });
  });

  test('valid arguments reach the runtime (here: unavailable, a clean error)', () => {
    const r = cli('image', 'import', '-c', 'CMD ["/bin/sh"]', '-', 'x:1');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: native runtime unavailable/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
