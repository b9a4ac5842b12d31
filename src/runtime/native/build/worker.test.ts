import { afterAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NativeContext } from '../context.js';
import { NativeBuildWorker } from './worker.js';

const base = mkdtempSync(join(tmpdir(), 'tsc-build-worker-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('NativeBuildWorker.reapOrphans', () => {
  test("a killed build's RUN steps: their containers deleted by force and their scratch removed, once; live builds' left alone", async () => {
    const dead = spawnSync('true').pid!; // exited: its pid is free
    const scratch = join(base, 'worker');
    const ociRoot = join(base, 'oci');
    const orphan = 'aaaaaaaaaaaa' + '0'.repeat(20);
    const other = 'dddddddddddd' + '0'.repeat(20);
    for (const d of [`run-${dead}-aaaaaaaaaaaa`, `run-${dead}-cccccccccccc`, `run-${process.pid}-bbbbbbbbbbbb`])
      mkdirSync(join(scratch, d), { recursive: true });
    for (const id of [orphan, other, `${'b'.repeat(12)}${'0'.repeat(20)}`]) mkdirSync(join(ociRoot, id), { recursive: true });
    const deleted: string[] = [];
    const ctx = {
      paths: { root: base },
      oci: {
        root: ociRoot,
        delete: async (id: string, force?: boolean) => void deleted.push(`${id}${force ? ' --force' : ''}`),
      },
    } as unknown as NativeContext;
    const worker = new NativeBuildWorker(ctx, scratch);
    await worker.reapOrphans();
    await worker.reapOrphans();
    expect(deleted).toEqual([`${orphan} --force`]);
    expect(existsSync(join(scratch, `run-${dead}-aaaaaaaaaaaa`))).toBe(false);
    expect(existsSync(join(scratch, `run-${dead}-cccccccccccc`))).toBe(false);
    expect(existsSync(join(scratch, `run-${process.pid}-bbbbbbbbbbbb`))).toBe(true);
  });
});
