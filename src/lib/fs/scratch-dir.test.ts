import { describe, expect, test } from '@jest/globals';
import { existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { scratchDir } from './scratch-dir.js';

describe('scratchDir', () => {
  test('/dev/shm when it is a writable directory, else the system temporary directory', () => {
    const d = scratchDir();
    expect(statSync(d).isDirectory()).toBe(true);
    const shm = existsSync('/dev/shm') && statSync('/dev/shm').isDirectory();
    expect(d).toBe(shm ? '/dev/shm' : tmpdir());
    expect(scratchDir()).toBe(d); // found once
  });
});
