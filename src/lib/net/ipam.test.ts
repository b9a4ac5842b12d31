import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { mustCidr } from './cidr.js';
import {
  EMPTY_IPAM,
  IpamStore,
  allocateAddress,
  chooseSubnet,
  nameserversFromResolvConf,
  planNetwork,
  prefixesFromAddrs,
  prefixesFromRoutes,
  releaseAddress,
  type IpamNetwork,
  type IpamState,
  type UsedPrefix,
} from './ipam.js';

// `ip -j -4 route show table all` of a host running dockerd (trimmed).
const ROUTES = JSON.stringify([
  { dst: 'default', gateway: '192.0.2.1', dev: 'eth0', flags: [] },
  { dst: '10.213.0.0/24', dev: 'docker0', protocol: 'kernel', scope: 'link', prefsrc: '10.213.0.1', flags: ['linkdown'] },
  { dst: '10.214.0.0/24', dev: 'br-c7dd681beeb9', protocol: 'kernel', scope: 'link', prefsrc: '10.214.0.1', flags: [] },
  { dst: '192.0.2.0/24', dev: 'eth0', protocol: 'kernel', scope: 'link', prefsrc: '192.0.2.2', flags: [] },
  { dst: '10.214.2.0/23', gateway: '192.0.2.9', dev: 'eth0', table: '100', flags: [] },
  { type: 'local', dst: '10.213.0.1', dev: 'docker0', table: 'local', protocol: 'kernel', scope: 'host', prefsrc: '10.213.0.1', flags: [] },
  { type: 'broadcast', dst: '10.213.0.255', dev: 'docker0', table: 'local', protocol: 'kernel', scope: 'link', prefsrc: '10.213.0.1', flags: [] },
  { type: 'local', dst: '127.0.0.0/8', dev: 'lo', table: 'local', protocol: 'kernel', scope: 'host', prefsrc: '127.0.0.1', flags: [] },
  { type: 'multicast', dst: '224.0.0.0/4', dev: 'eth0', table: 'local', flags: [] },
]);
const ADDRS = JSON.stringify([
  { ifindex: 1, ifname: 'lo', addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8 }] },
  { ifindex: 4, ifname: 'eth0', addr_info: [{ family: 'inet', local: '192.0.2.2', prefixlen: 24 }] },
  { ifindex: 9, ifname: 'wg0', addr_info: [{ family: 'inet', local: '10.214.1.7', prefixlen: 32 }] },
]);

describe('host usage parsers', () => {
  it('routes: all tables, skips default/broadcast/multicast', () => {
    const r = prefixesFromRoutes(ROUTES).map((u) => u.source);
    expect(r).toEqual([
      'route 10.213.0.0/24 dev docker0',
      'route 10.214.0.0/24 dev br-c7dd681beeb9',
      'route 192.0.2.0/24 dev eth0',
      'route 10.214.2.0/23 dev eth0 table 100',
      'route 10.213.0.1 dev docker0 table local',
      'route 127.0.0.0/8 dev lo table local',
    ]);
    expect(prefixesFromRoutes('')).toEqual([]);
  });
  it('addresses', () => {
    expect(prefixesFromAddrs(ADDRS).map((u) => u.source)).toEqual([
      'address 127.0.0.1/8 on lo',
      'address 192.0.2.2/24 on eth0',
      'address 10.214.1.7/32 on wg0',
    ]);
  });
  it('resolv.conf nameservers (IPv4 only)', () => {
    const t = '# x\nsearch example.org\nnameserver 10.255.255.53\nnameserver ::1\n  nameserver 10.214.9.9 # c\noptions ndots:0\n';
    expect(nameserversFromResolvConf(t).map((u) => u.source)).toEqual(['resolver 10.255.255.53', 'resolver 10.214.9.9']);
  });
});

const host = (): UsedPrefix[] => [
  ...prefixesFromRoutes(ROUTES),
  ...prefixesFromAddrs(ADDRS),
  ...nameserversFromResolvConf('nameserver 10.214.4.53\n'),
];

describe('chooseSubnet', () => {
  it('skips routes (any table), addresses and resolvers', () => {
    // .0 docker-ish route, .1 address /32, .2-.3 table 100 route, .4 resolver → .5
    expect(chooseSubnet(host())).toEqual(mustCidr('10.214.5.0/24'));
  });
  it('moves to the next pool when one is covered', () => {
    const u = [{ prefix: mustCidr('10.0.0.0/8'), source: 'vpn' }];
    expect(chooseSubnet(u)).toEqual(mustCidr('172.30.0.0/24'));
  });
  it('undefined when everything is used', () => {
    expect(
      chooseSubnet([
        { prefix: mustCidr('0.0.0.0/1'), source: 'a' },
        { prefix: mustCidr('128.0.0.0/1'), source: 'b' },
      ]),
    ).toBeUndefined();
  });
  it('custom pools and sizes; never special ranges', () => {
    expect(
      chooseSubnet(
        [],
        [
          { base: '127.0.0.0/8', size: 24 },
          { base: '10.9.0.0/16', size: 28 },
        ],
      ),
    ).toEqual(mustCidr('10.9.0.0/28'));
  });
});

describe('planNetwork', () => {
  it('auto subnet avoids host and our other networks', () => {
    let s: IpamState = EMPTY_IPAM;
    const a = planNetwork(s, 'p_a', undefined, host());
    expect(a.network).toEqual({ subnet: '10.214.5.0/24', gateway: '10.214.5.1', allocations: {} });
    s = { ...s, networks: { p_a: a.network } };
    expect(planNetwork(s, 'p_b', [], host()).network.subnet).toBe('10.214.6.0/24');
    // idempotent for an existing key
    expect(planNetwork(s, 'p_a', undefined, []).network).toBe(a.network);
  });
  it('explicit subnet/gateway/ip_range/aux_addresses', () => {
    const r = planNetwork(
      EMPTY_IPAM,
      'p',
      [{ subnet: '172.28.0.0/16', gateway: '172.28.5.254', ip_range: '172.28.5.0/24', aux_addresses: { h: '172.28.1.5' } }],
      host(),
    );
    expect(r.network).toEqual({
      subnet: '172.28.0.0/16',
      gateway: '172.28.5.254',
      ipRange: '172.28.5.0/24',
      reserved: ['172.28.1.5'],
      allocations: {},
    });
    expect(r.warnings).toEqual([]);
  });
  it('explicit subnet overlapping the host is allowed with a warning; IPv6 configs ignored', () => {
    const r = planNetwork(EMPTY_IPAM, 'p', [{ subnet: 'fd00::/64' }, { subnet: '192.0.2.0/25' }], host());
    expect(r.network.subnet).toBe('192.0.2.0/25');
    expect(r.warnings.join('\n')).toMatch(/overlaps host route 192.0.2.0\/24 dev eth0/);
  });
  it('refuses overlaps with our own networks and bad configs', () => {
    const s: IpamState = { version: 1, networks: { other: { subnet: '10.50.0.0/16', gateway: '10.50.0.1', allocations: {} } } };
    expect(() => planNetwork(s, 'p', [{ subnet: '10.50.3.0/24' }], [])).toThrow(/overlaps network other/);
    expect(() => planNetwork(s, 'p', [{ subnet: '10.60.0.1/24' }], [])).toThrow(/zero host bits/);
    expect(() => planNetwork(s, 'p', [{ subnet: '10.60.0.0/31' }], [])).toThrow(/too small/);
    expect(() => planNetwork(s, 'p', [{ subnet: '10.60.0.0/24', gateway: '10.61.0.1' }], [])).toThrow(/outside the subnet/);
    expect(() => planNetwork(s, 'p', [{ subnet: '10.60.0.0/24', gateway: '10.60.0.255' }], [])).toThrow(/broadcast/);
    expect(() => planNetwork(s, 'p', [{ subnet: '10.60.0.0/24', gateway: 'x' }], [])).toThrow(/invalid gateway/);
    expect(() => planNetwork(s, 'p', [{ subnet: '10.60.0.0/24', ip_range: '10.60.1.0/25' }], [])).toThrow(/ip_range .* outside/);
    expect(() => planNetwork(s, 'p', [{ gateway: '10.60.0.1' }], [])).toThrow(/need a subnet/);
    expect(() => planNetwork(s, 'p', undefined, [], [{ base: '10.50.0.0/16', size: 24 }])).toThrow(/no free subnet/);
  });
});

describe('allocateAddress', () => {
  const base: IpamNetwork = { subnet: '10.214.5.0/29', gateway: '10.214.5.1', allocations: {} };
  it('gateway .1, then sequential; idempotent per endpoint', () => {
    let n = base;
    const ips: string[] = [];
    for (const id of ['a', 'b', 'c']) {
      const r = allocateAddress(n, id);
      n = r.network;
      ips.push(r.ip);
    }
    expect(ips).toEqual(['10.214.5.2', '10.214.5.3', '10.214.5.4']);
    expect(allocateAddress(n, 'b')).toEqual({ network: n, ip: '10.214.5.3' });
  });
  it('serial: a released address is not reused at once; wraps; exhausts', () => {
    let n = base;
    for (const id of ['a', 'b']) n = allocateAddress(n, id).network;
    n = releaseAddress(n, 'a');
    expect(releaseAddress(n, 'zz')).toBe(n);
    const c = allocateAddress(n, 'c');
    expect(c.ip).toBe('10.214.5.4');
    n = c.network;
    for (const id of ['d', 'e', 'f']) n = allocateAddress(n, id).network;
    expect(n.allocations).toMatchObject({ d: '10.214.5.5', e: '10.214.5.6', f: '10.214.5.2' });
    expect(() => allocateAddress(n, 'g')).toThrow(/no free address/);
  });
  it('skips reserved and explicit addresses; honours ip_range', () => {
    const n: IpamNetwork = {
      subnet: '10.9.0.0/24',
      gateway: '10.9.0.1',
      ipRange: '10.9.0.16/30',
      reserved: ['10.9.0.17'],
      allocations: { x: '10.9.0.18' },
    };
    expect(allocateAddress(n, 'a').ip).toBe('10.9.0.16');
    const m = allocateAddress(allocateAddress(n, 'a').network, 'b');
    expect(m.ip).toBe('10.9.0.19');
    expect(() => allocateAddress(m.network, 'c')).toThrow(/no free/);
  });
  it('explicit ipv4_address: checked', () => {
    let n = allocateAddress(base, 'a').network; // .2
    expect(allocateAddress(n, 'b', '10.214.5.6').ip).toBe('10.214.5.6');
    // Docker Engine's words; what holds the address in the hint
    const refusal = (ip: string): unknown => {
      try {
        allocateAddress(n, 'b', ip);
      } catch (e) {
        return e;
      }
      return undefined;
    };
    expect(refusal('10.214.5.2')).toMatchObject({
      code: 'TSC_NET_STATIC_ADDRESS',
      message: 'Address already in use',
      hint: '10.214.5.2 is in use by a',
    });
    expect(refusal('10.214.5.1')).toMatchObject({ message: 'Address already in use', hint: expect.stringMatching(/gateway/) });
    expect(refusal('10.214.5.7')).toMatchObject({ message: 'Address already in use', hint: expect.stringMatching(/broadcast/) });
    expect(refusal('10.214.6.2')).toMatchObject({ message: "Invalid address 10.214.6.2: It does not belong to any of this network's subnets" });
    expect(refusal('nope')).toMatchObject({ message: 'invalid IPv4 address: nope' });
    n = allocateAddress(n, 'a', '10.214.5.5').network; // re-address itself
    expect(n.allocations).toEqual({ a: '10.214.5.5' });
  });
  it('keeps extra fields of richer records', () => {
    const r = allocateAddress({ ...base, extra: 1 }, 'a');
    expect(r.network.extra).toBe(1);
  });
});

describe('IpamStore', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tsc-ipam-'));
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });
  it('persists networks and allocations; concurrent allocations never collide', async () => {
    const store = new IpamStore(dir);
    const hostUsed = host();
    const a = await store.ensureNetwork('p_a', undefined, { hostUsed });
    const b = await store.ensureNetwork('p_b', undefined, { hostUsed });
    expect([a.network.subnet, b.network.subnet]).toEqual(['10.214.5.0/24', '10.214.6.0/24']);
    expect((await store.ensureNetwork('p_a', undefined, { hostUsed: [] })).network.subnet).toBe('10.214.5.0/24');
    const ips = await Promise.all(Array.from({ length: 20 }, (_, i) => new IpamStore(dir).allocate('p_a', `c${i}`)));
    expect(new Set(ips).size).toBe(20);
    await store.release('p_a', 'c0');
    const st = await store.read();
    expect(Object.keys(st.networks.p_a!.allocations)).toHaveLength(19);
    await expect(store.allocate('nope', 'x')).rejects.toThrow(/unknown network/);
    await store.removeNetwork('p_a');
    await store.removeNetwork('p_a');
    expect(Object.keys((await store.read()).networks)).toEqual(['p_b']);
    expect(JSON.parse(await fs.readFile(path.join(dir, 'ipam.json'), 'utf8')).version).toBe(1);
    await expect(fs.access(path.join(dir, 'ipam.lock'))).rejects.toThrow();
  });
});
