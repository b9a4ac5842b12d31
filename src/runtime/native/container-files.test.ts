/**
 * Secrets and configs of native containers as host files: where they are written, with which mode and owner.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TsComposeError } from '../../errors.js';
import { fileMountSource } from './container-files.js';

const root = process.getuid?.() === 0;
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsc-files-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const stat = (p: string): { mode: number; uid: number; gid: number } => {
  const st = statSync(p);
  return { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
};

describe('fileMountSource', () => {
  test('inline content: files/<n> in a 0700 directory, mode 0444 and owner 0:0 by default', async () => {
    const files = join(dir, 'c1', 'files');
    const p = await fileMountSource(files, 0, { target: '/run/secrets/a', content: 'value' });
    expect(p).toBe(join(files, '0'));
    expect(readFileSync(p, 'utf8')).toBe('value');
    expect(stat(files).mode).toBe(0o700);
    expect(stat(p).mode).toBe(0o444);
    if (root) expect(stat(p)).toMatchObject({ uid: 0, gid: 0 });
  });

  (root ? test : test.skip)("the reference's mode, uid and gid; a rewrite replaces the file", async () => {
    const files = join(dir, 'c2', 'files');
    await fileMountSource(files, 1, { target: '/x', content: 'old' });
    const p = await fileMountSource(files, 1, { target: '/x', content: 'new', mode: 0o400, uid: 1000, gid: 1001 });
    expect(stat(p)).toEqual({ mode: 0o400, uid: 1000, gid: 1001 });
    expect(readFileSync(p, 'utf8')).toBe('new');
  });

  test('a host file without mode or owner is bound as it is; with them it is copied', async () => {
    const host = join(dir, 'host.txt');
    writeFileSync(host, 'from-host', { mode: 0o644 });
    const files = join(dir, 'c3', 'files');
    expect(await fileMountSource(files, 0, { target: '/h', source: host })).toBe(host);
    const p = await fileMountSource(files, 1, { target: '/h', source: host, mode: 0o440 });
    expect(p).toBe(join(files, '1'));
    expect(readFileSync(p, 'utf8')).toBe('from-host');
    expect(stat(p).mode).toBe(0o440);
    expect(stat(host).mode).toBe(0o644);
  });

  test('a host directory is bound as it is; a missing source is a typed error', async () => {
    expect(await fileMountSource(join(dir, 'c4', 'files'), 0, { target: '/d', source: dir, mode: 0o400 })).toBe(dir);
    const e = await fileMountSource(join(dir, 'c4', 'files'), 1, { target: '/m', source: join(dir, 'nope') }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TsComposeError);
    expect((e as TsComposeError).code).toBe('TSC_FILE_MISSING');
  });
});
