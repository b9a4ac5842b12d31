import { describe, expect, test } from '@jest/globals';
import { InvalidPortConfigError, InvalidPortError, formatRange, parsePortSpec, parseRange, portMapping } from './ports.js';

const tcp = (target: number, extra: Record<string, unknown> = {}) => ({ mode: 'ingress', ...extra, target, protocol: 'tcp' });

describe('parsePortSpec: every short form compose-go accepts', () => {
  test.each([
    ['80', [tcp(80)]],
    ['8000:80', [tcp(80, { published: '8000' })]],
    ['127.0.0.1:8000:80', [tcp(80, { host_ip: '127.0.0.1', published: '8000' })]],
    ['127.0.0.1::80', [tcp(80, { host_ip: '127.0.0.1' })]],
    ['[::1]:8000:80', [tcp(80, { host_ip: '::1', published: '8000' })]],
    ['::1:8000:80', [tcp(80, { host_ip: '::1', published: '8000' })]],
    ['[::1]::80', [tcp(80, { host_ip: '::1' })]],
    ['9000-9010:80', [tcp(80, { published: '9000-9010' })]],
    ['127.0.0.1:9000-9010:80', [tcp(80, { host_ip: '127.0.0.1', published: '9000-9010' })]],
    ['9000-9001:80-81', [tcp(80, { published: '9000' }), tcp(81, { published: '9001' })]],
    ['3000-3001', [tcp(3000), tcp(3001)]],
    ['80/udp', [{ mode: 'ingress', target: 80, protocol: 'udp' }]],
    ['80/sctp', [{ mode: 'ingress', target: 80, protocol: 'sctp' }]],
    ['127.0.0.1:8080:80/UDP', [{ mode: 'ingress', host_ip: '127.0.0.1', target: 80, published: '8080', protocol: 'udp' }]],
    ['80/', [tcp(80)]],
    ['8000:8000', [tcp(8000, { published: '8000' })]],
  ])('%s', (spec, want) => expect(parsePortSpec(spec)).toEqual(want));

  test('keys in the order compose prints them', () => {
    expect(Object.keys(parsePortSpec('127.0.0.1:8000:80')[0]!)).toEqual(['mode', 'host_ip', 'target', 'published', 'protocol']);
  });

  test('container ranges come out in compose-go order (port/protocol keys sorted as strings)', () => {
    expect(parsePortSpec('98-100').map((p) => p.target)).toEqual([100, 98, 99]);
    expect(parsePortSpec('8098-8100:98-100').map((p) => [p.published, p.target])).toEqual([
      ['8100', 100],
      ['8098', 98],
      ['8099', 99],
    ]);
  });

  test.each([
    ['abc', 'invalid container port "abc"'],
    ['1-2:3-5', 'host range 1-2 and container range 3-5 differ in length'],
    ['80:90:100:x', 'invalid IP address 80:90'],
    ['70000', 'invalid container port "70000"'],
    ['8000:', 'no container port'],
    ['x:80', 'invalid host port "x"'],
    ['300.1.1.1:80:80', 'invalid IP address 300.1.1.1'],
    ['80/icmp', 'invalid protocol "icmp"'],
    ['90-80', 'invalid container port "90-80"'],
    ['[::1:80:80', 'invalid IP address'],
  ])('rejects %s', (spec, detail) => {
    expect(() => parsePortSpec(spec)).toThrow(InvalidPortError);
    expect(() => parsePortSpec(spec)).toThrow(detail);
  });
});

describe('ranges', () => {
  test('parse and format', () => {
    expect(parseRange('80')).toEqual({ start: 80, end: 80 });
    expect(parseRange('9000-9010')).toEqual({ start: 9000, end: 9010 });
    expect(parseRange('10-9')).toBeUndefined();
    expect(parseRange('65536')).toBeUndefined();
    expect(formatRange({ start: 80, end: 80 })).toBe('80');
    expect(formatRange({ start: 9000, end: 9010 })).toBe('9000-9010');
  });
});

describe('portMapping: long form → typed value', () => {
  test('ephemeral, fixed, range, host IP, protocol', () => {
    expect(portMapping({ mode: 'ingress', target: 80, protocol: 'tcp' })).toEqual({ containerPort: 80, protocol: 'tcp' });
    expect(portMapping({ mode: 'ingress', target: 80, published: '8000', protocol: 'udp' })).toEqual({
      containerPort: 80,
      protocol: 'udp',
      hostPort: { start: 8000, end: 8000 },
    });
    expect(portMapping({ mode: 'ingress', host_ip: '127.0.0.1', target: 80, published: '9000-9010', protocol: 'SCTP' })).toEqual({
      containerPort: 80,
      protocol: 'sctp',
      hostIp: '127.0.0.1',
      hostPort: { start: 9000, end: 9010 },
    });
    expect(portMapping({ mode: 'ingress', host_ip: '[::1]', target: 80, published: '0', protocol: 'tcp' })).toEqual({
      containerPort: 80,
      protocol: 'tcp',
      hostIp: '::1',
    });
  });

  test('every short form maps onto the typed value', () => {
    expect(parsePortSpec('[::1]:9000-9010:80/udp').map(portMapping)).toEqual([
      { containerPort: 80, protocol: 'udp', hostIp: '::1', hostPort: { start: 9000, end: 9010 } },
    ]);
  });

  test.each([
    [{ mode: 'ingress', target: 80, protocol: 'icmp' }, 'invalid protocol'],
    [{ mode: 'ingress', target: 0, protocol: 'tcp' }, 'invalid container port 0'],
    [{ mode: 'ingress', target: 80, published: 'x', protocol: 'tcp' }, 'invalid published port "x"'],
    [{ mode: 'ingress', target: 80, host_ip: 'localhost', protocol: 'tcp' }, 'invalid host IP "localhost"'],
  ])('rejects %j', (p, detail) => {
    expect(() => portMapping(p)).toThrow(InvalidPortConfigError);
    expect(() => portMapping(p)).toThrow(detail);
  });
});
