/** `run`: a one-off container; its exit code becomes tscompose's. */
import type { BuildPolicy, PullPolicy } from '../../engine/images.js';
import { run } from '../../engine/run.js';
import type { CommandContext } from '../program.js';
import { loadProject, originOf } from '../session.js';
import { withSession } from './common.js';
import { splitShellWords } from '../../util/shell-words.js';

export interface RunCliOptions {
  build?: true;
  detach?: true;
  entrypoint?: string;
  env?: string[];
  label?: string[];
  name?: string;
  tty?: boolean;
  deps?: boolean;
  publish?: string[];
  pull?: string;
  quietPull?: true;
  removeOrphans?: true;
  rm?: true;
  servicePorts?: true;
  useAliases?: true;
  user?: string;
  workdir?: string;
}

export async function runRun(ctx: CommandContext, service: string, command: string[], opts: RunCliOptions): Promise<void> {
  const loaded = loadProject(ctx, [service]);
  const result = await withSession(ctx, async (s) => {
    const r = await run(s.engine, loaded.project, service, {
      command,
      ...(opts.entrypoint === undefined ? {} : { entrypoint: splitShellWords(opts.entrypoint) }),
      env: opts.env,
      hostEnv: process.env,
      workdir: opts.workdir,
      user: opts.user,
      name: opts.name,
      labels: opts.label,
      tty: opts.tty !== false && process.stdin.isTTY === true && process.stdout.isTTY === true,
      rm: opts.rm,
      detach: opts.detach,
      noDeps: opts.deps === false,
      servicePorts: opts.servicePorts,
      publish: opts.publish,
      useAliases: opts.useAliases,
      build: (opts.build ? 'always' : undefined) as BuildPolicy | undefined,
      pull: opts.pull as PullPolicy | undefined,
      quietPull: opts.quietPull,
      removeOrphans: opts.removeOrphans,
      origin: originOf(loaded),
      onOutput: (line) => {
        s.renderer.stop();
        (line.stream === 'stderr' ? ctx.out.stderr : ctx.out.stdout).write(`${line.line}\n`);
      },
    });
    return r;
  });
  if (opts.detach) ctx.out.stdout.write(`${result.name}\n`);
  else process.exitCode = result.exitCode ?? 0;
}
