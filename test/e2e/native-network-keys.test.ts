/**
 * End-to-end: a service's per-network `interface_name` and `gw_priority` on native bridge networks (issue 18), as
 * Docker Engine 28.1+ applies them: the named interface, the others numbered eth0, eth1… in order around it; the
 * highest gw_priority gives the IPv4 default route (and publishes the ports), the IPv6 one comes from the best
 * network that has IPv6; the same after `restart` and after a (simulated) reboot and `resume`. A bad
 * interface_name is refused when the container starts, and nothing of the refused start is left.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, required } from './helpers.js';
import { capable, nativeDescribe, NativeSuite, ok, type NativeProject } from './native-harness.js';
import { simulateReboot } from './reboot-sim.js';

const run = nativeDescribe ? describe : describe.skip;
const suite = new NativeSuite();
let p: NativeProject;
let port = 0;

/** Subnets no route of the host's overlaps (10.201.61-64/24, 2001:db8:201:62::/64). */
const compose = (hostPort: number): string => `services:
  multi:
    image: busybox
    restart: unless-stopped
    command: ["sh", "-c", "mkdir -p /www && echo multi > /www/index.html && exec httpd -f -p 8080 -h /www"]
    ports: ["127.0.0.1:${hostPort}:8080"]
    networks:
      alpha: {}
      bravo:
        interface_name: lan6
      charlie:
        gw_priority: 10
  plain:
    image: busybox
    command: ["sleep", "3600"]
    networks: [charlie, alpha]
  badname:
    image: busybox
    command: ["sleep", "3600"]
    networks:
      alpha:
        interface_name: averyverylongname
  twice:
    image: busybox
    command: ["sleep", "3600"]
    networks:
      alpha:
        interface_name: lan
      charlie:
        interface_name: lan
networks:
  alpha:
    ipam:
      config:
        - subnet: 10.201.61.0/24
  bravo:
    enable_ipv6: true
    ipam:
      config:
        - subnet: 10.201.62.0/24
        - subnet: 2001:db8:201:62::/64
  charlie:
    ipam:
      config:
        - subnet: 10.201.63.0/24
`;

interface NetRecord {
  gateway: string;
  gateway6?: string;
  endpoints: Record<string, { ifname: string; ports: unknown[] }>;
}
const netState = (): Record<string, NetRecord> =>
  (JSON.parse(readFileSync(join(suite.env['TSCOMPOSE_STATE_DIR']!, 'net', 'networks.json'), 'utf8')) as { networks: Record<string, NetRecord> })
    .networks;
const net = (key: string): NetRecord => netState()[`${p.name}_${key}`]!;

beforeAll(() => {
  if (required && !capable) throw new Error('TSCOMPOSE_E2E=1 but the native runtime cannot run here (root, conmon and runc/crun needed)');
});

afterAll(() => {
  if (capable) suite.cleanup();
}, 180_000);

const out = (service: string, cmd: string): string => ok(suite.ts(p, 'exec', '-T', service, 'sh', '-c', cmd)).trim();

async function page(tries = 50): Promise<string> {
  for (let i = 0; i < tries; i++) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) });
      if (r.ok) return (await r.text()).trim();
    } catch {
      /* not yet */
    }
    await sleep(200);
  }
  return '';
}

/** multi's interfaces and routes, as seen inside it. */
async function expectMulti(): Promise<void> {
  const addrs = out('multi', 'ip -o addr show scope global');
  expect(addrs).toMatch(/^\d+: eth0\s+inet 10\.201\.61\.\d+\/24/m);
  expect(addrs).toMatch(/^\d+: lan6\s+inet 10\.201\.62\.\d+\/24/m);
  expect(addrs).toMatch(/^\d+: lan6\s+inet6 2001:db8:201:62::[0-9a-f:]+\/64/m);
  expect(addrs).toMatch(/^\d+: eth1\s+inet 10\.201\.63\.\d+\/24/m);
  expect(addrs).not.toMatch(/eth2/);
  // gw_priority 10: charlie gives the IPv4 route (without it bravo would, dual-stack); bravo the IPv6 one.
  expect(out('multi', 'ip route | grep ^default')).toMatch(new RegExp(`^default via ${net('charlie').gateway} dev eth1\\s*$`));
  expect(out('multi', 'ip -6 route | grep ^default')).toMatch(new RegExp(`^default via ${net('bravo').gateway6!} dev lan6 `));
  // The ports are published on the gateway network.
  const mine = (key: string) => Object.values(net(key).endpoints).find((e) => e.ports.length > 0);
  expect(mine('charlie')).toBeDefined();
  expect(mine('alpha')).toBeUndefined();
  expect(await page()).toBe('multi');
}

run('native: interface_name and gw_priority', () => {
  test('up: the named interface, the others eth0, eth1; the default routes from gw_priority', async () => {
    ok(suite.ts(undefined, 'image', 'pull', 'busybox'));
    port = await freePort();
    p = suite.project({ 'compose.yaml': compose(port) });
    ok(suite.ts(p, 'up', '-d', 'multi', 'plain'));
    await expectMulti();
    // No gw_priority: the tie goes by network name (alpha before charlie); eth0, eth1 in the networks' order.
    expect(out('plain', 'ip route | grep ^default')).toMatch(new RegExp(`^default via ${net('alpha').gateway} dev eth0`));
    expect(out('plain', 'ip -o -4 addr show eth0')).toContain('inet 10.201.61.');
  }, 300_000);

  test('the same after restart', async () => {
    ok(suite.ts(p, 'restart', '-t', '1', 'multi'));
    await expectMulti();
  }, 300_000);

  test('the same after a reboot and resume', async () => {
    ok(suite.ts(p, 'stop', '-t', '0', 'plain'));
    simulateReboot({ base: suite.stateDir, stateDir: join(suite.stateDir, 'state'), runDir: join(suite.stateDir, 'run') });
    ok(suite.ts(undefined, 'resume'));
    await expectMulti();
  }, 300_000);

  test('a bad or repeated interface_name is refused at start, and nothing of the start is left', () => {
    for (const [service, words] of [
      ['badname', 'invalid interface_name "averyverylongname" on network'],
      ['twice', 'interface_name "lan" is given on networks'],
    ] as const) {
      const r = suite.ts(p, 'up', '-d', service);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`container ${p.name}-${service}-1: ${words}`);
      const id = ok(suite.ts(p, 'ps', '-a', '-q', service)).trim();
      expect(id).not.toBe('');
      const endpoints = Object.values(netState()).flatMap((n) => Object.keys(n.endpoints).filter((e) => e.startsWith(id)));
      expect(endpoints).toEqual([]);
      expect(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout).not.toContain(`tsc-${id.slice(0, 12)}`);
    }
  }, 300_000);

  test('down leaves nothing', () => {
    ok(suite.ts(p, 'down', '-t', '0'));
    expect(Object.keys(netState()).filter((k) => k.startsWith(`${p.name}_`))).toEqual([]);
    expect(suite.leftovers()).toEqual([]);
  }, 120_000);
});
