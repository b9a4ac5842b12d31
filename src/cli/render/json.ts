/** `--progress json`: one JSON object per event (NDJSON). */
import type { ProgressEvent } from '../../engine/events.js';
import type { Renderer } from './types.js';

export class JsonRenderer implements Renderer {
  constructor(private readonly out: NodeJS.WritableStream) {}
  emit(e: ProgressEvent): void {
    this.out.write(
      `${JSON.stringify({ resource: e.resource, status: e.status, text: e.text, ...(e.details === undefined ? {} : { details: e.details }) })}\n`,
    );
  }
  stop(): void {}
}
