import { describe, expect, it } from '@jest/globals';
import type { Answer, Packet } from 'dns-packet';
import {
  type DnsNetwork,
  RCODE,
  buildIndex,
  canonicalIp,
  decide,
  normalizeName,
  parseUpstream,
  ptrNameToIp,
  rawErrorResponse,
  truncateForUdp,
  visibleNetworks,
} from './records.js';

const A: DnsNetwork = {
  network: 'proj_a',
  gateway: '10.214.250.1',
  upstreams: ['10.0.0.53', '127.0.0.53'],
  entries: [
    { containerId: 'c-web-1', ips: ['10.214.250.5', 'fd00::5'], names: ['web', 'proj-web-1', 'WebAlias', 'c-web-1'] },
    { containerId: 'c-web-2', ips: ['10.214.250.6'], names: ['web', 'proj-web-2'] },
    { containerId: 'c-both', ips: ['10.214.250.9'], names: ['both', 'proj-both-1'] },
  ],
};
const B: DnsNetwork = {
  network: 'proj_b',
  gateway: '10.214.251.1',
  upstreams: ['10.0.0.54'],
  entries: [
    { containerId: 'c-db', ips: ['10.214.251.5'], names: ['db', 'proj-db-1'] },
    { containerId: 'c-both', ips: ['10.214.251.9'], names: ['both', 'proj-both-1'] },
  ],
};
const idx = buildIndex([A, B]);

const q = (name: string, type: string = 'A', extra: Partial<Packet> = {}): Packet =>
  ({ id: 42, type: 'query', flags: 1 << 8, questions: [{ name, type, class: 'IN' }], ...extra }) as Packet;
const answerOf = (d: ReturnType<typeof decide>) => {
  if (d.kind !== 'answer') throw new Error(`expected an answer, got ${JSON.stringify(d)}`);
  return d.response;
};
const rcode = (p: Packet) => (p.flags ?? 0) & 0xf;
const datas = (p: Packet) => (p.answers ?? []).map((a: Answer) => (a as { data: unknown }).data).sort();

describe('dns records', () => {
  it('answers A for service names, container names, aliases and ids, case-insensitively', () => {
    const r = answerOf(decide(idx, '10.214.250.1', 53, '10.214.250.100', q('web')));
    expect(rcode(r)).toBe(RCODE.NOERROR);
    expect(datas(r)).toEqual(['10.214.250.5', '10.214.250.6']);
    expect(r.id).toBe(42);
    expect(r.type).toBe('response');
    expect((r.flags ?? 0) & (1 << 10)).toBeTruthy(); // AA
    expect((r.flags ?? 0) & (1 << 8)).toBeTruthy(); // RD copied
    expect(r.answers?.every((a) => (a as { ttl: number }).ttl === 0)).toBe(true);
    for (const n of ['PROJ-WEB-1', 'webalias', 'WebAlias.', 'c-web-1'])
      expect(datas(answerOf(decide(idx, '10.214.250.1', 53, '10.214.250.100', q(n))))).toEqual(['10.214.250.5']);
  });

  it('answers AAAA with the IPv6 addresses, or empty NOERROR when the name has none', () => {
    expect(datas(answerOf(decide(idx, '10.214.250.1', 53, '10.214.250.5', q('proj-web-1', 'AAAA'))))).toEqual(['fd00::5']);
    const r = answerOf(decide(idx, '10.214.250.1', 53, '10.214.250.5', q('proj-web-2', 'AAAA')));
    expect(rcode(r)).toBe(RCODE.NOERROR);
    expect(r.answers).toEqual([]);
    const mx = answerOf(decide(idx, '10.214.250.1', 53, '10.214.250.5', q('web', 'MX')));
    expect(rcode(mx)).toBe(RCODE.NOERROR);
    expect(mx.answers).toEqual([]);
  });

  it("forwards another network's names and unknown names to the visible networks' upstreams", () => {
    expect(decide(idx, '10.214.250.1', 53, '10.214.250.5', q('db'))).toEqual({ kind: 'forward', upstreams: ['10.0.0.53', '127.0.0.53'] });
    expect(decide(idx, '10.214.251.1', 53, '10.214.251.5', q('web'))).toEqual({ kind: 'forward', upstreams: ['10.0.0.54'] });
    expect(decide(idx, '10.214.250.1', 53, '10.214.250.5', q('example.org'))).toEqual({ kind: 'forward', upstreams: ['10.0.0.53', '127.0.0.53'] });
  });

  it('lets a container on several networks see all of them, its arrival network first', () => {
    expect(visibleNetworks(idx, 'proj_a', '10.214.250.9')).toEqual(['proj_a', 'proj_b']);
    expect(visibleNetworks(idx, 'proj_b', '10.214.251.9')).toEqual(['proj_b', 'proj_a']);
    expect(visibleNetworks(idx, 'proj_a', '10.214.250.5')).toEqual(['proj_a']);
    expect(visibleNetworks(idx, 'proj_a', '192.0.2.1')).toEqual(['proj_a']);
    // a container of network a asking on b's address (were it routed there) still sees only a
    expect(visibleNetworks(idx, 'proj_b', '10.214.250.5')).toEqual(['proj_a']);
    expect(decide(idx, '10.214.251.1', 53, '10.214.250.5', q('db'))).toEqual({ kind: 'forward', upstreams: ['10.0.0.53', '127.0.0.53'] });
    expect(datas(answerOf(decide(idx, '10.214.250.1', 53, '10.214.250.9', q('db'))))).toEqual(['10.214.251.5']);
    // its own name: the address on the network asked
    expect(datas(answerOf(decide(idx, '10.214.251.1', 53, '10.214.251.9', q('both'))))).toEqual(['10.214.251.9']);
    expect(decide(idx, '10.214.250.1', 53, '10.214.250.9', q('nothing.example'))).toEqual({
      kind: 'forward',
      upstreams: ['10.0.0.53', '127.0.0.53', '10.0.0.54'],
    });
  });

  it('answers PTR for known addresses of visible networks', () => {
    expect(ptrNameToIp('5.250.214.10.in-addr.arpa')).toBe('10.214.250.5');
    expect(ptrNameToIp('5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa')).toBe('fd00::5');
    expect(ptrNameToIp('x.in-addr.arpa')).toBeUndefined();
    const r = answerOf(decide(idx, '10.214.250.1', 53, '10.214.250.6', q('5.250.214.10.in-addr.arpa', 'PTR')));
    expect(r.answers?.map((a) => (a as { data: string }).data)).toEqual(['web', 'proj-web-1', 'webalias', 'c-web-1']);
    expect(decide(idx, '10.214.250.1', 53, '10.214.250.6', q('5.251.214.10.in-addr.arpa', 'PTR')).kind).toBe('forward');
  });

  it('refuses queries to an address it does not serve; rejects odd queries', () => {
    expect(rcode(answerOf(decide(idx, '10.214.252.1', 53, '10.214.252.5', q('web'))))).toBe(RCODE.REFUSED);
    expect(rcode(answerOf(decide(idx, '10.214.250.1', 5353, '10.214.250.5', q('web'))))).toBe(RCODE.REFUSED);
    expect(rcode(answerOf(decide(idx, '10.214.250.1', 53, '10.214.250.5', { id: 1, flags: 0, questions: [] })))).toBe(RCODE.FORMERR);
    expect(rcode(answerOf(decide(idx, '10.214.250.1', 53, '10.214.250.5', q('web', 'A', { flags: 2 << 11 }))))).toBe(RCODE.NOTIMP);
  });

  it('answers SERVFAIL for unknown names on a network without upstreams (internal)', () => {
    const i = buildIndex([{ ...A, upstreams: [] }]);
    const r = answerOf(decide(i, '10.214.250.1', 53, '10.214.250.5', q('example.org')));
    expect(rcode(r)).toBe(RCODE.SERVFAIL);
    expect(datas(answerOf(decide(i, '10.214.250.1', 53, '10.214.250.5', q('web'))))).toEqual(['10.214.250.5', '10.214.250.6']);
  });

  it("forwards a container's other names to its own upstreams (compose dns:)", () => {
    const i = buildIndex([
      { ...A, entries: [...A.entries, { containerId: 'c-dns', ips: ['10.214.250.20'], names: ['custom'], upstreams: ['192.0.2.53'] }] },
      B,
    ]);
    expect(decide(i, '10.214.250.1', 53, '10.214.250.20', q('example.org'))).toEqual({ kind: 'forward', upstreams: ['192.0.2.53'] });
    expect(datas(answerOf(decide(i, '10.214.250.1', 53, '10.214.250.20', q('web'))))).toEqual(['10.214.250.5', '10.214.250.6']);
    expect(decide(i, '10.214.250.1', 53, '10.214.250.5', q('example.org'))).toEqual({ kind: 'forward', upstreams: ['10.0.0.53', '127.0.0.53'] });
  });

  it('normalizes names, addresses and upstreams', () => {
    expect(normalizeName('Web.Example.')).toBe('web.example');
    expect(canonicalIp('::ffff:10.1.2.3')).toBe('10.1.2.3');
    expect(canonicalIp('FD00:0:0::05')).toBe('fd00::5');
    expect(canonicalIp('::ffff:0a01:0203')).toBe('10.1.2.3');
    expect(canonicalIp('fd00::5')).toBe(canonicalIp('fd00:0000::0005'));
    expect(parseUpstream('10.0.0.1')).toEqual({ host: '10.0.0.1', port: 53 });
    expect(parseUpstream('127.0.0.1:5353')).toEqual({ host: '127.0.0.1', port: 5353 });
    expect(parseUpstream('fd00::1')).toEqual({ host: 'fd00::1', port: 53 });
    expect(parseUpstream('[fd00::1]:54')).toEqual({ host: 'fd00::1', port: 54 });
    // an IPv4-mapped client address is the IPv4 one
    expect(visibleNetworks(idx, 'proj_a', '::ffff:10.214.250.9')).toEqual(['proj_a', 'proj_b']);
  });

  it('builds error responses from undecodable bytes and truncates big UDP answers', () => {
    const raw = Buffer.from([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0xff]);
    const e = rawErrorResponse(raw, RCODE.FORMERR)!;
    expect(e.readUInt16BE(0)).toBe(0x1234);
    expect(e.readUInt16BE(2) & 0x8000).toBeTruthy();
    expect(e.readUInt16BE(2) & 0xf).toBe(RCODE.FORMERR);
    expect(rawErrorResponse(Buffer.alloc(3), 1)).toBeUndefined();
    const resp: Packet = { id: 1, type: 'response', flags: 0, answers: [{ type: 'A', name: 'x', data: '1.2.3.4' }] };
    expect(truncateForUdp(q('x'), resp, Buffer.alloc(100), 512)).toBeUndefined();
    const t = truncateForUdp(q('x'), resp, Buffer.alloc(600), 512)!;
    expect((t.flags ?? 0) & (1 << 9)).toBeTruthy();
    expect(t.answers).toEqual([]);
  });
});

describe('records of a network not listened on here (listen: false)', () => {
  // proj_lan is a macvlan network served by its own resolver; its records are here too for containers that are
  // also on proj_a (c-both), which ask this resolver.
  const LAN: DnsNetwork = {
    network: 'proj_lan',
    gateway: '10.214.250.1', // even an address that is listened on for another network: not taken from it
    listen: false,
    upstreams: [],
    entries: [
      { containerId: 'c-both', ips: ['198.18.201.9'], names: ['both'] },
      { containerId: 'c-router', ips: ['198.18.201.10'], names: ['router'] },
    ],
  };
  const i2 = buildIndex([A, LAN]);
  it('a container on both sees the names of the network not listened on', () => {
    expect(datas(answerOf(decide(i2, '10.214.250.1', 53, '10.214.250.9', q('router'))))).toEqual(['198.18.201.10']);
  });
  it('the listening address still tells its own network; others do not see those names', () => {
    expect(i2.byListen.get('10.214.250.1|53')).toBe('proj_a');
    const d = decide(i2, '10.214.250.1', 53, '10.214.250.5', q('router'));
    expect(d.kind).toBe('forward');
  });
});
