/** `run` runs the service's post_start hooks in the one-off container once it started (compose `run`). */
import { afterAll, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProjectSync } from '../project/load.js';
import { FakeRuntime } from '../runtime/fake/fake-runtime.js';
import type { ExecSpec } from '../runtime/runtime.js';
import { MemorySink } from './events.js';
import { run } from './run.js';

const dir = mkdtempSync(join(tmpdir(), 'tsc-run-hooks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('post_start runs in the one-off container after its start; a failing hook fails the run', async () => {
  writeFileSync(
    join(dir, 'compose.yaml'),
    `services:
  job:
    image: busybox
    post_start: [{ command: echo ready, user: "1000", environment: { A: "1" } }]
`,
  );
  const project = loadProjectSync({ cwd: dir, env: {}, projectName: 'rh' }).project;
  const execs: ExecSpec[] = [];
  const rt = new FakeRuntime({
    images: { busybox: 'sha256:bb' },
    onExec: (_c, spec) => {
      execs.push(spec);
      return { exitCode: 0, stdout: '', stderr: '' };
    },
  });
  await run({ runtime: rt, events: new MemorySink() }, project, 'job', { detach: true, slug: 'abc' });
  const methods = rt.calls.map((c) => c.method);
  expect(methods.indexOf('execStream')).toBeGreaterThan(methods.indexOf('startContainer'));
  expect(execs).toEqual([expect.objectContaining({ cmd: ['echo', 'ready'], user: '1000', env: ['A=1'] })]);

  const failing = new FakeRuntime({ images: { busybox: 'sha256:bb' }, onExec: () => ({ exitCode: 3, stdout: '', stderr: 'broke' }) });
  await expect(run({ runtime: failing, events: new MemorySink() }, project, 'job', { detach: true, slug: 'abd' })).rejects.toThrow(
    'job hook exited with status 3: broke',
  );
});
