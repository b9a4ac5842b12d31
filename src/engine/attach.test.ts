/**
 * `attach` on the in-memory runtime: output from now on, the exit code when the container stops, signals sent to it,
 * stdin forwarded to a `stdin_open` container only, the detach keys.
 */
import { afterAll, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProjectSync } from '../project/load.js';
import { FakeRuntime } from '../runtime/fake/fake-runtime.js';
import { PassThrough } from 'node:stream';
import { attachService } from './attach.js';
import { MemorySink } from './events.js';
import { up } from './up.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function sink(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d: Buffer) => (text += d.toString()));
  return { stream, text: () => text };
}

const quiet = () => ({ stdout: sink().stream, stderr: sink().stream });

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
  const out = sink();
  const err = sink();
  const a = await attachService({ runtime: rt, events: new MemorySink() }, 'at', 'web', {
    index: 2,
    stdio: { stdout: out.stream, stderr: err.stream },
  });
  expect(a.container.name).toBe('at-web-2');
  await new Promise((r) => setTimeout(r, 20));
  rt.emitLog('at-web-2', 'hello');
  rt.emitLog('at-web-2', 'oops', 'stderr');
  rt.emitLog('at-web-1', 'other replica');
  await new Promise((r) => setTimeout(r, 20));
  rt.exit('at-web-2', 3);
  expect(await a.done).toBe(3);
  expect(out.text()).toBe('hello\n');
  expect(err.text()).toBe('oops\n');
});

test('signal() sends the signal to the container; an aborted engine signal detaches (no exit code)', async () => {
  const rt = await started();
  const a = await attachService({ runtime: rt, events: new MemorySink() }, 'at', 'web', { stdio: quiet() });
  await a.signal('SIGTERM');
  expect(rt.calls.some((c) => c.method === 'killContainer' && c.args.includes('SIGTERM'))).toBe(true);
  expect(typeof (await a.done)).toBe('number');
  const ac = new AbortController();
  const b = await attachService({ runtime: rt, events: new MemorySink(), signal: ac.signal }, 'at', 'web', { index: 2, stdio: quiet() });
  ac.abort();
  expect(await b.done).toBeUndefined();
  await expect(attachService({ runtime: rt, events: new MemorySink() }, 'at', 'nope', { stdio: quiet() })).rejects.toThrow(/has no container/);
});

test('stdin reaches a stdin_open container (and stays open at its end), not another; the detach keys leave it running', async () => {
  const rt = new FakeRuntime({ images: { busybox: 'sha256:b0' } });
  const dir = mkdtempSync(join(tmpdir(), 'tsc-attach-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'compose.yaml'), 'services:\n  in:\n    image: busybox\n    stdin_open: true\n  plain:\n    image: busybox\n');
  await up({ runtime: rt, events: new MemorySink() }, loadProjectSync({ cwd: dir, env: {}, projectName: 'as' }).project, { pollIntervalMs: 5 });
  const stdin = new PassThrough();
  let detach: () => void = () => undefined;
  const a = await attachService({ runtime: rt, events: new MemorySink() }, 'as', 'in', {
    stdio: { ...quiet(), stdin, detach: new Promise<void>((resolve) => (detach = resolve)) },
  });
  expect(a.session.stdin).toBe(true);
  stdin.end('line\n');
  await new Promise((r) => setTimeout(r, 20));
  expect(rt.stdinOf('as-in-1')).toEqual({ data: 'line\n', closed: false });
  detach();
  expect(await a.done).toBeUndefined();
  expect((await rt.inspectContainer('as-in-1')).status).toBe('running');

  const b = await attachService({ runtime: rt, events: new MemorySink() }, 'as', 'plain', { stdio: { ...quiet(), stdin: new PassThrough() } });
  expect(b.session.stdin).toBe(false);
  rt.exit('as-plain-1', 0);
  expect(await b.done).toBe(0);
});
