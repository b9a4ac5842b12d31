/**
 * Docker's secrets and configs: which are bound and which copied in, and the tar the copy sends.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { TsComposeError } from '../../errors.js';
import type { ContainerSpec } from '../runtime.js';
import { dockerFiles, filesTar } from './container-files.js';

let dir: string;
let host: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsc-dfiles-'));
  host = join(dir, 'host.txt');
  writeFileSync(host, 'from-host');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const spec = (files: NonNullable<ContainerSpec['files']>, extra: Partial<ContainerSpec> = {}): ContainerSpec => ({
  name: 'c',
  image: 'busybox',
  labels: {},
  files,
  ...extra,
});

async function entries(tar: Readable): Promise<{ name: string; mode: number; uid: number; gid: number; body: string }[]> {
  const { extract } = await import('tar-stream');
  const out: { name: string; mode: number; uid: number; gid: number; body: string }[] = [];
  const x = extract();
  x.on('entry', (h, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: unknown) => chunks.push(c as Buffer));
    stream.on('end', () => {
      out.push({ name: h.name, mode: h.mode ?? 0, uid: h.uid ?? 0, gid: h.gid ?? 0, body: Buffer.concat(chunks).toString() });
      next();
    });
  });
  await new Promise<void>((resolve, reject) => {
    x.on('finish', resolve);
    x.on('error', reject);
    tar.pipe(x);
  });
  return out;
}

describe('dockerFiles', () => {
  test('inline sources are copied; a host file is bound unless the reference gives a mode or owner', async () => {
    const f = await dockerFiles(
      spec([
        { target: '/run/secrets/env', content: 'v1' },
        { target: '/run/secrets/plain', source: host },
        { target: '/run/secrets/owned', source: host, mode: 0o400, uid: 1000, gid: 1000 },
        { target: '/d', source: dir, mode: 0o400 },
      ]),
    );
    expect(f.bound.map((b) => b.target)).toEqual(['/run/secrets/plain', '/d']);
    expect(f.copied.map((c) => [c.target, String(c.content), c.mode, c.uid, c.gid])).toEqual([
      ['/run/secrets/env', 'v1', 0o444, 0, 0],
      ['/run/secrets/owned', 'from-host', 0o400, 1000, 1000],
    ]);
    expect(f.keepOwners).toBe(true);
  });

  test('a read-only root filesystem keeps host files bound; no owner given: the engine picks root', async () => {
    const f = await dockerFiles(
      spec(
        [
          { target: '/x', source: host, mode: 0o400 },
          { target: '/y', content: 'c' },
        ],
        { readOnly: true },
      ),
    );
    expect(f.bound.map((b) => b.target)).toEqual(['/x']);
    expect(f.keepOwners).toBe(false);
  });

  test('a missing host file with a mode is a typed error', async () => {
    const e = await dockerFiles(spec([{ target: '/x', source: join(dir, 'nope'), uid: 1 }])).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TsComposeError);
    expect((e as TsComposeError).code).toBe('TSC_FILE_MISSING');
  });

  test('the tar: paths relative to /, with mode and owner', async () => {
    expect(await filesTar([])).toBeUndefined();
    const tar = await filesTar([{ target: '/run/secrets/a', content: 'abc', mode: 0o400, uid: 1000, gid: 1001 }]);
    expect(await entries(tar!)).toEqual([{ name: 'run/secrets/a', mode: 0o400, uid: 1000, gid: 1001, body: 'abc' }]);
  });
});
