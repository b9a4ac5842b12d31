/**
 * `containerLogs` on Docker Engine: `GET /containers/{id}/logs`, demultiplexed (raw with a TTY) and split into lines,
 * each with its timestamp when asked for. An abort ends the lines quietly.
 */
import type { LogLine, LogsOptions } from '../runtime.js';
import { toUnixSeconds } from '../time.js';
import { invoke, sig, type DockerCall } from './call.js';
import type { RawContainerInspect } from './convert-answers.js';
import { isAbortError, mapDockerError } from './errors.js';
import { chunks, Demuxer, LineSplitter, splitTimestamp } from './streams.js';

export async function* containerLogs(d: DockerCall, idOrName: string, options: LogsOptions = {}): AsyncIterable<LogLine> {
  const container = d.docker.getContainer(idOrName);
  const raw = (await d.call('container', idOrName, () => container.inspect(sig(options)))) as unknown as RawContainerInspect;
  const tty = raw.Config?.Tty ?? false;
  const query: Record<string, unknown> = {
    stdout: true,
    stderr: true,
    follow: options.follow ?? false,
    timestamps: options.timestamps ?? false,
    tail: options.tail === undefined ? 'all' : String(options.tail),
    ...sig(options),
  };
  if (options.since !== undefined) query['since'] = toUnixSeconds(options.since);
  if (options.until !== undefined) query['until'] = toUnixSeconds(options.until);
  let source: AsyncIterable<Buffer>;
  try {
    const res = (await d.call('container', idOrName, () => invoke(container, 'logs', query))) as unknown;
    source = Buffer.isBuffer(res)
      ? (async function* () {
          yield res;
        })()
      : chunks(res as NodeJS.ReadableStream);
  } catch (e) {
    if (isAbortError(e)) return;
    throw e;
  }
  const queue: LogLine[] = [];
  const splitter = new LineSplitter();
  const emit = (stream: 'stdout' | 'stderr', line: string): void => {
    if (options.timestamps) {
      const t = splitTimestamp(line);
      queue.push(t.timestamp !== undefined ? { stream, line: t.line, timestamp: t.timestamp } : { stream, line: t.line });
    } else {
      queue.push({ stream, line });
    }
  };
  const demux = new Demuxer((stream, payload) => {
    for (const line of splitter.push(stream, payload)) emit(stream, line);
  }, tty);
  try {
    for await (const chunk of source) {
      demux.push(chunk);
      while (queue.length > 0) yield queue.shift()!;
    }
  } catch (e) {
    if (!isAbortError(e) && !options.signal?.aborted) throw mapDockerError(e, 'container', idOrName);
  }
  demux.end();
  for (const { stream, line } of splitter.flush()) emit(stream, line);
  while (queue.length > 0) yield queue.shift()!;
}
