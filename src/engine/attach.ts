/**
 * `attach SERVICE`: a running container's output from now on until it stops (compose `pkg/compose/attach_service.go`,
 * docker `container attach`). The runtime port has no attach to a container's main process, so output comes from its
 * log stream followed from now, and its standard input cannot be reached (the CLI says so). Signals go to the
 * container (`--sig-proxy`) through `signal()`.
 */
import type { ContainerSummary, LogLine } from '../runtime/runtime.js';
import { serviceContainer } from './containers.js';
import type { EngineContext } from './events.js';

export interface AttachOptions {
  /** `--index`: the replica (default 1). */
  readonly index?: number | undefined;
  /** Each output line (raw, no prefix, as docker attach prints). */
  readonly onOutput: (line: LogLine) => void;
}

export interface Attached {
  readonly container: ContainerSummary;
  /** Sends `signal` to the container (`--sig-proxy`). */
  signal(signal: string): Promise<void>;
  /** Resolves with the container's exit code when it stops, or undefined when detached (the engine signal aborted). */
  done: Promise<number | undefined>;
}

export async function attachService(ctx: EngineContext, project: string, service: string, options: AttachOptions): Promise<Attached> {
  const c = await serviceContainer(ctx.runtime, project, service, options.index ?? 1, ctx.signal);
  const output = (async () => {
    try {
      for await (const line of ctx.runtime.containerLogs(c.id, { follow: true, tail: 0, signal: ctx.signal })) options.onOutput(line);
    } catch {
      // removed while attached
    }
  })();
  const done = (async (): Promise<number | undefined> => {
    let code: number | undefined;
    try {
      code = await ctx.runtime.waitContainer(c.id, { signal: ctx.signal });
    } catch {
      code = undefined;
    }
    await output;
    return ctx.signal?.aborted ? undefined : code;
  })();
  return {
    container: c,
    signal: (sig) => ctx.runtime.killContainer(c.id, { killSignal: sig }).catch(() => undefined),
    done,
  };
}
