/**
 * NetStateStore.read (./network-state.ts): a state whose file text has not changed is handed out again without a
 * parse; any change of the file, by this store or another (another process), is read.
 */
import { afterAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NetStateStore, type NetState } from './network-state.js';

const dir = mkdtempSync(join(tmpdir(), 'tsc-netstate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => join(dir, `s${++n}`);
const withLabel = (s: NetState, value: string): NetState => ({ ...s, networks: { ...s.networks, x: { ...s.networks['x']!, labels: { v: value } } } });
const base: NetState = {
  version: 1,
  networks: {
    x: {
      key: 'x',
      name: 'x',
      bridge: 'br-x',
      internal: false,
      mtu: 1500,
      subnet: '10.9.0.0/24',
      gateway: '10.9.0.1',
      allocations: {},
      endpoints: {},
    },
  },
} as unknown as NetState;

describe('NetStateStore.read', () => {
  test('no file: the empty state', async () => {
    expect(await new NetStateStore({ stateDir: fresh() }).read()).toEqual({ version: 1, networks: {} });
  });

  test('the same text: the same object; a write by another store (process): the new state', async () => {
    const stateDir = fresh();
    const a = new NetStateStore({ stateDir });
    const b = new NetStateStore({ stateDir });
    await a.locked(async (_s, save) => save(base));
    const first = await a.read();
    expect(await a.read()).toBe(first);
    await b.locked(async (s, save) => save(withLabel(s, 'from b')));
    const after = await a.read();
    expect(after).not.toBe(first);
    expect(after.networks['x']!.labels).toEqual({ v: 'from b' });
    // Written in place with the same size (what no tscompose writer does, but a person might): still read again.
    const text = JSON.stringify(withLabel(base, 'from c'), null, 1);
    writeFileSync(join(stateDir, 'networks.json'), text.replace('from c', 'FROM C'));
    expect((await a.read()).networks['x']!.labels).toEqual({ v: 'FROM C' });
  });
});
