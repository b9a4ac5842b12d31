/** `exec`: its exit code becomes tscompose's. */
import type { Command } from '@commander-js/extra-typings';
import type { CommandContext, ContextOf } from '../context.js';
import { collect } from './common.js';

export function execCommand(program: Command, context: ContextOf) {
  return program
    .command('exec')
    .description('Execute a command in a running container')
    .option('-d, --detach', 'detached mode: run command in the background')
    .option('-e, --env <KEY=VAL>', 'set environment variables (repeatable)', collect)
    .option('--index <n>', 'index of the container if service has multiple replicas', '1')
    .option('-T, --no-tty', 'disable pseudo-TTY allocation')
    .option('--privileged', 'give extended privileges to the process')
    .option('-u, --user <user>', 'run the command as this user')
    .option('-w, --workdir <dir>', 'path to workdir directory for this command')
    .argument('<service>')
    .argument('<command...>')
    .passThroughOptions()
    .action(async (service, command, opts, cmd) => runExec(context(cmd), service, command, opts));
}

export async function runExec(
  ctx: CommandContext,
  service: string,
  command: string[],
  opts: { detach?: true; env?: string[]; index?: string; tty?: boolean; privileged?: true; user?: string; workdir?: string },
): Promise<void> {
  const [{ execIn }, { loadProject, withSession }] = await Promise.all([import('../../engine/run.js'), import('../session.js')]);
  const name = ctx.globals.projectName && !ctx.globals.file ? ctx.globals.projectName : loadProject(ctx, [service]).project.name;
  const tty = opts.tty !== false && process.stdin.isTTY === true && process.stdout.isTTY === true;
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
        stdin: opts.detach || !tty ? undefined : process.stdin,
      });
      if (opts.detach) return 0;
      session.stdout.pipe(ctx.out.stdout, { end: false });
      session.stderr.pipe(ctx.out.stderr, { end: false });
      if (tty && process.stdin.setRawMode) process.stdin.setRawMode(true);
      try {
        return await session.wait();
      } finally {
        if (tty && process.stdin.setRawMode) process.stdin.setRawMode(false);
        process.stdin.pause();
      }
    },
    { handleSignals: !tty },
  );
  process.exitCode = code;
}
