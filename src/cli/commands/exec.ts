/** `exec`: its exit code becomes tscompose's. */
import type { Command } from '@commander-js/extra-typings';
import type { CommandContext, ContextOf } from '../context.js';
import { collect } from './common.js';

export function execCommand(program: Command, context: ContextOf) {
  return (
    program
      .command('exec')
      .description('Execute a command in a running container')
      .option('-d, --detach', 'detached mode: run command in the background')
      .option('-e, --env <KEY=VAL>', 'set environment variables (repeatable)', collect)
      .option('--index <n>', 'index of the container if service has multiple replicas', '1')
      // A plain flag, as run's: stdin is always forwarded (docker compose's hidden -i defaults to true).
      .option('-i, --interactive', 'keep STDIN open even if not attached (the default)')
      .option('-t, --tty', 'allocate a pseudo-TTY (the default on a terminal)')
      .option('-T, --no-tty', 'disable pseudo-TTY allocation')
      .option('--privileged', 'give extended privileges to the process')
      .option('-u, --user <user>', 'run the command as this user')
      .option('-w, --workdir <dir>', 'path to workdir directory for this command')
      .argument('<service>')
      .argument('<command...>')
      .passThroughOptions()
      .action(async (service, command, opts, cmd) => runExec(context(cmd), service, command, opts))
  );
}

export interface ExecCliOptions {
  detach?: true;
  env?: string[];
  index?: string;
  /** `-i`: on unless `false` (only a caller can say so: the flag cannot turn it off). */
  interactive?: boolean;
  tty?: boolean;
  privileged?: true;
  user?: string;
  workdir?: string;
}

/**
 * The exec's stdio, as docker compose's: our stdin reaches the process whenever it is interactive (`-i`, the
 * default), with or without a TTY, and not with `-d`. A TTY needs our stdin and stdout to be terminals (unless `-T`):
 * with a piped or redirected stdin it is turned off, as docker compose run does (docker compose exec refuses with
 * "the input device is not a TTY" instead), so `tscompose exec svc cmd < file` works.
 */
export function execStdio(
  opts: Pick<ExecCliOptions, 'detach' | 'interactive' | 'tty'>,
  terminal: { readonly stdin: boolean; readonly stdout: boolean },
): { tty: boolean; forwardStdin: boolean } {
  return {
    tty: opts.tty !== false && terminal.stdin && terminal.stdout,
    forwardStdin: opts.detach !== true && opts.interactive !== false,
  };
}

export async function runExec(ctx: CommandContext, service: string, command: string[], opts: ExecCliOptions): Promise<void> {
  const [{ execIn }, { loadProject, withSession }] = await Promise.all([import('../../engine/run.js'), import('../session.js')]);
  const name = ctx.globals.projectName && !ctx.globals.file ? ctx.globals.projectName : loadProject(ctx, [service]).project.name;
  const { tty, forwardStdin } = execStdio(opts, { stdin: process.stdin.isTTY === true, stdout: process.stdout.isTTY === true });
  const code = await withSession(
    ctx,
    async (s) => {
      s.renderer.stop();
      const session = await execIn(s.engine, name, service, command, {
        index: opts.index === undefined ? undefined : Number(opts.index),
        env: opts.env,
        user: opts.user,
        workdir: opts.workdir,
        tty,
        privileged: opts.privileged,
        // Its end (EOF, /dev/null, a closed stdin) closes the process's stdin.
        stdin: forwardStdin ? process.stdin : undefined,
        detach: opts.detach === true,
      });
      if (opts.detach) {
        // Running on its own; what it could not start says why on stderr, with Docker's 126/127.
        session.stderr.pipe(ctx.out.stderr, { end: false });
        return await session.wait();
      }
      session.stdout.pipe(ctx.out.stdout, { end: false });
      session.stderr.pipe(ctx.out.stderr, { end: false });
      if (tty && process.stdin.setRawMode) process.stdin.setRawMode(true);
      // The TTY's size is our terminal's, then every resize (SIGWINCH), as docker compose exec.
      const onResize =
        tty && session.resize && process.stdout.isTTY
          ? (): void => void session.resize?.({ rows: process.stdout.rows, columns: process.stdout.columns })
          : undefined;
      onResize?.();
      if (onResize) process.stdout.on('resize', onResize);
      try {
        return await session.wait();
      } finally {
        if (onResize) process.stdout.removeListener('resize', onResize);
        if (tty && process.stdin.setRawMode) process.stdin.setRawMode(false);
        // The backend no longer reads it once the process has ended; stop reading so we can exit with input left.
        if (forwardStdin) process.stdin.pause();
      }
    },
    { handleSignals: !tty },
  );
  process.exitCode = code;
}
