/**
 * Progress renderers (`--progress auto|tty|plain|json|quiet`, or COMPOSE_PROGRESS): EventSinks that print. Which one,
 * and whether the tty display has colours, is decided by ../output.ts (decideProgress, decideAnsi) as docker compose
 * does: `auto` = tty when stderr is a terminal and `--ansi` is not never, else plain.
 */
import { decideAnsi, decideProgress } from '../output.js';
import type { Renderer } from './types.js';

/** The global options that choose the display: `--progress` and `--ansi` as given (undefined when not). */
export interface RenderSettings {
  readonly progress?: string | undefined;
  readonly ansi?: string | undefined;
}

export async function createRenderer(
  settings: RenderSettings,
  stream: NodeJS.WriteStream = process.stderr,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Renderer> {
  const isTTY = stream.isTTY === true;
  switch (decideProgress({ progress: settings.progress, ansi: settings.ansi, isTTY, columns: stream.columns, env })) {
    case 'tty': {
      const { TtyRenderer } = await import('./tty.js');
      return new TtyRenderer(stream, decideAnsi({ ansi: settings.ansi, isTTY, env }).colour);
    }
    case 'json': {
      const { JsonRenderer } = await import('./json.js');
      return new JsonRenderer(stream);
    }
    case 'quiet':
      return { emit: () => undefined, stop: () => undefined };
    default: {
      const { PlainRenderer } = await import('./plain.js');
      return new PlainRenderer(stream);
    }
  }
}
