/**
 * `attachContainer` on the native runtime. conmon's own attach socket is a SOCK_SEQPACKET socket, which Node cannot
 * open, so the container's stdin is reached as a pipe:
 *
 * - attached before the start (`run -i`, a `stdinOnce` container): the container's stdin is a FIFO in its run
 *   directory that this process holds open (read-write, so opening it never blocks) and registers here; the start
 *   (./monitor/conmon.ts) has conmon's OCI runtime wrapper run the container with that FIFO as its stdin. When the
 *   given stdin ends, this process closes the FIFO: the container reads EOF, as Docker's StdinOnce.
 * - any other container with `openStdin`: conmon keeps its stdin open (`--stdin`); an attach writes to the pipe the
 *   container reads, opened through `/proc/<pid>/fd/0`. Its end leaves the container's stdin open (conmon holds it),
 *   as Docker without StdinOnce.
 *
 * - a container with a TTY (`tty`): conmon holds the terminal; its input is reached through conmon's attach socket
 *   (./attach-socket.ts: a relay connects it once the container runs, what was given before waits for it), and
 *   `resize` goes to conmon's ctl FIFO (a size asked before the start is applied once it runs). The end of the
 *   given stdin leaves the terminal open (Docker never closes a TTY container's stdin).
 *
 * The output is the container's log (conmon's k8s-file) followed from the attach on, partial lines as written (with
 * a TTY everything is on stdout, with the terminal's \r\n). A change of the log wakes the reader at once (inotify).
 */
import { constants as fsConstants, open as openFd, promises as fs, watch, type FSWatcher } from 'node:fs';
import { Socket } from 'node:net';
import * as path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import type { AttachOptions, AttachSession } from '../runtime.js';
import { connectAttachSocket, TerminalSizer, type AttachRelay } from './attach-socket.js';
import type { ContainerService } from './containers.js';
import type { NativeContext } from './context.js';
import { parseK8sLine, readFrom } from './logs.js';
import { liveStatus } from './monitor/record.js';
import { pendingStdin } from './pending-stdin.js';

function stdinFifoPath(ctx: NativeContext, id: string): string {
  return path.join(ctx.paths.run, id.slice(0, 12), 'stdin.fifo');
}

/** A write end of a pipe, as a non-blocking socket (a container that reads nothing never blocks this process). */
async function openPipeForWriting(file: string, flags: number): Promise<Socket | undefined> {
  try {
    // A plain descriptor (not a FileHandle, which would close it again when collected): the socket owns it.
    const fd = await new Promise<number>((resolve, reject) => openFd(file, flags | fsConstants.O_NONBLOCK, (e, n) => (e ? reject(e) : resolve(n))));
    return new Socket({ fd, readable: false, writable: true });
  } catch {
    return undefined;
  }
}

/** Where the container's stdin can be written: the FIFO of an attach before its start, else the pipe it reads. */
async function stdinTarget(
  ctx: NativeContext,
  id: string,
  created: boolean,
  stdinOnce: boolean,
  pid: number | undefined,
): Promise<Socket | undefined> {
  if (created && stdinOnce) {
    const fifo = stdinFifoPath(ctx, id);
    await fs.mkdir(path.dirname(fifo), { recursive: true });
    await fs.rm(fifo, { force: true });
    const made = await ctx.spawner.run({ command: 'mkfifo', args: ['-m', '600', fifo] });
    if (made.code !== 0) return undefined;
    const sock = await openPipeForWriting(fifo, fsConstants.O_RDWR);
    if (sock) pendingStdin.set(id, fifo);
    return sock;
  }
  if (pid === undefined) return undefined;
  const link = await fs.readlink(`/proc/${pid}/fd/0`).catch(() => '');
  if (!link.startsWith('pipe:')) return undefined; // the process replaced its stdin (or it is /dev/null)
  return openPipeForWriting(`/proc/${pid}/fd/0`, fsConstants.O_WRONLY);
}

/**
 * The input of a container's terminal: what is written waits (buffered) until `connect()`, called once the container
 * runs, has the relay to conmon's attach socket; a size given before then is applied at that point too.
 */
class TerminalInput {
  readonly sink = new PassThrough();
  private relay: AttachRelay | undefined;
  private size: { rows: number; columns: number } | undefined;
  private running = false;
  private closed = false;
  private readonly sizer: TerminalSizer;

  constructor(
    private readonly bundle: string,
    private readonly forwards: boolean,
  ) {
    this.sizer = TerminalSizer.forFifo(path.join(bundle, 'ctl'));
  }

  /** The container runs (conmon serves its socket and FIFO): connect the input, apply the size asked for. */
  async connect(): Promise<void> {
    if (this.running || this.closed) return;
    this.running = true;
    if (this.size) this.sizer.resize(this.size);
    if (!this.forwards) return;
    try {
      const relay = await connectAttachSocket(this.bundle, 'discard');
      if (this.closed) {
        relay.child.kill();
        return;
      }
      this.relay = relay;
      this.sink.pipe(relay.input);
    } catch {
      // conmon is gone already (the container ended): there is nothing to type into
    }
  }

  resize(size: { readonly rows: number; readonly columns: number }): void {
    this.size = { rows: size.rows, columns: size.columns };
    if (this.running) this.sizer.resize(this.size);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sizer.close();
    this.sink.destroy();
    this.relay?.child.kill();
  }
}

export async function nativeAttach(
  ctx: NativeContext,
  containers: ContainerService,
  idOrName: string,
  options: AttachOptions = {},
): Promise<AttachSession> {
  const r = await containers.record(idOrName);
  const id = r.id;
  const status = await containers.status(r);
  const generation = r.state.generation;
  const wasRunning = status === 'running' || status === 'paused';
  const logFile = ctx.state.logFile(id);
  let offset = (await fs.stat(logFile).catch(() => undefined))?.size ?? 0;
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const input: Readable | undefined = options.stdin;
  const tty = r.spec.tty === true;
  const forwards = input !== undefined && r.spec.openStdin === true;
  const terminal = tty ? new TerminalInput(path.join(ctx.state.containerDir(id), 'bundle'), forwards) : undefined;
  const target: NodeJS.WritableStream | undefined = terminal
    ? forwards
      ? terminal.sink
      : undefined
    : forwards
      ? await stdinTarget(ctx, id, status === 'created', r.spec.stdinOnce ?? false, r.state.pid)
      : undefined;
  const stop = new AbortController();
  let ended = false;

  // Started since the attach (or running then): the container holds its stdin; before, a FIFO nobody holds loses its data.
  let sawStart = wasRunning;
  const closeStdin = (): void => {
    if (!target || !input || terminal) return; // a terminal stays open (see above)
    const pipe = target as Socket;
    input.unpipe(pipe);
    void (async () => {
      while (!sawStart && !ended) await new Promise((resolve) => setTimeout(resolve, 25));
      if (!pipe.destroyed) pipe.end(() => pipe.destroy());
    })();
  };
  let wake: (() => void) | undefined;
  let watcher: FSWatcher | undefined;
  const finish = (): void => {
    if (ended) return;
    ended = true;
    stop.abort();
    watcher?.close();
    terminal?.close();
    if (target && input) {
      input.unpipe(target);
      if (!terminal) {
        (target as Socket).destroy();
        if (pendingStdin.delete(id)) void fs.rm(stdinFifoPath(ctx, id), { force: true });
      }
    }
    stdout.end();
    stderr.end();
  };
  if (target && input) {
    target.on('error', () => undefined); // the container is gone or closed its stdin: nothing more to forward
    input.pipe(target, { end: false });
    input.once('end', closeStdin);
  }
  if (terminal && wasRunning) void terminal.connect();
  try {
    // Woken by a write to the log (the container directory holds it) rather than by the poll alone: typing into a
    // terminal shows at once.
    const base = path.basename(logFile);
    watcher = watch(path.dirname(logFile), (_e, name) => {
      if (name === null || name === base || name.startsWith(`${base}.`)) wake?.();
    });
    watcher.on('error', () => undefined);
  } catch {
    watcher = undefined; // polling only
  }
  options.signal?.addEventListener('abort', finish, { once: true });

  // Ended: the container stopped after the run it was attached to (the next one, attached while created), or is gone.
  const over = async (): Promise<boolean> => {
    const cur = await ctx.state.read(id);
    if (!cur) return true;
    if (cur.state.generation > generation && !sawStart) {
      sawStart = true;
      if (pendingStdin.delete(id)) void fs.rm(stdinFifoPath(ctx, id), { force: true });
      if (terminal) void terminal.connect();
    }
    const s = await liveStatus(ctx, cur);
    if (s === 'running' || s === 'paused' || s === 'restarting') return false;
    return wasRunning || cur.state.generation > generation;
  };
  void (async () => {
    let idle = 0;
    try {
      while (!stop.signal.aborted) {
        const done = await over();
        const r2 = await readFrom(logFile, offset);
        offset = r2.offset;
        for (const raw of r2.lines) {
          const rec = parseK8sLine(raw);
          if (rec && !ended) (rec.stream === 'stderr' ? stderr : stdout).write(rec.partial ? rec.text : `${rec.text}\n`);
        }
        if (done) break;
        idle = r2.lines.length > 0 ? 0 : idle + 1;
        await new Promise<void>((resolve) => {
          const done = (): void => {
            clearTimeout(t);
            wake = undefined;
            stop.signal.removeEventListener('abort', done);
            resolve();
          };
          const t = setTimeout(done, watcher ? (idle < 40 ? 50 : 250) : idle < 40 ? 25 : 100);
          wake = done;
          stop.signal.addEventListener('abort', done, { once: true });
        });
      }
    } catch {
      // the record or log went away: the attach ends
    }
    finish();
  })();

  return {
    tty,
    stdin: target !== undefined,
    stdout,
    stderr,
    resize: (size) => {
      if (!ended) terminal?.resize(size);
      return Promise.resolve();
    },
    close: finish,
  };
}
