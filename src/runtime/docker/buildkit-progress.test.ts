import { describe, expect, test } from '@jest/globals';
import type { StatusResponse, Vertex, VertexLog } from './buildkit-proto.js';
import { BuildkitProgress, BuildStepError, parseStepError, stepName, TAIL_LINES } from './buildkit-progress.js';

const T0 = 1_700_000_000_000;
const v = (digest: string, name: string, more: Partial<Vertex> = {}): Vertex => ({
  digest,
  inputs: [],
  name,
  cached: false,
  started: undefined,
  completed: undefined,
  error: '',
  ...more,
});
const log = (vertex: string, text: string, at = T0 + 250, stream = 1): VertexLog => ({ vertex, timestamp: at, stream, msg: Buffer.from(text) });
const status = (s: Partial<StatusResponse>): StatusResponse => ({ vertexes: [], statuses: [], logs: [], warnings: [], ...s });

describe('BuildkitProgress', () => {
  test('numbers steps as they start, prints their output with the time since the start, and their end', () => {
    const p = new BuildkitProgress();
    expect(p.push(status({ vertexes: [v('a', '[stage-0 1/2] FROM docker.io/library/busybox'), v('b', '[stage-0 2/2] RUN echo hi')] }))).toEqual([]);
    expect(
      p.push(status({ vertexes: [v('a', '[stage-0 1/2] FROM docker.io/library/busybox', { started: T0, completed: T0, cached: true })] })),
    ).toEqual(['#1 [1/2] FROM docker.io/library/busybox', '#1 CACHED']);
    expect(p.push(status({ vertexes: [v('b', '', { started: T0 })], logs: [log('b', 'hi\nthere\n')] }))).toEqual([
      '#2 [2/2] RUN echo hi',
      '#2 0.250 hi',
      '#2 0.250 there',
    ]);
    expect(p.push(status({ vertexes: [v('b', '[stage-0 2/2] RUN echo hi', { started: T0, completed: T0 + 1234 })] }))).toEqual(['#2 DONE 1.2s']);
    // a step ends once
    expect(p.push(status({ vertexes: [v('b', '[stage-0 2/2] RUN echo hi', { started: T0, completed: T0 + 1234 })] }))).toEqual([]);
  });

  test('joins output split across messages, and flushes a last line without a newline when the step ends', () => {
    const p = new BuildkitProgress();
    p.push(status({ vertexes: [v('a', '[1/1] RUN x', { started: T0 })] }));
    expect(p.push(status({ logs: [log('a', 'par')] }))).toEqual([]);
    expect(p.push(status({ logs: [log('a', 'tial\nno ', T0 + 500)] }))).toEqual(['#1 0.500 partial']);
    expect(p.push(status({ logs: [log('a', 'newline', T0 + 550)] }))).toEqual([]);
    expect(p.push(status({ vertexes: [v('a', '[1/1] RUN x', { started: T0, completed: T0 + 600 })] }))).toEqual([
      '#1 0.550 no newline',
      '#1 DONE 0.6s',
    ]);
  });

  test('sub-tasks are printed once, when they complete; output comes before the end of its step', () => {
    const p = new BuildkitProgress();
    const exporting = v('e', 'exporting to image', { started: T0 });
    expect(
      p.push(
        status({
          vertexes: [{ ...exporting, completed: T0 + 100 }],
          statuses: [
            { id: 'layers', vertex: 'e', name: 'exporting layers', current: 0, total: 0, started: T0, completed: T0 + 50 },
            { id: 'naming', vertex: 'e', name: 'naming to docker.io/library/x', current: 0, total: 0, started: T0, completed: undefined },
          ],
        }),
      ),
    ).toEqual(['#1 exporting to image', '#1 exporting layers done', '#1 DONE 0.1s']);
    expect(
      p.push(status({ statuses: [{ id: 'layers', vertex: 'e', name: 'exporting layers', current: 0, total: 0, started: T0, completed: T0 + 50 }] })),
    ).toEqual([]);
  });

  test('a failed step: its error line, and failed() with its last output lines', () => {
    const p = new BuildkitProgress();
    p.push(status({ vertexes: [v('a', '[stage-0 2/2] RUN make', { started: T0 })] }));
    const lines = Array.from({ length: 15 }, (_, i) => `line ${i + 1}`).join('\n') + '\n';
    p.push(status({ logs: [log('a', lines)] }));
    const err = 'executor failed running [/bin/sh -c make]: exit code: 2';
    expect(p.push(status({ vertexes: [v('a', '[stage-0 2/2] RUN make', { started: T0, completed: T0 + 10, error: err })] }))).toEqual([
      `#1 ERROR: ${err}`,
    ]);
    const failed = p.failed();
    expect(failed?.name).toBe('[2/2] RUN make');
    expect(failed?.error).toBe(err);
    expect(failed?.output).toHaveLength(TAIL_LINES);
    expect(failed?.output.at(-1)).toBe('line 15');
  });

  test('warnings', () => {
    expect(new BuildkitProgress().push(status({ warnings: [{ vertex: 'a', short: 'legacy syntax' }] }))).toEqual(['WARN: legacy syntax']);
  });
});

describe('step names and errors', () => {
  test("an unnamed stage's stage-N is dropped, a named stage kept", () => {
    expect(stepName('[stage-0 3/7] RUN x')).toBe('[3/7] RUN x');
    expect(stepName('[builder 3/7] RUN x')).toBe('[builder 3/7] RUN x');
    expect(stepName('[internal] load metadata')).toBe('[internal] load metadata');
  });

  test('the command and exit code of a failed process, in old and new BuildKit wording', () => {
    expect(parseStepError('executor failed running [/bin/sh -c exit 3]: exit code: 3')).toEqual({ command: '/bin/sh -c exit 3', exitCode: 3 });
    expect(parseStepError('process "/bin/sh -c echo \\"a\\"; exit 4" did not complete successfully: exit code: 4')).toEqual({
      command: '/bin/sh -c echo "a"; exit 4',
      exitCode: 4,
    });
    expect(parseStepError('failed to compute cache key: "/nope" not found')).toEqual({ command: undefined, exitCode: undefined });
  });

  test('BuildStepError names the step, the command, its exit code and its last output', () => {
    const e = new BuildStepError('app:latest', '[2/2] RUN make', 'executor failed running [/bin/sh -c make]: exit code: 2', ['cc -o x', 'error: x']);
    expect(e.code).toBe('TSC_BUILD');
    expect(e.step).toBe('[2/2] RUN make');
    expect(e.command).toBe('/bin/sh -c make');
    expect(e.commandExitCode).toBe(2);
    expect(e.output).toEqual(['cc -o x', 'error: x']);
    expect(e.message).toBe(
      'building app:latest: [2/2] RUN make: process "/bin/sh -c make" did not complete successfully: exit code: 2\nlast output:\n  cc -o x\n  error: x',
    );
  });
});
