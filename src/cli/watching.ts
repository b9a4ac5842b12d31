/**
 * Watching in this CLI process (`watch`, `up --watch` attached, the detached watcher): starts the engine's watch
 * loop (src/engine/watch) for the loaded project and keeps it until the stop signal (Ctrl-C by default).
 */
import type { LoadedProject } from '../project/types.js';
import type { Session } from './session.js';

/** Watches until `stop` (default: the session's Ctrl-C / SIGTERM) aborts, printing what it does through `log`. */
export async function watchUntilStopped(
  s: Session,
  loaded: LoadedProject,
  services: readonly string[],
  opts: { prune?: boolean | undefined; log: (line: string) => void; stop?: AbortSignal | undefined },
): Promise<void> {
  const [{ startWatch }, { originOf }] = await Promise.all([import('../engine/watch/watch.js'), import('./session.js')]);
  const w = await startWatch(s.engine, loaded.project, {
    services,
    prune: opts.prune,
    upOptions: { origin: originOf(loaded), disabledServices: Object.keys(loaded.meta.disabledServices) },
    log: opts.log,
  });
  const stop = opts.stop ?? s.controller.signal;
  await new Promise<void>((resolve) => (stop.aborted ? resolve() : stop.addEventListener('abort', () => resolve(), { once: true })));
  await w.close();
}
