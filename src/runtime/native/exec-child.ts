/**
 * A process running in a native container by `exec`, with or without a terminal (./exec.ts, ./exec-tty.ts), and its
 * exit code when the OCI runtime could not start it.
 */
import type { Readable } from 'node:stream';
import { readPidFile } from '../../lib/fs/proc.js';

export interface ExecChild {
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** The exit code (127/126 when the command could not be started). */
  readonly exit: Promise<number>;
  kill(signal?: NodeJS.Signals): void;
  /** Sets the terminal's size (a TTY only). */
  resize?(size: { readonly rows: number; readonly columns: number }): void;
}

/** The exit code of an exec whose runtime failed (`exec failed: … not found`: 127; other start failures: 126). */
export function failedExecCode(message: string): number {
  if (/no such file|not found/i.test(message)) return 127;
  return 126;
}

/**
 * The exit code when the OCI runtime's log (or its stderr) says the process could not be started, else undefined.
 * crun: "executable file `x` not found in $PATH: No such file or directory", "open executable: Permission denied".
 */
export function startFailureCode(log: string): number | undefined {
  if (!/exec failed|unable to start container process|executable file .* not found|open executable/.test(log)) return undefined;
  return failedExecCode(log);
}

/**
 * Signals the exec'd process by the pid the OCI runtime wrote (killing the runtime's own process, or conmon, would
 * leave it running in the container): `sent`, `no-pid` (not written yet, or gone with its files) or `failed`.
 */
export function signalExecProcess(pidFile: string, signal: NodeJS.Signals): 'sent' | 'no-pid' | 'failed' {
  const pid = readPidFile(pidFile);
  if (pid === 0) return 'no-pid';
  try {
    process.kill(pid, signal);
    return 'sent';
  } catch {
    return 'failed';
  }
}
