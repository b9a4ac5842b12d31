/**
 * Root-only integration test: state directories that create networks at the same time never get the same subnet.
 * Each state directory has its own lock and IPAM; the host-wide subnet lock (HOST_SUBNET_LOCK) is what keeps two of
 * them (two parallel test suites, two users' runtimes) from both seeing a subnet free and putting one gateway on two
 * bridges (found as requests hanging in CI: the replies of one network were routed to the other's bridge).
 * Skipped unless root with `ip` and `nft`. Makes only bridges (no traffic) and removes them.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { NativeNetworks } from './network.js';

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const enabled = process.getuid?.() === 0 && has('ip') && has('nft');
const d = enabled ? describe : describe.skip;

const STATES = 4;
const PER_STATE = 2;

d('subnets across state directories', () => {
  const tag = randomBytes(3).toString('hex');
  const dirs: string[] = [];
  const made: { nets: NativeNetworks; key: string }[] = [];

  afterAll(async () => {
    for (const { nets, key } of made) await nets.removeNetwork(key, { force: true }).catch((e: unknown) => console.error(e));
    for (const dir of dirs) await fs.rm(dir, { recursive: true, force: true });
  });

  it('networks created in parallel from several state directories get distinct subnets', async () => {
    const stores = await Promise.all(
      Array.from({ length: STATES }, async () => {
        const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tsc-subnets-'));
        dirs.push(dir);
        return new NativeNetworks({ stateDir: dir });
      }),
    );
    const jobs = stores.flatMap((nets, s) =>
      Array.from({ length: PER_STATE }, (_, i) => {
        const key = `tscs${tag}_${s}_${i}`;
        made.push({ nets, key });
        return nets.createNetwork({ key });
      }),
    );
    const subnets = (await Promise.all(jobs)).map((r) => r.network.subnet);
    expect(new Set(subnets).size).toBe(subnets.length);
  });

  it('a network whose bridge went away is refused its subnet when another state directory took it meanwhile', async () => {
    const mk = async () => {
      const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tsc-subnets-'));
      dirs.push(dir);
      return new NativeNetworks({ stateDir: dir });
    };
    const [a, b] = [await mk(), await mk()];
    const ka = `tscs${tag}_ra`;
    const kb = `tscs${tag}_rb`;
    made.push({ nets: a, key: ka }, { nets: b, key: kb });
    const first = (await a.createNetwork({ key: ka })).network;
    spawnSync('ip', ['link', 'del', first.bridge]); // as a reboot leaves it: the record stays, the bridge is gone
    // Another state directory takes it (given explicitly here, so no parallel test can take it first).
    expect((await b.createNetwork({ key: kb, ipam: [{ subnet: first.subnet }] })).network.subnet).toBe(first.subnet);
    await expect(a.createNetwork({ key: ka })).rejects.toThrow(new RegExp(`subnet ${first.subnet.replace(/\./g, '\\.')} is now used by`));
    await b.removeNetwork(kb, { force: true });
  });
});
