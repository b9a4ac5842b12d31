/**
 * End-to-end: macvlan and ipvlan networks on the native runtime (issue 18), against a parent interface the test
 * makes (a veth pair: this kernel may have no dummy links) on subnets no host route or resolver overlaps.
 * Containers reach each other by service name (the network's resolver, in the network's own namespace: the host
 * cannot reach its interface's children) and by static address; a network without `parent` gets a dummy of its
 * own; a container also on a bridge network resolves the names of both; ipvlan l2 the same when the kernel has ipvlan, else `up` refuses it clearly and leaves nothing; `down`
 * removes every namespace, child and resolver. Images from the local registry (scripts/engine-env.sh).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { linkNetnsName } from '../../src/lib/net/macvlan.js';
import { required } from './helpers.js';
import { capable, nativeDescribe, NativeSuite, ok, type NativeProject } from './native-harness.js';

const run = nativeDescribe ? describe : describe.skip;
const suite = new NativeSuite();
const tag = Math.random().toString(16).slice(2, 8);
/** The parent: one end of a veth pair (both up, so it has a carrier), on the host. */
const PARENT = `tscmv${tag}`;
const PARENT2 = `tscmw${tag}`;
const SUBNETS = ['198.18.201.0/24', '198.18.202.0/24', '198.18.203.0/24'];
const sh = (cmd: string) => spawnSync('sh', ['-c', cmd], { encoding: 'utf8' });
/** Whether this kernel makes ipvlan links (probed in a namespace of the test's own). */
let ipvlan = false;

interface NetRecord {
  link?: { netns: string; dnsIp?: string; parent: string };
  endpoints: Record<string, { netns: string; ifname: string; ip: string }>;
}
const netState = (): Record<string, NetRecord> =>
  (JSON.parse(readFileSync(join(suite.env['TSCOMPOSE_STATE_DIR']!, 'net', 'networks.json'), 'utf8')) as { networks: Record<string, NetRecord> })
    .networks;

function addParent(name: string): void {
  const r = sh(`ip link add ${name} type veth peer name ${name}p && ip link set ${name}p up && ip link set ${name} up`);
  if (r.status !== 0) throw new Error(`cannot make the parent ${name}: ${r.stderr}`);
}

const compose = (driver: string, parent: string, subnet: string, opts = ''): string =>
  [
    'services:',
    '  a:',
    '    image: busybox',
    '    command: ["sleep", "3600"]',
    '    networks:',
    '      lan:',
    `        ipv4_address: ${subnet.replace(/0\/24$/, '10')}`,
    '  b:',
    '    image: busybox',
    '    command: ["sleep", "3600"]',
    '    networks: [lan]',
    '  c:',
    '    image: busybox',
    '    command: ["sleep", "3600"]',
    '    networks: [iso]',
    '  d:',
    '    image: busybox',
    '    command: ["sleep", "3600"]',
    '    networks: [iso]',
    '  e:',
    '    image: busybox',
    '    command: ["sleep", "3600"]',
    '    networks: [lan, back]',
    '  f:',
    '    image: busybox',
    '    command: ["sleep", "3600"]',
    '    networks: [back]',
    'networks:',
    '  back: {}',
    '  lan:',
    `    driver: ${driver}`,
    '    driver_opts:',
    `      parent: ${parent}`,
    opts,
    '    ipam:',
    '      config:',
    `        - subnet: ${subnet}`,
    `          gateway: ${subnet.replace(/0\/24$/, '1')}`,
    `          ip_range: ${subnet.replace(/0\/24$/, '64/26')}`,
    '  iso:',
    `    driver: ${driver}`,
    '    internal: true',
  ]
    .filter((l) => l !== '')
    .join('\n');

let mac: NativeProject;
let traces: { netns: string[]; resolvers: string } = { netns: [], resolvers: '' };

beforeAll(() => {
  if (required && !capable) throw new Error('TSCOMPOSE_E2E=1 but the native runtime cannot run here (root, conmon and runc/crun needed)');
  if (!capable) return;
  // Subnets overlapping nothing of the host's: its routes and resolvers.
  const routes = sh('ip -4 route show table all').stdout + readFileSync('/etc/resolv.conf', 'utf8');
  for (const s of SUBNETS) expect(routes).not.toContain(s.slice(0, s.lastIndexOf('.')));
  addParent(PARENT);
  addParent(PARENT2);
  const ns = `tscmvprobe${tag}`;
  ipvlan =
    sh(`ip netns add ${ns} && ip -n ${ns} link add p0 type veth peer name p1 && ip -n ${ns} link add link p0 name iv type ipvlan mode l2`).status ===
    0;
  sh(`ip netns del ${ns}`);
  ok(suite.ts(undefined, 'image', 'pull', 'busybox'));
  mac = suite.project({ 'compose.yaml': compose('macvlan', PARENT, SUBNETS[0]!) });
  ok(suite.ts(mac, 'up', '-d'));
}, 300_000);

afterAll(() => {
  if (!capable) return;
  suite.cleanup();
  sh(`ip link del ${PARENT}; ip link del ${PARENT2}`);
}, 120_000);

const out = (p: NativeProject, service: string, cmd: string): string => ok(suite.ts(p, 'exec', '-T', service, 'sh', '-c', cmd)).trim();

/** What a project's networks made: their namespaces and the containers', and the resolvers' command lines. */
function noteTraces(project: string): void {
  traces.netns.push(linkNetnsName(`${project}_lan`), linkNetnsName(`${project}_iso`));
  for (const [key, n] of Object.entries(netState())) {
    if (!key.startsWith(`${project}_`)) continue;
    if (n.link) traces.netns.push(n.link.netns);
    for (const e of Object.values(n.endpoints)) traces.netns.push(e.netns);
  }
  traces.resolvers = join(suite.env['TSCOMPOSE_STATE_DIR']!, 'dns-links');
}

function leftAfterDown(project: string): string[] {
  const left: string[] = [];
  const netns = sh('ip netns list').stdout;
  for (const n of traces.netns) if (new RegExp(`^${n}\\b`, 'm').test(netns)) left.push(`netns ${n}`);
  for (const key of Object.keys(netState())) if (key.startsWith(`${project}_`)) left.push(`network ${key}`);
  const ps = sh('ps -eo args').stdout;
  if (ps.includes(traces.resolvers)) left.push('a resolver process');
  const dir = join(suite.env['TSCOMPOSE_STATE_DIR']!, 'dns-links');
  if (existsSync(dir))
    left.push(
      ...sh(`ls -A ${dir}`)
        .stdout.split('\n')
        .filter(Boolean)
        .map((d) => `resolver dir ${d}`),
    );
  left.push(...suite.leftovers());
  return left;
}

run('native: macvlan networks', () => {
  test('containers reach each other by service name and by static address', () => {
    expect(out(mac, 'b', 'ping -c1 -W3 a >/dev/null && echo ok')).toBe('ok');
    expect(out(mac, 'b', 'ping -c1 -W3 198.18.201.10 >/dev/null && echo ok')).toBe('ok');
    expect(out(mac, 'b', 'nslookup a')).toMatch(/Address: 198\.18\.201\.10/);
    expect(out(mac, 'a', 'ping -c1 -W3 b >/dev/null && echo ok')).toBe('ok');
    // dynamic addresses come from the ip_range
    expect(out(mac, 'b', 'ip -4 -o addr show eth0')).toMatch(/inet 198\.18\.201\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\/24/);
  });

  test('a macvlan child of the parent, in bridge mode; the resolver in the network namespace', () => {
    const lan = netState()[`${mac.name}_lan`]!;
    expect(lan.link).toMatchObject({ parent: PARENT });
    const ep = Object.values(lan.endpoints)[0]!;
    expect(sh(`ip -n ${ep.netns} -d link show ${ep.ifname}`).stdout).toMatch(/macvlan mode bridge/);
    expect(out(mac, 'a', 'cat /etc/resolv.conf')).toContain(`nameserver ${lan.link!.dnsIp}`);
    expect(out(mac, 'a', 'ip route')).toMatch(/default via 198\.18\.201\.1 dev eth0/);
  });

  test('without parent: a dummy of its own; internal: no default route; names resolve', () => {
    expect(out(mac, 'c', 'ping -c1 -W3 d >/dev/null && echo ok')).toBe('ok');
    expect(out(mac, 'c', 'ip route')).not.toMatch(/default/);
    const iso = netState()[`${mac.name}_iso`]!;
    expect(sh(`ip -n ${iso.link!.netns} -o link show`).stdout).toContain(iso.link!.parent);
  });

  test('a container on a macvlan and a bridge network resolves the names of both; the bridge one resolves it', () => {
    expect(out(mac, 'e', 'ping -c1 -W3 a >/dev/null && echo ok')).toBe('ok');
    expect(out(mac, 'e', 'ping -c1 -W3 f >/dev/null && echo ok')).toBe('ok');
    expect(out(mac, 'f', 'ping -c1 -W3 e >/dev/null && echo ok')).toBe('ok');
    // f is not on lan: its names are not f's to see
    expect(suite.ts(mac, 'exec', '-T', 'f', 'nslookup', 'a').status).not.toBe(0);
  });

  test('a second network on the same parent is refused, as Docker does', () => {
    const p = suite.project({
      'compose.yaml': `services:\n  x:\n    image: busybox\n    command: ["sleep", "1"]\n    networks: [n]\nnetworks:\n  n:\n    driver: macvlan\n    driver_opts: { parent: ${PARENT} }\n    ipam: { config: [{ subnet: ${SUBNETS[2]} }] }\n`,
    });
    const r = suite.ts(p, 'up', '-d');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`network ${mac.name}_lan is already using parent interface ${PARENT}`);
    ok(suite.ts(p, 'down'));
  });

  test('a VLAN parent the host lacks is made with the network and deleted with it; one the host has stays', () => {
    const made = `${PARENT2}.41`;
    const had = `${PARENT2}.42`;
    const probe = sh(`ip link add link ${PARENT2} name ${had} type vlan id 42 && ip link set ${had} up`);
    if (probe.status !== 0) return void process.stderr.write(`skipped: no VLAN links here (${probe.stderr.trim()})\n`);
    const file = (parent: string): string =>
      `services:\n  x:\n    image: busybox\n    command: ["sleep", "3600"]\n    networks: [n]\nnetworks:\n  n:\n    driver: macvlan\n    driver_opts: { parent: ${parent} }\n    ipam: { config: [{ subnet: ${SUBNETS[2]} }] }\n`;
    try {
      const own = suite.project({ 'compose.yaml': file(made) });
      ok(suite.ts(own, 'up', '-d'));
      expect(sh(`ip -d link show ${made}`).stdout).toMatch(/vlan protocol 802\.1Q id 41/);
      ok(suite.ts(own, 'down', '-t', '0'));
      expect(sh(`ip link show ${made}`).status).not.toBe(0);
      const host = suite.project({ 'compose.yaml': file(had) });
      ok(suite.ts(host, 'up', '-d'));
      ok(suite.ts(host, 'down', '-t', '0'));
      expect(sh(`ip link show ${had}`).status).toBe(0); // the host's own: still there
    } finally {
      sh(`ip link del ${had}; ip link del ${made}`);
    }
  });

  test('check --repair makes a deleted network namespace again; its resolver follows, the containers stay attached', () => {
    const lan = netState()[`${mac.name}_lan`]!;
    expect(sh(`ip netns del ${lan.link!.netns}`).status).toBe(0);
    const found = suite.ts(undefined, 'check');
    expect(found.status).not.toBe(0);
    expect(found.stdout + found.stderr).toContain(`its namespace ${lan.link!.netns} or parent ${PARENT} does not exist`);
    ok(suite.ts(undefined, 'check', '--repair'));
    expect(out(mac, 'b', 'ping -c1 -W3 a >/dev/null && echo ok')).toBe('ok');
  });

  test('down removes every namespace, child and resolver', () => {
    noteTraces(mac.name);
    expect(new Set(traces.netns).size).toBe(8); // 2 macvlan networks + 6 containers
    ok(suite.ts(mac, 'down', '-t', '0'));
    expect(leftAfterDown(mac.name)).toEqual([]);
  });
});

run('native: ipvlan networks', () => {
  test('ipvlan l2: by service name and by static address (or, without ipvlan in the kernel, a clear refusal)', () => {
    traces = { netns: [], resolvers: '' };
    const p = suite.project({ 'compose.yaml': compose('ipvlan', PARENT2, SUBNETS[1]!, '      ipvlan_mode: l2') });
    const r = suite.ts(p, 'up', '-d');
    if (!ipvlan) {
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain('this kernel has no ipvlan links (CONFIG_IPVLAN)');
    } else {
      ok(r);
      expect(out(p, 'b', 'ping -c1 -W3 a >/dev/null && echo ok')).toBe('ok');
      expect(out(p, 'b', 'ping -c1 -W3 198.18.202.10 >/dev/null && echo ok')).toBe('ok');
      expect(out(p, 'c', 'ping -c1 -W3 d >/dev/null && echo ok')).toBe('ok');
      const lan = netState()[`${p.name}_lan`]!;
      const ep = Object.values(lan.endpoints)[0]!;
      expect(sh(`ip -n ${ep.netns} -d link show ${ep.ifname}`).stdout).toMatch(/ipvlan\s+mode l2 bridge/);
    }
    noteTraces(p.name);
    ok(suite.ts(p, 'down', '-t', '0'));
    expect(leftAfterDown(p.name)).toEqual([]);
  });
});
