import { describe, expect, test } from '@jest/globals';
import type { StatusResponse, Vertex, VertexLog } from './buildkit-proto.js';
import type { BuildProgress } from '../info.js';
import { BuildkitProgress, BuildStepError, ClassicProgress, parseStepError, parseStepName, stepName, TAIL_LINES } from './buildkit-progress.js';

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
/** The events' text lines, a step's output lines without their newline. */
const texts = (events: BuildProgress[]): string[] => events.map((e) => (e.output ? e.text.replace(/\n$/, '') : e.text));

describe('BuildkitProgress', () => {
  test('numbers vertices as they start; a Dockerfile step is typed: running, its output lines, done with its duration', () => {
    const p = new BuildkitProgress();
    expect(p.push(status({ vertexes: [v('a', '[stage-0 1/2] FROM docker.io/library/busybox'), v('b', '[stage-0 2/2] RUN echo hi')] }))).toEqual([]);
    const internal = p.push(status({ vertexes: [v('i', '[internal] load build definition from Dockerfile', { started: T0 })] }));
    expect(internal).toEqual([{ text: '#1 [internal] load build definition from Dockerfile' }]);
    expect(p.push(status({ vertexes: [v('b', '', { started: T0 })], logs: [log('b', 'hi\nthere\n'), log('b', 'oops\n', T0 + 300, 2)] }))).toEqual([
      { text: '#2 [2/2] RUN echo hi', step: { id: 'b', stage: undefined, number: 2, total: 2, text: 'RUN echo hi', status: 'running' } },
      { text: 'hi\n', output: { stepId: 'b', stream: 'stdout' } },
      { text: 'there\n', output: { stepId: 'b', stream: 'stdout' } },
      { text: 'oops\n', output: { stepId: 'b', stream: 'stderr' } },
    ]);
    expect(p.push(status({ vertexes: [v('b', '[stage-0 2/2] RUN echo hi', { started: T0, completed: T0 + 1234 })] }))).toEqual([
      { text: '#2 DONE 1.2s', step: { id: 'b', stage: undefined, number: 2, total: 2, text: 'RUN echo hi', status: 'done', durationMs: 1234 } },
    ]);
    // a step ends once
    expect(p.push(status({ vertexes: [v('b', '[stage-0 2/2] RUN echo hi', { started: T0, completed: T0 + 1234 })] }))).toEqual([]);
    // a vertex that is not a step stays text lines
    expect(p.push(status({ vertexes: [v('i', '[internal] load build definition from Dockerfile', { started: T0, completed: T0 + 40 })] }))).toEqual([
      { text: '#1 DONE 0.0s' },
    ]);
  });

  test('a cache hit shows once, when it completes: one cached event, with its name', () => {
    const p = new BuildkitProgress();
    const from = '[base 1/3] FROM docker.io/library/busybox@sha256:abc';
    // BuildKit says a hit as it starts (cached, not completed), then completes it
    expect(p.push(status({ vertexes: [v('a', from, { started: T0, cached: true })] }))).toEqual([]);
    expect(p.push(status({ vertexes: [v('a', from, { started: T0, completed: T0 + 5, cached: true })] }))).toEqual([
      {
        text: '#1 CACHED [base 1/3] FROM docker.io/library/busybox@sha256:abc',
        step: { id: 'a', stage: 'base', number: 1, total: 3, text: 'FROM docker.io/library/busybox@sha256:abc', status: 'cached' },
      },
    ]);
    // both in one message
    expect(texts(p.push(status({ vertexes: [v('b', '[base 2/3] RUN x', { started: T0, completed: T0, cached: true })] })))).toEqual([
      '#2 CACHED [base 2/3] RUN x',
    ]);
    // a vertex that is not a step: its name when it starts
    expect(texts(p.push(status({ vertexes: [v('c', '[internal] load metadata', { started: T0, cached: true })] })))).toEqual([
      '#3 [internal] load metadata',
    ]);
    expect(texts(p.push(status({ vertexes: [v('c', '[internal] load metadata', { started: T0, completed: T0, cached: true })] })))).toEqual([
      '#3 CACHED',
    ]);
  });

  test('joins output split across messages, and flushes a last line without a newline when the step ends', () => {
    const p = new BuildkitProgress();
    p.push(status({ vertexes: [v('a', '[1/1] RUN x', { started: T0 })] }));
    expect(p.push(status({ logs: [log('a', 'par')] }))).toEqual([]);
    expect(texts(p.push(status({ logs: [log('a', 'tial\r\nno ', T0 + 500)] })))).toEqual(['partial']);
    expect(p.push(status({ logs: [log('a', 'newline', T0 + 550)] }))).toEqual([]);
    const end = p.push(status({ vertexes: [v('a', '[1/1] RUN x', { started: T0, completed: T0 + 600 })] }));
    expect(end.map((e) => e.text)).toEqual(['no newline\n', '#1 DONE 0.6s']);
    expect(end[0]?.output).toEqual({ stepId: 'a', stream: 'stdout' });
    // a vertex that is not a step: buildx's lines, with the seconds since it started
    p.push(status({ vertexes: [v('e', 'exporting to image', { started: T0 })] }));
    expect(texts(p.push(status({ logs: [log('e', 'one\ntwo', T0 + 500)] })))).toEqual(['#2 0.500 one']);
    expect(texts(p.push(status({ vertexes: [v('e', 'exporting to image', { started: T0, completed: T0 + 600 })] })))).toEqual([
      '#2 0.500 two',
      '#2 DONE 0.6s',
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
            { id: 'exporting layers', vertex: 'e', name: '', current: 0, total: 0, started: T0, completed: T0 + 50 },
            { id: 'naming to docker.io/library/x', vertex: 'e', name: '', current: 0, total: 0, started: T0, completed: undefined },
            { id: 'transferring dockerfile:', vertex: 'e', name: 'transferring', current: 94, total: 0, started: T0, completed: T0 + 5 },
          ],
        }),
      ),
    ).toEqual([
      { text: '#1 exporting to image' },
      { text: '#1 exporting layers 0.1s done' },
      { text: '#1 transferring dockerfile: 94B done' },
      { text: '#1 DONE 0.1s' },
    ]);
    expect(
      p.push(status({ statuses: [{ id: 'exporting layers', vertex: 'e', name: '', current: 0, total: 0, started: T0, completed: T0 + 50 }] })),
    ).toEqual([]);
    // a step's sub-tasks (a FROM's layer pulls) are its output
    const from = v('f', '[1/2] FROM docker.io/library/busybox', { started: T0 });
    expect(
      texts(
        p.push(
          status({
            vertexes: [from],
            statuses: [{ id: 'sha256:1', vertex: 'f', name: 'extracting', current: 2_254_857, total: 2_254_857, started: T0, completed: T0 + 300 }],
          }),
        ),
      ),
    ).toEqual(['#2 [1/2] FROM docker.io/library/busybox', 'sha256:1 2.15MB / 2.15MB 0.3s done']);
  });

  test('a failed step: an error event, and failed() with its last output lines', () => {
    const p = new BuildkitProgress();
    p.push(status({ vertexes: [v('a', '[stage-0 2/2] RUN make', { started: T0 })] }));
    const lines = Array.from({ length: 15 }, (_, i) => `line ${i + 1}`).join('\n') + '\n';
    p.push(status({ logs: [log('a', lines)] }));
    const err = 'executor failed running [/bin/sh -c make]: exit code: 2';
    expect(p.push(status({ vertexes: [v('a', '[stage-0 2/2] RUN make', { started: T0, completed: T0 + 10, error: err })] }))).toEqual([
      {
        text: `#1 ERROR: ${err}`,
        step: { id: 'a', stage: undefined, number: 2, total: 2, text: 'RUN make', status: 'error', durationMs: 10, error: err },
      },
    ]);
    const failed = p.failed();
    expect(failed?.name).toBe('[2/2] RUN make');
    expect(failed?.error).toBe(err);
    expect(failed?.output).toHaveLength(TAIL_LINES);
    expect(failed?.output.at(-1)).toBe('line 15');
  });

  test('warnings', () => {
    expect(new BuildkitProgress().push(status({ warnings: [{ vertex: 'a', short: 'legacy syntax' }] }))).toEqual([{ text: 'WARN: legacy syntax' }]);
  });
});

describe('ClassicProgress', () => {
  const classic = (lines: string[], error?: string): BuildProgress[] => {
    let t = 0;
    const p = new ClassicProgress(() => (t += 100));
    return [...lines.flatMap((l) => p.line(l)), ...p.finish(error)];
  };

  test('Step n/t lines are steps; their output, cache hits and ends; the builder bookkeeping left out', () => {
    const events = classic([
      'Sending build context to Docker daemon  2.048kB',
      'Step 1/3 : FROM busybox',
      ' ---> 7cfbbec8963d',
      'Step 2/3 : RUN echo hi',
      ' ---> Running in 4f2c9d0e1a2b',
      'hi',
      'Removing intermediate container 4f2c9d0e1a2b',
      ' ---> 0123456789ab',
      'Step 3/3 : CMD ["sh"]',
      ' ---> Using cache',
      ' ---> 89abcdef0123',
      'Successfully built 89abcdef0123',
      'Successfully tagged x:latest',
    ]);
    const step = (n: number, text: string, status: string, durationMs?: number): object => ({
      id: `classic-step-${n}`,
      stage: undefined,
      number: n,
      total: 3,
      text,
      status,
      ...(durationMs !== undefined ? { durationMs } : {}),
    });
    expect(events).toEqual([
      { text: 'Sending build context to Docker daemon  2.048kB' },
      { text: 'Step 1/3 : FROM busybox', step: step(1, 'FROM busybox', 'running') },
      { text: 'Step 1/3 done 0.1s', step: step(1, 'FROM busybox', 'done', 100) },
      { text: 'Step 2/3 : RUN echo hi', step: step(2, 'RUN echo hi', 'running') },
      { text: 'hi\n', output: { stepId: 'classic-step-2', stream: 'stdout' } },
      { text: 'Step 2/3 done 0.1s', step: step(2, 'RUN echo hi', 'done', 100) },
      { text: 'Step 3/3 : CMD ["sh"] (cached)', step: step(3, 'CMD ["sh"]', 'cached') },
      { text: 'Successfully built 89abcdef0123' },
      { text: 'Successfully tagged x:latest' },
    ]);
  });

  test('what a RUN wrote to stderr, colored by the builder, is stderr output', () => {
    const out = classic([
      'Step 1/1 : RUN x',
      ' ---> Running in 4f2c9d0e1a2b',
      '\u001b[91mone',
      'two',
      '\u001b[0m',
      'three',
      '\u001b[91mfour\u001b[0m',
    ])
      .filter((e) => e.output)
      .map((e) => [e.text, e.output?.stream]);
    expect(out).toEqual([
      ['one\n', 'stderr'],
      ['two\n', 'stderr'],
      ['three\n', 'stdout'],
      ['four\n', 'stderr'],
    ]);
  });

  test("a failure fails the step that was running, with the builder's error", () => {
    const events = classic(
      ['Step 1/2 : FROM busybox', ' ---> 7cfbbec8963d', 'Step 2/2 : RUN exit 3', ' ---> Running in 4f2c9d0e1a2b'],
      'returned a non-zero code: 3',
    );
    expect(events.at(-1)).toEqual({
      text: 'returned a non-zero code: 3',
      step: {
        id: 'classic-step-2',
        stage: undefined,
        number: 2,
        total: 2,
        text: 'RUN exit 3',
        status: 'error',
        durationMs: 100,
        error: 'returned a non-zero code: 3',
      },
    });
    expect(events.at(-2)?.step?.status).toBe('running');
    // before any step: a text line
    expect(classic([], 'Cannot locate specified Dockerfile: Dockerfile')).toEqual([{ text: 'Cannot locate specified Dockerfile: Dockerfile' }]);
  });
});

describe('step names and errors', () => {
  test('the step a vertex name is: stage, number and total, the instruction', () => {
    expect(parseStepName('[stage-0 3/7] RUN x')).toEqual({ stage: undefined, number: 3, total: 7, text: 'RUN x' });
    expect(parseStepName('[builder  3/10] COPY --from=a / /')).toEqual({ stage: 'builder', number: 3, total: 10, text: 'COPY --from=a / /' });
    expect(parseStepName('[ 3/10] RUN x')).toEqual({ stage: undefined, number: 3, total: 10, text: 'RUN x' });
    expect(parseStepName('[linux/amd64 base 1/3] FROM busybox')).toEqual({ stage: 'linux/amd64 base', number: 1, total: 3, text: 'FROM busybox' });
    expect(parseStepName('[2/2] RUN <<EOF\necho hi\nEOF')).toEqual({ stage: undefined, number: 2, total: 2, text: 'RUN <<EOF\necho hi\nEOF' });
    for (const name of ['[internal] load metadata for docker.io/library/busybox:latest', '[auth] library/busybox:pull token', 'exporting to image']) {
      expect(parseStepName(name)).toBeUndefined();
    }
  });

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
