/** `events --since --until` on the in-memory runtime (its event clock: one second per event from 2020-01-01). */
import { afterAll, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProjectSync } from '../project/load.js';
import { FakeRuntime } from '../runtime/fake/fake-runtime.js';
import { EPOCH } from '../runtime/fake/state.js';
import { MemorySink } from './events.js';
import { projectEvents, type ComposeEvent } from './query.js';
import { up } from './up.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('since replays the project events from then on; until ends the stream; services select', async () => {
  const rt = new FakeRuntime({ images: { busybox: 'sha256:b0' } });
  const ctx = { runtime: rt, events: new MemorySink() };
  const dir = mkdtempSync(join(tmpdir(), 'tsc-events-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'compose.yaml'), 'services:\n  web:\n    image: busybox\n  db:\n    image: busybox\n');
  await up(ctx, loadProjectSync({ cwd: dir, env: {}, projectName: 'ev' }).project, { pollIntervalMs: 5 });
  const all = async (services: string[], since: number, until?: number): Promise<ComposeEvent[]> => {
    const out: ComposeEvent[] = [];
    // without `until` the stream goes on: what is there is read within 100 ms
    const signal = until === undefined ? AbortSignal.timeout(100) : undefined;
    for await (const e of projectEvents({ ...ctx, signal }, 'ev', services, { since, until })) out.push(e);
    return out;
  };
  const start = EPOCH / 1000;
  const everything = await all([], start);
  const end = everything.at(-1)!.time / 1000;
  expect(await all([], start, end)).toEqual(everything);
  expect(everything.map((e) => `${e.service} ${e.action}`)).toEqual(expect.arrayContaining(['web create', 'web start', 'db create', 'db start']));
  const web = await all(['web'], start, end);
  expect(web.length).toBeGreaterThan(0);
  expect(web.every((e) => e.service === 'web')).toBe(true);
  // a window after the first event leaves it out; one that ends before it is empty
  const later = await all([], everything[0]!.time / 1000 + 1, end);
  expect(later.length).toBe(everything.filter((e) => e.time >= everything[0]!.time + 1000).length);
  expect(await all([], start - 100, start - 50)).toEqual([]);
});
