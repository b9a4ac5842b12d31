/**
 * `exec -d` on the native runtime. The OCI runtime's `exec` runs in the foreground of a small detached shell, not of
 * the CLI, so the process outlives the command. Its output drains into `cat >/dev/null` (a pipe of ours: crun 1.8
 * chowns a process's standard streams to its user, and the host's /dev/null must never be one) and its stdin is at
 * its end, as Docker's detached exec. The CLI waits until the runtime has written the process's pid (it runs) or the
 * shell has ended without one; then the runtime's log says whether it could not start: an error in the runtime's
 * words (TSC_EXEC_START, exit 1, as `docker exec -d`). Once the process has ended, the shell removes the exec's files.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { TsComposeError } from '../../errors.js';
import { readPidFile } from '../../lib/fs/proc.js';
import type { NativeContext } from './context.js';
import { startFailureCode, type ExecChild } from './exec-child.js';
import type { ContainerRecord } from './state.js';

const SCRIPT = `p=$1 l=$2 f=$3; shift 3
: | "$@" 2>&1 | cat >/dev/null
# it ran (its pid file was written): nobody reads these any more; else the CLI reads the log, then removes them
if [ -e "$f" ]; then rm -f "$p" "$l" "$f"; fi
`;

/** The messages of the runtime's JSON log (one object per line, `msg`), else its text. */
function logMessages(log: string): string {
  return log
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      try {
        return String((JSON.parse(l) as { msg?: unknown }).msg ?? l);
      } catch {
        return l;
      }
    })
    .join('\n');
}

export async function startDetachedExec(
  ctx: NativeContext,
  r: ContainerRecord,
  files: { readonly procFile: string; readonly logFile: string; readonly pidFile: string },
): Promise<ExecChild> {
  const { procFile, logFile, pidFile } = files;
  const oci = ctx.oci.forContainer(r.id); // the runtime that made the container, which may not be today's choice
  const argv = oci.execArgs(r.id, procFile, { pidFile, logFile });
  const shell = spawn('/bin/sh', ['-c', SCRIPT, 'tscompose-exec', procFile, logFile, pidFile, oci.exe, ...argv], {
    env: oci.spawnEnv(),
    stdio: 'ignore',
    detached: true,
  });
  let ended = false;
  shell.once('exit', () => (ended = true));
  shell.once('error', () => (ended = true));
  // The start takes a few ms: look every 5 ms until the pid is there or the shell is gone.
  let pid = 0;
  for (let i = 0; i < 6000 && !ended; i++) {
    pid = readPidFile(pidFile);
    if (pid > 0) break;
    await sleep(5);
  }
  shell.unref();
  if (pid === 0 && ended && existsSync(logFile)) {
    // Ended without ever running (else the shell had removed the log with the pid file).
    const log = readFileSync(logFile, 'utf8');
    for (const f of [procFile, logFile, pidFile]) rmSync(f, { force: true });
    if (startFailureCode(log) !== undefined) throw new TsComposeError('TSC_EXEC_START', logMessages(log));
  }
  const kill = (s?: NodeJS.Signals): void => {
    try {
      if (pid > 0) process.kill(pid, s ?? 'SIGKILL');
    } catch {
      /* gone */
    }
  };
  return { stdout: Readable.from([]), stderr: Readable.from([]), exit: Promise.resolve(0), kill };
}
