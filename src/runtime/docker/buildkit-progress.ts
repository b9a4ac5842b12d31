/**
 * BuildKit's status stream as build progress events, in the shape of buildx's plain progress (`docker compose build
 * --progress plain`, progressui's printer): each vertex numbered `#N` in the order it first shows up.
 * Vertices that are Dockerfile steps (`[stage-0 2/5] RUN …`, `[base 1/3] FROM …`) are typed events of the port
 * (BuildProgress.step: stage, number/total and the instruction parsed from the name; running, cached, done with its
 * duration, or error), and their output and sub-tasks are `output` events of that step (a line each); the engine
 * prefixes them with the service as docker compose does (`#5 [web 2/5] RUN …`). Every event keeps a buildx line in
 * `text`:
 * - `#N [2/4] RUN make` when it starts (an unnamed stage's `stage-0 ` is dropped, as newer frontends do),
 *   `#N CACHED` when its result came from the cache (`#N CACHED [2/4] RUN make` for a step, said only then);
 * - `#N 0.512 <line>` for each line of its output (seconds since the step started) — for a step's `output` events,
 *   the line itself (with its newline);
 * - `#N <task> done` when one of its sub-tasks completes (layer pulls, `exporting layers`, `naming to …`);
 * - `#N DONE 1.2s` or `#N ERROR: <message>` when it ends; `WARN: <message>` for the frontend's warnings.
 * Other vertices (`[internal] load build definition …`, `exporting to image`, `[auth] …`) stay text lines.
 * It also keeps each step's last output lines, for the error of a failed RUN (BuildStepError).
 * ClassicProgress does the same for the classic builder's `Step 2/5 : RUN …` stream.
 */
import type { BuildProgress, BuildStep } from '../info.js';
import { BuildError } from '../errors.js';
import type { StatusResponse, Vertex } from './buildkit-proto.js';

/** How many of a step's last output lines a failure reports. */
export const TAIL_LINES = 10;

/** What a Dockerfile step's vertex name says: `[base  3/10] RUN x` → stage base, 3 of 10, `RUN x`. */
export type StepName = Pick<BuildStep, 'stage' | 'number' | 'total' | 'text'>;

interface VertexState {
  readonly digest: string;
  no: number;
  name: string;
  step: StepName | undefined;
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

/**
 * The step a vertex name is, if it is one: `[stage-0 2/5] RUN …`, `[builder  3/10] COPY …` (the number padded to
 * the total's width), `[linux/amd64 base 1/3] FROM …` (buildx with platforms); an unnamed stage (`stage-N`) has no
 * stage. `[internal] …`, `[auth] …`, `exporting to image` are not steps.
 */
export function parseStepName(name: string): StepName | undefined {
  const m = /^\[(?:(\S(?:.*?\S)?) +)? *(\d+)\/(\d+)\] (.*)$/s.exec(name);
  if (!m) return undefined;
  const stage = m[1] === undefined || /^stage-\d+$/.test(m[1]) ? undefined : m[1];
  return { stage, number: Number(m[2]), total: Number(m[3]), text: m[4]! };
}

const seconds = (ms: number): string => (Math.max(0, ms) / 1000).toFixed(1);

/** A size as buildx shows it: `94B`, `2.15MB` (binary multiples). */
export function bytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return i === 0 ? `${n}B` : `${n.toFixed(2)}${units[i]!}`;
}

export class BuildkitProgress {
  private readonly vertexes = new Map<string, VertexState>();
  private count = 0;

  /** The events a status message adds (one per line, without trailing newlines but for a step's output). */
  push(status: StatusResponse): BuildProgress[] {
    const out: BuildProgress[] = [];
    // Starts first, then sub-tasks and output, then completions: a step's lines come between its start and its end.
    for (const v of status.vertexes) this.start(v, out);
    for (const s of status.statuses) {
      const st = this.state(s.vertex);
      if (s.completed === undefined || st.tasks.has(s.id)) continue;
      st.tasks.add(s.id);
      this.announce(st, out);
      // buildx's line: the task's id (`transferring dockerfile:`, `sha256:…`, `naming to …`), bytes, time, done
      const size = s.total > 0 ? ` ${bytes(s.current)} / ${bytes(s.total)}` : s.current > 0 ? ` ${bytes(s.current)}` : '';
      const took = s.started !== undefined && s.completed - s.started > 10 ? ` ${seconds(s.completed - s.started)}s` : '';
      const line = `${s.id || s.name}${size}${took} done`;
      out.push(st.step ? { text: `${line}\n`, output: { stepId: st.digest, stream: 'stdout' } } : { text: `#${st.no} ${line}` });
    }
    for (const l of status.logs) {
      const st = this.state(l.vertex);
      this.announce(st, out);
      const text = (st.partial.get(l.stream) ?? '') + l.msg.toString('utf8');
      const lines = text.split('\n');
      st.partial.set(l.stream, lines.pop() ?? '');
      if (l.timestamp !== undefined) st.lastLog = l.timestamp; // also the time of a partial line flushed at the end
      for (const line of lines) this.logLine(st, line.replace(/\r$/, ''), l.stream, l.timestamp, out);
    }
    for (const v of status.vertexes) this.complete(v, out);
    for (const w of status.warnings) out.push({ text: `WARN: ${w.short}` });
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
        digest,
        no: 0,
        name: '',
        step: undefined,
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

  private typed(st: VertexState, status: BuildStep['status'], durationMs?: number): BuildStep {
    const s = st.step!;
    return {
      id: st.digest,
      stage: s.stage,
      number: s.number,
      total: s.total,
      text: s.text,
      status,
      ...(durationMs !== undefined ? { durationMs } : {}),
    };
  }

  /** Numbers a vertex when it first shows; a step says it is running, unless `cached` (said when it completes). */
  private announce(st: VertexState, out: BuildProgress[], cached = false): void {
    if (st.printed) return;
    st.printed = true;
    st.no = ++this.count;
    if (cached) return;
    out.push(st.step ? { text: `#${st.no} ${st.name}`, step: this.typed(st, 'running') } : { text: `#${st.no} ${st.name}` });
  }

  private logLine(st: VertexState, line: string, stream: number, logged: number | undefined, out: BuildProgress[]): void {
    const at = logged ?? st.lastLog;
    st.lastLog = at;
    if (st.step) {
      out.push({ text: `${line}\n`, output: { stepId: st.digest, stream: stream === 2 ? 'stderr' : 'stdout' } });
    } else {
      const since = at !== undefined && st.started !== undefined ? ((at - st.started) / 1000).toFixed(3) + ' ' : '';
      out.push({ text: `#${st.no} ${since}${line}` });
    }
    st.tail.push(line);
    if (st.tail.length > TAIL_LINES) st.tail.shift();
  }

  private start(v: Vertex, out: BuildProgress[]): void {
    const st = this.state(v.digest);
    if (v.name) {
      st.name = stepName(v.name);
      st.step = parseStepName(v.name);
    }
    if (v.started !== undefined) st.started ??= v.started;
    if (v.started === undefined && v.completed === undefined && !v.cached) return; // queued
    // BuildKit says a cache hit as it starts: the step shows once, as CACHED, when it ends.
    if (!(st.step !== undefined && v.cached)) this.announce(st, out);
  }

  private complete(v: Vertex, out: BuildProgress[]): void {
    const st = this.state(v.digest);
    if (st.ended || v.completed === undefined) return;
    st.ended = true;
    const announced = st.printed;
    this.announce(st, out, v.cached && !v.error);
    for (const [stream, rest] of st.partial) {
      if (rest !== '') this.logLine(st, rest.replace(/\r$/, ''), stream, undefined, out);
      st.partial.set(stream, '');
    }
    const durationMs = Math.max(0, v.completed - (st.started ?? v.completed));
    let text: string;
    let status: BuildStep['status'];
    if (v.error) {
      st.error = v.error;
      [text, status] = [`#${st.no} ERROR: ${v.error}`, 'error'];
    } else if (v.cached) {
      // a hit not said before: one line with its name (as buildx's tty progress shows it)
      [text, status] = [`#${st.no} CACHED${announced ? '' : ` ${st.name}`}`, 'cached'];
    } else {
      [text, status] = [`#${st.no} DONE ${seconds(durationMs)}s`, 'done'];
    }
    const typed = st.step ? this.typed(st, status, status === 'cached' ? undefined : durationMs) : undefined;
    out.push(typed ? { text, step: v.error ? { ...typed, error: v.error } : typed } : { text });
  }
}

const STDERR_ON = '\u001b[91m';
const COLOR_OFF = '\u001b[0m';

/**
 * The classic builder's stream as the same events: `Step 2/5 : RUN make` starts step 2 of 5 (typed, running; its
 * text the line as the builder wrote it), the lines after it are its output until the next step, ` ---> Using
 * cache` makes it CACHED, and it is done when the next one starts or the build ends (an error fails it). The
 * builder's own bookkeeping (` ---> Running in …`, ` ---> <image id>`, `Removing intermediate container …`) is
 * left out; lines before the first step (`Sending build context …`) and after the last (`Successfully built …`)
 * stay text lines. What a RUN wrote to stderr (colored by the builder) is its stderr output, uncolored. Stages are
 * not named in these lines: the steps have none.
 */
export class ClassicProgress {
  private current: { step: StepName; id: string; line: string; started: number; cached: boolean; said: boolean } | undefined;
  private over = false;
  private stderr = false;

  constructor(private readonly now: () => number = Date.now) {}

  /** The events one line of the builder's output adds. */
  line(raw: string): BuildProgress[] {
    const out: BuildProgress[] = [];
    // The builder wraps what a RUN wrote to stderr in ESC[91m … ESC[0m (a message may hold several lines).
    let line = raw;
    if (line.startsWith(STDERR_ON)) {
      this.stderr = true;
      line = line.slice(STDERR_ON.length);
    }
    const stream = this.stderr ? 'stderr' : 'stdout';
    if (line.endsWith(COLOR_OFF)) {
      this.stderr = false;
      line = line.slice(0, -COLOR_OFF.length);
      if (line.trim() === '') return out;
    }
    const step = /^Step (\d+)\/(\d+) : (.*)$/s.exec(line);
    if (step) {
      this.end('done', out);
      const number = Number(step[1]);
      this.current = {
        step: { stage: undefined, number, total: Number(step[2]), text: step[3]! },
        id: `classic-step-${number}`,
        line,
        started: this.now(),
        cached: false,
        said: false,
      };
      return out; // said with the next line, once it is known whether it came from the cache
    }
    const c = this.current;
    if (c && / ---> Using cache$/.test(line)) {
      c.cached = true;
      return out;
    }
    if (/^Successfully (built|tagged) /.test(line)) {
      this.end('done', out);
      this.over = true;
    }
    if (!c || this.over) {
      out.push({ text: line });
      return out;
    }
    if (/^ ---> (Running in [0-9a-f]+|[0-9a-f]{12,})$/.test(line) || /^Removing intermediate container [0-9a-f]+$/.test(line)) {
      if (!c.cached) this.say(c, out);
      return out;
    }
    this.say(c, out);
    out.push({ text: `${line}\n`, output: { stepId: c.id, stream } });
    return out;
  }

  /** The events of the build's end: the last step done, or failed with the builder's `error`. */
  finish(error?: string): BuildProgress[] {
    const out: BuildProgress[] = [];
    if (error === undefined) this.end('done', out);
    else if (this.current) {
      this.end('error', out, error);
    } else out.push({ text: error });
    this.over = true;
    return out;
  }

  private say(c: NonNullable<ClassicProgress['current']>, out: BuildProgress[]): void {
    if (c.said) return;
    c.said = true;
    out.push({ text: c.line, step: { id: c.id, ...c.step, status: 'running' } });
  }

  private end(how: 'done' | 'error', out: BuildProgress[], error?: string): void {
    const c = this.current;
    if (!c) return;
    this.current = undefined;
    if (how === 'done' && c.cached) {
      out.push({ text: `${c.line} (cached)`, step: { id: c.id, ...c.step, status: 'cached' } });
      return;
    }
    this.say(c, out);
    const durationMs = Math.max(0, this.now() - c.started);
    const text = how === 'error' ? (error ?? 'failed') : `Step ${c.step.number}/${c.step.total} done ${seconds(durationMs)}s`;
    out.push({ text, step: { id: c.id, ...c.step, status: how, durationMs, ...(how === 'error' && error !== undefined ? { error } : {}) } });
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
