/**
 * BuildKit's status stream as text lines, in the shape of buildx's plain progress (`docker compose build
 * --progress plain`, progressui's printer): each step numbered `#N` in the order it first shows up, then
 * - `#N [2/4] RUN make` when it starts (the Dockerfile frontend's name; an unnamed stage's `stage-0 ` is dropped,
 *   as newer frontends do), `#N CACHED` when its result came from the cache;
 * - `#N 0.512 <line>` for each line of its output (seconds since the step started);
 * - `#N <task> done` when one of its sub-tasks completes (layer pulls, `exporting layers`, `naming to …`);
 * - `#N DONE 1.2s` or `#N ERROR: <message>` when it ends; `WARN: <message>` for the frontend's warnings.
 * It also keeps each step's last output lines, for the error of a failed RUN (BuildStepError).
 */
import { BuildError } from '../errors.js';
import type { StatusResponse, Vertex } from './buildkit-proto.js';

/** How many of a step's last output lines a failure reports. */
export const TAIL_LINES = 10;

interface VertexState {
  readonly no: number;
  name: string;
  started: number | undefined;
  lastLog: number | undefined;
  printed: boolean;
  ended: boolean;
  readonly tail: string[];
  readonly partial: Map<number, string>;
  error: string;
  readonly tasks: Set<string>;
}

/** `[stage-0 2/4] RUN x` → `[2/4] RUN x` (the frontends since Dockerfile 1.4 leave unnamed stages unnamed). */
export function stepName(name: string): string {
  return name.replace(/^\[stage-\d+ /, '[');
}

const seconds = (ms: number): string => (Math.max(0, ms) / 1000).toFixed(1);

export class BuildkitProgress {
  private readonly vertexes = new Map<string, VertexState>();
  private count = 0;

  /** The lines a status message adds (one per event line, without trailing newlines). */
  push(status: StatusResponse): string[] {
    const out: string[] = [];
    // Starts first, then sub-tasks and output, then completions: a step's lines come between its start and its end.
    for (const v of status.vertexes) this.start(v, out);
    for (const s of status.statuses) {
      const st = this.state(s.vertex);
      if (s.completed === undefined || st.tasks.has(s.id)) continue;
      st.tasks.add(s.id);
      this.announce(st, out);
      const size = s.total > 0 ? ` ${s.current}/${s.total}` : '';
      out.push(`#${st.no} ${s.name || s.id}${size} done`);
    }
    for (const l of status.logs) {
      const st = this.state(l.vertex);
      this.announce(st, out);
      const text = (st.partial.get(l.stream) ?? '') + l.msg.toString('utf8');
      const lines = text.split('\n');
      st.partial.set(l.stream, lines.pop() ?? '');
      if (l.timestamp !== undefined) st.lastLog = l.timestamp; // also the time of a partial line flushed at the end
      for (const line of lines) this.logLine(st, line.replace(/\r$/, ''), l.timestamp, out);
    }
    for (const v of status.vertexes) this.complete(v, out);
    for (const w of status.warnings) out.push(`WARN: ${w.short}`);
    return out;
  }

  /** The step that failed, with its last output lines: the first vertex with an error. */
  failed(): { name: string; error: string; output: string[] } | undefined {
    for (const st of this.vertexes.values()) {
      if (st.error !== '') {
        return { name: st.name, error: st.error, output: [...st.tail] };
      }
    }
    return undefined;
  }

  private state(digest: string): VertexState {
    let st = this.vertexes.get(digest);
    if (!st) {
      st = {
        no: 0,
        name: '',
        started: undefined,
        lastLog: undefined,
        printed: false,
        ended: false,
        tail: [],
        partial: new Map(),
        error: '',
        tasks: new Set(),
      };
      this.vertexes.set(digest, st);
    }
    return st;
  }

  private announce(st: VertexState, out: string[]): void {
    if (st.printed) return;
    st.printed = true;
    (st as { no: number }).no = ++this.count;
    out.push(`#${st.no} ${st.name}`);
  }

  private logLine(st: VertexState, line: string, logged: number | undefined, out: string[]): void {
    const at = logged ?? st.lastLog;
    st.lastLog = at;
    const since = at !== undefined && st.started !== undefined ? ((at - st.started) / 1000).toFixed(3) + ' ' : '';
    out.push(`#${st.no} ${since}${line}`);
    st.tail.push(line);
    if (st.tail.length > TAIL_LINES) st.tail.shift();
  }

  private start(v: Vertex, out: string[]): void {
    const st = this.state(v.digest);
    if (v.name) st.name = stepName(v.name);
    if (v.started !== undefined) st.started ??= v.started;
    if (v.started !== undefined || v.completed !== undefined || v.cached) this.announce(st, out); // else queued
  }

  private complete(v: Vertex, out: string[]): void {
    const st = this.state(v.digest);
    if (st.ended || v.completed === undefined) return;
    st.ended = true;
    for (const [stream, rest] of st.partial) {
      if (rest !== '') this.logLine(st, rest.replace(/\r$/, ''), undefined, out);
      st.partial.set(stream, '');
    }
    if (v.error) {
      st.error = v.error;
      out.push(`#${st.no} ERROR: ${v.error}`);
    } else if (v.cached) {
      out.push(`#${st.no} CACHED`);
    } else {
      out.push(`#${st.no} DONE ${seconds(v.completed - (st.started ?? v.completed))}s`);
    }
  }
}

/** A RUN step that failed: the step, the command the engine ran, its exit code and its last output lines. */
export class BuildStepError extends BuildError {
  readonly step: string;
  readonly command: string | undefined;
  /** The command's exit code (`exitCode` is the CLI's, as for every TsComposeError). */
  readonly commandExitCode: number | undefined;
  readonly output: readonly string[];
  constructor(ref: string, step: string, engineError: string, output: readonly string[]) {
    const { command, exitCode } = parseStepError(engineError);
    // docker compose's wording (BuildKit ≥ 0.10), whichever the engine used
    const what =
      exitCode === undefined || command === undefined
        ? engineError
        : `process ${JSON.stringify(command)} did not complete successfully: exit code: ${exitCode}`;
    const tail = output.length > 0 ? `\nlast output:\n${output.map((l) => `  ${l}`).join('\n')}` : '';
    super(ref, `${step}: ${what}${tail}`);
    this.step = step;
    this.command = command;
    this.commandExitCode = exitCode;
    this.output = output;
  }
}

/**
 * The command and exit code of BuildKit's error for a failed process: `process "/bin/sh -c x" did not complete
 * successfully: exit code: 3` (BuildKit ≥ 0.10) or `executor failed running [/bin/sh -c x]: exit code: 3` (older).
 */
export function parseStepError(message: string): { command: string | undefined; exitCode: number | undefined } {
  const code = /exit code: (\d+)/.exec(message);
  const exitCode = code ? Number(code[1]) : undefined;
  const quoted = /process "((?:[^"\\]|\\.)*)" did not complete successfully/.exec(message);
  if (quoted) {
    let command: string;
    try {
      command = JSON.parse(`"${quoted[1]!}"`) as string;
    } catch {
      command = quoted[1]!;
    }
    return { command, exitCode };
  }
  const old = /executor failed running \[(.*)\]: /s.exec(message);
  return { command: old ? old[1] : undefined, exitCode };
}
