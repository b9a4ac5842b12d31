/**
 * `exec` on Docker Engine: `POST /containers/{id}/exec`, then its start hijacked; the multiplexed output split into
 * stdout and stderr (raw with a TTY), the given stdin piped in (its end half-closes the connection, which closes the
 * process's stdin), the exit code polled from the exec's inspect once the output has ended; a TTY's size set with
 * `POST /exec/{id}/resize`.
 */
import type Docker from 'dockerode';
import { PassThrough, type Readable } from 'node:stream';
import type { CallOptions, ExecResult, ExecSession, ExecSpec } from '../runtime.js';
import { sig, type DockerCall } from './call.js';
import { engineMessage, isAbortError } from './errors.js';
import { TsComposeError } from '../../errors.js';
import { chunks, Demuxer } from './streams.js';

/** The exec's create body: its streams attached (stdin when given), or none for a detached exec. */
function createOptions(spec: ExecSpec, attach: boolean, options?: CallOptions): Docker.ExecCreateOptions {
  return {
    Cmd: [...spec.cmd],
    AttachStdout: attach,
    AttachStderr: attach,
    AttachStdin: attach && spec.stdin !== undefined,
    Tty: spec.tty ?? false,
    ...(spec.env ? { Env: [...spec.env] } : {}),
    ...(spec.user !== undefined ? { User: spec.user } : {}),
    ...(spec.workdir !== undefined ? { WorkingDir: spec.workdir } : {}),
    ...(spec.privileged !== undefined ? { Privileged: spec.privileged } : {}),
    ...sig(options),
  } as Docker.ExecCreateOptions;
}

export async function execStream(d: DockerCall, idOrName: string, spec: ExecSpec, options?: CallOptions): Promise<ExecSession> {
  if (spec.detach) return execDetached(d, idOrName, spec, options);
  const exec = await d.call('container', idOrName, () => d.docker.getContainer(idOrName).exec(createOptions(spec, true, options)));
  const stream = await d.call('container', idOrName, () =>
    exec.start({
      hijack: true,
      stdin: spec.stdin !== undefined,
      Detach: false,
      Tty: spec.tty ?? false,
      ...sig(options),
    } as Docker.ExecStartOptions),
  );
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const demux = new Demuxer((s, payload) => (s === 'stderr' ? stderr : stdout).write(payload), spec.tty ?? false);
  const ended = new Promise<void>((resolve) => {
    let done = false;
    const finish = (err?: Error): void => {
      if (done) return;
      done = true;
      demux.end();
      if (spec.stdin) spec.stdin.unpipe(stream); // the process has ended: no more of the input is read
      if (err && !isAbortError(err)) stdout.destroy(err);
      else stdout.end();
      stderr.end();
      resolve();
    };
    stream.on('data', (c: Buffer) => demux.push(c));
    stream.on('end', () => finish());
    stream.on('close', () => finish());
    stream.on('error', (e: Error) => finish(e));
  });
  // piping ends (half-closes) the hijacked connection when stdin ends, which closes the process's stdin
  if (spec.stdin) spec.stdin.pipe(stream);
  const wait = async (): Promise<number> => {
    await ended;
    for (let i = 0; ; i++) {
      const info = (await d.call('container', idOrName, () => exec.inspect(sig(options)))) as { Running?: boolean; ExitCode?: number | null };
      if (!info.Running && info.ExitCode !== null && info.ExitCode !== undefined) return info.ExitCode;
      await new Promise((r) => setTimeout(r, Math.min(10 * (i + 1), 200)));
    }
  };
  const resize = async ({ rows, columns }: { readonly rows: number; readonly columns: number }): Promise<void> => {
    if (spec.tty) await exec.resize({ h: rows, w: columns }).catch(() => undefined); // ended, or not started yet
  };
  return { stdout, stderr, wait, resize };
}

/** `exec -d`: started with `Detach`, nothing attached; the engine answers once the process runs (or could not start). */
async function execDetached(d: DockerCall, idOrName: string, spec: ExecSpec, options?: CallOptions): Promise<ExecSession> {
  const exec = await d.call('container', idOrName, () => d.docker.getContainer(idOrName).exec(createOptions(spec, false, options)));
  const answer: unknown = await d.call('container', idOrName, () =>
    exec.start({ Detach: true, Tty: spec.tty ?? false, ...sig(options) } as Docker.ExecStartOptions).catch((e: unknown) => {
      // The engine answers 400 (20.10) or 500 for a process it could not start (a missing command): the engine's
      // words, as `docker exec -d` prints them, not a fault of the container (it runs on; d.call passes this
      // through). 404/409 concern the container and are mapped as every other call's.
      const status = (e as { statusCode?: number }).statusCode;
      throw status === 400 || status === 500 ? new TsComposeError('TSC_EXEC_START', engineMessage(e), { cause: e }) : e;
    }),
  );
  // dockerode hands back the (empty) response as a stream: left open, it would hold the connection.
  if (answer && typeof (answer as Readable).resume === 'function') (answer as Readable).resume();
  return { stdout: new PassThrough().end() as PassThrough, stderr: new PassThrough().end() as PassThrough, wait: () => Promise.resolve(0) };
}

/** An exec run to its end, its output collected as text. */
export async function exec(d: DockerCall, idOrName: string, spec: ExecSpec, options?: CallOptions): Promise<ExecResult> {
  const session = await execStream(d, idOrName, spec, options);
  const collect = async (r: Readable): Promise<string> => {
    const parts: Buffer[] = [];
    for await (const c of chunks(r)) parts.push(c);
    return Buffer.concat(parts).toString('utf8');
  };
  const [stdout, stderr] = await Promise.all([collect(session.stdout), collect(session.stderr)]);
  return { exitCode: await session.wait(), stdout, stderr };
}
