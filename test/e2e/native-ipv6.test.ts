/**
 * End-to-end: `enable_ipv6` on native bridge networks (issue 18): a ULA /64 by default or the ipam config's IPv6
 * subnet, IPv6 addresses for the containers (a static `ipv6_address` too), AAAA answers by service name, IPv6
 * between containers and to the host, and `down` leaves no bridge or nft table (ip and ip6) behind.
 *
 * Static addresses (`ipv4_address`, `ipv6_address`) refused as Docker Engine refuses them: one compose file on both
 * runtimes (Docker first, then native: they use the same subnets), each service brought up alone; the same
 * refusals, at the same step (create or start), and nothing of a refused start left on native (no endpoint,
 * netns or OCI container); `up -d`, `start` and `restart` of a container so left refused again in the same words,
 * naming the container (not its id).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { engine, Projects, required, requireEngine, tsc } from './helpers.js';
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

/** One service per case: the ones that start, and the ones Docker Engine 20.10 refuses (at start, or at create). */
const STATIC = `x-sleep: &sleep
  image: busybox
  command: ["sleep", "3600"]
services:
  static:
    <<: *sleep
    networks:
      sub:
        ipv4_address: 10.97.1.7
      v6:
        ipv4_address: 10.97.3.7
        ipv6_address: 2001:db8:97:3::7
  ignored6:
    <<: *sleep
    networks:
      v6off:
        ipv6_address: 2001:db8:97:2::10
  nosubnet6:
    <<: *sleep
    networks:
      plain:
        ipv6_address: 2001:db8:97:9::10
  nosubnet4:
    <<: *sleep
    networks:
      plain:
        ipv4_address: 10.97.9.5
  v6onv4:
    <<: *sleep
    networks:
      sub:
        ipv4_address: 10.97.1.5
        ipv6_address: 2001:db8:97:9::10
  outside4:
    <<: *sleep
    networks:
      sub:
        ipv4_address: 10.97.9.5
  outside6:
    <<: *sleep
    networks:
      v6:
        ipv6_address: 2001:db8:97:9::10
  gateway:
    <<: *sleep
    networks:
      sub:
        ipv4_address: 10.97.1.1
  notanip:
    <<: *sleep
    networks:
      sub:
        ipv4_address: 10.97.1.300
networks:
  plain: {}
  sub:
    ipam:
      config:
        - subnet: 10.97.1.0/24
  v6off:
    ipam:
      config:
        - subnet: 10.97.2.0/24
        - subnet: 2001:db8:97:2::/64
  v6:
    enable_ipv6: true
    ipam:
      config:
        - subnet: 10.97.3.0/24
        - subnet: 2001:db8:97:3::/64
`;

const NO_SUBNET = 'user specified IP address is supported only when connecting to networks with user configured subnets';
const OUTSIDE = (a: string): string => `Invalid address ${a}: It does not belong to any of this network's subnets`;
/** service → Docker's words and the state its container is left in (none: refused at create). */
const REFUSED: Record<string, { message: string; left: 'created' | 'none' }> = {
  nosubnet6: { message: NO_SUBNET, left: 'created' },
  nosubnet4: { message: NO_SUBNET, left: 'created' },
  v6onv4: { message: NO_SUBNET, left: 'created' },
  outside4: { message: OUTSIDE('10.97.9.5'), left: 'created' },
  outside6: { message: OUTSIDE('2001:db8:97:9::10'), left: 'created' },
  gateway: { message: 'Address already in use', left: 'created' },
  notanip: { message: 'invalid IPv4 address: 10.97.1.300', left: 'none' },
};

interface Outcome {
  status: number | null;
  error: string;
  left: string;
}

/**
 * The commands run again on a container a refused start left created (the engine then gives it by id): each fails
 * as the first `up` did, naming the container.
 */
const AGAIN = [['up', '-d'], ['start'], ['restart']] as const;

interface Seen {
  /** service → what `up -d <service>` said and left */
  refused: Record<string, Outcome>;
  /** command of AGAIN → what it said and left, on nosubnet4's container */
  again: Record<string, Outcome>;
  static: string;
  ignored6: string;
}

/** Brings each service up alone on a runtime (`ts`: bin/tscompose of the project) and notes what happened. */
function scenario(name: string, ts: (...args: string[]) => SpawnSyncReturns<string>, each?: (service: string) => void): Seen {
  const state = (service: string): string =>
    ok(ts('ps', '-a', '--format', '{{.Service}} {{.State}}'))
      .split('\n')
      .find((l) => l.startsWith(`${service} `))
      ?.split(' ')[1] ?? 'none';
  ok(ts('up', '-d', 'static', 'ignored6'));
  const addrs = (service: string): string => ok(ts('exec', '-T', service, 'ip', '-o', 'addr', 'show', 'scope', 'global'));
  const outcome = (r: SpawnSyncReturns<string>, service: string): Outcome => {
    const error = /^error: (.*)$/m.exec(r.stderr)?.[1] ?? r.stderr;
    return { status: r.status, error: error.replace(`${name}-${service}-1`, '<c>'), left: state(service) };
  };
  const seen: Seen = { refused: {}, again: {}, static: addrs('static'), ignored6: addrs('ignored6') };
  for (const service of Object.keys(REFUSED)) {
    seen.refused[service] = outcome(ts('up', '-d', service), service);
    each?.(service);
  }
  for (const command of AGAIN) seen.again[command.join(' ')] = outcome(ts(...command, 'nosubnet4'), 'nosubnet4');
  each?.('nosubnet4');
  return seen;
}

function expectDockerWords(seen: Seen): void {
  for (const [service, want] of Object.entries(REFUSED)) {
    expect({ service, ...seen.refused[service] }).toEqual({ service, status: 1, error: `container <c>: ${want.message}`, left: want.left });
  }
  for (const command of AGAIN.map((c) => c.join(' ')))
    expect({ command, ...seen.again[command] }).toEqual({ command, status: 1, error: `container <c>: ${NO_SUBNET}`, left: 'created' });
  expect(seen.static).toContain('inet 10.97.1.7/24');
  expect(seen.static).toContain('inet 10.97.3.7/24');
  expect(seen.static).toContain('inet6 2001:db8:97:3::7/64');
  // an IPv6 subnet without enable_ipv6: the address is ignored, the container starts without IPv6
  expect(seen.ignored6).toMatch(/inet 10\.97\.2\.\d+\/24/);
  expect(seen.ignored6).not.toContain('inet6');
}

const dockerRun = engine || required ? describe : describe.skip;
let dockerSeen: Seen | undefined;

dockerRun('static addresses on Docker Engine (the reference)', () => {
  const projects = new Projects();
  afterAll(() => projects.cleanup(), 120_000);
  test('refused at start (or create) in its words; a refused container stays created', () => {
    requireEngine();
    const dp = projects.create({ 'compose.yaml': STATIC });
    try {
      dockerSeen = scenario(dp.name, (...args) => tsc(dp, ...args));
    } finally {
      tsc(dp, 'down', '-t', '0');
    }
    expectDockerWords(dockerSeen);
  }, 300_000);
});

run('native: static addresses refused as Docker Engine refuses them', () => {
  test('the same refusals at the same step, and nothing of a refused start left', () => {
    const sp = suite.project({ 'compose.yaml': STATIC });
    const idOf = (service: string): string => ok(suite.ts(sp, 'ps', '-a', '-q', service)).trim();
    const leftBy = (service: string): string[] => {
      const id = idOf(service);
      if (!id) return [];
      const full = Object.values(netState()).flatMap((n) => Object.keys(n.endpoints).filter((e) => e.startsWith(id)));
      const netns = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.includes(`tsc-${id.slice(0, 12)}`);
      return [...full.map((e) => `endpoint ${e}`), ...(netns ? [`netns tsc-${id.slice(0, 12)}`] : [])];
    };
    const left: string[] = [];
    let seen: Seen;
    try {
      seen = scenario(
        sp.name,
        (...args) => suite.ts(sp, ...args),
        (service) => left.push(...leftBy(service)),
      );
    } finally {
      suite.ts(sp, 'down', '-t', '0');
    }
    expectDockerWords(seen);
    if (dockerSeen) expect(seen).toEqual({ ...dockerSeen, static: seen.static, ignored6: seen.ignored6 });
    expect(left).toEqual([]);
    expect(suite.leftovers()).toEqual([]);
  }, 300_000);
});
