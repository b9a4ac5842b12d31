/** Stream helpers for the image store: digesting taps, compression sniffing, child processes. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { Readable, Writable } from 'node:stream';
import { ImageCommandError } from './errors.js';

/** The running result of a digestTap. */
export interface TapResult {
  bytes: number;
  /** `sha256:<hex>`, set once the source is exhausted. */
  digest?: string;
}

/**
 * Passes the bytes of `source` through, hashing them and optionally copying them into a new file (closed before
 * the last chunk is handed on, so the file is complete when the consumer sees the end).
 */
export function digestTap(
  source: AsyncIterable<Uint8Array | Buffer | string>,
  opts: { file?: string; onBytes?: (total: number) => void } = {},
): { stream: AsyncGenerator<Buffer>; result: TapResult } {
  const result: TapResult = { bytes: 0 };
  async function* gen(): AsyncGenerator<Buffer> {
    const hash = createHash('sha256');
    const ws: WriteStream | undefined = opts.file === undefined ? undefined : createWriteStream(opts.file, { mode: 0o644 });
    let wsError: Error | undefined;
    ws?.on('error', (e) => (wsError = e));
    try {
      for await (const c of source) {
        const b = Buffer.isBuffer(c) ? c : Buffer.from(c);
        hash.update(b);
        result.bytes += b.length;
        opts.onBytes?.(result.bytes);
        if (wsError) throw wsError;
        if (ws && !ws.write(b)) {
          await new Promise<void>((resolve, reject) => {
            const done = (e?: Error): void => {
              ws.off('drain', done);
              ws.off('error', done);
              if (e) reject(e);
              else resolve();
            };
            ws.on('drain', done);
            ws.on('error', done);
          });
        }
        yield b;
      }
      if (ws)
        await new Promise<void>((r, j) => {
          ws.once('error', j);
          ws.end(() => r());
        });
      if (wsError) throw wsError;
      result.digest = 'sha256:' + hash.digest('hex');
    } finally {
      if (ws && !ws.closed) ws.destroy();
    }
  }
  return { stream: gen(), result };
}

export type Compression = 'none' | 'gzip' | 'zstd' | 'xz' | 'bzip2';

export function sniffCompression(head: Buffer): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  if (head.length >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  if (head.length >= 3 && head.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
  return 'none';
}

/** Reads the first `n` bytes (fewer at end of stream) and returns them with a stream that still yields everything. */
export async function peek(input: AsyncIterable<Buffer | Uint8Array | string>, n: number): Promise<{ head: Buffer; stream: Readable }> {
  const it = input[Symbol.asyncIterator]();
  const parts: Buffer[] = [];
  let len = 0;
  let done = false;
  while (len < n) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    const b = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
    parts.push(b);
    len += b.length;
  }
  const head = Buffer.concat(parts);
  async function* all(): AsyncGenerator<Buffer> {
    try {
      if (head.length > 0) yield head;
      if (done) return;
      for (;;) {
        const r = await it.next();
        if (r.done) return;
        yield Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
      }
    } finally {
      if (!done) await it.return?.();
    }
  }
  return { head: head.subarray(0, n), stream: Readable.from(all(), { objectMode: false }) };
}

/** The result of a child process. */
export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

export function waitChild(child: ChildProcess, stderrLimit = 64 * 1024): Promise<RunResult> {
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    if (stderr.length < stderrLimit) stderr += d.toString('utf8');
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stderr: stderr.trim() }));
  });
}

/** Runs a command to completion; rejects with its stderr when it fails. */
export async function run(cmd: string, args: string[]): Promise<void> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const r = await waitChild(child);
  if (r.code !== 0) {
    throw new ImageCommandError(`${cmd} ${args.join(' ')} failed: ${r.stderr || `exit ${r.code ?? r.signal}`}`);
  }
}

/**
 * A Writable that feeds a child's stdin and, once the child has gone away (EPIPE), keeps accepting and dropping
 * data, so the upstream is always consumed completely (digests stay right); the caller checks the exit status.
 */
export function childSink(child: ChildProcess): Writable {
  const stdin = child.stdin!;
  let broken = false;
  let waiting: (() => void) | undefined;
  const unblock = (): void => {
    const w = waiting;
    waiting = undefined;
    w?.();
  };
  stdin.on('error', () => {
    broken = true;
    unblock();
  });
  stdin.on('close', () => {
    broken = true;
    unblock();
  });
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (broken) return cb();
      if (stdin.write(chunk)) return cb();
      waiting = () => cb();
      stdin.once('drain', unblock);
    },
    final(cb) {
      if (broken) return cb();
      stdin.end(() => cb());
    },
  });
}

/** Runs `fn` over items with at most `limit` in flight; rejects with the first error after the others settle. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  let firstError: unknown;
  let failed = false;
  async function worker(): Promise<void> {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i]!, i);
      } catch (e) {
        if (!failed) {
          failed = true;
          firstError = e;
        }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failed) throw firstError;
  return out;
}
