/**
 * bin/tscompose: the bundle with its per-user V8 code cache, the unbundled fallback, and NODE_EXTRA_CA_CERTS
 * deferred until this process makes a TLS connection (src/util/extra-ca.ts). Needs `npm run build`.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const bin = join(root, 'bin/tscompose');
const dir = mkdtempSync(join(tmpdir(), 'tsc-launcher-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function tscompose(args: string[], env: Record<string, string | undefined> = {}) {
  const e: Record<string, string | undefined> = { ...process.env, TSCOMPOSE_RUNTIME: 'native', ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete e[k];
  return spawnSync(bin, args, { encoding: 'utf8', cwd: dir, env: e as NodeJS.ProcessEnv });
}

describe('bundle and code cache', () => {
  beforeAll(() => writeFileSync(join(dir, 'compose.yaml'), 'services:\n  web:\n    image: busybox\n'));

  test('the bundle runs, writes a cache per command once, and reuses it', () => {
    expect(existsSync(join(root, 'dist/tscompose.cjs'))).toBe(true);
    const cache = join(dir, 'xdg');
    const r1 = tscompose(['config', '--services'], { XDG_CACHE_HOME: cache });
    expect(r1.stderr).toBe('');
    expect(r1.stdout).toBe('web\n');
    const files = readdirSync(join(cache, 'tscompose'));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^code-v\d.*-config\.bin$/);
    expect(statSync(join(cache, 'tscompose')).mode & 0o777).toBe(0o700);
    const before = statSync(join(cache, 'tscompose', files[0]!)).mtimeMs;
    const r2 = tscompose(['config', '--services'], { XDG_CACHE_HOME: cache });
    expect(r2.stdout).toBe('web\n');
    expect(statSync(join(cache, 'tscompose', files[0]!)).mtimeMs).toBe(before);
    // Errors are formatted the same way through the bundle.
    const bad = tscompose(['-f', 'missing.yaml', 'config'], { XDG_CACHE_HOME: cache });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain('missing.yaml');
    expect(bad.stderr).not.toContain('    at ');
  });

  test('works as a program, through a symlink (npm link), and as `node bin/tscompose`', () => {
    const link = join(dir, 'tscompose-link');
    symlinkSync(bin, link);
    const env = { ...process.env, TSCOMPOSE_RUNTIME: 'native', XDG_CACHE_HOME: join(dir, 'xdg') };
    expect(spawnSync(link, ['config', '--services'], { encoding: 'utf8', cwd: dir, env }).stdout).toBe('web\n');
    expect(spawnSync(process.execPath, [bin, 'config', '--services'], { encoding: 'utf8', cwd: dir, env }).stdout).toBe('web\n');
  });

  test('a cache directory others can write is not used', () => {
    const cache = join(dir, 'shared');
    mkdirSync(join(cache, 'tscompose'), { recursive: true });
    chmodSync(join(cache, 'tscompose'), 0o777);
    const r = tscompose(['config', '--services'], { XDG_CACHE_HOME: cache });
    expect(r.stdout).toBe('web\n');
    expect(readdirSync(join(cache, 'tscompose'))).toEqual([]);
  });

  test('TSCOMPOSE_CODE_CACHE=0 writes nothing; TSCOMPOSE_NO_BUNDLE=1 runs dist/cli/main.js', () => {
    const cache = join(dir, 'off');
    expect(tscompose(['config', '--services'], { XDG_CACHE_HOME: cache, TSCOMPOSE_CODE_CACHE: '0' }).stdout).toBe('web\n');
    expect(existsSync(join(cache, 'tscompose'))).toBe(false);
    const r = tscompose(['config', '--services'], { XDG_CACHE_HOME: cache, TSCOMPOSE_NO_BUNDLE: '1' });
    expect(r.stdout).toBe('web\n');
    expect(existsSync(join(cache, 'tscompose'))).toBe(false);
  });

  test('an unreadable NODE_EXTRA_CA_CERTS costs nothing until a TLS connection is made', () => {
    // Node itself would warn at start-up about the missing file; deferred, a command without TLS says nothing.
    const r = tscompose(['config', '--services'], { XDG_CACHE_HOME: join(dir, 'xdg'), NODE_EXTRA_CA_CERTS: join(dir, 'nope.pem') });
    expect(r.stdout).toBe('web\n');
    expect(r.stderr).toBe('');
  });
});

describe('deferred extra CA certificates', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    const r = spawnSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { encoding: 'utf8' },
    );
    if (r.status !== 0) throw new Error(r.stderr);
    const { readFileSync } = await import('node:fs');
    server = createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  // A Node started without NODE_EXTRA_CA_CERTS, which then sets it as bin/launch.cjs does.
  // Asynchronous: the server answers from this process.
  function client(apply: boolean): Promise<string> {
    const mod = join(root, 'dist/util/extra-ca.js');
    const code = `
      process.env.NODE_EXTRA_CA_CERTS = ${JSON.stringify(join(dir, 'cert.pem'))};
      process.env.TSCOMPOSE_EXTRA_CA_CERTS_DEFERRED = '1';
      const { applyDeferredExtraCa } = await import(${JSON.stringify(mod)});
      if (${apply}) applyDeferredExtraCa();
      const out = [];
      try { out.push('fetch ' + (await (await fetch(${JSON.stringify(url)})).text())); } catch (e) { out.push('fetch failed'); }
      const https = await import('node:https');
      out.push(await new Promise((resolve) => https.get(${JSON.stringify(url)}, (res) => { let b = ''; res.on('data', (d) => (b += d)); res.on('end', () => resolve('https ' + b)); }).on('error', () => resolve('https failed'))));
      console.log(out.join(', '));
    `;
    const env = { ...process.env };
    delete env['NODE_EXTRA_CA_CERTS'];
    return new Promise((resolve) =>
      execFile(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', env }, (_e, stdout, stderr) =>
        resolve(stdout.trim() || stderr),
      ),
    );
  }

  test('fetch and https trust the deferred file once applied, and not before', async () => {
    expect(await client(false)).toBe('fetch failed, https failed');
    expect(await client(true)).toBe('fetch ok, https ok');
  });
});
