/**
 * Opt-in timing of named steps, for benchmarks (bench/native.mjs): with TSCOMPOSE_TRACE=<file>, every `traced`
 * step's wall time is kept in memory and appended to that file as JSON lines when the process exits, one line per
 * step: `{"pid":123,"span":"native.create.mount","ms":4.2,"at":81.3}` (`at`: when it began, in ms since the process
 * started, for timelines). Without the variable a step costs one branch.
 * Spans of concurrent steps overlap: their sum is work done, not elapsed time.
 */
import { appendFileSync } from 'node:fs';

export interface Tracer {
  /** Runs `fn`, recording its wall time under `span`. */
  traced<T>(span: string, fn: () => Promise<T>): Promise<T>;
  /** Records a span measured by the caller (a `performance.now()` difference). */
  span(span: string, ms: number): void;
  /** Appends the spans recorded so far to the file (also done at exit). */
  flush(): void;
}

/** A tracer writing to `file`, or one that records nothing when `file` is undefined. */
export function createTracer(file: string | undefined): Tracer {
  if (!file) return { traced: (_span, fn) => fn(), span: () => undefined, flush: () => undefined };
  let lines: string[] | undefined;
  const flush = (): void => {
    if (!lines || lines.length === 0) return;
    try {
      appendFileSync(file, lines.join('\n') + '\n');
    } catch {
      // tracing never fails a command
    }
    lines = [];
  };
  const span = (name: string, ms: number): void => {
    if (!lines) {
      lines = [];
      process.once('exit', () => {
        // The moment the process ends, as a span from its start (what a timeline's last step leaves before it).
        span('process.exit', performance.now());
        flush();
      });
    }
    const r = (n: number): number => Math.round(n * 1000) / 1000;
    lines.push(JSON.stringify({ pid: process.pid, span: name, ms: r(ms), at: r(performance.now() - ms) }));
  };
  return {
    span,
    flush,
    async traced(name, fn) {
      const t0 = performance.now();
      try {
        return await fn();
      } finally {
        span(name, performance.now() - t0);
      }
    },
  };
}

const tracer = createTracer(process.env.TSCOMPOSE_TRACE || undefined);

/** Runs `fn`, recording its wall time under `span` when TSCOMPOSE_TRACE is set. */
export const traced = <T>(span: string, fn: () => Promise<T>): Promise<T> => tracer.traced(span, fn);
/** Records a span measured by the caller when TSCOMPOSE_TRACE is set. */
export const traceSpan = (span: string, ms: number): void => tracer.span(span, ms);
