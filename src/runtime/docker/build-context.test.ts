import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import tar from 'tar-fs';
import tarStream from 'tar-stream';
import { contextEntries, packContext, readDockerignore } from './build-context.js';

let dir: string;

async function tarNames(stream: Readable): Promise<Map<string, string>> {
  const out = await mkdtemp(path.join(tmpdir(), 'tsc-untar-'));
  const names = new Map<string, string>();
  await new Promise<void>((resolve, reject) => {
    const extract = tar.extract(out, {
      ignore: (_name, header) => {
        if (header && header.type === 'file') names.set(header.name, '');
        return false;
      },
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
    stream.on('error', reject);
    stream.pipe(extract);
  });
  const { readFile } = await import('node:fs/promises');
  for (const n of names.keys()) names.set(n, await readFile(path.join(out, n), 'utf8'));
  await rm(out, { recursive: true, force: true });
  return names;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tsc-ctx-'));
  await writeFile(path.join(dir, 'Dockerfile'), 'FROM busybox\n');
  await writeFile(path.join(dir, '.dockerignore'), '# comment\n\nDockerfile\n.dockerignore\nnode_modules\n*.log\nsecret/\n!secret/keep.txt\n');
  await writeFile(path.join(dir, 'app.txt'), 'app');
  await writeFile(path.join(dir, 'debug.log'), 'log');
  await mkdir(path.join(dir, 'node_modules', 'x'), { recursive: true });
  await writeFile(path.join(dir, 'node_modules', 'x', 'index.js'), '');
  await mkdir(path.join(dir, 'secret'));
  await writeFile(path.join(dir, 'secret', 'key.pem'), 'k');
  await writeFile(path.join(dir, 'secret', 'keep.txt'), 'keep');
  await mkdir(path.join(dir, 'src'));
  await writeFile(path.join(dir, 'src', 'main.txt'), 'main');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('build contexts', () => {
  test('.dockerignore patterns, with exceptions, and the Dockerfile always included', async () => {
    const patterns = await readDockerignore(dir);
    // Cleaned as BuildKit reads them (`secret/` → `secret`).
    expect(patterns).toEqual(['Dockerfile', '.dockerignore', 'node_modules', '*.log', 'secret', '!secret/keep.txt']);
    expect(await contextEntries(dir, patterns, ['Dockerfile', '.dockerignore'])).toEqual([
      'app.txt',
      'secret/keep.txt',
      'src',
      'src/main.txt',
      'Dockerfile',
      '.dockerignore',
    ]);
    expect(await readDockerignore(path.join(dir, 'src'))).toEqual([]);
  });

  test('packContext sends exactly those files', async () => {
    const packed = await packContext(dir);
    expect(packed.dockerfile).toBe('Dockerfile');
    const files = await tarNames(packed.tar);
    expect([...files.keys()].sort()).toEqual(['.dockerignore', 'Dockerfile', 'app.txt', 'secret/keep.txt', 'src/main.txt']);
  });

  test('dockerfile_inline is added under a generated name', async () => {
    const packed = await packContext(dir, 'Dockerfile', 'FROM busybox\nRUN true\n');
    expect(packed.dockerfile).toMatch(/^\.tscompose-inline-[0-9a-f]{12}\.Dockerfile$/);
    const files = await tarNames(packed.tar);
    expect(files.get(packed.dockerfile)).toBe('FROM busybox\nRUN true\n');
    expect(files.has('Dockerfile')).toBe(false);
    expect(files.has('app.txt')).toBe(true);
  });

  test('extra files go in with their directories and modes; a rewritten Dockerfile keeps its own ignore file', async () => {
    const packed = await packContext(dir, 'Dockerfile', 'FROM busybox\nCOPY .tscompose-heredocs/1/EOF /x\n', {
      files: [
        { path: '.tscompose-heredocs/1/EOF', content: 'hello\n', mode: 0o644 },
        { path: '.tscompose-heredocs/2/run', content: '#!/bin/sh\n', mode: 0o755 },
      ],
      rewritten: true,
    });
    const headers = new Map<string, { type: string; mode: number }>();
    await new Promise<void>((resolve, reject) => {
      const extract = tarStream.extract();
      extract.on('entry', (h, stream, next) => {
        headers.set(h.name, { type: h.type ?? 'file', mode: (h.mode ?? 0) & 0o777 });
        stream.on('end', next);
        stream.resume();
      });
      extract.on('finish', resolve);
      extract.on('error', reject);
      packed.tar.pipe(extract);
    });
    expect(headers.get('.tscompose-heredocs')).toEqual({ type: 'directory', mode: 0o755 });
    expect(headers.get('.tscompose-heredocs/1')).toEqual({ type: 'directory', mode: 0o755 });
    expect(headers.get('.tscompose-heredocs/1/EOF')).toEqual({ type: 'file', mode: 0o644 });
    expect(headers.get('.tscompose-heredocs/2/run')).toEqual({ type: 'file', mode: 0o755 });
    expect(headers.get(packed.dockerfile)).toMatchObject({ type: 'file' });
    expect(headers.has('debug.log')).toBe(false); // .dockerignore still applies
  });

  test('a missing context rejects', async () => {
    await expect(packContext(path.join(dir, 'nope'))).rejects.toThrow();
  });
});

describe('.dockerignore case', () => {
  test('patterns are case-sensitive, as Docker matches them (`build` does not hide `Build`)', async () => {
    const d = await mkdtemp(path.join(tmpdir(), 'tsc-ctx-case-'));
    try {
      await writeFile(path.join(d, 'build'), 'x');
      await writeFile(path.join(d, 'Build'), 'y');
      expect(await contextEntries(d, ['build'])).toEqual(['Build']);
    } finally {
      await rm(d, { recursive: true, force: true });
    }
  });
});

describe('a Dockerfile of its own ignore file', () => {
  test('<Dockerfile>.dockerignore wins over .dockerignore (BuildKit, as docker compose builds)', async () => {
    const d = await mkdtemp(path.join(tmpdir(), 'tsc-ctx-df-'));
    try {
      await writeFile(path.join(d, 'app.Dockerfile'), 'FROM busybox\n');
      await writeFile(path.join(d, 'app.Dockerfile.dockerignore'), 'b.txt\n');
      await writeFile(path.join(d, '.dockerignore'), 'a.txt\n');
      await writeFile(path.join(d, 'a.txt'), 'a');
      await writeFile(path.join(d, 'b.txt'), 'b');
      const packed = await packContext(d, 'app.Dockerfile');
      expect([...(await tarNames(packed.tar)).keys()].sort()).toEqual(['.dockerignore', 'a.txt', 'app.Dockerfile', 'app.Dockerfile.dockerignore']);
    } finally {
      await rm(d, { recursive: true, force: true });
    }
  });
});
