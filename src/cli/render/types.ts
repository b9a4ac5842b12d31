/** A progress renderer: an EventSink that prints (see renderer.ts for the `--progress` modes). */
import type { EventSink } from '../../engine/events.js';

export interface Renderer extends EventSink {
  /** Flushes and stops (the spinner); safe to call twice. */
  stop(): void;
}
