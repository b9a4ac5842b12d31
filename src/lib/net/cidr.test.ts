import { describe, expect, it } from '@jest/globals';
import {
  containsIp,
  containsPrefix,
  firstHost,
  formatCidr,
  formatIPv4,
  lastHost,
  lastOf,
  maskOf,
  mustCidr,
  overlaps,
  parseCidr,
  parseIPv4,
  sizeOf,
  splitPrefix,
} from './cidr.js';

describe('parseIPv4/formatIPv4', () => {
  it.each([
    ['0.0.0.0', 0],
    ['255.255.255.255', 0xffffffff],
    ['10.214.0.1', 0x0ad60001],
    ['192.0.2.2', 0xc0000202],
  ])('%s', (s, v) => {
    expect(parseIPv4(s)).toBe(v);
    expect(formatIPv4(v)).toBe(s);
  });
  it.each(['', '1.2.3', '1.2.3.4.5', '256.0.0.1', '01.2.3.4', 'a.b.c.d', '1.2.3.-4', '::1', '1.2.3.4/24'])('rejects %j', (s) => {
    expect(parseIPv4(s)).toBeUndefined();
  });
});

describe('parseCidr', () => {
  it('parses and normalizes', () => {
    expect(parseCidr('10.214.3.7/24')).toEqual({ base: parseIPv4('10.214.3.0'), len: 24 });
    expect(parseCidr('10.214.3.7')).toEqual({ base: parseIPv4('10.214.3.7'), len: 32 });
    expect(parseCidr('0.0.0.0/0')).toEqual({ base: 0, len: 0 });
  });
  it('strict mode refuses host bits', () => {
    expect(parseCidr('10.214.3.7/24', true)).toBeUndefined();
    expect(parseCidr('10.214.3.0/24', true)).toBeDefined();
  });
  it.each(['10.0.0.0/33', '10.0.0.0/', '10.0.0.0/x', '10.0.0.0/24/1', 'foo/8', '10.0.0.0/-1'])('rejects %j', (s) => {
    expect(parseCidr(s)).toBeUndefined();
  });
  it('mustCidr throws', () => expect(() => mustCidr('x')).toThrow(/invalid/));
  it('formats', () => expect(formatCidr(mustCidr('172.30.5.0/24'))).toBe('172.30.5.0/24'));
});

describe('arithmetic', () => {
  it('masks', () => {
    expect(maskOf(0)).toBe(0);
    expect(maskOf(8)).toBe(0xff000000);
    expect(maskOf(32)).toBe(0xffffffff);
    expect(maskOf(24)).toBe(0xffffff00);
  });
  it('sizes and ends', () => {
    const p = mustCidr('10.214.0.0/24');
    expect(sizeOf(p)).toBe(256);
    expect(formatIPv4(lastOf(p))).toBe('10.214.0.255');
    expect(formatIPv4(firstHost(p))).toBe('10.214.0.1');
    expect(formatIPv4(lastHost(p))).toBe('10.214.0.254');
    expect(sizeOf(mustCidr('0.0.0.0/0'))).toBe(2 ** 32);
    expect(lastOf(mustCidr('0.0.0.0/0'))).toBe(0xffffffff);
    const p31 = mustCidr('10.0.0.0/31');
    expect([firstHost(p31), lastHost(p31)].map(formatIPv4)).toEqual(['10.0.0.0', '10.0.0.1']);
  });
  it('contains', () => {
    const p = mustCidr('10.214.0.0/16');
    expect(containsIp(p, parseIPv4('10.214.255.1')!)).toBe(true);
    expect(containsIp(p, parseIPv4('10.215.0.0')!)).toBe(false);
    expect(containsPrefix(p, mustCidr('10.214.9.0/24'))).toBe(true);
    expect(containsPrefix(mustCidr('10.214.9.0/24'), p)).toBe(false);
    expect(containsIp(mustCidr('0.0.0.0/0'), 0xffffffff)).toBe(true);
    expect(containsIp(mustCidr('255.255.255.255/32'), 0xffffffff)).toBe(true);
  });
  it.each([
    ['10.214.0.0/24', '10.214.0.0/24', true],
    ['10.214.0.0/24', '10.214.1.0/24', false],
    ['10.0.0.0/8', '10.214.7.0/24', true],
    ['10.214.7.0/24', '10.0.0.0/8', true],
    ['10.214.7.128/25', '10.214.7.0/25', false],
    ['10.214.7.5/32', '10.214.7.0/24', true],
    ['10.214.7.5/32', '10.214.8.0/24', false],
    ['0.0.0.0/0', '1.2.3.4/32', true],
    ['172.30.0.0/16', '172.31.0.0/16', false],
    ['192.168.0.0/16', '192.168.224.0/19', true],
    ['255.255.255.0/24', '255.255.255.255/32', true],
  ])('overlaps(%s, %s) = %s', (a, b, r) => {
    expect(overlaps(mustCidr(a), mustCidr(b))).toBe(r);
    expect(overlaps(mustCidr(b), mustCidr(a))).toBe(r);
  });
  it('splits pools', () => {
    const subs = [...splitPrefix(mustCidr('10.214.0.0/22'), 24)].map(formatCidr);
    expect(subs).toEqual(['10.214.0.0/24', '10.214.1.0/24', '10.214.2.0/24', '10.214.3.0/24']);
    expect([...splitPrefix(mustCidr('10.214.0.0/16'), 24)]).toHaveLength(256);
    expect([...splitPrefix(mustCidr('10.214.0.0/24'), 16)].map(formatCidr)).toEqual(['10.214.0.0/24']);
    const top = [...splitPrefix(mustCidr('255.255.254.0/23'), 24)].map(formatCidr);
    expect(top).toEqual(['255.255.254.0/24', '255.255.255.0/24']);
  });
});
