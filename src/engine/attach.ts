/**
 * `attach SERVICE`: a running container's streams from now on until it stops (compose `pkg/compose/attach_service.go`,
 * docker `container attach`): its output as written, and the given stdin forwarded when the container keeps one
 * open (`stdin_open`). Signals go to the container (`--sig-proxy`) through `signal()`; the detach keys end the
 * attach and leave the container running.
 */
import type { AttachSession, ContainerSummary } from '../runtime/runtime.js';
import { serviceContainer } from './containers.js';
import type { EngineContext } from './events.js';
import { pumpSession, type RunStdio } from './run.js';

export interface AttachOptions {
  /** `--index`: the replica (default 1). */
  readonly index?: number | undefined;
  /** Where the output goes; `stdin` (absent with `--no-stdin`) is forwarded when the container has an open stdin. */
  readonly stdio: RunStdio;
}

export interface Attached {
  readonly container: ContainerSummary;
  readonly session: AttachSession;
  /** Sends `signal` to the container (`--sig-proxy`). */
  signal(signal: string): Promise<void>;
  /** Resolves with the container's exit code when it stops, or undefined when detached (detach keys, or the engine signal aborted). */
  done: Promise<number | undefined>;
}

export async function attachService(ctx: EngineContext, project: string, service: string, options: AttachOptions): Promise<Attached> {
  const c = await serviceContainer(ctx.runtime, project, service, options.index ?? 1, ctx.signal);
  const { stdio } = options;
  const session = await ctx.runtime.attachContainer(c.id, {
    signal: ctx.signal,
    detachKeys: stdio.detachKeys,
    ...(stdio.stdin ? { stdin: stdio.stdin } : {}),
  });
  stdio.onAttached?.(session);
  const done = (async (): Promise<number | undefined> => {
    if (await pumpSession(session, stdio)) return undefined;
    let code: number | undefined;
    try {
      code = await ctx.runtime.waitContainer(c.id, { signal: ctx.signal });
    } catch {
      code = undefined;
    }
    return ctx.signal?.aborted ? undefined : code;
  })();
  return {
    container: c,
    session,
    signal: (sig) => ctx.runtime.killContainer(c.id, { killSignal: sig }).catch(() => undefined),
    done,
  };
}
