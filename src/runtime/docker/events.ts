/**
 * `events` on Docker Engine: `GET /events` filtered by labels and types, its JSON lines turned into RuntimeEvents.
 * An abort ends the stream quietly.
 */
import type Docker from 'dockerode';
import type { EventsOptions, RuntimeEvent } from '../runtime.js';
import { sig, type DockerCall } from './call.js';
import { toRuntimeEvent } from './convert-answers.js';
import { labelFilters } from './convert.js';
import { isAbortError, mapDockerError } from './errors.js';
import { chunks } from './streams.js';

export async function* events(d: DockerCall, options: EventsOptions = {}): AsyncIterable<RuntimeEvent> {
  const filters: Record<string, string[]> = { ...(labelFilters(options.labels) ?? {}) };
  if (options.types) filters['type'] = [...options.types];
  const query: Record<string, unknown> = { filters, ...sig(options) };
  if (options.since !== undefined) query['since'] = options.since;
  if (options.until !== undefined) query['until'] = options.until;
  let stream: NodeJS.ReadableStream;
  try {
    stream = await d.call('container', 'events', () => d.docker.getEvents(query as Docker.GetEventsOptions));
  } catch (e) {
    if (isAbortError(e)) return;
    throw e;
  }
  let buf = '';
  try {
    for await (const chunk of chunks(stream)) {
      buf += chunk.toString('utf8');
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i).trim();
        buf = buf.slice(i + 1);
        if (line) yield toRuntimeEvent(JSON.parse(line) as Parameters<typeof toRuntimeEvent>[0]);
      }
    }
  } catch (e) {
    if (isAbortError(e) || options.signal?.aborted) return;
    throw mapDockerError(e, 'container', 'events');
  }
}
