import { describe, expect, it } from '@jest/globals';
import {
  bridgeName,
  bridgeSysctls,
  defaultRouteIface,
  hostVethName,
  macFromIp,
  mtuFromOptions,
  netnsName,
  planBridge,
  planBridgeTeardown,
  planEndpoint,
  planEndpointTeardown,
  planNetns,
  planNetnsTeardown,
} from './bridge.js';

describe('names', () => {
  it('bridge and veth names are short, stable and distinct', () => {
    const b = bridgeName('proj_default');
    expect(b).toMatch(/^tsc-[0-9a-f]{8}$/);
    expect(b).toBe(bridgeName('proj_default'));
    expect(b).not.toBe(bridgeName('proj_back'));
    const v = hostVethName('proj_default', 'abc');
    expect(v).toMatch(/^vtsc[0-9a-f]{10}$/);
    expect(v.length).toBeLessThanOrEqual(15);
    expect(v).not.toBe(hostVethName('proj_back', 'abc'));
    expect(netnsName('0123456789abcdef0123')).toBe('tsc-0123456789ab');
    expect(() => netnsName('///')).toThrow();
  });
  it('mac from ip', () => {
    expect(macFromIp('10.214.0.2')).toBe('02:42:0a:d6:00:02');
  });
});

describe('mtu', () => {
  it('driver option wins, else fallback', () => {
    expect(mtuFromOptions({ 'com.docker.network.driver.mtu': '1450' }, 1500)).toBe(1450);
    expect(mtuFromOptions({}, 1400)).toBe(1400);
    expect(mtuFromOptions(undefined, 1400)).toBe(1400);
    expect(() => mtuFromOptions({ 'com.docker.network.driver.mtu': 'big' }, 1)).toThrow(/invalid/);
  });
  it('default-route interface from /proc/net/route (lowest metric)', () => {
    const t = [
      'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
      'wlan0\t00000000\t010200C0\t0003\t0\t0\t600\t00000000\t0\t0\t0',
      'eth0\t00000000\t010200C0\t0003\t0\t0\t100\t00000000\t0\t0\t0',
      'docker0\t0000D50A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
    ].join('\n');
    expect(defaultRouteIface(t)).toBe('eth0');
    expect(defaultRouteIface(t.split('\n').slice(0, 1).join('\n'))).toBeUndefined();
  });
});

describe('plans', () => {
  const spec = { name: 'tsc-12345678', subnet: '10.214.5.0/24', gateway: '10.214.5.1', mtu: 1400, internal: false };
  it('bridge', () => {
    expect(planBridge(spec, false)).toEqual({
      argv: ['ip', '-batch', '-'],
      input:
        'link add name tsc-12345678 mtu 1400 type bridge\n' +
        'link set dev tsc-12345678 mtu 1400 address 02:42:0a:d6:05:01\n' +
        'address replace 10.214.5.1/24 broadcast + dev tsc-12345678\n' +
        'link set dev tsc-12345678 up\n',
    });
    expect(planBridge(spec, true).input).not.toMatch(/link add/);
    expect(() => planBridge({ ...spec, name: 'this-name-is-too-long' }, false)).toThrow(/interface name/);
    expect(planBridgeTeardown('tsc-12345678').argv).toEqual(['ip', 'link', 'del', 'dev', 'tsc-12345678']);
  });
  it('sysctls', () => {
    expect(bridgeSysctls(spec)).toEqual([
      ['/proc/sys/net/ipv4/ip_forward', '1'],
      ['/proc/sys/net/ipv4/conf/tsc-12345678/route_localnet', '1'],
    ]);
    expect(bridgeSysctls({ ...spec, internal: true })).toEqual([['/proc/sys/net/ipv4/conf/tsc-12345678/forwarding', '0']]);
  });
  it('netns: create, name an existing one, or use /run/netns as is', () => {
    expect(planNetns('tsc-abc').steps.map((s) => s.argv)).toEqual([['ip', 'netns', 'add', 'tsc-abc']]);
    expect(planNetns('x', '/run/netns/other')).toEqual({ ref: { name: 'other', owned: false }, steps: [] });
    expect(planNetns('tsc-abc', '/proc/42/ns/net').steps.map((s) => s.argv.join(' '))).toEqual([
      'mkdir -p /run/netns',
      'touch /run/netns/tsc-abc',
      'mount --bind /proc/42/ns/net /run/netns/tsc-abc',
    ]);
    expect(() => planNetns('bad name')).toThrow();
    expect(planNetnsTeardown('tsc-abc').argv).toEqual(['ip', 'netns', 'del', 'tsc-abc']);
  });
  const ep = {
    netns: 'tsc-0123456789ab',
    bridge: 'tsc-12345678',
    hostVeth: 'vtsc0123456789',
    ifname: 'eth0',
    address: '10.214.5.2',
    prefixLen: 24,
    gateway: '10.214.5.1',
    defaultRoute: true,
    mtu: 1400,
  };
  it('endpoint: two batches', () => {
    const steps = planEndpoint(ep, false);
    expect(steps.map((s) => s.argv)).toEqual([
      ['ip', '-batch', '-'],
      ['ip', '-n', 'tsc-0123456789ab', '-batch', '-'],
    ]);
    expect(steps[0]!.input).toBe(
      'link add name vtsc0123456789 mtu 1400 type veth peer name eth0 mtu 1400 address 02:42:0a:d6:05:02 netns tsc-0123456789ab\n' +
        'link set dev vtsc0123456789 master tsc-12345678\n' +
        'link set dev vtsc0123456789 type bridge_slave hairpin on\n' +
        'link set dev vtsc0123456789 up\n',
    );
    expect(steps[1]!.input).toBe(
      'link set dev lo up\naddress replace 10.214.5.2/24 broadcast + dev eth0\nlink set dev eth0 up\nroute replace default via 10.214.5.1 dev eth0\n',
    );
  });
  it('endpoint: the IPv6 default route on its own (gw_priority may give it to another network than IPv4)', () => {
    const v6 = { ...ep, address6: '2001:db8:5::2', prefixLen6: 64, gateway6: '2001:db8:5::1' };
    const inner = (s: typeof v6 & { defaultRoute6?: boolean }): string[] => planEndpoint(s, false)[1]!.input!.split('\n');
    expect(inner(v6).filter((l) => l.startsWith('route'))).toEqual([
      'route replace default via 10.214.5.1 dev eth0',
      'route replace default via 2001:db8:5::1 dev eth0',
    ]);
    expect(inner({ ...v6, defaultRoute6: false }).filter((l) => l.startsWith('route'))).toEqual(['route replace default via 10.214.5.1 dev eth0']);
    expect(inner({ ...v6, defaultRoute: false, defaultRoute6: true }).filter((l) => l.startsWith('route'))).toEqual([
      'route replace default via 2001:db8:5::1 dev eth0',
    ]);
  });
  it('endpoint: netns created in the host batch', () => {
    expect(planEndpoint(ep, false, true)[0]!.input!.split('\n')[0]).toBe('netns add tsc-0123456789ab');
  });
  it('endpoint: leftover veth deleted first; no default route; explicit mac', () => {
    const steps = planEndpoint({ ...ep, defaultRoute: false, mac: '02:AA:BB:CC:DD:EE', ifname: 'eth1' }, true);
    expect(steps[0]!.input!.split('\n')[0]).toBe('link del dev vtsc0123456789');
    expect(steps[0]!.input).toMatch(/address 02:aa:bb:cc:dd:ee netns/);
    expect(steps[1]!.input).not.toMatch(/route/);
    expect(() => planEndpoint({ ...ep, mac: 'zz' }, false)).toThrow(/mac/);
    expect(() => planEndpoint({ ...ep, address: '10.214.5.300' }, false)).toThrow(/invalid IPv4/);
    expect(planEndpointTeardown('vtsc0123456789').okIf!.test('Cannot find device "vtsc0123456789"')).toBe(true);
  });
});
