import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { freshDirs } from '../../fs/__fixtures__/fresh-dirs.js';
import { fetchUrl, parseChecksum, urlFileName } from './fetch.js';

const fresh = freshDirs('tsc-fetch-');
const BODY = 'hello from the server\n';
const SHA = `sha256:${createHash('sha256').update(BODY).digest('hex')}`;
const LAST_MODIFIED = 'Wed, 21 Oct 2015 07:28:00 GMT';

let server: Server;
let base = '';
beforeAll(async () => {
  server = createServer((req, res) => {
    const url = req.url ?? '/';
    if (url === '/files/hello.txt') {
      res.writeHead(200, { 'content-type': 'text/plain', 'last-modified': LAST_MODIFIED });
      res.end(BODY);
    } else if (url === '/redirect') {
      res.writeHead(302, { location: '/files/hello.txt' });
      res.end();
    } else if (url === '/' || url.startsWith('/plain')) {
      res.writeHead(200);
      res.end('no date');
    } else {
      res.writeHead(404);
      res.end('not found');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

describe('fetchUrl', () => {
  test('downloads into a new directory: named after the URL, mode 0600, Last-Modified as mtime, checksum ok', async () => {
    const tmpDir = fresh();
    const f = await fetchUrl(`${base}/files/hello.txt`, { tmpDir, checksum: SHA });
    expect(f.name).toBe('hello.txt');
    expect(path.basename(f.file)).toBe('hello.txt');
    expect(path.dirname(path.dirname(f.file))).toBe(tmpDir);
    expect(readdirSync(path.dirname(f.file))).toEqual(['hello.txt']);
    expect(readFileSync(f.file, 'utf8')).toBe(BODY);
    expect(statSync(f.file).mode & 0o7777).toBe(0o600);
    expect(statSync(f.file).mtime).toEqual(new Date(LAST_MODIFIED));
    expect(f.mtime).toEqual(new Date(LAST_MODIFIED));
    expect(f.digest).toBe(SHA);
  });

  test('a redirect is followed; the name comes from the URL as written', async () => {
    const f = await fetchUrl(`${base}/redirect`, { tmpDir: fresh() });
    expect(f.name).toBe('redirect');
    expect(readFileSync(f.file, 'utf8')).toBe(BODY);
  });

  test('no Last-Modified: the epoch; no path: __unnamed__', async () => {
    const f = await fetchUrl(`${base}/`, { tmpDir: fresh() });
    expect(f.name).toBe('__unnamed__');
    expect(f.mtime.getTime()).toBe(0);
    expect(statSync(f.file).mtimeMs).toBe(0);
  });

  test('a checksum mismatch fails and leaves nothing behind', async () => {
    const tmpDir = fresh();
    const wrong = `sha256:${'0'.repeat(64)}`;
    await expect(fetchUrl(`${base}/files/hello.txt`, { tmpDir, checksum: wrong })).rejects.toMatchObject({
      code: 'TSC_BUILD_CHECKSUM',
      expected: wrong,
      actual: SHA,
      message: `digest mismatch for ${base}/files/hello.txt: ${SHA} (expected: ${wrong})`,
    });
    expect(readdirSync(tmpDir)).toEqual([]);
    const sha512 = `sha512:${createHash('sha512').update(BODY).digest('hex')}`;
    expect((await fetchUrl(`${base}/files/hello.txt`, { tmpDir, checksum: sha512 })).digest).toBe(SHA);
  });

  test('an error status, a refused connection and a malformed checksum fail with FetchError', async () => {
    const tmpDir = fresh();
    await expect(fetchUrl(`${base}/missing`, { tmpDir })).rejects.toMatchObject({
      code: 'TSC_BUILD_FETCH',
      status: 404,
      message: expect.stringContaining('invalid response status 404'),
    });
    await expect(fetchUrl('http://127.0.0.1:1/x', { tmpDir })).rejects.toMatchObject({ code: 'TSC_BUILD_FETCH' });
    await expect(fetchUrl(`${base}/files/hello.txt`, { tmpDir, checksum: 'md5:abc' })).rejects.toMatchObject({ code: 'TSC_BUILD_FETCH' });
    expect(existsSync(tmpDir) && readdirSync(tmpDir).length).toBe(0);
  });
});

describe('names and checksums', () => {
  test('the file name BuildKit gives a URL', () => {
    expect(urlFileName('https://example.com/a/b/tool.tar.gz?x=1#y')).toBe('tool.tar.gz');
    expect(urlFileName('https://example.com/dir/')).toBe('dir');
    expect(urlFileName('https://example.com')).toBe('__unnamed__');
    expect(urlFileName('https://example.com/a%20b.txt')).toBe('a b.txt');
    expect(urlFileName('https://example.com/%0a')).toBe('download');
    expect(urlFileName('https://example.com/bad%zz')).toBe('__unnamed__');
  });
  test('go-digest formats', () => {
    expect(parseChecksum('u', SHA)).toEqual({ algorithm: 'sha256', digest: SHA });
    expect(() => parseChecksum('u', 'sha256:abc')).toThrow(/length/);
    expect(() => parseChecksum('u', 'nocolon')).toThrow(/format/);
    expect(() => parseChecksum('u', `sha1:${'a'.repeat(40)}`)).toThrow(/unsupported/);
  });
});
