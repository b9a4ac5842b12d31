/**
 * What `logs` shares between its runtimes (src/cli/commands/logs.ts for containers, src/cli/swarm/logs.ts for a
 * stack's services): the printer made from the command's options, and Ctrl-C while following as a normal end.
 */
import type { CommandContext } from './context.js';
import { logColour } from './output.js';
import { LogPrinter } from './render/log-consumer.js';

export interface LogPrintOptions {
  readonly timestamps?: true | undefined;
  readonly color?: boolean | undefined;
  readonly logPrefix?: boolean | undefined;
}

/** docker compose's log lines (`app-1  | line`) on the command's stdout and stderr, as its options say. */
export function logPrinterFor(ctx: CommandContext, opts: LogPrintOptions): LogPrinter {
  return new LogPrinter(ctx.out.stdout, ctx.out.stderr, {
    colour: logColour(ctx.globals.ansi, opts.color),
    prefix: opts.logPrefix !== false,
    timestamps: opts.timestamps === true,
  });
}

/** Runs `fn`; when following, a Ctrl-C (TSC_CANCELED) is the normal way out, not an error. */
export async function followUntilCanceled(follow: boolean, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    if (follow && (e as { code?: string }).code === 'TSC_CANCELED') return;
    throw e;
  }
}
