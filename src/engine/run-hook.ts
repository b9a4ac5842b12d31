/**
 * Running one lifecycle hook (docker compose `pkg/compose/hook.go` runHook): exec the command in the container,
 * hand each output line to `onOutput` as it comes, and fail with `<service> hook exited with status N` when it
 * exits non-zero — followed by the last lines of its stderr (or, when stderr is empty, of its stdout), at most 10
 * lines and 2048 bytes, as compose's message has them.
 *
 * A pre_stop hook finding its container not running or gone (Conflict / NotFound) is not an error — compose then
 * leaves the container as it is; here it reports NotModified, which the executor shows as "nothing to do".
 */
import { TsComposeError } from '../errors.js';
import { NotModifiedError, isConflict, isNotFound } from '../runtime/errors.js';
import type { ExecSession, Runtime } from '../runtime/runtime.js';
import type { HookPhase } from './plan.js';

const TAIL_LINES = 10;
const TAIL_BYTES = 2048;

/** A hook that exited non-zero. */
export class HookFailedError extends TsComposeError {
  readonly service: string;
  readonly status: number;
  constructor(service: string, status: number, output: string) {
    super('TSC_HOOK_FAILED', `${service} hook exited with status ${status}${output === '' ? '' : `: ${output}`}`);
    this.service = service;
    this.status = status;
  }
}

export interface HookRun {
  readonly container: string;
  readonly service: string;
  readonly phase: HookPhase;
  readonly exec: Parameters<Runtime['execStream']>[1];
}

export interface RunHookOptions {
  readonly signal?: AbortSignal | undefined;
  /** Each line of output (stdout and stderr alike, as compose shows them), without its newline. */
  readonly onOutput?: ((line: string) => void) | undefined;
}

/** The last lines written, bounded by a line and a byte count (compose's `outputTail`). */
export class OutputTail {
  private readonly lines: string[] = [];
  private partial = '';

  write(chunk: string): void {
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop()!.slice(0, TAIL_BYTES);
    for (const p of parts) this.push(p);
  }

  private push(raw: string): void {
    // A progress bar rewinds with \r: keep what was visible last.
    let line = raw.replace(/\r+$/, '');
    const cr = line.lastIndexOf('\r');
    if (cr >= 0) line = line.slice(cr + 1);
    if (line.trim() === '') return;
    this.lines.push(line);
    if (this.lines.length > TAIL_LINES) this.lines.shift();
  }

  toString(): string {
    const lines = [...this.lines];
    if (this.partial.trim() !== '') lines.push(this.partial.trim());
    const out = lines.join('\n').trim();
    if (Buffer.byteLength(out) <= TAIL_BYTES) return out;
    const buf = Buffer.from(out);
    return buf
      .subarray(buf.length - TAIL_BYTES)
      .toString('utf8')
      .replace(/^\uFFFD+/, '');
  }
}

/** Splits a stream into lines for `onOutput`, keeping its tail. */
async function drain(stream: NodeJS.ReadableStream, tail: OutputTail, onOutput: ((line: string) => void) | undefined): Promise<void> {
  let pending = '';
  for await (const chunk of stream) {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    tail.write(text);
    if (!onOutput) continue;
    const parts = (pending + text).split('\n');
    pending = parts.pop()!;
    for (const p of parts) onOutput(p.replace(/\r$/, ''));
  }
  if (onOutput && pending !== '') onOutput(pending.replace(/\r$/, ''));
}

/** Runs the hook; resolves when it exited 0. */
export async function runHook(runtime: Runtime, hook: HookRun, options: RunHookOptions = {}): Promise<void> {
  let session: ExecSession;
  try {
    session = await runtime.execStream(hook.container, hook.exec, { signal: options.signal });
  } catch (e) {
    if (hook.phase === 'pre_stop' && (isNotFound(e) || isConflict(e)))
      throw new NotModifiedError('container', hook.container, 'not running: pre_stop hook skipped', { cause: e });
    throw e;
  }
  const out = new OutputTail();
  const err = new OutputTail();
  await Promise.all([drain(session.stdout, out, options.onOutput), drain(session.stderr, err, options.onOutput)]);
  const status = await session.wait();
  options.signal?.throwIfAborted();
  if (status !== 0) throw new HookFailedError(hook.service, status, err.toString() || out.toString());
}
