import { describe, expect, it } from '@jest/globals';
import {
  childrenTalk,
  childType,
  dummyName,
  isLinkDriver,
  linkNetnsName,
  parseLinkOptions,
  planChild,
  planChildTeardown,
  planLinkNetwork,
  resolverAddress,
  vlanOf,
} from './macvlan.js';

describe('parseLinkOptions', () => {
  it('macvlan: bridge by default, the modes Docker has, its messages', () => {
    expect(parseLinkOptions('macvlan', { parent: 'eth0' })).toEqual({ driver: 'macvlan', parent: 'eth0', mode: 'bridge' });
    expect(parseLinkOptions('macvlan', undefined)).toEqual({ driver: 'macvlan', mode: 'bridge' });
    expect(parseLinkOptions('macvlan', { parent: '' })).toEqual({ driver: 'macvlan', mode: 'bridge' });
    for (const m of ['private', 'vepa', 'passthru']) expect(parseLinkOptions('macvlan', { macvlan_mode: m }).mode).toBe(m);
    expect(() => parseLinkOptions('macvlan', { macvlan_mode: 'l2' })).toThrow(
      "requested macvlan mode 'l2' is not valid, 'bridge' mode is the macvlan driver default",
    );
    expect(() => parseLinkOptions('macvlan', { parent: 'lo' })).toThrow('loopback interface is not a valid macvlan parent link');
    expect(() => parseLinkOptions('macvlan', { parent: 'a b' })).toThrow(/invalid interface name/);
  });
  it('ipvlan: l2 and the bridge flag by default; l3, l3s; private, vepa', () => {
    expect(parseLinkOptions('ipvlan', { parent: 'eth0' })).toEqual({ driver: 'ipvlan', parent: 'eth0', mode: 'l2', flag: 'bridge' });
    expect(parseLinkOptions('ipvlan', { ipvlan_mode: 'l3', ipvlan_flag: 'private' })).toEqual({ driver: 'ipvlan', mode: 'l3', flag: 'private' });
    expect(() => parseLinkOptions('ipvlan', { ipvlan_mode: 'bridge' })).toThrow(/ipvlan mode 'bridge' is not valid/);
    expect(() => parseLinkOptions('ipvlan', { ipvlan_flag: 'passthru' })).toThrow(/ipvlan flag 'passthru' is not valid/);
  });
  it('a VLAN parent: eth0.10, its id checked', () => {
    expect(vlanOf('eth0.10')).toEqual({ base: 'eth0', id: 10 });
    expect(vlanOf('eth0')).toBeUndefined();
    expect(() => parseLinkOptions('macvlan', { parent: 'eth0.4095' })).toThrow(/outside 1-4094/);
  });
  it('drivers', () => {
    expect(isLinkDriver('macvlan')).toBe(true);
    expect(isLinkDriver('ipvlan')).toBe(true);
    expect(isLinkDriver('bridge')).toBe(false);
    expect(isLinkDriver(undefined)).toBe(false);
  });
});

describe('planLinkNetwork', () => {
  it('names: a namespace and a dummy per network, short and stable', () => {
    expect(linkNetnsName('p_lan')).toMatch(/^tscn-[0-9a-f]{8}$/);
    expect(linkNetnsName('p_lan')).toBe(linkNetnsName('p_lan'));
    expect(linkNetnsName('p_lan')).not.toBe(linkNetnsName('p_other'));
    expect(dummyName('p_lan')).toMatch(/^dm-[0-9a-f]{8}$/);
  });
  it('a host parent; no parent: a dummy; eth0.10: a VLAN of its own unless the host has it', () => {
    const ipam = { subnet: '198.18.77.0/24', gateway: '198.18.77.1' };
    const host = planLinkNetwork('p_lan', { driver: 'macvlan', parent: 'eth0', mode: 'bridge' }, ipam);
    expect(host).toEqual({ driver: 'macvlan', parent: 'eth0', mode: 'bridge', netns: linkNetnsName('p_lan'), dnsIp: '198.18.77.254' });
    const dummy = planLinkNetwork('p_lan', { driver: 'macvlan', mode: 'bridge' }, ipam);
    expect(dummy).toMatchObject({ parent: dummyName('p_lan'), dummy: true });
    expect(planLinkNetwork('p_lan', { driver: 'macvlan', parent: 'eth0.10', mode: 'bridge' }, ipam)).toMatchObject({ ownVlan: true });
    // one the host already has is not the network's: it stays when the network goes
    const existing = planLinkNetwork('p_lan', { driver: 'macvlan', parent: 'eth0.10', mode: 'bridge' }, ipam, { parentExists: true });
    expect(existing.ownVlan).toBeUndefined();
  });
  it('a resolver only where children reach each other', () => {
    expect(childrenTalk({ driver: 'macvlan', mode: 'bridge' })).toBe(true);
    expect(childrenTalk({ driver: 'macvlan', mode: 'private' })).toBe(false);
    expect(childrenTalk({ driver: 'macvlan', mode: 'passthru' })).toBe(false);
    expect(childrenTalk({ driver: 'ipvlan', mode: 'l3', flag: 'bridge' })).toBe(true);
    expect(childrenTalk({ driver: 'ipvlan', mode: 'l2', flag: 'private' })).toBe(false);
    const ipam = { subnet: '198.18.77.0/24', gateway: '198.18.77.1' };
    expect(planLinkNetwork('k', { driver: 'macvlan', parent: 'eth0', mode: 'vepa' }, ipam).dnsIp).toBeUndefined();
  });
  it('the resolver address: the top of the ip_range or subnet, never the gateway', () => {
    expect(resolverAddress('198.18.77.0/24', '198.18.77.1')).toBe('198.18.77.254');
    expect(resolverAddress('198.18.77.0/24', '198.18.77.254')).toBe('198.18.77.253');
    expect(resolverAddress('198.18.77.0/24', '198.18.77.1', '198.18.77.128/25')).toBe('198.18.77.254');
    expect(resolverAddress('198.18.77.0/24', '198.18.77.1', '198.18.77.0/26')).toBe('198.18.77.63');
    expect(() => resolverAddress('198.18.77.0/30', '198.18.77.1', '198.18.77.1/32')).toThrow(/no address left/);
  });
});

describe('planChild', () => {
  const a = { address: '198.18.77.2', prefixLen: 24, gateway: '198.18.77.1', defaultRoute: true };
  it('macvlan: made in the container netns from the host parent, its MAC, a default route via the gateway', () => {
    const net = planLinkNetwork('k', { driver: 'macvlan', parent: 'eth0', mode: 'bridge' }, { subnet: '198.18.77.0/24', gateway: '198.18.77.1' });
    const [add, inner] = planChild(net, 'tsc-abc', 'eth0', a, '02:42:c6:12:4d:02');
    expect(add!.argv.join(' ')).toBe('ip link add link eth0 name eth0 netns tsc-abc address 02:42:c6:12:4d:02 type macvlan mode bridge');
    expect(inner!.argv).toEqual(['ip', '-n', 'tsc-abc', '-batch', '-']);
    expect(inner!.input).toBe(
      'link set dev lo up\naddress replace 198.18.77.2/24 broadcast + dev eth0\nlink set dev eth0 up\nroute replace default via 198.18.77.1 dev eth0\n',
    );
  });
  it('a dummy parent is in the network namespace; ipvlan: no MAC; l3 routes by device; internal: no route', () => {
    const net = planLinkNetwork('k', { driver: 'ipvlan', mode: 'l3', flag: 'bridge' }, { subnet: '198.18.77.0/24', gateway: '198.18.77.1' });
    const [add, inner] = planChild(net, 'tsc-abc', 'eth1', a, '02:42:c6:12:4d:02');
    expect(add!.argv.join(' ')).toBe(`ip -n ${net.netns} link add link ${net.parent} name eth1 netns tsc-abc type ipvlan mode l3 bridge`);
    expect(inner!.input).toContain('route replace default dev eth1\n');
    const [, noRoute] = planChild(net, 'tsc-abc', 'eth1', { ...a, defaultRoute: false });
    expect(noRoute!.input).not.toContain('route');
    expect(childType({ driver: 'ipvlan', mode: 'l2' })).toBe('type ipvlan mode l2 bridge');
  });
  it('teardown inside the namespace, gone is fine', () => {
    const s = planChildTeardown('tsc-abc', 'eth0');
    expect(s.argv).toEqual(['ip', '-n', 'tsc-abc', 'link', 'del', 'dev', 'eth0']);
    expect(s.okIf!.test('Cannot find device "eth0"')).toBe(true);
  });
});
