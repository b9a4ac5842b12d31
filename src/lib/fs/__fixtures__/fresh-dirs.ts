/** A temp directory for the suite (removed after it) and a fresh empty subdirectory per case. */
import { afterAll, beforeAll } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function freshDirs(prefix: string): () => string {
  let dir = '';
  let n = 0;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    const d = join(dir, `case-${++n}`);
    mkdirSync(d);
    return d;
  };
}
