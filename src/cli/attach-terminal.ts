/**
 * This process's terminal as the other end of an attached container (`run`, `attach`): its stdin forwarded (through
 * the detach keys when a user types it), the container's output written to ours, and with a container TTY the
 * terminal in raw mode and its size (then every resize, SIGWINCH) given to the container. `restore()` undoes it
 * all and stops reading stdin, so the process can exit however the container ended.
 */
import type { Readable, Transform } from 'node:stream';
import type { RunStdio } from '../engine/run.js';
import type { AttachSession } from '../runtime/runtime.js';
import { detachKeyFilter, parseDetachKeys } from './detach-keys.js';

export interface TerminalStdioOptions {
  /** Forward our stdin (not `--no-stdin`, not `run -d`). */
  readonly forwardStdin: boolean;
  /** The detach keys as given (`ctrl-p,ctrl-q`); matched only when our stdin is a terminal. A usage error when invalid. */
  readonly detachKeys: string;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  /** Called once attached, before any output (stops the progress display). */
  readonly beforeOutput?: (() => void) | undefined;
}

export interface TerminalStdio extends RunStdio {
  /** Leaves raw mode, stops following resizes and reading stdin. */
  restore(): void;
}

export function terminalStdio(
  options: TerminalStdioOptions,
  input: NodeJS.ReadStream = process.stdin,
  output: NodeJS.WriteStream = process.stdout,
): TerminalStdio {
  const keys = parseDetachKeys(options.detachKeys);
  let onDetach: () => void = () => undefined;
  const detach = new Promise<void>((resolve) => (onDetach = resolve));
  let filter: Transform | undefined;
  let stdin: Readable | undefined;
  if (options.forwardStdin) {
    if (input.isTTY) {
      filter = detachKeyFilter(keys, onDetach);
      input.pipe(filter);
      stdin = filter;
    } else {
      stdin = input;
    }
  }
  let raw = false;
  let onResize: (() => void) | undefined;
  return {
    stdin,
    stdout: options.stdout,
    stderr: options.stderr,
    detach,
    detachKeys: options.detachKeys,
    onAttached: (session: AttachSession) => {
      options.beforeOutput?.();
      if (session.tty && session.stdin && input.isTTY && typeof input.setRawMode === 'function') {
        input.setRawMode(true);
        raw = true;
      }
      if (session.tty && output.isTTY) {
        onResize = () => void session.resize({ rows: output.rows, columns: output.columns });
        onResize();
        output.on('resize', onResize);
      }
    },
    restore: () => {
      if (raw) input.setRawMode(false);
      raw = false;
      if (onResize) output.removeListener('resize', onResize);
      onResize = undefined;
      if (filter) input.unpipe(filter);
      if (options.forwardStdin) input.pause();
    },
  };
}
