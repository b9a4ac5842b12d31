/** output.ts: the CLI's own printing — `-o FILE` errors, and (below) the ANSI/colour decision. */
import { afterAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeOutputFile } from './output.js';

const dir = mkdtempSync(join(tmpdir(), 'tsc-output-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('writeOutputFile (-o FILE)', () => {
  test('writes the file', () => {
    writeOutputFile(join(dir, 'out.yaml'), 'a: 1\n');
    expect(readFileSync(join(dir, 'out.yaml'), 'utf8')).toBe('a: 1\n');
  });

  test.each([
    ['a missing directory', join(dir, 'no/such/dir/out.yaml'), 'its directory does not exist'],
    ['a directory', dir, 'it is a directory'],
    ['a file where a directory should be', join(dir, 'out.yaml', 'x'), 'its directory does not exist'],
  ])('%s is a user error naming the path', (_what, file, why) => {
    let err: unknown;
    try {
      writeOutputFile(file, 'x');
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({
      code: 'TSC_OUTPUT_FILE',
      exitCode: 1,
      message: `cannot write --output ${file}: ${why}`,
      hint: expect.stringContaining('--output'),
    });
  });
});
