/**
 * The fake's container I/O: exec (decided by the `onExec` handler), logs (lines given by `emitLog`), events and
 * cp (the bytes copied in are what comes back out).
 */
import { once } from 'node:events';
import { PassThrough, Readable } from 'node:stream';
import { TsComposeError } from '../../errors.js';
import { ConflictError, NotFoundError } from '../errors.js';
import { toUnixSeconds } from '../time.js';
import {
  matchesLabels,
  type AttachOptions,
  type AttachSession,
  type ContainerInspect,
  type EventsOptions,
  type ExecResult,
  type ExecSession,
  type ExecSpec,
  type LogLine,
  type LogsOptions,
  type RuntimeEvent,
} from '../runtime.js';
import { EPOCH, type FakeContainer, type FakeState } from './state.js';

/** The default exec behaviour: `echo a b` → "a b\n", `false` → 1, `exit N` / `sh -c 'exit N'` → N, else 0. */
export function defaultFakeExec(_container: ContainerInspect, spec: ExecSpec): ExecResult {
  let cmd = [...spec.cmd];
  if ((cmd[0] === 'sh' || cmd[0] === '/bin/sh') && cmd[1] === '-c' && cmd[2] !== undefined) cmd = cmd[2].trim().split(/\s+/);
  if (cmd[0] === 'echo') return { exitCode: 0, stdout: cmd.slice(1).join(' ') + '\n', stderr: '' };
  if (cmd[0] === 'false') return { exitCode: 1, stdout: '', stderr: '' };
  if (cmd[0] === 'exit') return { exitCode: Number(cmd[1] ?? 0) || 0, stdout: '', stderr: '' };
  return { exitCode: 0, stdout: '', stderr: '' };
}

export function exec(s: FakeState, idOrName: string, spec: ExecSpec): ExecResult {
  const c = s.container(idOrName);
  if (c.status !== 'running') throw new ConflictError('container', idOrName, c.status === 'paused' ? 'is paused' : 'is not running');
  const r = s.onExec(s.toInspect(c), spec);
  return spec.tty ? { exitCode: r.exitCode, stdout: r.stdout + r.stderr, stderr: '' } : r;
}

export function execStream(s: FakeState, idOrName: string, spec: ExecSpec): ExecSession {
  const r = exec(s, idOrName, spec);
  if (spec.detach) {
    // Left running: its output goes nowhere. 126/127 of a command that is not a shell are the fake's "could not be
    // started" (a shell always starts; what it runs ends later), refused as the real backends refuse it.
    const shell = spec.cmd[0] === 'sh' || spec.cmd[0] === '/bin/sh';
    if (!shell && (r.exitCode === 126 || r.exitCode === 127))
      throw new TsComposeError('TSC_EXEC_START', r.stderr.trim() || `exec: "${spec.cmd[0] ?? ''}": cannot start`);
    return { stdout: Readable.from([]), stderr: Readable.from([]), wait: () => Promise.resolve(0) };
  }
  const stdout = Readable.from(r.stdout ? [Buffer.from(r.stdout)] : []);
  const stderr = Readable.from(r.stderr ? [Buffer.from(r.stderr)] : []);
  spec.stdin?.resume();
  return { stdout, stderr, wait: () => Promise.resolve(r.exitCode) };
}

/** Appends a line of output to a container's log (followers see it at once). */
export function emitLog(s: FakeState, idOrName: string, line: string, stream: 'stdout' | 'stderr'): void {
  const c = s.container(idOrName);
  c.logs.push({ stream, line, timestamp: new Date(s.nextEventTime()).toISOString() });
  s.bus.emit('change');
}

/**
 * attachContainer: the lines `emitLog` gives the container from now on (each with its newline; all on stdout with a
 * TTY), until it stops (after its start, when attached while created). What reaches its stdin is kept in
 * `stdin` (the fake runs no process to read it); its end is recorded as `closed` when the container has `stdinOnce`.
 */
export function attach(s: FakeState, idOrName: string, options: AttachOptions): AttachSession {
  const c = s.container(idOrName);
  const tty = c.spec.tty ?? false;
  const withStdin = options.stdin !== undefined && (c.spec.openStdin ?? false);
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let seen = c.logs.length;
  let started = c.status === 'running' || c.status === 'paused';
  let ended = false;
  const onEvent = (ev: RuntimeEvent): void => {
    if (ev.id === c.id && ev.action === 'start') started = true;
  };
  const pump = (): void => {
    while (seen < c.logs.length) {
      const l = c.logs[seen++]!;
      (l.stream === 'stderr' && !tty ? stderr : stdout).write(`${l.line}\n`);
    }
    const running = c.status === 'running' || c.status === 'paused' || c.status === 'restarting';
    if (!s.containers.has(c.id) || (started && !running)) finish();
  };
  const onData = (d: Buffer | string): void => {
    c.stdin = { data: (c.stdin?.data ?? '') + d.toString(), closed: c.stdin?.closed ?? false };
  };
  const onEnd = (): void => {
    if (c.spec.stdinOnce) c.stdin = { data: c.stdin?.data ?? '', closed: true };
  };
  function finish(): void {
    if (ended) return;
    ended = true;
    s.bus.removeListener('event', onEvent);
    s.bus.removeListener('change', pump);
    options.stdin?.removeListener('data', onData);
    options.stdin?.removeListener('end', onEnd);
    options.stdin?.pause();
    stdout.end();
    stderr.end();
  }
  s.bus.on('event', onEvent);
  s.bus.on('change', pump);
  options.signal?.addEventListener('abort', finish, { once: true });
  if (withStdin) {
    options.stdin!.on('data', onData);
    options.stdin!.on('end', onEnd);
  }
  return {
    tty,
    stdin: withStdin,
    stdout,
    stderr,
    resize: () => Promise.resolve(),
    close: finish,
  };
}

export async function* containerLogs(s: FakeState, idOrName: string, options: LogsOptions): AsyncIterable<LogLine> {
  const c = s.container(idOrName);
  const toMs = (t: number | string): number => toUnixSeconds(t) * 1000;
  const keep = (l: FakeContainer['logs'][number]): boolean =>
    (options.since === undefined || Date.parse(l.timestamp) >= toMs(options.since)) &&
    (options.until === undefined || Date.parse(l.timestamp) <= toMs(options.until));
  const out = (l: FakeContainer['logs'][number]): LogLine =>
    options.timestamps ? { stream: l.stream, line: l.line, timestamp: l.timestamp } : { stream: l.stream, line: l.line };
  let lines = c.logs.filter(keep);
  if (typeof options.tail === 'number') lines = options.tail > 0 ? lines.slice(-options.tail) : [];
  for (const l of lines) yield out(l);
  if (!options.follow) return;
  let seen = c.logs.length;
  const signal = options.signal;
  while (!signal?.aborted && s.containers.has(c.id) && (c.status === 'running' || c.status === 'paused' || seen < c.logs.length)) {
    while (seen < c.logs.length) {
      const l = c.logs[seen++]!;
      if (keep(l)) yield out(l);
    }
    if (!s.containers.has(c.id) || (c.status !== 'running' && c.status !== 'paused')) break;
    try {
      await once(s.bus, 'change', signal ? { signal } : {});
    } catch {
      return; // aborted
    }
  }
}

export async function* events(s: FakeState, options: EventsOptions): AsyncIterable<RuntimeEvent> {
  const signal = options.signal;
  const wanted = (e: RuntimeEvent): boolean =>
    matchesLabels(e.attributes, options.labels) &&
    (options.types === undefined || options.types.includes(e.type)) &&
    (options.until === undefined || e.time <= options.until * 1000);
  const queue: RuntimeEvent[] = options.since === undefined ? [] : s.eventLog.filter((e) => e.time >= options.since! * 1000 && wanted(e));
  const onEvent = (e: RuntimeEvent): void => {
    if (wanted(e)) queue.push(e);
  };
  s.bus.on('event', onEvent);
  try {
    for (;;) {
      while (queue.length > 0 && !signal?.aborted) yield queue.shift()!;
      if (signal?.aborted) return;
      if (options.until !== undefined && EPOCH + s.eventClock * 1000 >= options.until * 1000) return;
      try {
        await once(s.bus, 'event', signal ? { signal } : {});
      } catch {
        return; // aborted
      }
    }
  } finally {
    s.bus.off('event', onEvent);
  }
}

export async function copyToContainer(s: FakeState, idOrName: string, path: string, tar: Readable): Promise<void> {
  const c = s.container(idOrName);
  const chunks: Buffer[] = [];
  for await (const chunk of tar) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  c.files.set(path, Buffer.concat(chunks));
}

/** Exactly the bytes last copied to `path` by `copyToContainer`; NotFound for any other path. */
export function copyFromContainer(s: FakeState, idOrName: string, path: string): Readable {
  const data = s.container(idOrName).files.get(path);
  if (!data) throw new NotFoundError('container', `${idOrName}:${path}`);
  return Readable.from([data]);
}
