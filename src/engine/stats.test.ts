/** `stats` on the in-memory runtime (canned readings: 25 % CPU between two, 10 MiB of the limit). */
import { afterAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProjectSync } from '../project/load.js';
import { FakeRuntime } from '../runtime/fake/fake-runtime.js';
import type { StatsSample } from '../runtime/runtime.js';
import { MemorySink, type EngineContext } from './events.js';
import { stop } from './lifecycle.js';
import { cpuPercent, projectStats, type StatsRow } from './stats.js';
import { up } from './up.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function started(): Promise<{ rt: FakeRuntime; ctx: EngineContext }> {
  const rt = new FakeRuntime({ images: { busybox: 'sha256:b0' } });
  const ctx: EngineContext = { runtime: rt, events: new MemorySink() };
  const dir = mkdtempSync(join(tmpdir(), 'tsc-stats-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'compose.yaml'), 'services:\n  web:\n    image: busybox\n    mem_limit: 64m\n  db:\n    image: busybox\n');
  await up(ctx, loadProjectSync({ cwd: dir, env: {}, projectName: 'st' }).project, { pollIntervalMs: 5 });
  return { rt, ctx };
}

async function rounds(it: AsyncIterable<StatsRow[]>, n: number): Promise<StatsRow[][]> {
  const out: StatsRow[][] = [];
  for await (const r of it) {
    out.push(r);
    if (out.length === n) break;
  }
  return out;
}

describe('projectStats', () => {
  test('--no-stream: one round, a row per running container with CPU % from two readings, memory % of its limit', async () => {
    const { ctx } = await started();
    const [round, more] = await rounds(projectStats(ctx, 'st', { noStream: true, intervalMs: 1 }), 2);
    expect(more).toBeUndefined();
    expect(round!.map((r) => [r.name, r.service])).toEqual([
      ['st-db-1', 'db'],
      ['st-web-1', 'web'],
    ]);
    const web = round!.find((r) => r.service === 'web')!;
    expect(web.cpuPercent).toBeCloseTo(25);
    expect(web.memoryLimitBytes).toBe(64 * 1024 * 1024);
    expect(web.memoryPercent).toBeCloseTo((10 / 64) * 100);
    expect([web.netRxBytes, web.netTxBytes, web.blockReadBytes, web.pids]).toEqual([1000, 2000, 4096, 1]);
  });

  test('services select; stopped containers only with all (as zeros); streaming goes on round after round', async () => {
    const { ctx } = await started();
    await stop(ctx, 'st', ['db']);
    const [only] = await rounds(projectStats(ctx, 'st', { noStream: true, intervalMs: 1 }), 1);
    expect(only!.map((r) => r.service)).toEqual(['web']);
    const [all] = await rounds(projectStats(ctx, 'st', { noStream: true, all: true, intervalMs: 1 }), 1);
    expect(all!.find((r) => r.service === 'db')).toMatchObject({ cpuPercent: 0, memoryBytes: 0, pids: 0 });
    const [sel] = await rounds(projectStats(ctx, 'st', { services: ['db'], all: true, noStream: true, intervalMs: 1 }), 1);
    expect(sel!.map((r) => r.service)).toEqual(['db']);
    const stream = await rounds(projectStats(ctx, 'st', { intervalMs: 1 }), 3);
    expect(stream).toHaveLength(3);
    expect(stream[2]![0]!.cpuPercent).toBeCloseTo(25);
  });

  test('an aborted signal ends the stream', async () => {
    const { rt } = await started();
    const ac = new AbortController();
    const it = projectStats({ runtime: rt, events: new MemorySink(), signal: ac.signal }, 'st', { intervalMs: 10_000 });
    const first = it.next();
    setTimeout(() => ac.abort(), 20);
    expect((await first).done).toBe(true);
  });
});

test('cpuPercent: docker stats arithmetic; no earlier reading or no change is 0', () => {
  const s = (cpuNs: number, systemCpuNs: number): StatsSample => ({
    read: 0,
    cpuNs,
    systemCpuNs,
    onlineCpus: 4,
    memoryBytes: 0,
    memoryLimitBytes: 0,
    netRxBytes: 0,
    netTxBytes: 0,
    blockReadBytes: 0,
    blockWriteBytes: 0,
    pids: 0,
  });
  expect(cpuPercent(s(1e9, 10e9), s(2e9, 20e9))).toBeCloseTo(40);
  expect(cpuPercent(undefined, s(2e9, 20e9))).toBe(0);
  expect(cpuPercent(s(2e9, 20e9), s(2e9, 20e9))).toBe(0);
});
