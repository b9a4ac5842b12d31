/** A process running in a native container by `exec`, with or without a terminal (./exec.ts, ./exec-tty.ts). */
import type { Readable } from 'node:stream';

export interface ExecChild {
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** The exit code (127/126 when the command could not be started). */
  readonly exit: Promise<number>;
  kill(signal?: NodeJS.Signals): void;
  /** Sets the terminal's size (a TTY only). */
  resize?(size: { readonly rows: number; readonly columns: number }): void;
}
