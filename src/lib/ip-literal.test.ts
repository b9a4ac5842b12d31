import { describe, expect, it } from '@jest/globals';
import * as net from 'node:net';
import { isIP, isIPv4, isIPv6 } from './ip-literal.js';

const fixed = [
  '',
  '.',
  '1.2.3.4',
  '0.0.0.0',
  '255.255.255.255',
  '256.1.1.1',
  '01.2.3.4',
  '1.2.3',
  '1.2.3.4.5',
  '1..2.3',
  ' 1.2.3.4',
  '1.2.3.4 ',
  '+1.2.3.4',
  '1e1.2.3.4',
  '::',
  ':::',
  '::1',
  '1::',
  '1:2:3:4:5:6:7:8',
  '1:2:3:4:5:6:7::',
  '::2:3:4:5:6:7:8',
  '1:2:3:4::5:6:7:8',
  '1:2:3:4:5:6:7:8:9',
  '1:2:3:4:5:6:7',
  ':1:2:3:4:5:6:7',
  '1:2:3:4:5:6:7:',
  '1::2::3',
  'fe80::1%eth0',
  'fe80::1%',
  'fe80::1%e th0',
  'fe80::1%a:b.c-d',
  '::ffff:1.2.3.4',
  '::ffff:256.2.3.4',
  '1:2:3:4:5:6:1.2.3.4',
  '1:2:3:4:5:6:7:1.2.3.4',
  '1.2.3.4::',
  '1.2.3.4::1',
  '::1.2.3.4',
  '1::1.2.3.4',
  'g::1',
  '12345::1',
  'ABCD:ef01::1',
  '[::1]',
  '::1/64',
  '1:2:3:4:5::1.2.3.4',
  '1:2:3:4:5:6::1.2.3.4',
  '%eth0',
  '::%1',
  '1.2.3.4%eth0',
  '::1.2.3',
];

/** Valid IPv4 and IPv6 literals in their many forms, half of them then mutated by a character or two. */
function generated(n: number): string[] {
  let seed = 12345;
  const rand = (k: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return Math.floor(seed / 65536) % k;
  };
  const hex = '0123456789abcdefABCDEF';
  const v4 = (): string => Array.from({ length: 4 }, () => String(rand(300))).join('.');
  const v6 = (): string => {
    const groups = Array.from({ length: 8 }, () => Array.from({ length: 1 + rand(4) }, () => hex[rand(hex.length)]).join(''));
    if (rand(3) === 0) groups.splice(6, 2, v4());
    let s = groups.join(':');
    if (rand(2) === 0) {
      const from = rand(groups.length);
      const to = from + 1 + rand(groups.length - from);
      s = `${groups.slice(0, from).join(':')}::${groups.slice(to).join(':')}`;
    }
    if (rand(6) === 0) s += `%${['eth0', '1', 'a.b', 'x y', ''][rand(5)]}`;
    return s;
  };
  const noise = ':.%0aG9 ';
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    let s = rand(3) === 0 ? v4() : v6();
    for (let m = rand(2) === 0 ? 1 + rand(2) : 0; m > 0; m--) {
      const at = rand(s.length + 1);
      const op = rand(3);
      if (op === 0) s = s.slice(0, at) + s.slice(at + 1);
      else if (op === 1) s = s.slice(0, at) + noise[rand(noise.length)] + s.slice(at);
      else s = s.slice(0, at) + s.slice(at, at + 1).repeat(2) + s.slice(at + 1);
    }
    out.push(s);
  }
  return out;
}

describe('ip literals', () => {
  it('agree with node:net on fixed cases', () => {
    for (const s of fixed) {
      expect([s, isIPv4(s)]).toEqual([s, net.isIPv4(s)]);
      expect([s, isIPv6(s)]).toEqual([s, net.isIPv6(s)]);
      expect([s, isIP(s)]).toEqual([s, net.isIP(s)]);
    }
  });

  it('agree with node:net on 20000 generated strings', () => {
    const all = generated(20000);
    // Enough of each answer for the comparison to mean something.
    expect(all.filter((s) => net.isIPv4(s)).length).toBeGreaterThan(1000);
    expect(all.filter((s) => net.isIPv6(s)).length).toBeGreaterThan(3000);
    expect(all.filter((s) => !net.isIP(s)).length).toBeGreaterThan(3000);
    const wrong = all.filter((s) => isIPv4(s) !== net.isIPv4(s) || isIPv6(s) !== net.isIPv6(s) || isIP(s) !== net.isIP(s));
    expect(wrong).toEqual([]);
  });
});
