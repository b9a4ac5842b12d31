import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { withLock } from './lock.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsc-lock-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('withLock', () => {
  test('serialises callers and releases', async () => {
    const lock = join(dir, 'lock');
    const log: string[] = [];
    const job = (n: string) =>
      withLock(lock, async () => {
        log.push(`+${n}`);
        await sleep(20);
        log.push(`-${n}`);
        return n;
      });
    expect(await Promise.all([job('a'), job('b'), job('c')])).toEqual(['a', 'b', 'c']);
    expect(log).toEqual(['+a', '-a', '+b', '-b', '+c', '-c']);
    expect(existsSync(lock)).toBe(false);
  });

  test('releases on error', async () => {
    const lock = join(dir, 'lock2');
    await expect(withLock(lock, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(existsSync(lock)).toBe(false);
  });

  test('breaks a stale lock of a dead pid, times out on a live one', async () => {
    const lock = join(dir, 'lock3');
    const dead = spawnSync('true').pid!;
    await mkdir(lock);
    await writeFile(join(lock, 'owner'), `${dead}\n`);
    expect(await withLock(lock, async () => 'ok')).toBe('ok');

    await mkdir(lock);
    await writeFile(join(lock, 'owner'), `1\n`);
    await expect(withLock(lock, async () => 'no', { timeoutMs: 100 })).rejects.toThrow(/timed out/);
    await rm(lock, { recursive: true });
  });
});
