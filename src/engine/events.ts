/**
 * Progress events: what the use cases report instead of printing (compose `pkg/progress`). A renderer in
 * src/cli/render turns them into spinner lines, plain lines or JSON objects.
 */
export type EventStatus = 'working' | 'done' | 'error' | 'warning';

export interface ProgressEvent {
  /** `Container demo-web-1`, `Network demo_default`, `Volume demo_data`, `Image nginx`. */
  readonly resource: string;
  readonly status: EventStatus;
  /** `Creating`, `Started`, `Waiting`, `Healthy`, … */
  readonly text: string;
  /** Extra detail (an error message, a pull progress line). */
  readonly details?: string;
  /**
   * A line of a build log (`#5 [web 3/7] RUN …`, `#5 0.41 output`, `#5 DONE 1.2s`): plain progress prints it as it
   * is, as docker compose's plain build output.
   */
  readonly log?: string;
}

export interface EventSink {
  emit(event: ProgressEvent): void;
}

/** Drops everything (tests, `--progress quiet` when nothing is wanted). */
export const nullSink: EventSink = { emit: () => undefined };

/** Collects events in memory (tests). */
export class MemorySink implements EventSink {
  readonly events: ProgressEvent[] = [];
  emit(event: ProgressEvent): void {
    this.events.push(event);
  }
  /** `resource status text` lines, for assertions. */
  lines(): string[] {
    return this.events.map((e) => `${e.resource} ${e.status} ${e.text}${e.details === undefined ? '' : ` (${e.details})`}`);
  }
}

export const working = (resource: string, text: string): ProgressEvent => ({ resource, status: 'working', text });
export const done = (resource: string, text: string): ProgressEvent => ({ resource, status: 'done', text });
export const warning = (resource: string, text: string, details?: string): ProgressEvent => ({
  resource,
  status: 'warning',
  text,
  ...(details === undefined ? {} : { details }),
});
export const failed = (resource: string, text: string, details?: string): ProgressEvent => ({
  resource,
  status: 'error',
  text,
  ...(details === undefined ? {} : { details }),
});

/** The common inputs of every use case. */
export interface EngineContext {
  readonly runtime: import('../runtime/runtime.js').Runtime;
  readonly events: EventSink;
  readonly signal?: AbortSignal | undefined;
  /** `--parallel`: operations at once; undefined or <= 0 = unlimited. */
  readonly concurrency?: number | undefined;
}
