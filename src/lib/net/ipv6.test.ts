import { describe, expect, it } from '@jest/globals';
import { bridgeSysctls, planBridge, planEndpoint } from './bridge.js';
import { rules6For, removal6Script } from './firewall.js';
import { address6, formatIPv6, parseCidr6, parseIPv6, planIpv6, ulaSubnet } from './ipv6.js';

describe('IPv6 text', () => {
  it('parses and prints canonical text (RFC 5952)', () => {
    const cases: [string, string][] = [
      ['fd00::1', 'fd00::1'],
      ['FD00:0:0:0:0:0:0:1', 'fd00::1'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['::', '::'],
      ['::ffff:10.0.0.1', '::ffff:a00:1'],
      ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
      ['1:0:3:4:5:6:7:8', '1:0:3:4:5:6:7:8'],
    ];
    for (const [inp, out] of cases) expect(formatIPv6(parseIPv6(inp)!)).toBe(out);
    expect(parseIPv6('10.0.0.1')).toBeUndefined();
    expect(parseIPv6('fe80::1%eth0')).toBeUndefined();
    expect(parseCidr6('fd00::1/64')).toBeUndefined(); // host bits
    expect(parseCidr6('fd00::/64')).toEqual({ base: parseIPv6('fd00::'), len: 64 });
  });
});

describe('planIpv6', () => {
  it('a ULA /64 from the key by default, stable, the first address the gateway', () => {
    const u = ulaSubnet('p_default');
    expect(u).toMatch(/^fd[0-9a-f]{2}:[0-9a-f]{1,4}:[0-9a-f]{1,4}:[0-9a-f]{1,4}::\/64$/);
    expect(ulaSubnet('p_default')).toBe(u);
    expect(ulaSubnet('p_back')).not.toBe(u);
    const n = planIpv6('p_default', undefined, []);
    expect(n.subnet6).toBe(formatIPv6(parseCidr6(u)!.base) + '/64');
    expect(n.gateway6).toBe(formatIPv6(parseCidr6(u)!.base + 1n));
  });
  it('the ipam entry with an IPv6 subnet (and gateway); checked', () => {
    const cfg = [{ subnet: '10.5.0.0/24' }, { subnet: '2001:db8:1::/64', gateway: '2001:db8:1::fe' }];
    expect(planIpv6('k', cfg, [])).toEqual({ subnet6: '2001:db8:1::/64', gateway6: '2001:db8:1::fe' });
    expect(() => planIpv6('k', [{ subnet: '2001:db8:1::1/64' }], [])).toThrow(/invalid IPv6 subnet/);
    expect(() => planIpv6('k', [{ subnet: '2001:db8::/32' }], [])).toThrow(/must be \/48 to \/120/);
    expect(() => planIpv6('k', [{ subnet: '2001:db8:1::/64', gateway: '2001:db8:2::1' }], [])).toThrow(/is not an address of/);
    expect(() => planIpv6('k', cfg, ['2001:db8:1::/48'])).toThrow(/overlaps another network's/);
  });
  it("a container's address: its IPv4 host number; a static one checked", () => {
    const net = { subnet: '10.214.3.0/24', subnet6: 'fd12:3456:789a:1::/64', gateway6: 'fd12:3456:789a:1::1' };
    expect(address6(net, '10.214.3.5')).toBe('fd12:3456:789a:1::5');
    expect(address6(net, '10.214.3.200')).toBe('fd12:3456:789a:1::c8');
    // the host number of the IPv6 gateway (an IPv4 gateway elsewhere): moved out of the way
    expect(address6(net, '10.214.3.1')).toBe('fd12:3456:789a:1:8000::1');
    expect(address6(net, '10.214.3.5', 'fd12:3456:789a:1::abc')).toBe('fd12:3456:789a:1::abc');
    // Docker Engine's words
    expect(() => address6(net, '10.214.3.5', 'fd12::1')).toThrow("Invalid address fd12::1: It does not belong to any of this network's subnets");
    expect(() => address6(net, '10.214.3.5', 'fd12:3456:789a:1::9', ['fd12:3456:789a:1::9'])).toThrow(/^Address already in use$/);
    expect(() => address6(net, '10.214.3.5', 'fd12:3456:789a:1::1')).toThrow(/^Address already in use$/);
    expect(() => address6(net, '10.214.3.5', 'fd12:3456:789a:1::')).toThrow(/^Address already in use$/);
    expect(() => address6(net, '10.214.3.5', 'nope')).toThrow('invalid IPv6 address: nope');
  });
});

describe('IPv6 on the bridge, the endpoint and the firewall', () => {
  const spec = { name: 'tsc-deadbeef', subnet: '10.214.3.0/24', gateway: '10.214.3.1', mtu: 1500, internal: false };
  it('the bridge gets the gateway address (no DAD); forwarding on', () => {
    const plain = planBridge(spec, true).input!;
    expect(plain).not.toContain('fd12');
    const v6 = planBridge({ ...spec, gateway6: 'fd12::1', prefixLen6: 64 }, true).input!;
    expect(v6).toContain('address replace fd12::1/64 dev tsc-deadbeef nodad\n');
    expect(bridgeSysctls({ ...spec, gateway6: 'fd12::1' })).toContainEqual(['/proc/sys/net/ipv6/conf/all/forwarding', '1']);
    expect(bridgeSysctls(spec).some(([f]) => f.includes('ipv6'))).toBe(false);
    expect(bridgeSysctls({ ...spec, internal: true, gateway6: 'fd12::1' }).some(([f]) => f.includes('ipv6'))).toBe(false);
  });
  it("the endpoint's address and IPv6 default route", () => {
    const ep = {
      netns: 'tsc-abc',
      bridge: 'tsc-deadbeef',
      hostVeth: 'vtsc0123456789',
      ifname: 'eth0',
      address: '10.214.3.5',
      prefixLen: 24,
      gateway: '10.214.3.1',
      defaultRoute: true,
      mtu: 1500,
    };
    const [, inner] = planEndpoint({ ...ep, address6: 'fd12::5', prefixLen6: 64, gateway6: 'fd12::1' }, false);
    expect(inner!.input).toContain('address replace fd12::5/64 dev eth0 nodad\nroute replace default via fd12::1 dev eth0\n');
    expect(planEndpoint(ep, false)[1]!.input).not.toContain('fd12');
  });
  it('an ip6 table: outbound masquerade and isolation, or the internal drops; none without IPv6', () => {
    const n = {
      bridge: 'tsc-deadbeef',
      subnet: '10.214.3.0/24',
      gateway: '10.214.3.1',
      internal: false,
      ports: [],
      subnet6: 'fd12::/64',
      gateway6: 'fd12::1',
    };
    const r = rules6For(n);
    expect(r.startsWith('table ip6 tsc-deadbeef\ndelete table ip6 tsc-deadbeef\ntable ip6 tsc-deadbeef {\n')).toBe(true);
    expect(r).toContain('oifname != "tsc-deadbeef" ip6 saddr fd12::/64 masquerade');
    expect(r).toContain('oifname "tsc-deadbeef" iifname != "tsc-deadbeef" counter drop comment "isolation"');
    expect(rules6For({ ...n, internal: true })).toContain('internal: nothing leaves');
    expect(rules6For({ ...n, internal: true })).toContain('iifname "tsc-deadbeef" ip6 daddr != fd12::1 fib daddr type local counter drop');
    expect(rules6For({ ...n, subnet6: undefined, gateway6: undefined } as never)).toBe('');
    expect(removal6Script('tsc-deadbeef')).toBe('table ip6 tsc-deadbeef\ndelete table ip6 tsc-deadbeef\n');
  });
});
