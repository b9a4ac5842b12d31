/**
 * End-to-end: `enable_ipv6` on native bridge networks (issue 18): a ULA /64 by default or the ipam config's IPv6
 * subnet, IPv6 addresses for the containers (a static `ipv6_address` too), AAAA answers by service name, IPv6
 * between containers and to the host, and `down` leaves no bridge or nft table (ip and ip6) behind.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { required } from './helpers.js';
import { capable, nativeDescribe, NativeSuite, ok, type NativeProject } from './native-harness.js';

const run = nativeDescribe ? describe : describe.skip;
const suite = new NativeSuite();
let p: NativeProject;

const COMPOSE = `services:
  a:
    image: busybox
    command: ["sleep", "3600"]
  b:
    image: busybox
    command: ["sleep", "3600"]
    networks:
      default:
      v6b:
        ipv6_address: 2001:db8:77::10
networks:
  default:
    enable_ipv6: true
  v6b:
    enable_ipv6: true
    ipam:
      config:
        - subnet: 2001:db8:77::/64
`;

interface NetRecord {
  bridge: string;
  subnet6?: string;
  gateway6?: string;
  endpoints: Record<string, { ip6?: string }>;
}
const netState = (): Record<string, NetRecord> =>
  (JSON.parse(readFileSync(join(suite.env['TSCOMPOSE_STATE_DIR']!, 'net', 'networks.json'), 'utf8')) as { networks: Record<string, NetRecord> })
    .networks;

beforeAll(() => {
  if (required && !capable) throw new Error('TSCOMPOSE_E2E=1 but the native runtime cannot run here (root, conmon and runc/crun needed)');
  if (!capable) return;
  ok(suite.ts(undefined, 'image', 'pull', 'busybox'));
  p = suite.project({ 'compose.yaml': COMPOSE });
  ok(suite.ts(p, 'up', '-d'));
}, 300_000);

afterAll(() => {
  if (capable) suite.cleanup();
}, 120_000);

const out = (service: string, cmd: string): string => ok(suite.ts(p, 'exec', '-T', service, 'sh', '-c', cmd)).trim();

run('native: enable_ipv6 on bridge networks', () => {
  test('a ULA subnet by default, the ipam one when given; containers get addresses, a static one too', () => {
    const def = netState()[`${p.name}_default`]!;
    expect(def.subnet6).toMatch(/^fd[0-9a-f]{2}:[0-9a-f:]+::\/64$/);
    expect(netState()[`${p.name}_v6b`]!.subnet6).toBe('2001:db8:77::/64');
    const ip6 = Object.values(def.endpoints).map((e) => e.ip6!);
    expect(ip6).toHaveLength(2);
    const mine = out('a', 'ip -6 -o addr show eth0 scope global');
    expect(ip6.some((x) => mine.includes(`${x}/64`))).toBe(true);
    expect(out('b', 'ip -6 -o addr show scope global')).toContain('2001:db8:77::10/64');
    expect(out('a', 'ip -6 route')).toContain(`default via ${def.gateway6} dev eth0`);
  });

  test('AAAA answers by service name; IPv6 between containers and to the bridge', () => {
    const def = netState()[`${p.name}_default`]!;
    const aaaa = out('a', 'nslookup -type=AAAA b');
    const bAddr = Object.values(def.endpoints)
      .map((e) => e.ip6!)
      .find((x) => aaaa.includes(x));
    expect(bAddr).toBeDefined();
    expect(out('a', 'ping -6 -c1 -W3 b >/dev/null && echo ok')).toBe('ok');
    expect(out('b', `ping -c1 -W3 ${def.gateway6} >/dev/null && echo ok`)).toBe('ok');
    expect(out('a', 'grep -c : /etc/hosts')).not.toBe('0');
  });

  test('down removes the bridges and both nft tables', () => {
    const bridges = Object.entries(netState())
      .filter(([k]) => k.startsWith(`${p.name}_`))
      .map(([, n]) => n.bridge);
    expect(bridges).toHaveLength(2);
    ok(suite.ts(p, 'down', '-t', '0'));
    for (const b of bridges) {
      expect(spawnSync('ip', ['link', 'show', b]).status).not.toBe(0);
      expect(spawnSync('nft', ['list', 'table', 'ip', b]).status).not.toBe(0);
      expect(spawnSync('nft', ['list', 'table', 'ip6', b]).status).not.toBe(0);
    }
    expect(suite.leftovers()).toEqual([]);
  });
});
