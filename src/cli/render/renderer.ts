/**
 * Progress renderers (`--progress auto|tty|plain|json|quiet`): EventSinks that print. `auto` = tty when stderr is a
 * terminal, else plain.
 */
import type { Renderer } from './types.js';

export type ProgressMode = 'auto' | 'tty' | 'plain' | 'json' | 'quiet';

export async function createRenderer(mode: string | undefined, stream: NodeJS.WriteStream = process.stderr, colour = true): Promise<Renderer> {
  let m = (mode ?? process.env.COMPOSE_PROGRESS ?? 'auto') as ProgressMode;
  if (m === 'auto') m = stream.isTTY ? 'tty' : 'plain';
  // ora needs the terminal width to repaint (a pty with 0 columns would make it loop).
  if (m === 'tty' && !(stream.isTTY && stream.columns > 0)) m = 'plain';
  switch (m) {
    case 'tty': {
      const { TtyRenderer } = await import('./tty.js');
      return new TtyRenderer(stream, colour);
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
