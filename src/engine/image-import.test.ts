import { describe, expect, test } from '@jest/globals';
import { Readable } from 'node:stream';
import tarStream from 'tar-stream';
import { UsageError } from '../errors.js';
import { FakeRuntime } from '../runtime/fake/fake-runtime.js';
import { MemorySink } from './events.js';
import { checkImportOptions, importImage } from './image-tools.js';

async function rootfsTar(): Promise<Buffer> {
  const pack = tarStream.pack();
  pack.entry({ name: 'etc/hello', mode: 0o644, mtime: new Date(0) }, 'hi\n');
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack as unknown as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

describe('image import (engine)', () => {
  test('checkImportOptions: docker-worded usage errors for changes, tag, platform', () => {
    expect(() => checkImportOptions({ changes: ['CMD ["sh"]', 'ENV A=b'], tag: 'x:1' })).not.toThrow();
    expect(() => checkImportOptions({ changes: ['RUN make'] })).toThrow(
      expect.objectContaining({ code: 'TSC_USAGE', message: 'run is not a valid change command' }) as unknown as Error,
    );
    expect(() => checkImportOptions({ changes: ['ADD . /'] })).toThrow(UsageError);
    expect(() => checkImportOptions({ platform: 'linux/nope-arch' })).toThrow(UsageError);
    expect(() => checkImportOptions({ tag: 'Bad:x' })).toThrow(UsageError);
    expect(() => checkImportOptions({ tag: `x@sha256:${'a'.repeat(64)}` })).toThrow(/names a digest/);
  });

  test('importImage on the fake: one runtime call, the id back, the tag and labels on the image', async () => {
    const rt = new FakeRuntime({});
    const engine = { runtime: rt, events: new MemorySink() };
    const id = await importImage(engine, Readable.from([await rootfsTar()]), { tag: 'imp:1', changes: ['LABEL a=b'], message: 'm' });
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(rt.calls.filter((c) => c.method === 'importImage')).toEqual([{ method: 'importImage', args: ['imp:1'] }]);
    const details = await rt.inspectImageDetails('imp:1');
    expect(details).toMatchObject({ id, repoTags: ['imp:1'], config: { labels: { a: 'b' } } });
    await expect(importImage(engine, Readable.from([Buffer.from('plain text')]), { source: 'notes.txt' })).rejects.toMatchObject({
      code: 'TSC_IMAGE_IMPORT_NOT_TAR',
      message: expect.stringContaining('notes.txt') as unknown,
    });
    // a refused --change never reaches the runtime
    await expect(importImage(engine, Readable.from([await rootfsTar()]), { changes: ['RUN x'] })).rejects.toThrow(UsageError);
    expect(rt.calls.filter((c) => c.method === 'importImage')).toHaveLength(2);
  });
});
