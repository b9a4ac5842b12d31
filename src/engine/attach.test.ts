/** `attach` on the in-memory runtime: output from now on, the exit code when the container stops, signals sent to it. */
import { afterAll, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProjectSync } from '../project/load.js';
import { FakeRuntime } from '../runtime/fake/fake-runtime.js';
import type { LogLine } from '../runtime/runtime.js';
import { attachService } from './attach.js';
import { MemorySink } from './events.js';
import { up } from './up.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function started(): Promise<FakeRuntime> {
  const rt = new FakeRuntime({ images: { busybox: 'sha256:b0' } });
  const dir = mkdtempSync(join(tmpdir(), 'tsc-attach-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'compose.yaml'), 'services:\n  web:\n    image: busybox\n    scale: 2\n');
  await up({ runtime: rt, events: new MemorySink() }, loadProjectSync({ cwd: dir, env: {}, projectName: 'at' }).project, { pollIntervalMs: 5 });
  return rt;
}

test('output from now on (not what was there before), then the exit code once it stops; --index picks the replica', async () => {
  const rt = await started();
  rt.emitLog('at-web-2', 'before');
  const lines: LogLine[] = [];
  const a = await attachService({ runtime: rt, events: new MemorySink() }, 'at', 'web', { index: 2, onOutput: (l) => lines.push(l) });
  expect(a.container.name).toBe('at-web-2');
  await new Promise((r) => setTimeout(r, 20));
  rt.emitLog('at-web-2', 'hello');
  rt.emitLog('at-web-2', 'oops', 'stderr');
  rt.emitLog('at-web-1', 'other replica');
  await new Promise((r) => setTimeout(r, 20));
  rt.exit('at-web-2', 3);
  expect(await a.done).toBe(3);
  expect(lines.map((l) => `${l.stream}:${l.line}`)).toEqual(['stdout:hello', 'stderr:oops']);
});

test('signal() sends the signal to the container; an aborted engine signal detaches (no exit code)', async () => {
  const rt = await started();
  const a = await attachService({ runtime: rt, events: new MemorySink() }, 'at', 'web', { onOutput: () => undefined });
  await a.signal('SIGTERM');
  expect(rt.calls.some((c) => c.method === 'killContainer' && c.args.includes('SIGTERM'))).toBe(true);
  expect(typeof (await a.done)).toBe('number');
  const ac = new AbortController();
  const b = await attachService({ runtime: rt, events: new MemorySink(), signal: ac.signal }, 'at', 'web', { index: 2, onOutput: () => undefined });
  ac.abort();
  expect(await b.done).toBeUndefined();
  await expect(attachService({ runtime: rt, events: new MemorySink() }, 'at', 'nope', { onOutput: () => undefined })).rejects.toThrow(
    /has no container/,
  );
});
