/**
 * `exec` with a TTY on the native runtime, through conmon as podman does it.
 *
 * `<oci> exec --tty` needs a console socket that receives the pty master by SCM_RIGHTS, which Node cannot do; conmon
 * can (it is the console socket's server), so the exec runs under a conmon of its own: `conmon --exec
 * --exec-process-spec FILE -t --exec-attach`, with its sync, start and attach pipes on fds 3, 4 and 5. conmon
 * makes its attach socket (in the exec's own directory, its "bundle") and says so on the attach pipe; the relay of
 * ./attach-socket.ts connects it; the second word on the start pipe then lets conmon run the runtime, so no output
 * is missed. The output arrives on the relay's stdout (a TTY has one stream), the input goes the other way, and the
 * sync pipe says the process's pid, then its exit code (or the runtime's failure, a negative number and its
 * message). Resizes go to conmon's ctl FIFO there. conmon exits with the process; the exec directory is removed
 * once the exit is known.
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { TsComposeError } from '../../errors.js';
import type { ExecSpec } from '../runtime.js';
import { connectAttachSocket, TerminalSizer } from './attach-socket.js';
import type { NativeContext } from './context.js';
import { failedExecCode, signalExecProcess, type ExecChild } from './exec-child.js';
import type { ContainerRecord } from './state.js';

/** The JSON lines conmon writes on a sync or attach pipe: `{"data": N}` or `{"data": N, "message": "…"}`. */
export class ConmonPipeReader {
  private text = '';
  private readonly queue: { data: number; message?: string }[] = [];
  private waiting: ((m: { data: number; message?: string } | undefined) => void) | undefined;
  private ended = false;

  constructor(stream: Readable) {
    stream.on('data', (d: Buffer) => this.push(d.toString('utf8')));
    stream.on('end', () => this.end());
    stream.on('error', () => this.end());
    stream.on('close', () => this.end());
  }

  push(chunk: string): void {
    this.text += chunk;
    let nl: number;
    while ((nl = this.text.indexOf('\n')) >= 0) {
      const line = this.text.slice(0, nl).trim();
      this.text = this.text.slice(nl + 1);
      if (line === '') continue;
      try {
        const m = JSON.parse(line) as { data?: unknown; message?: unknown };
        if (typeof m.data !== 'number') continue;
        this.deliver({ data: m.data, ...(typeof m.message === 'string' ? { message: m.message } : {}) });
      } catch {
        /* not conmon's: skip */
      }
    }
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    const w = this.waiting;
    this.waiting = undefined;
    w?.(undefined);
  }

  private deliver(m: { data: number; message?: string }): void {
    const w = this.waiting;
    if (w) {
      this.waiting = undefined;
      w(m);
    } else this.queue.push(m);
  }

  /** The next message, or undefined once the pipe ended without one. */
  next(): Promise<{ data: number; message?: string } | undefined> {
    const m = this.queue.shift();
    if (m) return Promise.resolve(m);
    if (this.ended) return Promise.resolve(undefined);
    return new Promise((resolve) => (this.waiting = resolve));
  }
}

export { failedExecCode } from './exec-child.js';

/**
 * Starts `proc` (written to `procFile`) in the container under conmon with a TTY. The caller removes nothing: the
 * exec directory `dir` (made by the caller, holding `procFile`) goes once the process ended.
 */
export async function spawnTerminalExec(
  ctx: NativeContext,
  r: ContainerRecord,
  spec: ExecSpec,
  files: { dir: string; procFile: string; tag: string },
  options: { signal?: AbortSignal | undefined } = {},
): Promise<ExecChild> {
  const { dir, procFile, tag } = files;
  const pidFile = path.join(dir, 'pid');
  const ociLog = path.join(dir, 'oci.log');
  const sockDir = path.join(ctx.paths.run, 'sock');
  await fs.mkdir(sockDir, { recursive: true });
  const cuuid = `${r.id.slice(0, 12)}-exec-${tag}`;
  const oci = ctx.oci.forContainer(r.id);
  // conmon links <socket dir>/<cuuid> to the exec directory and leaves the link behind (2.1.6 unlinks the socket only).
  const cleanup = async (): Promise<void> => {
    await fs.rm(path.join(sockDir, cuuid), { force: true });
    await fs.rm(dir, { recursive: true, force: true });
  };
  const args = [
    '--api-version',
    '1',
    '--exec',
    '--exec-attach',
    '--exec-process-spec',
    procFile,
    '--terminal',
    '-c',
    r.id,
    '-u',
    cuuid,
    '-r',
    oci.exe, // the runtime that made the container (runc or crun), which may not be today's choice; from its read-only mount
    '-b',
    dir,
    '-p',
    pidFile,
    '-n',
    r.name,
    '-l',
    'none',
    '--log-level',
    'error',
    '--socket-dir-path',
    sockDir,
    '--runtime-arg',
    `--root=${ctx.oci.root}`,
    '--runtime-arg',
    `--log=${ociLog}`,
    '--runtime-arg',
    '--log-format=json',
  ];
  const conmon = spawn('conmon', args, {
    // fd 3: sync (pid, then exit code), 4: start (two words: go on, then run the runtime), 5: attach (socket ready)
    stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...oci.launchEnv, _OCI_SYNCPIPE: '3', _OCI_STARTPIPE: '4', _OCI_ATTACHPIPE: '5', TMPDIR: dir },
  });
  let conmonErr = '';
  conmon.stderr!.on('data', (d: Buffer) => (conmonErr += d.toString()));
  const fds = conmon.stdio as unknown as readonly (Readable | Writable)[];
  const sync = new ConmonPipeReader(fds[3] as Readable);
  const attachPipe = new ConmonPipeReader(fds[5] as Readable);
  const start = fds[4] as Writable;
  start.on('error', () => undefined);
  const spawnFailed = new Promise<string>((resolve) => conmon.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message)));
  const fail = async (why: string): Promise<never> => {
    start.destroy();
    conmon.kill('SIGKILL');
    await cleanup();
    throw new TsComposeError('TSC_NATIVE_EXEC', `cannot exec in container ${r.name}: ${why}`);
  };
  start.write('0');
  const attached = await Promise.race([attachPipe.next(), spawnFailed]);
  if (typeof attached === 'string') {
    if (attached === 'ENOENT') {
      await cleanup();
      throw new TsComposeError('TSC_NATIVE_CONMON', 'cannot run conmon: not found', { hint: 'install it: apt-get install conmon' });
    }
    return fail(attached);
  }
  if (attached === undefined) return fail(conmonErr.trim() || 'conmon exited before it was ready');
  // The relay connects through the exec directory itself: conmon's link to it is not needed (nor left, `exec -d`).
  await fs.rm(path.join(sockDir, cuuid), { force: true });
  let relay;
  try {
    relay = await connectAttachSocket(dir, 'relay');
  } catch (e) {
    return fail((e as Error).message);
  }
  // The process is running from here: the second word lets conmon run `<oci> exec --tty`.
  start.write('1');
  start.end();
  if (spec.stdin) spec.stdin.pipe(relay.input);
  else relay.input.end();
  const stderr = new PassThrough(); // a TTY has one stream: nothing arrives here
  const stdout = relay.stdout as Readable;
  // conmon's ctl FIFO in the exec directory; gone (nothing to size) once the process ended.
  const sizer = TerminalSizer.forFifo(path.join(dir, 'ctl'));
  const exit = (async (): Promise<number> => {
    const first = await sync.next();
    let code: number;
    if (first === undefined || first.data < 0) {
      // The runtime failed: conmon says so with its stderr (a negative number), or says nothing when that was empty
      // (the runtime's words are in its log).
      const log = await fs.readFile(ociLog, 'utf8').catch(() => '');
      code = failedExecCode(`${first?.message ?? ''}\n${log}`);
    } else {
      const last = await sync.next();
      code = last === undefined ? 137 : last.data < 0 ? 128 + 9 : last.data;
    }
    await relay.exited; // the output read to its end
    if (spec.stdin) spec.stdin.unpipe(relay.input); // the process has ended: no more of the input is read
    stderr.end();
    sizer.close();
    await cleanup();
    return code;
  })();
  const kill = (s?: NodeJS.Signals): void => {
    if (signalExecProcess(pidFile, s ?? 'SIGKILL') === 'no-pid') relay.child.kill();
  };
  options.signal?.addEventListener('abort', () => kill('SIGKILL'), { once: true });
  const resize = (size: { readonly rows: number; readonly columns: number }): void => sizer.resize(size);
  return { stdout, stderr, exit, kill, resize };
}
