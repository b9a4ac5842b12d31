/**
 * `docker export` and `docker commit` on Docker Engine (the runtime port's exportContainer and commitContainer):
 * `GET /containers/{id}/export` streams the container's root filesystem as a tar; `POST /commit` makes an image of
 * the container's changes, its config the container's with `changes` (Dockerfile instructions) applied, and pauses
 * the container meanwhile unless `pause: false` (moby daemon/commit.go, docker compose pkg/compose/commit.go).
 */
import type { Readable } from 'node:stream';
import type { CallOptions, CommitOptions } from '../runtime.js';
import { sig, type DockerCall } from './call.js';
import { splitRef } from './images.js';

export async function exportContainer(d: DockerCall, idOrName: string, options?: CallOptions): Promise<Readable> {
  const s = await d.call('container', idOrName, () => d.docker.getContainer(idOrName).export(sig(options)));
  return s as unknown as Readable;
}

/** The query of `POST /commit` for `options` (pure). Arrays become repeated parameters (`changes=…&changes=…`). */
export function commitQuery(options: CommitOptions = {}): Record<string, unknown> {
  const query: Record<string, unknown> = { pause: options.pause !== false };
  if (options.reference !== undefined && options.reference !== '') Object.assign(query, splitRef(options.reference));
  if (options.message !== undefined) query['comment'] = options.message;
  if (options.author !== undefined) query['author'] = options.author;
  if (options.changes?.length) query['changes'] = [...options.changes];
  return query;
}

export async function commitContainer(d: DockerCall, idOrName: string, options: CommitOptions = {}): Promise<{ id: string }> {
  const res = (await d.call('container', idOrName, () => d.docker.getContainer(idOrName).commit({ ...commitQuery(options), ...sig(options) }))) as {
    Id?: string;
    id?: string;
  };
  return { id: res.Id ?? res.id ?? '' };
}
