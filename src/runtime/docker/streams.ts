/**
 * Engine stream handling: JSON progress streams (pull, push, build) checked for `error`/`errorDetail`, the 8-byte
 * multiplexed stdout/stderr framing (logs, exec), line splitting, and a stream's chunks as Buffers.
 */
import type { Readable } from 'node:stream';

/** One JSON message of a progress stream. */
export interface ProgressMessage {
  readonly status?: string;
  readonly id?: string;
  readonly progress?: string;
  readonly progressDetail?: { readonly current?: number; readonly total?: number };
  readonly stream?: string;
  readonly aux?: { readonly ID?: string; readonly Tag?: string; readonly Digest?: string };
  readonly error?: string;
  readonly errorDetail?: { readonly code?: number; readonly message?: string };
}

/** The error a progress message carries, if any. */
export function progressError(m: ProgressMessage): string | undefined {
  if (m.errorDetail?.message) return m.errorDetail.message;
  if (m.error) return m.error;
  return undefined;
}

/**
 * Reads a newline-delimited JSON progress stream to its end, calling `onMessage` for each message. Resolves with
 * the first error message found (`error`/`errorDetail`), or undefined when the stream had none. Lines that are not
 * JSON are passed on as `{stream: line}`. Rejects when the stream itself errors.
 */
export async function readProgress(stream: Readable, onMessage: (m: ProgressMessage) => void): Promise<string | undefined> {
  let buf = '';
  let failure: string | undefined;
  const handle = (line: string): void => {
    const trimmed = line.trim();
    if (!trimmed) return;
    let m: ProgressMessage;
    try {
      m = JSON.parse(trimmed) as ProgressMessage;
    } catch {
      m = { stream: line + '\n' };
    }
    failure ??= progressError(m);
    onMessage(m);
  };
  for await (const chunk of stream) {
    buf += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8');
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      handle(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  }
  handle(buf);
  return failure;
}

export type StdStream = 'stdout' | 'stderr';

/**
 * Incremental parser of Docker's multiplexed framing (`[type, 0, 0, 0, size uint32 BE]` + payload). Feed it chunks;
 * it calls `onFrame` with complete payloads. `raw` mode (TTY containers) passes chunks through as stdout.
 */
export class Demuxer {
  private pending: Buffer = Buffer.alloc(0);
  constructor(
    private readonly onFrame: (stream: StdStream, payload: Buffer) => void,
    private readonly raw = false,
  ) {}

  push(chunk: Buffer): void {
    if (this.raw) {
      if (chunk.length > 0) this.onFrame('stdout', chunk);
      return;
    }
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 8) {
      const type = this.pending[0]!;
      const size = this.pending.readUInt32BE(4);
      if (type > 2 || this.pending[1] !== 0 || this.pending[2] !== 0 || this.pending[3] !== 0) {
        // Not multiplexed after all (a TTY stream): pass everything through.
        this.onFrame('stdout', this.pending);
        this.pending = Buffer.alloc(0);
        return;
      }
      if (this.pending.length < 8 + size) return;
      const payload = this.pending.subarray(8, 8 + size);
      this.pending = this.pending.subarray(8 + size);
      if (payload.length > 0) this.onFrame(type === 2 ? 'stderr' : 'stdout', payload);
    }
  }

  /** Whatever incomplete frame is left (should be nothing). */
  end(): void {
    if (this.pending.length > 0) this.onFrame('stdout', this.pending.subarray(8));
    this.pending = Buffer.alloc(0);
  }
}

/** Splits text into lines per stream, keeping partial lines until their newline (or `flush`). */
export class LineSplitter {
  private readonly partial: Record<StdStream, string> = { stdout: '', stderr: '' };
  private readonly decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };

  push(stream: StdStream, data: Buffer): string[] {
    const text = this.partial[stream] + this.decoders[stream].decode(data, { stream: true });
    const parts = text.split('\n');
    this.partial[stream] = parts.pop() ?? '';
    return parts.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  }

  flush(): { stream: StdStream; line: string }[] {
    const out: { stream: StdStream; line: string }[] = [];
    for (const s of ['stdout', 'stderr'] as const) {
      const rest = this.partial[s] + this.decoders[s].decode();
      if (rest) out.push({ stream: s, line: rest });
      this.partial[s] = '';
    }
    return out;
  }
}

/** `2024-01-02T03:04:05.123456789Z text` → timestamp and text (with `timestamps: true`). */
export function splitTimestamp(line: string): { timestamp?: string; line: string } {
  const m = /^(\d{4}-\d\d-\d\dT\S+Z|\d{4}-\d\d-\d\dT\S+[+-]\d\d:\d\d) ?/.exec(line);
  if (!m) return { line };
  return { timestamp: m[1]!, line: line.slice(m[0].length) };
}

/** Reads a stream's chunks as Buffers. */
export async function* chunks(stream: NodeJS.ReadableStream): AsyncGenerator<Buffer> {
  for await (const c of stream as AsyncIterable<Buffer | string>) yield typeof c === 'string' ? Buffer.from(c) : c;
}
