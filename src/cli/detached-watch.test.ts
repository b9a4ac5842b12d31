import { afterAll, describe, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { FakeRuntime } from '../runtime/fake/fake-runtime.js';
import type { Project } from '../project/types.js';
import {
  asDetachedWatcher,
  globalArgs,
  parseWatchLogLine,
  readWatchLog,
  removeWatcherFiles,
  watchKey,
  watcherFiles,
  watcherStatus,
} from './detached-watch.js';
import type { CommandContext } from './context.js';

const dir = mkdtempSync(join(tmpdir(), 'tsc-dwatch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const rt = new FakeRuntime({ localDir: dir });

describe('detached watcher files', () => {
  test('one watcher per project: with the lock held by a live process, another leaves at once without running', async () => {
    const holder = spawn('sleep', ['30']);
    try {
      const f = watcherFiles(rt, 'p1');
      mkdirSync(dirname(f.lock), { recursive: true });
      symlinkSync(String(holder.pid), f.lock); // the lock, held by that process
      let ran = false;
      expect(await asDetachedWatcher(rt, 'p1', ['web'], 'k1', async () => void (ran = true))).toBe(false);
      expect(ran).toBe(false);
      // `sleep` is not `tscompose watch --detached-child`: not taken for the project's watcher (pid reuse)
      expect(watcherStatus(rt, 'p1')).toBeUndefined();
    } finally {
      holder.kill();
    }
    // its holder gone, the lock is taken over and the record written
    await new Promise((r) => setTimeout(r, 100));
    expect(await asDetachedWatcher(rt, 'p1', ['web'], 'k1', async () => undefined)).toBe(true);
  });

  test('log lines parsed; tail; removed with the record', async () => {
    const f = watcherFiles(rt, 'p2');
    mkdirSync(f.dir, { recursive: true });
    writeFileSync(f.log, '2026-12-05T10:00:00.000Z watcher started (pid 1)\nWARN something\n2026-12-05T10:00:01.000Z Syncing\n');
    const lines: string[] = [];
    await readWatchLog(rt, 'p2', (l) => lines.push(`${l.timestamp}|${l.text}`), { tail: 2 });
    expect(lines).toEqual(['|WARN something', '2026-12-05T10:00:01.000Z|Syncing']);
    expect(parseWatchLogLine('2026-12-05T10:00:00.000Z a b')).toEqual({ timestamp: '2026-12-05T10:00:00.000Z', text: 'a b' });
    await removeWatcherFiles(rt, 'p2');
    const none: string[] = [];
    await readWatchLog(rt, 'p2', (l) => none.push(l.text), {});
    expect(none).toEqual([]);
  });
});

test('watchKey follows the watched services only; globalArgs give a child the same project', () => {
  const project = { name: 'p', services: { a: { image: 'x' }, b: { image: 'y' } } } as unknown as Project;
  const changed = { ...project, services: { ...project.services, b: { image: 'z' } } } as unknown as Project;
  expect(watchKey(project, ['a'])).toBe(watchKey(changed, ['a']));
  expect(watchKey(project, ['b'])).not.toBe(watchKey(changed, ['b']));
  const ctx = { globals: { file: ['c.yaml'], profile: ['dev'], runtime: 'native', envFile: ['/e/.env'] } } as unknown as CommandContext;
  expect(globalArgs(ctx, 'p')).toEqual([
    '-f',
    join(process.cwd(), 'c.yaml'),
    '--env-file',
    '/e/.env',
    '--profile',
    'dev',
    '--runtime',
    'native',
    '-p',
    'p',
  ]);
});
