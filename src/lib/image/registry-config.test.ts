import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isInsecureRegistry, loadRegistryConfig, lookupCredentials } from './registry-config.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsc-regcfg-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('registry config', () => {
  const none = { mirrors: [], insecure: [], daemonJsonPath: undefined, dockerConfigPath: undefined };

  test('the given settings first, then daemon.json', async () => {
    const daemon = join(dir, 'daemon.json');
    await writeFile(
      daemon,
      JSON.stringify({ 'registry-mirrors': ['http://127.0.0.1:5001/', 'http://m1:5000'], 'insecure-registries': ['10.0.0.0/8', 'reg:5000'] }),
    );
    const cfg = loadRegistryConfig({
      mirrors: ['http://m1:5000', 'mirror.example'],
      insecure: ['m1:5000'],
      daemonJsonPath: daemon,
      dockerConfigPath: '/d/config.json',
    });
    expect(cfg).toEqual({
      mirrors: ['http://m1:5000', 'https://mirror.example', 'http://127.0.0.1:5001'],
      insecure: ['m1:5000', '10.0.0.0/8', 'reg:5000'],
      dockerConfigPath: '/d/config.json',
    });
  });

  test('a missing or malformed daemon.json adds nothing; none is read without a path', async () => {
    const bad = join(dir, 'bad.json');
    await writeFile(bad, '{ not json');
    expect(loadRegistryConfig({ ...none, daemonJsonPath: join(dir, 'missing.json') })).toEqual({ mirrors: [], insecure: [] });
    expect(loadRegistryConfig({ ...none, daemonJsonPath: bad })).toEqual({ mirrors: [], insecure: [] });
    expect(loadRegistryConfig({ ...none, mirrors: ['127.0.0.1:5001/'] })).toEqual({ mirrors: ['https://127.0.0.1:5001'], insecure: [] });
  });

  test('plain HTTP decisions', () => {
    const cfg = { insecure: ['m1:5000', '10.0.0.0/8', 'plain.example'] };
    expect(isInsecureRegistry('localhost:5000', cfg)).toBe(true);
    expect(isInsecureRegistry('127.0.0.1:5001', cfg)).toBe(true);
    expect(isInsecureRegistry('[::1]:5000', cfg)).toBe(true);
    expect(isInsecureRegistry('m1:5000', cfg)).toBe(true);
    expect(isInsecureRegistry('m1:5001', cfg)).toBe(false);
    expect(isInsecureRegistry('10.1.2.3:5000', cfg)).toBe(true);
    expect(isInsecureRegistry('11.1.2.3:5000', cfg)).toBe(false);
    expect(isInsecureRegistry('plain.example:443', cfg)).toBe(true);
    expect(isInsecureRegistry('docker.io', cfg)).toBe(false);
  });

  test('credentials from config.json auths', async () => {
    const p = join(dir, 'config.json');
    await writeFile(
      p,
      JSON.stringify({
        auths: {
          'https://index.docker.io/v1/': { auth: Buffer.from('hubuser:hubpass').toString('base64') },
          'reg.example:5000': { username: 'u', password: 'p:w' },
        },
      }),
    );
    expect(lookupCredentials('docker.io', p)).toEqual({ username: 'hubuser', password: 'hubpass' });
    expect(lookupCredentials('reg.example:5000', p)).toEqual({ username: 'u', password: 'p:w' });
    expect(lookupCredentials('other:5000', p)).toBeUndefined();
    expect(lookupCredentials('x', join(dir, 'nope.json'))).toBeUndefined();
    expect(lookupCredentials('docker.io', undefined)).toBeUndefined();
  });
});
