/**
 * Container logs of the native runtime: conmon writes each container's stdout/stderr to a file in the k8s-file
 * format, `<RFC3339Nano> <stdout|stderr> <F|P> <text>`, where `P` marks a partial line continued by the next
 * record of the same stream. The file is appended across restarts, so `logs` works after the CLI exited and
 * after the container was restarted. With rotation (compose `logging` max-size/max-file, ./log-files.ts) the log
 * is the current file and its numbered predecessors, read oldest first, followed across rotations.
 *
 * Also the tailer of events.jsonl (same polling follow).
 */
import { promises as fs } from 'node:fs';
import type { LogLine, LogsOptions } from '../runtime.js';
import { toUnixSeconds } from '../time.js';
import { isMissing } from '../../lib/errors.js';
import { previousGeneration } from './events-file.js';
import { logFiles } from './log-files.js';

export interface K8sRecord {
  readonly time: string;
  readonly stream: 'stdout' | 'stderr';
  readonly partial: boolean;
  readonly text: string;
}

export function parseK8sLine(line: string): K8sRecord | undefined {
  const a = line.indexOf(' ');
  if (a < 0) return undefined;
  const b = line.indexOf(' ', a + 1);
  if (b < 0) return undefined;
  const stream = line.slice(a + 1, b);
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  const flag = line.slice(b + 1, b + 2);
  if (flag !== 'F' && flag !== 'P') return undefined;
  // conmon writes `+00:00`; Docker (and so compose users' tools) print `Z`.
  const time = line.slice(0, a).replace(/\+00:00$/, 'Z');
  return { time, stream, partial: flag === 'P', text: line.slice(b + 3) };
}

/** Milliseconds since the epoch of an RFC 3339 timestamp with nanoseconds (Date.parse drops the extra digits). */
export function timeMs(t: string): number {
  return Date.parse(t.replace(/(\.\d{3})\d*/, '$1'));
}

/** Joins partial records into lines. Keeps the pending partials between calls (one instance per reader). */
export class K8sAssembler {
  private readonly pending: { stdout?: K8sRecord; stderr?: K8sRecord } = {};

  push(rec: K8sRecord): (LogLine & { time: string }) | undefined {
    const prev = this.pending[rec.stream];
    const first = prev ?? rec;
    const text = prev ? prev.text + rec.text : rec.text;
    if (rec.partial) {
      this.pending[rec.stream] = { ...first, text };
      return undefined;
    }
    delete this.pending[rec.stream];
    return { stream: rec.stream, line: text, time: first.time };
  }

  /** What is left when the writer is gone (a partial line never completed). */
  flush(): (LogLine & { time: string })[] {
    const out: (LogLine & { time: string })[] = [];
    for (const s of ['stdout', 'stderr'] as const) {
      const p = this.pending[s];
      if (p) out.push({ stream: s, line: p.text, time: p.time });
      delete this.pending[s];
    }
    return out;
  }
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/**
 * Reads complete lines appended to `file` from byte `offset` on; returns them and the new offset (from 0 again when
 * the file was truncated). With `ino`, a file that is no longer that inode (rotated meanwhile) reads as nothing.
 */
export async function readFrom(file: string, offset: number, ino?: number): Promise<{ lines: string[]; offset: number }> {
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(file, 'r');
  } catch (e) {
    if (isMissing(e)) return { lines: [], offset };
    throw e;
  }
  try {
    const st = await fh.stat();
    if (ino !== undefined && st.ino !== ino) return { lines: [], offset };
    const size = st.size;
    if (size < offset) offset = 0; // truncated or rotated
    if (size === offset) return { lines: [], offset };
    const buf = Buffer.alloc(size - offset);
    const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
    // Cut at the last newline in bytes (not in decoded text: invalid UTF-8 decodes to more bytes).
    const end = buf.subarray(0, bytesRead).lastIndexOf(0x0a);
    if (end < 0) return { lines: [], offset };
    return { lines: buf.subarray(0, end).toString('utf8').split('\n'), offset: offset + end + 1 };
  } finally {
    await fh.close();
  }
}

/** Where a reader of a rotated log is: the file (inode and number, ./log-files.ts) and the offset in it. */
interface LogPosition {
  ino: number;
  seq: number;
  offset: number;
}

/**
 * The complete lines written to the log `file` (the current file and its rotated ones, oldest first) after `pos`,
 * or all of them without; moves `pos` to their end. Files are known by inode, so a rotation between two calls
 * (the current file renamed to a number) neither repeats nor skips lines; a file deleted meanwhile (beyond
 * max-file) goes on with the next newer one.
 */
async function readLogSince(file: string, pos: LogPosition | undefined): Promise<{ lines: string[]; pos: LogPosition | undefined }> {
  const files = await logFiles(file);
  let start = 0;
  if (pos) {
    start = files.findIndex((f) => f.ino === pos.ino);
    if (start < 0) start = files.findIndex((f) => f.seq > pos.seq || (pos.seq === Infinity && f.seq === Infinity));
    if (start < 0) return { lines: [], pos };
  }
  const lines: string[] = [];
  let at = pos;
  for (const f of files.slice(start)) {
    const from = at && f.ino === at.ino ? at.offset : 0;
    const r = await readFrom(f.path, from, f.ino);
    for (const l of r.lines) lines.push(l);
    at = { ino: f.ino, seq: f.seq, offset: r.offset };
  }
  return { lines, pos: at };
}

export interface FollowSource {
  /** Whether the writer may still append (the container runs). */
  active(): Promise<boolean>;
}

export async function* readContainerLogs(file: string, options: LogsOptions, source: FollowSource): AsyncIterable<LogLine> {
  const since = options.since === undefined ? undefined : toUnixSeconds(options.since) * 1000;
  const until = options.until === undefined ? undefined : toUnixSeconds(options.until) * 1000;
  const keep = (l: { time: string }): boolean => {
    if (since === undefined && until === undefined) return true;
    const t = timeMs(l.time);
    return (since === undefined || t >= since) && (until === undefined || t <= until);
  };
  const out = (l: LogLine & { time: string }): LogLine =>
    options.timestamps ? { stream: l.stream, line: l.line, timestamp: l.time } : { stream: l.stream, line: l.line };
  const asm = new K8sAssembler();
  let { lines, pos } = await readLogSince(file, undefined);
  let first: (LogLine & { time: string })[] = [];
  for (const raw of lines) {
    const rec = parseK8sLine(raw);
    const l = rec && asm.push(rec);
    if (l && keep(l)) first.push(l);
  }
  // A last partial line of a stopped container (`printf abc`) is complete: nothing will continue it.
  if (!options.follow || !(await source.active())) for (const l of asm.flush()) if (keep(l)) first.push(l);
  if (typeof options.tail === 'number') first = options.tail > 0 ? first.slice(-options.tail) : [];
  for (const l of first) yield out(l);
  if (!options.follow) return;
  const signal = options.signal;
  let idle = 0;
  while (!signal?.aborted) {
    const wasActive = await source.active();
    ({ lines, pos } = await readLogSince(file, pos));
    for (const raw of lines) {
      const rec = parseK8sLine(raw);
      const l = rec && asm.push(rec);
      if (l && keep(l)) yield out(l);
      if (until !== undefined && l && timeMs(l.time) > until) return;
    }
    if (!wasActive) break;
    idle = lines.length > 0 ? 0 : idle + 1;
    await sleep(idle < 10 ? 50 : 200, signal);
  }
  for (const l of asm.flush()) if (keep(l)) yield out(l);
}

/**
 * Follows a JSON-lines file from its current end (or from the start when `fromStart`, its previous generation
 * first: ./events-file.ts), until the signal aborts. A rotation between two reads is noticed by the inode: the rest
 * of the old file (now its previous generation) comes first, then the new file from its start.
 */
export async function* tailJsonLines<T>(
  file: string,
  options: { fromStart: boolean; signal?: AbortSignal | undefined; stop?: () => boolean },
): AsyncIterable<T> {
  const first = await fs.stat(file).catch((e: unknown) => {
    if (isMissing(e)) return undefined;
    throw e;
  });
  let ino = first?.ino;
  let offset = options.fromStart ? 0 : (first?.size ?? 0);
  let carried: string[] = [];
  if (options.fromStart) {
    // Unless it is the file just stat'ed, renamed meanwhile: then its lines come once, through the rotation below.
    const prev = await fs.stat(previousGeneration(file)).catch(() => undefined);
    if (prev && prev.ino !== ino) carried = (await readFrom(previousGeneration(file), 0, prev.ino)).lines;
  }
  const signal = options.signal;
  let idle = 0;
  for (;;) {
    const lines = carried;
    carried = [];
    const now = await fs.stat(file).catch(() => undefined);
    if (ino !== undefined && now?.ino !== ino) {
      // Renamed to the previous generation (and no new file yet, or a new one): the rest of it, through its new name.
      const rest = await readFrom(previousGeneration(file), offset, ino);
      lines.push(...rest.lines);
      offset = rest.offset;
      if (now) offset = 0;
    }
    if (now) {
      ino = now.ino;
      const r = await readFrom(file, offset, ino);
      offset = r.offset;
      lines.push(...r.lines);
    }
    for (const line of lines) {
      if (line.trim() === '') continue;
      try {
        yield JSON.parse(line) as T;
      } catch {
        /* a torn line: skip */
      }
    }
    if (signal?.aborted || options.stop?.()) return;
    idle = lines.length > 0 ? 0 : idle + 1;
    await sleep(idle < 10 ? 50 : 200, signal);
    if (signal?.aborted) return;
  }
}
