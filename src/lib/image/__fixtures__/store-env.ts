/** What the image store tests share: a temp dir, a fake registry, a port nobody listens on, and tar helpers. */
import { afterAll, beforeAll } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tarStream from 'tar-stream';
import { ImageStore } from '../store.js';
import { FakeRegistry } from './fake-registry.js';

export interface StoreEnv {
  dir: string;
  reg: FakeRegistry;
  /** `127.0.0.1:PORT` with nothing listening. */
  closed: string;
  /** A fresh store under `dir`, with no mirrors and no Docker config unless `extra` says otherwise. */
  newStore(extra?: Partial<ConstructorParameters<typeof ImageStore>[1]>): ImageStore;
}

/** Registers the suite's beforeAll/afterAll and returns the environment they fill. */
export function useStoreEnv(): StoreEnv {
  let n = 0;
  const env: StoreEnv = {
    dir: '',
    reg: undefined as unknown as FakeRegistry,
    closed: '',
    newStore: (extra = {}) =>
      new ImageStore(join(env.dir, `store-${n++}`), {
        mirrors: [],
        insecure: [],
        dockerConfigPath: join(env.dir, 'no-docker-config.json'),
        ...extra,
      }),
  };
  beforeAll(async () => {
    env.dir = await mkdtemp(join(tmpdir(), 'tsc-store-'));
    env.reg = await new FakeRegistry().start();
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    env.closed = `127.0.0.1:${(srv.address() as AddressInfo).port}`;
    await new Promise((r) => srv.close(r));
  });
  afterAll(async () => {
    await env.reg.stop();
    await rm(env.dir, { recursive: true, force: true });
  });
  return env;
}

export async function collect(r: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export async function untar(b: Buffer): Promise<Map<string, { type: string; body: Buffer; linkname?: string }>> {
  const out = new Map<string, { type: string; body: Buffer; linkname?: string }>();
  const ex = tarStream.extract();
  const done = (async () => {
    for await (const e of ex) {
      out.set(e.header.name, {
        type: e.header.type ?? 'file',
        body: await collect(e),
        ...(e.header.linkname ? { linkname: e.header.linkname } : {}),
      });
    }
  })();
  ex.end(b);
  await done;
  return out;
}
