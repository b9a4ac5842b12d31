/**
 * `config -o FILE` with a path that cannot be written (issue 18): a user error naming the path, exit 1, a hint, no
 * stack trace — it used to be an "internal error" (exit 70). Runs the built dist/cli/main.js, no engine.
 */
import { describe, expect, test } from '@jest/globals';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { noEngineCli } from './no-engine.js';

const { dir, cli } = noEngineCli('tsc-config-output-');
writeFileSync(join(dir, 'compose.yaml'), 'services:\n  web:\n    image: busybox\n');

describe('config -o', () => {
  test('writes the file', () => {
    expect(cli('config', '-o', join(dir, 'out.yaml'))).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(readFileSync(join(dir, 'out.yaml'), 'utf8')).toContain('image: busybox');
  });

  test.each([
    ['/no/such/dir/out.yaml', 'its directory does not exist'],
    [dir, 'it is a directory'],
  ])('%s: a user error naming the path', (file, why) => {
    const r = cli('config', '-o', file);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`error: cannot write --output ${file}: ${why}\n`);
    expect(r.stderr).toContain('hint: ');
    expect(r.stderr).not.toContain('internal error');
    expect(r.stderr).not.toContain('    at ');
  });
});
