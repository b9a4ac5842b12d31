import { afterAll, describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { markUnrelatedSubdirs } from './spread.js';

const dir = mkdtempSync(join(tmpdir(), 'tsc-spread-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const EXT4 = 0xef53;
const onExt4 = Number(statfsSync(dir).type) === EXT4;
const hasFlag = (d: string): boolean => /T/.test(execFileSync('lsattr', ['-d', d], { encoding: 'utf8' }).split(' ')[0]!);

describe('markUnrelatedSubdirs', () => {
  test('makes the directories, marks them (on ext4), and writes the marker', async () => {
    const a = join(dir, 'a', 'containers');
    const b = join(dir, 'b');
    await markUnrelatedSubdirs([a, b], join(dir, 'marker'));
    expect(existsSync(a) && existsSync(b)).toBe(true);
    expect(existsSync(join(dir, 'marker'))).toBe(true);
    if (onExt4) expect([hasFlag(a), hasFlag(b)]).toEqual([true, true]);
  });

  test('once: with the marker there, nothing is run again', async () => {
    const c = join(dir, 'c');
    mkdirSync(c);
    await markUnrelatedSubdirs([c], join(dir, 'marker'));
    if (onExt4) expect(hasFlag(c)).toBe(false);
  });

  test('never fails: a directory that cannot be made, or a file system without the flag', async () => {
    // under a file: no directory can be made there
    await expect(markUnrelatedSubdirs([join(dir, 'marker', 'sub')], join(dir, 'marker2'))).resolves.toBeUndefined();
    expect(existsSync(join(dir, 'marker2'))).toBe(false);
    await expect(markUnrelatedSubdirs(['/dev/shm'], join(dir, 'marker3'))).resolves.toBeUndefined();
    expect(existsSync(join(dir, 'marker3'))).toBe(true);
  });
});
