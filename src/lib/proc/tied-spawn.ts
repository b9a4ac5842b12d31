/**
 * A child process with a command to run when this process dies (a `kill -9` included): for a foreground child
 * whose work would otherwise go on without us, such as an OCI runtime's `run` of a build's RUN step (its container
 * outlives the runtime's process, so killing that process is not enough: the container must be killed by name).
 *
 * The child runs under a small `/bin/sh` started by util-linux's `setpriv --pdeathsig TERM`: when this process ends,
 * the kernel sends that shell SIGTERM, on which it runs `onDeath` (its output discarded) and goes on waiting for the
 * child, whose exit status it then exits with. Otherwise the shell only passes the child's status on, and its
 * standard streams are the child's. Without setpriv (util-linux's, not on every system) the child is spawned as
 * is, and nothing runs on this process's death.
 */
import { spawn, type ChildProcessWithoutNullStreams, type SpawnOptionsWithoutStdio } from 'node:child_process';
import { shellQuote } from './spawner.js';
import { whichSync } from './which.js';

export interface DeathCommand {
  readonly command: string;
  readonly args: readonly string[];
}

/**
 * $1: the death command, quoted for sh; then the child's command and arguments. The child's stdin is the shell's
 * own (a background job's stdin would otherwise be /dev/null), through fd 3.
 */
const TIED = `on_death=$1; shift
trap 'eval "$on_death" </dev/null >/dev/null 2>&1' TERM
exec 3<&0
"$@" <&3 3<&- &
child=$!
exec 3<&-
while :; do
  wait "$child"; st=$?
  kill -0 "$child" 2>/dev/null || exit "$st"
done
`;

let setprivPath: string | null | undefined;

function setpriv(): string | undefined {
  if (setprivPath === undefined) setprivPath = whichSync('setpriv') ?? null;
  return setprivPath ?? undefined;
}

/** The arguments of `setpriv` (at `tool`) for a tied `command args`. */
export function tiedArgs(command: string, args: readonly string[], onDeath: DeathCommand): string[] {
  const death = [onDeath.command, ...onDeath.args].map(shellQuote).join(' ');
  return ['--pdeathsig', 'TERM', '--', '/bin/sh', '-c', TIED, 'tied', death, command, ...args];
}

/**
 * `command args` as `spawn` would start it (its standard streams pipes), with `onDeath` run when this process dies
 * (see above).
 */
export function spawnTied(
  command: string,
  args: readonly string[],
  onDeath: DeathCommand,
  options: SpawnOptionsWithoutStdio = {},
): ChildProcessWithoutNullStreams {
  const tool = setpriv();
  const opts = { ...options, stdio: 'pipe' as const };
  return tool === undefined ? spawn(command, [...args], opts) : spawn(tool, tiedArgs(command, args, onDeath), opts);
}

/** setpriv's path, or undefined. */
export function setprivTool(): string | undefined {
  return setpriv();
}
