/**
 * `attachContainer` on Docker Engine: `POST /containers/{id}/attach?stream=1` (hijacked when stdin is forwarded),
 * its multiplexed output split into stdout and stderr (raw with a TTY). Ending the given stdin half-closes the
 * connection: the engine then closes the container's stdin when it was created with `StdinOnce` (`run -i`).
 * Resizes go to `POST /containers/{id}/resize`.
 */
import type Docker from 'dockerode';
import { PassThrough } from 'node:stream';
import type { AttachOptions, AttachSession } from '../runtime.js';
import { sig, type DockerCall } from './call.js';
import { isAbortError } from './errors.js';
import { Demuxer } from './streams.js';

interface RawAttachInspect {
  readonly Config?: { readonly Tty?: boolean; readonly OpenStdin?: boolean } | null;
}

export async function dockerAttach(d: DockerCall, idOrName: string, options: AttachOptions = {}): Promise<AttachSession> {
  const container = d.docker.getContainer(idOrName);
  const raw = (await d.call('container', idOrName, () => container.inspect(sig(options)))) as unknown as RawAttachInspect;
  const tty = raw.Config?.Tty ?? false;
  const withStdin = options.stdin !== undefined && (raw.Config?.OpenStdin ?? false);
  const stream = (await d.call('container', idOrName, () =>
    container.attach({
      stream: true,
      stdin: withStdin,
      stdout: true,
      stderr: true,
      ...(withStdin ? { hijack: true } : {}),
      ...(options.detachKeys ? { detachKeys: options.detachKeys } : {}),
      ...sig(options),
    } as Docker.ContainerAttachOptions),
  )) as NodeJS.ReadWriteStream & { destroy?: (e?: Error) => void };
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const demux = new Demuxer((s, payload) => (s === 'stderr' ? stderr : stdout).write(payload), tty);
  let ended = false;
  const finish = (err?: Error): void => {
    if (ended) return;
    ended = true;
    demux.end();
    if (options.stdin && withStdin) options.stdin.unpipe(stream as NodeJS.WritableStream);
    if (err && !isAbortError(err)) stdout.destroy(err);
    else stdout.end();
    stderr.end();
  };
  stream.on('data', (c: Buffer) => demux.push(c));
  stream.on('end', () => finish());
  stream.on('close', () => finish());
  stream.on('error', (e: Error) => finish(e));
  if (options.stdin && withStdin) {
    // piping ends (half-closes) the connection when stdin ends; the engine closes the stdin of a StdinOnce container
    options.stdin.pipe(stream as NodeJS.WritableStream);
  }
  return {
    tty,
    stdin: withStdin,
    stdout,
    stderr,
    resize: async ({ rows, columns }) => {
      if (!tty || ended) return;
      await container.resize({ h: rows, w: columns }).catch(() => undefined);
    },
    close: () => {
      finish();
      stream.destroy?.();
    },
  };
}
