/** `--progress plain`: one line per state change, `Container demo-web-1  Started`. */
import type { ProgressEvent } from '../../engine/events.js';
import type { Renderer } from './types.js';

export function plainLine(e: ProgressEvent): string {
  const detail = e.details === undefined ? '' : ` ${e.details}`;
  return e.status === 'warning' && e.text === 'Warning' ? `WARN ${e.details ?? e.resource}` : `${e.resource}  ${e.text}${detail}`;
}

export class PlainRenderer implements Renderer {
  constructor(private readonly out: NodeJS.WritableStream) {}
  emit(e: ProgressEvent): void {
    if (e.log !== undefined) {
      this.out.write(`${e.log}\n`);
      return;
    }
    // Layer-by-layer pull/build progress would flood CI logs.
    if (e.status === 'working' && e.details !== undefined) return;
    this.out.write(`${plainLine(e)}\n`);
  }
  stop(): void {}
}
