/**
 * Attached `run` on the in-memory runtime: the container is attached before its start, our stdin reaches it (and
 * its end closes a `-i` container's stdin), its output is written as it comes, and the detach keys leave it running.
 */
import { afterAll, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { loadProjectSync } from '../project/load.js';
import { FakeRuntime } from '../runtime/fake/fake-runtime.js';
import { MemorySink } from './events.js';
import { run, runSpec } from './run.js';

const dir = mkdtempSync(join(tmpdir(), 'tsc-run-stdio-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, 'compose.yaml'), 'services:\n  job:\n    image: busybox\n');
const project = loadProjectSync({ cwd: dir, env: {}, projectName: 'rs' }).project;

function sink(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d: Buffer) => (text += d.toString()));
  return { stream, text: () => text };
}

const until = async (check: () => boolean): Promise<void> => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
};

test('runSpec: -i keeps stdin open, closed at the end of an attached input (StdinOnce), not for -d', () => {
  const svc = project.services['job']!;
  expect(runSpec(project, 'job', svc, 'n', 'x', { interactive: true })).toMatchObject({ openStdin: true, stdinOnce: true });
  expect(runSpec(project, 'job', svc, 'n', 'x', { interactive: true, detach: true })).toMatchObject({ openStdin: true, stdinOnce: false });
  const plain = runSpec(project, 'job', svc, 'n', 'x', {});
  expect(plain.openStdin).toBe(false);
  expect(plain.stdinOnce).toBeUndefined();
});

test('attached before the start; stdin forwarded and closed at its end; output as written; the exit code', async () => {
  const rt = new FakeRuntime({ images: { busybox: 'sha256:bb' }, onStart: () => undefined });
  const stdin = new PassThrough();
  const out = sink();
  const err = sink();
  const result = run({ runtime: rt, events: new MemorySink() }, project, 'job', {
    slug: 'a1',
    interactive: true,
    stdio: { stdin, stdout: out.stream, stderr: err.stream },
  });
  const name = 'rs-job-run-a1';
  await until(() => rt.calls.some((c) => c.method === 'startContainer'));
  const methods = rt.calls.map((c) => c.method);
  expect(methods.indexOf('attachContainer')).toBeLessThan(methods.indexOf('startContainer'));
  stdin.end('hello\n');
  await until(() => rt.stdinOf(name).closed);
  expect(rt.stdinOf(name)).toEqual({ data: 'hello\n', closed: true });
  rt.emitLog(name, 'got hello');
  rt.emitLog(name, 'warn', 'stderr');
  rt.exit(name, 4);
  const r = await result;
  expect(r.exitCode).toBe(4);
  expect(out.text()).toBe('got hello\n');
  expect(err.text()).toBe('warn\n');
});

test('without -i the stdin is not forwarded; the detach keys end the run with the container still running (kept with --rm)', async () => {
  const rt = new FakeRuntime({ images: { busybox: 'sha256:bb' }, onStart: () => undefined });
  const stdin = new PassThrough();
  let detach: () => void = () => undefined;
  const detached = new Promise<void>((resolve) => (detach = resolve));
  let attachedTty: boolean | undefined;
  const result = run({ runtime: rt, events: new MemorySink() }, project, 'job', {
    slug: 'b2',
    rm: true,
    stdio: { stdin, stdout: sink().stream, stderr: sink().stream, detach: detached, onAttached: (s) => (attachedTty = s.tty) },
  });
  const name = 'rs-job-run-b2';
  await until(() => attachedTty !== undefined);
  stdin.write('ignored\n');
  detach();
  const r = await result;
  expect(r).toMatchObject({ name, detached: true });
  expect(r.exitCode).toBeUndefined();
  expect((await rt.inspectContainer(name)).status).toBe('running');
  expect(rt.stdinOf(name).data).toBe('');
});
