/**
 * Root-only: the order of the kernel's side and the state's record when endpoints and networks go (the rule of
 * endpoint-release.ts): what a kill right after a save would leave is looked at each time a state is saved. Skipped
 * unless root with `ip` and `nft`.
 */
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { netnsName, removeNetns } from './bridge.js';
import { connect, disconnect } from './endpoint-connect.js';
import { releaseContainers } from './endpoint-release.js';
import { createNetwork, removeNetwork } from './network-lifecycle.js';
import { NetStateStore, type EndpointRecord, type NetState } from './network-state.js';
import { runRaw } from './run.js';

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const d = process.getuid?.() === 0 && has('ip') && has('nft') ? describe : describe.skip;
const tag = randomBytes(3).toString('hex');

/** A store that tells each time a state is saved (before the write, which waits for what it returns). */
class WatchedStore extends NetStateStore {
  onSave: (() => unknown) | undefined;
  override async locked<T>(fn: (s: NetState, save: (s: NetState) => Promise<void>) => Promise<T>): Promise<T> {
    return super.locked((state, save) =>
      fn(state, async (next) => {
        await this.onSave?.();
        await save(next);
      }),
    );
  }
}

d('native networking: the kernel side goes before the record (root)', () => {
  it('a disconnect, a forced removal and a release delete the veth, the netns and the port rules before saving the state without them; a removal waits for beforeForget', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tsc-netk-'));
    const store = new WatchedStore({ stateDir: dir });
    const key = `tsck${tag}`;
    const ids = [`kord${tag}`, `kor2${tag}`];
    // What exists of an endpoint when a state is saved: a kill right after the save must leave nothing unnamed.
    const seen: string[] = [];
    const watch = (ep: EndpointRecord): void => {
      store.onSave = () => seen.push(`veth ${existsSync(`/sys/class/net/${ep.hostVeth}`)}, netns ${existsSync(`/run/netns/${ep.netns}`)}`);
    };
    try {
      await createNetwork(store, { key });
      const ep = await connect(store, { network: key, endpointId: ids[0]! });
      watch(ep);
      await disconnect(store, key, ids[0]!, { dropNetns: true });
      expect(seen).toEqual(['veth false, netns false']);
      store.onSave = undefined;
      const ep2 = await connect(store, { network: key, endpointId: ids[1]! });
      seen.length = 0;
      watch(ep2);
      await removeNetwork(store, key, { force: true });
      expect(seen[0]).toBe('veth false, netns false'); // the endpoint's save, before the network's own
      expect((await store.read()).networks[key]).toBeUndefined();

      // A release (endpoint-release.ts) of an endpoint with a published port: its forwarding rule goes first too.
      await createNetwork(store, { key });
      const ep3 = await connect(store, { network: key, endpointId: ids[0]!, ports: [{ containerPort: 8080, protocol: 'tcp' }] });
      const table = (await store.read()).networks[key]!.bridge;
      const rules = async (): Promise<string> => (await runRaw(['nft', 'list', 'table', 'ip', table])).stdout;
      const port = ep3.ports[0]!.hostPort;
      expect(await rules()).toContain(`dport ${port}`);
      let atSave: string | undefined;
      store.onSave = async () => void (atSave ??= await rules());
      await releaseContainers(store, [{ endpointId: ids[0]! }]);
      expect(atSave).toBeDefined();
      expect(atSave).not.toContain(`dport ${port}`);

      // The caller's own teardown (beforeForget: its resolver's entry) is waited for before the record goes.
      let done = false;
      const teardown = new Promise<void>((r) => setTimeout(() => r(void (done = true)), 100));
      const whenSaved: boolean[] = [];
      store.onSave = () => whenSaved.push(done);
      await removeNetwork(store, key, { beforeForget: teardown });
      expect(whenSaved.at(-1)).toBe(true);
      expect((await store.read()).networks[key]).toBeUndefined();
    } finally {
      store.onSave = undefined;
      await removeNetwork(store, key, { force: true }).catch(() => undefined);
      for (const id of ids) await removeNetns(netnsName(id)).catch(() => undefined);
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
