import { describe, expect, it } from '@jest/globals';
import { InterfaceNameError } from './errors.js';
import { checkInterfaceName, chooseGateways, compareGateway, interfaceNames, type GatewayCandidate } from './endpoint-order.js';

const net = (network: string, more: Partial<GatewayCandidate> = {}): GatewayCandidate => ({
  network,
  internal: false,
  ipv4: true,
  ipv6: false,
  ...more,
});

describe('chooseGateways (Docker Engine 28.1+: Endpoint.Less, getGatewayEndpoint)', () => {
  it('the highest gw_priority gives both default routes', () => {
    expect(chooseGateways([net('p_a', { ipv6: true }), net('p_b', { gwPriority: 5, ipv6: true })])).toEqual({ ipv4: 'p_b', ipv6: 'p_b' });
    expect(chooseGateways([net('p_a', { gwPriority: -1 }), net('p_b')])).toEqual({ ipv4: 'p_b' });
  });
  it('ties: non-internal first, then dual-stack, then the network name', () => {
    expect(chooseGateways([net('p_b'), net('p_a')])).toEqual({ ipv4: 'p_a' });
    expect(chooseGateways([net('p_a', { internal: true }), net('p_b')])).toEqual({ ipv4: 'p_b' });
    expect(chooseGateways([net('p_a'), net('p_b', { ipv6: true })])).toEqual({ ipv4: 'p_b', ipv6: 'p_b' });
  });
  it('the IPv6 route from the best network that has IPv6, which may not give the IPv4 one', () => {
    expect(chooseGateways([net('p_a', { gwPriority: 10 }), net('p_b', { ipv6: true })])).toEqual({ ipv4: 'p_a', ipv6: 'p_b' });
  });
  it('an internal network gives no route, whatever its priority', () => {
    expect(chooseGateways([net('p_a', { internal: true, gwPriority: 100, ipv6: true }), net('p_b')])).toEqual({ ipv4: 'p_b' });
    expect(chooseGateways([net('p_a', { internal: true })])).toEqual({});
    expect(chooseGateways([])).toEqual({});
  });
  it('compareGateway is the sort order', () => {
    const sorted = [net('c'), net('a', { internal: true }), net('b', { gwPriority: 1 }), net('d', { ipv6: true })].sort(compareGateway);
    expect(sorted.map((c) => c.network)).toEqual(['b', 'd', 'c', 'a']);
  });
});

function refusal(fn: () => unknown): InterfaceNameError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InterfaceNameError);
    return e as InterfaceNameError;
  }
  throw new Error('not refused');
}

describe('checkInterfaceName', () => {
  it('takes Linux interface names of up to 15 bytes', () => {
    expect(checkInterfaceName('lan0', 'p_a')).toBe('lan0');
    expect(checkInterfaceName('abcdefghijklmno', 'p_a')).toBe('abcdefghijklmno');
    expect(checkInterfaceName('net-a.1_x', 'p_a')).toBe('net-a.1_x');
  });
  it('refuses what the kernel refuses, saying why', () => {
    expect(refusal(() => checkInterfaceName('abcdefghijklmnop', 'p_a')).message).toBe(
      'invalid interface_name "abcdefghijklmnop" on network p_a: 16 bytes, a Linux interface name has at most 15',
    );
    for (const bad of ['.', '..', 'a/b', 'a:b', 'a b', 'a\tb'])
      expect(refusal(() => checkInterfaceName(bad, 'p_a')).message).toMatch(/not a valid Linux interface name$/);
    expect(refusal(() => checkInterfaceName('', 'p_a')).message).toMatch(/it is empty$/);
    expect(refusal(() => checkInterfaceName('', 'p_a')).code).toBe('TSC_NET_INTERFACE_NAME');
  });
  it('refuses names the ip commands cannot carry, out loud', () => {
    for (const odd of ['eth%d', 'a#b', '"x"', '-x', 'é']) expect(refusal(() => checkInterfaceName(odd, 'p_a')).message).toMatch(/letters, digits/);
  });
});

describe('interfaceNames', () => {
  it('eth0, eth1, … in order without interface_name', () => {
    expect(interfaceNames([{ network: 'a' }, { network: 'b' }, { network: 'c' }])).toEqual(['eth0', 'eth1', 'eth2']);
  });
  it('the asked-for names; the others numbered around them', () => {
    expect(interfaceNames([{ network: 'a' }, { network: 'b', interfaceName: 'lan' }, { network: 'c' }])).toEqual(['eth0', 'lan', 'eth1']);
    expect(interfaceNames([{ network: 'a' }, { network: 'b', interfaceName: 'eth0' }])).toEqual(['eth1', 'eth0']);
    expect(interfaceNames([{ network: 'a', interfaceName: 'eth1' }, { network: 'b' }, { network: 'c' }])).toEqual(['eth1', 'eth0', 'eth2']);
  });
  it('a name given twice is refused; a bad one too', () => {
    expect(
      refusal(() =>
        interfaceNames([
          { network: 'a', interfaceName: 'lan' },
          { network: 'b', interfaceName: 'lan' },
        ]),
      ).message,
    ).toBe('interface_name "lan" is given on networks a and b');
    expect(refusal(() => interfaceNames([{ network: 'a', interfaceName: 'x'.repeat(16) }])).message).toMatch(/at most 15/);
  });
});
