/** `exec`: its exit code becomes tscompose's. */
import { execIn } from '../../engine/run.js';
import type { CommandContext } from '../program.js';
import { loadProject } from '../session.js';
import { withSession } from './common.js';

export async function runExec(
  ctx: CommandContext,
  service: string,
  command: string[],
  opts: { detach?: true; env?: string[]; index?: string; tty?: boolean; privileged?: true; user?: string; workdir?: string },
): Promise<void> {
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
