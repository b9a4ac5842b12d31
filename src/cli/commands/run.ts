/** `run`: a one-off container; its exit code becomes tscompose's. */
import type { Command } from '@commander-js/extra-typings';
import type { BuildPolicy, PullPolicy } from '../../engine/images.js';
import { UsageError } from '../../errors.js';
import type { CommandContext, ContextOf } from '../context.js';
import { splitShellWords } from '../../util/shell-words.js';
import { collect, pullOption } from './common.js';

export function runCommand(program: Command, context: ContextOf) {
  return (
    program
      .command('run')
      .description('Run a one-off command on a service')
      .option('--build', 'build image before starting container')
      .option('-d, --detach', 'run container in background and print container ID')
      .option('--entrypoint <cmd>', 'override the entrypoint of the image')
      .option('-e, --env <KEY=VAL>', 'set environment variables (repeatable)', collect)
      .option('-l, --label <KEY=VAL>', 'add or override a label (repeatable)', collect)
      .option('--name <name>', 'assign a name to the container')
      .option('-t, --tty', 'allocate a pseudo-TTY (the default on a terminal)')
      .option('-T, --no-tty', 'disable pseudo-TTY allocation')
      .option('--no-deps', "don't start linked services")
      .option('-p, --publish <port>', "publish a container's port(s) to the host (repeatable)", collect)
      .addOption(pullOption())
      .option('--quiet-pull', 'pull without printing progress information')
      .option('--remove-orphans', 'remove containers for services not defined in the compose file')
      .option('--rm', 'automatically remove the container when it exits')
      .option('-P, --service-ports', "run command with all service's ports enabled and mapped to the host")
      .option('--use-aliases', "use the service's network aliases in the network(s) the container connects to")
      .option('-u, --user <user>', 'run as specified username or uid')
      .option('-w, --workdir <dir>', 'working directory inside the container')
      // A plain flag, not `-i=false`-able: an optional value would swallow the `t` of `run -it`.
      .option('-i, --interactive', 'keep STDIN open even if not attached (the default)')
      .option('-v, --volume <volume>', 'bind mount a volume (repeatable)', collect)
      .option('--cap-add <cap>', 'add Linux capabilities (repeatable)', collect)
      .option('--cap-drop <cap>', 'drop Linux capabilities (repeatable)', collect)
      .option('--env-from-file <file>', 'set environment variables from file (repeatable)', collect)
      .option('-q, --quiet', "don't print anything to STDOUT (no progress, quiet pull)")
      .argument('[service]')
      .argument('[command...]')
      .passThroughOptions()
      .action(async (service, command, opts, cmd) => {
        const args = [...(service === undefined ? [] : [service]), ...command];
        const [svc, ...rest] = args;
        if (svc === undefined) throw new UsageError("missing required argument 'service'");
        return runRun(context(cmd), svc, rest, { ...opts, interactive: true });
      })
  );
}

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
  /** `-i`: always on, as docker compose's default: the container's stdin is ours (its end closes it). */
  interactive?: boolean;
  volume?: string[];
  capAdd?: string[];
  capDrop?: string[];
  envFromFile?: string[];
  quiet?: true;
}

export async function runRun(ctx: CommandContext, service: string, command: string[], opts: RunCliOptions): Promise<void> {
  const [{ run }, { runEnvironment }, { loadProject, originOf, withSession }, { terminalStdio }, { DEFAULT_DETACH_KEYS }] = await Promise.all([
    import('../../engine/run.js'),
    import('../../engine/run-overrides.js'),
    import('../session.js'),
    import('../attach-terminal.js'),
    import('../detach-keys.js'),
  ]);
  // `-q`: no progress at all (docker compose's quiet display), pulls included.
  if (opts.quiet) ctx = { ...ctx, globals: { ...ctx.globals, progress: 'quiet' } };
  const loaded = loadProject(ctx, [service]);
  const interactive = opts.interactive !== false;
  const result = await withSession(ctx, async (s) => {
    // Attached: the container's streams are ours from its start (stdin too with -i, the default).
    const stdio = opts.detach
      ? undefined
      : terminalStdio({
          forwardStdin: interactive,
          detachKeys: DEFAULT_DETACH_KEYS,
          stdout: ctx.out.stdout,
          stderr: ctx.out.stderr,
          beforeOutput: () => s.renderer.stop(),
        });
    try {
      return await run(s.engine, loaded.project, service, {
        command,
        ...(opts.entrypoint === undefined ? {} : { entrypoint: splitShellWords(opts.entrypoint) }),
        env: runEnvironment(opts.env, opts.envFromFile),
        hostEnv: process.env,
        volumes: opts.volume,
        capAdd: opts.capAdd,
        capDrop: opts.capDrop,
        baseDir: loaded.meta.workingDir,
        workdir: opts.workdir,
        user: opts.user,
        name: opts.name,
        labels: opts.label,
        tty: opts.tty !== false && process.stdin.isTTY === true && process.stdout.isTTY === true,
        interactive,
        stdio,
        rm: opts.rm,
        detach: opts.detach,
        noDeps: opts.deps === false,
        servicePorts: opts.servicePorts,
        publish: opts.publish,
        useAliases: opts.useAliases,
        build: (opts.build ? 'always' : undefined) as BuildPolicy | undefined,
        pull: opts.pull as PullPolicy | undefined,
        quietPull: opts.quietPull ?? opts.quiet,
        removeOrphans: opts.removeOrphans,
        origin: originOf(loaded),
      });
    } finally {
      stdio?.restore();
    }
  });
  if (opts.detach) ctx.out.stdout.write(`${result.name}\n`);
  else if (!result.detached) process.exitCode = result.exitCode ?? 0;
}
