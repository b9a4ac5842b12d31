import { describe, expect, it } from '@jest/globals';
import { CodedError } from '../errors.js';
import { StaticAddressError } from './errors.js';
import { checkAddressSyntax, checkStaticAddresses, userSubnetsOf, type StaticAddresses, type StaticAddressNetwork } from './static-address.js';

/** Docker Engine 20.10's words for each refusal (checked against `docker create`/`docker start` and compose up). */
const NO_SUBNET = 'user specified IP address is supported only when connecting to networks with user configured subnets';
const outside = (a: string): string => `Invalid address ${a}: It does not belong to any of this network's subnets`;

function refusal(fn: () => void): StaticAddressError | undefined {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(StaticAddressError);
    return e as StaticAddressError;
  }
  return undefined;
}

const check = (net: StaticAddressNetwork, req: StaticAddresses): StaticAddressError | undefined => refusal(() => checkStaticAddresses(net, req));

describe('userSubnetsOf', () => {
  it('the families with a subnet in the ipam config', () => {
    expect(userSubnetsOf(undefined)).toEqual({ ipv4: false, ipv6: false });
    expect(userSubnetsOf([{ gateway: '10.1.0.1' }])).toEqual({ ipv4: false, ipv6: false });
    expect(userSubnetsOf([{ subnet: '10.1.0.0/24' }])).toEqual({ ipv4: true, ipv6: false });
    expect(userSubnetsOf([{ subnet: '2001:db8::/64' }])).toEqual({ ipv4: false, ipv6: true });
    expect(userSubnetsOf([{ subnet: '10.1.0.0/24' }, { subnet: '2001:db8::/64' }])).toEqual({ ipv4: true, ipv6: true });
  });
});

describe('checkAddressSyntax (at create)', () => {
  it('an address of the wrong family or no address at all is refused in Docker words', () => {
    expect(refusal(() => checkAddressSyntax({ ipv4Address: '10.231.5.300' }))?.message).toBe('invalid IPv4 address: 10.231.5.300');
    expect(refusal(() => checkAddressSyntax({ ipv4Address: '010.1.2.3' }))?.message).toBe('invalid IPv4 address: 010.1.2.3');
    expect(refusal(() => checkAddressSyntax({ ipv4Address: '2001:db8::1' }))?.message).toBe('invalid IPv4 address: 2001:db8::1');
    expect(refusal(() => checkAddressSyntax({ ipv6Address: 'zzz' }))?.message).toBe('invalid IPv6 address: zzz');
    expect(refusal(() => checkAddressSyntax({ ipv6Address: '10.1.2.3' }))?.message).toBe('invalid IPv6 address: 10.1.2.3');
    expect(refusal(() => checkAddressSyntax({ ipv6Address: '::ffff:10.1.2.3' }))?.message).toBe('invalid IPv6 address: ::ffff:10.1.2.3');
  });
  it('valid addresses and empty strings pass', () => {
    expect(refusal(() => checkAddressSyntax({ ipv4Address: '10.1.2.3', ipv6Address: '2001:db8::10' }))).toBeUndefined();
    expect(refusal(() => checkAddressSyntax({ ipv4Address: '', ipv6Address: '' }))).toBeUndefined();
    expect(refusal(() => checkAddressSyntax({}))).toBeUndefined();
  });
});

describe('checkStaticAddresses (at start)', () => {
  const auto: StaticAddressNetwork = { key: 'p_auto', subnet: '10.214.0.0/24', userSubnets: { ipv4: false, ipv6: false } };
  const v4: StaticAddressNetwork = { key: 'p_v4', subnet: '10.231.5.0/24', userSubnets: { ipv4: true, ipv6: false } };
  const both: StaticAddressNetwork = { key: 'p_both', subnet: '10.231.7.0/24', subnet6: '2001:db8:68::/64', userSubnets: { ipv4: true, ipv6: true } };

  it('a static address on a network without a subnet of its family from ipam: refused', () => {
    for (const req of [{ ipv4Address: '10.214.0.9' }, { ipv6Address: '2001:db8:1::10' }]) {
      const e = check(auto, req);
      expect(e).toMatchObject({ code: 'TSC_NET_STATIC_ADDRESS', exitCode: 1, message: NO_SUBNET });
      expect(e).toBeInstanceOf(CodedError);
      expect(e?.hint).toMatch(/network p_auto has no IPv[46] subnet in its ipam config/);
    }
    // an IPv4 subnet does not take an IPv6 address (nor does enable_ipv6's ULA)
    expect(check(v4, { ipv4Address: '10.231.5.9', ipv6Address: '2001:db8:5::9' })?.message).toBe(NO_SUBNET);
    expect(check({ ...auto, subnet6: 'fd00:1:2:3::/64' }, { ipv6Address: 'fd00:1:2:3::9' })?.message).toBe(NO_SUBNET);
  });

  it('an address outside the subnet: refused, IPv4 first', () => {
    expect(check(v4, { ipv4Address: '10.231.9.5' })).toMatchObject({ message: outside('10.231.9.5'), hint: "the network's subnet is 10.231.5.0/24" });
    expect(check(both, { ipv6Address: '2001:db8:99::10' })?.message).toBe(outside('2001:db8:99::10'));
    expect(check(both, { ipv4Address: '10.231.9.5', ipv6Address: '2001:db8:99::10' })?.message).toBe(outside('10.231.9.5'));
    // the subnet check comes before the range check
    expect(check(auto, { ipv4Address: '10.1.1.1', ipv6Address: '2001:db8:99::10' })?.message).toBe(NO_SUBNET);
  });

  it('addresses inside user subnets pass; an IPv6 one on a network without IPv6 is ignored (Docker starts it without)', () => {
    expect(check(v4, { ipv4Address: '10.231.5.9' })).toBeUndefined();
    expect(check(both, { ipv4Address: '10.231.7.9', ipv6Address: '2001:db8:68::9' })).toBeUndefined();
    const noIpv6 = { key: 'p_v6off', subnet: '10.231.6.0/24', userSubnets: { ipv4: true, ipv6: true } };
    expect(check(noIpv6, { ipv6Address: '2001:db8:66::10' })).toBeUndefined();
    expect(check(noIpv6, { ipv6Address: '2001:db8:99::10' })).toBeUndefined();
    expect(check(auto, {})).toBeUndefined();
  });

  it('a record written before user subnets were kept takes static addresses as before (inside its subnet)', () => {
    const old: StaticAddressNetwork = { key: 'p_old', subnet: '10.214.0.0/24' };
    expect(check(old, { ipv4Address: '10.214.0.9', ipv6Address: '2001:db8::1' })).toBeUndefined();
    expect(check(old, { ipv4Address: '10.215.0.9' })?.message).toBe(outside('10.215.0.9'));
  });

  it('the syntax is checked too', () => {
    expect(check(both, { ipv4Address: 'x' })?.message).toBe('invalid IPv4 address: x');
  });
});
