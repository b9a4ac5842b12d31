/**
 * What the `image …` subcommands work with: the streams, and the engine opened only once the arguments have been
 * checked (usage errors never need an engine; tests pass a FakeRuntime).
 */
import type { EngineContext } from '../../../engine/events.js';
import { UsageError } from '../../../errors.js';
import { CanceledError } from '../../canceled.js';
import type { CommandContext } from '../../context.js';
import type { Session } from '../../session.js';

export interface ImageIO {
  /** The engine (runtime, progress sink, Ctrl-C signal); opened on first call. */
  session(): Promise<EngineContext>;
  readonly stdout: NodeJS.WritableStream & { readonly isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream;
  readonly stdin: NodeJS.ReadableStream & { readonly isTTY?: boolean };
  /** Unix milliseconds (CREATED column); default Date.now. */
  readonly now?: () => number;
}

/** Runs `image NAME` on the runtime `--runtime` picks; `--dry-run` is refused for the subcommands that change something. */
export async function withImageIO(ctx: CommandContext, name: string, mutates: boolean, fn: (io: ImageIO) => Promise<void>): Promise<void> {
  if (mutates && ctx.globals.dryRun) throw new UsageError(`--dry-run is not supported by image ${name}`);
  let session: Session | undefined;
  const io: ImageIO = {
    session: async () => (session ??= await (await import('../../session.js')).openSession(ctx, { dryRun: false })).engine,
    stdout: ctx.out.stdout as NodeJS.WritableStream & { isTTY?: boolean },
    stderr: ctx.out.stderr,
    stdin: process.stdin,
  };
  try {
    await fn(io);
  } catch (e) {
    if (session?.controller.signal.aborted && !(e instanceof CanceledError)) throw new CanceledError();
    throw e;
  } finally {
    session?.close();
  }
}
