/**
 * `docker export` and `docker commit`, simulated by the in-memory fake (it has no file system):
 * - exportContainer: a tar of what `copyToContainer` put into the container, each archive's entries under the
 *   directory it was copied to (`/tmp` + `hello` → `tmp/hello`), in copy order;
 * - commitContainer: a new image whose id hashes the container, its copied files and the options; its labels are
 *   the container image's, the container's and the changes' (Docker's commit config is the container's config with
 *   the changes applied); tagged with `reference` (`:latest` by default); a `commit` event is emitted.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import tarStream from 'tar-stream';
import type { CommitOptions } from '../runtime.js';
import type { FakeState } from './state.js';

/** The entries of one tar archive (buffered). */
async function unpack(data: Buffer): Promise<{ header: tarStream.Header; body: Buffer }[]> {
  const extract = tarStream.extract();
  const out: { header: tarStream.Header; body: Buffer }[] = [];
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      const parts: Buffer[] = [];
      stream.on('data', (d: unknown) => parts.push(d as Buffer));
      stream.on('end', () => {
        out.push({ header, body: Buffer.concat(parts) });
        next();
      });
      stream.resume();
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  extract.end(data);
  await done;
  return out;
}

export async function exportContainer(s: FakeState, idOrName: string): Promise<Readable> {
  const c = s.container(idOrName);
  const pack = tarStream.pack();
  for (const [dir, data] of c.files) {
    const prefix = dir.replace(/^\/+|\/+$/g, '');
    let entries: { header: tarStream.Header; body: Buffer }[];
    try {
      entries = await unpack(data);
    } catch {
      continue; // not a tar: nothing the fake can place in a file system
    }
    for (const e of entries) {
      const name = prefix === '' ? e.header.name : `${prefix}/${e.header.name.replace(/^\.\//, '')}`;
      pack.entry({ ...e.header, name }, e.body);
    }
  }
  pack.finalize();
  return Readable.from(pack as unknown as AsyncIterable<Buffer>);
}

export async function commitContainer(s: FakeState, idOrName: string, options: CommitOptions = {}): Promise<{ id: string }> {
  const c = s.container(idOrName);
  const { parseChanges } = await import('../../lib/image/import.js');
  const config = parseChanges(options.changes ?? []);
  const hash = createHash('sha256').update(c.id);
  for (const [dir, data] of c.files) hash.update(dir).update(data);
  hash.update(JSON.stringify([options.reference ?? '', options.author ?? '', options.message ?? '', options.changes ?? [], s.calls.length]));
  const id = `sha256:${hash.digest('hex')}`;
  s.imageLabels.set(id, { ...(s.imageLabels.get(c.imageId) ?? {}), ...(c.spec.labels ?? {}), ...(config.Labels ?? {}) });
  if (options.reference !== undefined && options.reference !== '') {
    s.retag(/:[^/:]*$/.test(options.reference) ? options.reference : `${options.reference}:latest`, id);
  } else s.images.set(id, { id, repoTags: [], repoDigests: [] });
  s.emitEvent('image', 'commit', id, { name: options.reference ?? id });
  return { id };
}
