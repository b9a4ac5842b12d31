import { afterAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import tarStream from 'tar-stream';
import { FakeRuntime } from '../runtime/fake/fake-runtime.js';
import { MemorySink } from './events.js';
import { commitService, exportService, specifiedContainer, validateOutputPath } from './export-commit.js';
import { LABEL_CONTAINER_NUMBER, LABEL_ONEOFF, LABEL_PROJECT, LABEL_SERVICE } from './labels.js';

const dir = mkdtempSync(join(tmpdir(), 'tsc-export-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function harness() {
  const rt = new FakeRuntime({ images: { 'busybox:latest': `sha256:${'b'.repeat(64)}` } });
  const sink = new MemorySink();
  const add = async (name: string, service: string, number: number, opts: { oneoff?: boolean; start?: boolean } = {}) => {
    const labels = {
      [LABEL_PROJECT]: 'demo',
      [LABEL_SERVICE]: service,
      [LABEL_CONTAINER_NUMBER]: String(number),
      [LABEL_ONEOFF]: opts.oneoff ? 'True' : 'False',
    };
    const { id } = await rt.createContainer({ name, image: 'busybox:latest', labels });
    if (opts.start !== false) await rt.startContainer(id);
    return id;
  };
  return { rt, sink, engine: { runtime: rt, events: sink }, add };
}

function tarOf(name: string, content: string): Readable {
  const pack = tarStream.pack();
  pack.entry({ name, mode: 0o644, mtime: new Date(0) }, content);
  pack.finalize();
  return Readable.from(pack as unknown as AsyncIterable<Buffer>);
}

describe('export and commit (engine)', () => {
  test('specifiedContainer: running only, by number, one-offs after the service own; compose wording', async () => {
    const { engine, add } = await harness();
    await add('demo-run-x', 'web', 1, { oneoff: true });
    await add('demo-web-2', 'web', 2);
    await add('demo-web-3', 'web', 3, { start: false });
    expect((await specifiedContainer(engine, 'demo', 'web')).name).toBe('demo-web-2');
    expect((await specifiedContainer(engine, 'demo', 'web', 2)).name).toBe('demo-web-2');
    await expect(specifiedContainer(engine, 'demo', 'web', 3)).rejects.toThrow('service "web" is not running container #3');
    await expect(specifiedContainer(engine, 'demo', 'db')).rejects.toThrow('service "db" is not running');
  });

  test('exportService: the tar to a file (0600, atomically) or to stdout; Exporting/Exported', async () => {
    const { rt, engine, sink, add } = await harness();
    const id = await add('demo-web-1', 'web', 1);
    await rt.copyToContainer(id, '/etc', tarOf('greeting', 'hello\n'));
    const out = join(dir, 'web.tar');
    await exportService(engine, 'demo', 'web', { output: out });
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(readFileSync(out).includes(Buffer.from('etc/greeting'))).toBe(true);
    expect(sink.lines()).toEqual(['Container demo-web-1 working Exporting', 'Container demo-web-1 done Exported']);

    const stdout = new PassThrough();
    const chunks: Buffer[] = [];
    stdout.on('data', (c: Buffer) => chunks.push(c));
    await exportService(engine, 'demo', 'web', { stdout });
    expect(Buffer.concat(chunks).includes(Buffer.from('hello\n'))).toBe(true);
    expect(rt.calls.filter((c) => c.method === 'exportContainer')).toHaveLength(2);

    await exportService(engine, 'demo', 'web', { output: join(dir, 'dry.tar'), dryRun: true });
    expect(() => statSync(join(dir, 'dry.tar'))).toThrow();
    expect(rt.calls.filter((c) => c.method === 'exportContainer')).toHaveLength(2);
  });

  test('validateOutputPath: a missing directory and a directory are refused as docker words it', () => {
    expect(() => validateOutputPath(join(dir, 'no', 'such', 'x.tar'))).toThrow(
      `invalid output path: directory "${join(dir, 'no', 'such')}" does not exist`,
    );
    expect(() => validateOutputPath(dir)).toThrow('is a directory');
    expect(() => validateOutputPath(join(dir, 'fine.tar'))).not.toThrow();
    expect(() => validateOutputPath('relative.tar')).not.toThrow();
  });

  test('commitService: the runtime commit with the options; Committing / Committed as <id>; dry run commits nothing', async () => {
    const { rt, engine, sink, add } = await harness();
    await add('demo-web-1', 'web', 1);
    const id = await commitService(engine, 'demo', 'web', { reference: 'mine:1', author: 'me', message: 'm', changes: ['LABEL a=b'], pause: false });
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(sink.lines()).toEqual(['Container demo-web-1 working Committing', `Container demo-web-1 done Committed as ${id}`]);
    expect((await rt.inspectImageDetails('mine:1')).config.labels).toMatchObject({ a: 'b', [LABEL_SERVICE]: 'web' });
    expect(rt.calls.filter((c) => c.method === 'commitContainer')).toEqual([{ method: 'commitContainer', args: [expect.any(String), 'mine:1'] }]);
    expect(await commitService(engine, 'demo', 'web', { dryRun: true })).toBeUndefined();
    expect(rt.calls.filter((c) => c.method === 'commitContainer')).toHaveLength(1);
  });
});
