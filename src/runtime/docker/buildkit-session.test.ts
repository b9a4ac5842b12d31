import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bytesField, readFields } from './buildkit-proto.js';
import { secretValue, sessionHandlers, type BuildSecret } from './buildkit-session.js';

let dir: string;
let secrets: BuildSecret[];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tsc-bk-session-'));
  await writeFile(path.join(dir, 'token'), 's3cret\n');
  await writeFile(path.join(dir, 'big'), Buffer.alloc(500 * 1024 + 1));
  secrets = [
    { id: 'token', file: path.join(dir, 'token') },
    { id: 'api', env: 'from-env' },
    { id: 'gone', file: path.join(dir, 'missing') },
    { id: 'big', file: path.join(dir, 'big') },
  ];
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('build secrets over the session', () => {
  test("a file secret is the file's content, read when asked; an environment one its value", async () => {
    expect((await secretValue(secrets, 'token')).toString()).toBe('s3cret\n');
    expect((await secretValue(secrets, 'api')).toString()).toBe('from-env');
  });

  test('an unknown id or a missing file is NotFound (gRPC code 5); more than 500 KiB is refused', async () => {
    await expect(secretValue(secrets, 'nope')).rejects.toMatchObject({ code: 5, message: 'secret nope not found' });
    await expect(secretValue(secrets, 'gone')).rejects.toMatchObject({ code: 5 });
    await expect(secretValue(secrets, 'big')).rejects.toMatchObject({ code: 3 });
  });

  test('GetSecret answers {data}, Health/Check SERVING, Auth/Credentials empty; the methods are the advertised ones', async () => {
    const h = sessionHandlers(secrets);
    expect(Object.keys(h).sort()).toEqual([
      '/grpc.health.v1.Health/Check',
      '/moby.buildkit.secrets.v1.Secrets/GetSecret',
      '/moby.filesync.v1.Auth/Credentials',
    ]);
    const res = await h['/moby.buildkit.secrets.v1.Secrets/GetSecret']!(bytesField(1, 'api'));
    expect(readFields(res)).toEqual([{ no: 1, bytes: Buffer.from('from-env') }]);
    expect(readFields(await h['/grpc.health.v1.Health/Check']!(Buffer.alloc(0)))).toEqual([{ no: 1, varint: 1n }]);
    expect(await h['/moby.filesync.v1.Auth/Credentials']!(bytesField(1, 'registry-1.docker.io'))).toHaveLength(0);
  });
});
