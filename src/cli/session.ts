/**
 * What every engine command needs: the runtime, a progress renderer, an AbortSignal wired to Ctrl-C, and the
 * project (loaded from the compose files, or only its name for `-p NAME` with no file). Commands import this
 * module lazily, inside their actions: it loads the project loader and the runtime selection.
 */
import { setMaxListeners } from 'node:events';
import type { EngineContext } from '../engine/events.js';
import type { ProjectOrigin } from '../engine/labels.js';
import { CanceledError } from './canceled.js';
import { findComposeDir } from '../project/environment.js';
import { parallelLimit } from '../project/graph.js';
import { loadProjectSync } from '../project/load.js';
import type { LoadedProject } from '../project/types.js';
import type { CommandContext } from './context.js';
import { createRenderer } from './render/renderer.js';
import type { Renderer } from './render/types.js';
import { createDryRunRuntime, createRuntime } from './runtime.js';

export interface Session {
  readonly engine: EngineContext;
  readonly renderer: Renderer;
  readonly controller: AbortController;
  /** Stops the renderer and removes the signal handlers. */
  close(): void;
}

export async function openSession(ctx: CommandContext, options: { dryRun?: boolean; handleSignals?: boolean } = {}): Promise<Session> {
  const dry = options.dryRun ?? ctx.globals.dryRun === true;
  const runtime = dry ? await createDryRunRuntime(ctx.globals.runtime, (m) => ctx.out.warn(m)) : await createRuntime(ctx.globals.runtime);
  const renderer = await createRenderer(ctx.globals, process.stderr);
  const controller = new AbortController();
  // One signal is shared by every call in flight (p-queue tasks, engine requests): no listener cap.
  setMaxListeners(0, controller.signal);
  const onSignal = (): void => controller.abort(new CanceledError());
  if (options.handleSignals !== false) {
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }
  const concurrency = parallelLimit(ctx.globals.parallel);
  return {
    engine: { runtime, events: renderer, signal: controller.signal, concurrency },
    renderer,
    controller,
    close() {
      renderer.stop();
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    },
  };
}

/** Runs `fn` with a session; an abort by Ctrl-C becomes exit 130. */
export async function withSession<T>(
  ctx: CommandContext,
  fn: (s: Session) => Promise<T>,
  options: { dryRun?: boolean; handleSignals?: boolean } = {},
): Promise<T> {
  const s = await openSession(ctx, options);
  try {
    return await fn(s);
  } catch (e) {
    if (s.controller.signal.aborted && !(e instanceof CanceledError)) throw new CanceledError();
    throw e;
  } finally {
    s.close();
  }
}

export function loadProject(ctx: CommandContext, services: readonly string[] = []): LoadedProject {
  return loadProjectSync(ctx.loadOptions(services));
}

export function originOf(loaded: LoadedProject): ProjectOrigin {
  return { workingDir: loaded.meta.workingDir, configFiles: loaded.meta.configFiles, envFiles: loaded.meta.envFiles };
}

/**
 * The project for commands that work from `-p NAME` alone (`down`, `logs`, `ps`, `stop`): the loaded project
 * when a compose file is given or found, else just the name.
 */
export function projectOrName(ctx: CommandContext, services: readonly string[] = []): { name: string; loaded?: LoadedProject } {
  const g = ctx.globals;
  const hasFile =
    (g.file && g.file.length > 0) || process.env.COMPOSE_FILE !== undefined || findComposeDir(g.projectDirectory ?? process.cwd()) !== undefined;
  if (g.projectName && !hasFile) return { name: g.projectName };
  const loaded = loadProject(ctx, services);
  return { name: loaded.project.name, loaded };
}
