/**
 * `attach SERVICE`: docker compose's attach (`--index`, `--no-stdin`, `--sig-proxy`, `--detach-keys`): the container's
 * output from now until it stops, then its exit code; our stdin forwarded unless `--no-stdin` (it reaches a container
 * with `stdin_open`); with a TTY, our terminal in raw mode and its size followed. The detach keys (default
 * ctrl-p,ctrl-q) leave the container running. Ctrl-C goes to the container with `--sig-proxy` (the default; not
 * with a TTY, as docker), else it detaches.
 */
import type { Command } from '@commander-js/extra-typings';
import type { CommandContext, ContextOf } from '../context.js';
import { boolFlag, boolFlagOption } from './bool-flag.js';
import { replicaIndex } from './common.js';

export function attachCommand(program: Command, context: ContextOf) {
  return program
    .command('attach')
    .description("Attach local standard input, output, and error streams to a service's running container")
    .option('--index <n>', 'index of the container if service has multiple replicas')
    .option('--detach-keys <keys>', 'override the key sequence for detaching from a container')
    .option('--no-stdin', 'do not attach STDIN')
    .addOption(boolFlagOption('--sig-proxy', 'proxy all received signals to the process', true))
    .argument('[service]')
    .action(async (service, opts, cmd) => {
      const args = service === undefined ? [] : [service];
      const sigProxy = boolFlag((opts as { sigProxy?: unknown }).sigProxy, args);
      return runAttach(context(cmd), args[0], { ...opts, sigProxy });
    });
}

export interface AttachCliOptions {
  index?: string;
  detachKeys?: string;
  /** `--no-stdin` → false. */
  stdin?: boolean;
  sigProxy?: boolean;
}

export async function runAttach(ctx: CommandContext, service: string | undefined, opts: AttachCliOptions): Promise<void> {
  const { UsageError } = await import('../../errors.js');
  if (service === undefined) throw new UsageError("missing required argument 'service'");
  const index = replicaIndex(opts.index);
  const [{ attachService }, { projectOrName, withSession }, { terminalStdio }, { DEFAULT_DETACH_KEYS, parseDetachKeys }] = await Promise.all([
    import('../../engine/attach.js'),
    import('../session.js'),
    import('../attach-terminal.js'),
    import('../detach-keys.js'),
  ]);
  const detachKeys = opts.detachKeys ?? DEFAULT_DETACH_KEYS;
  parseDetachKeys(detachKeys); // a usage error before anything is attached
  const { name } = projectOrName(ctx, [service]);
  const code = await withSession(
    ctx,
    async (s) => {
      s.renderer.stop();
      const stdio = terminalStdio({ forwardStdin: opts.stdin !== false, detachKeys, stdout: ctx.out.stdout, stderr: ctx.out.stderr });
      try {
        const attached = await attachService(s.engine, name, service, { index, stdio });
        const onSignal = (sig: NodeJS.Signals): void => {
          if (opts.sigProxy === false || attached.session.tty) s.controller.abort();
          else void attached.signal(sig);
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
        try {
          return await attached.done;
        } finally {
          process.removeListener('SIGINT', onSignal);
          process.removeListener('SIGTERM', onSignal);
        }
      } finally {
        stdio.restore();
      }
    },
    { handleSignals: false },
  );
  if (code !== undefined) process.exitCode = code;
}
