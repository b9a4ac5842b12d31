/**
 * Root-only integration test of the native networking primitives: real bridges, netns, veth pairs, nft tables and
 * DOCKER-USER rules. Traffic goes only to loopback, the host's own addresses and namespaces created here.
 * Skipped unless root with `ip`, `nft` and busybox available.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { attachEndpoint, bridgeName, defaultRouteIface, detachEndpoint, macFromIp, netnsName, removeNetns } from './bridge.js';
import { NativeNetworks, type EndpointRecord } from './network.js';
import { runRaw } from './run.js';

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const BUSYBOX = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));
const enabled = process.getuid?.() === 0 && has('ip') && has('nft') && BUSYBOX !== undefined;
const d = enabled ? describe : describe.skip;

const tag = randomBytes(3).toString('hex');
const KEY = { a: `tsct${tag}_a`, b: `tsct${tag}_b`, c: `tsct${tag}_c` };
const ids = {
  a1: `a1${tag}${randomBytes(8).toString('hex')}`,
  a2: `a2${tag}${randomBytes(8).toString('hex')}`,
  b1: `b1${tag}${randomBytes(8).toString('hex')}`,
  c1: `c1${tag}${randomBytes(8).toString('hex')}`,
  r1: `r1${tag}${randomBytes(8).toString('hex')}`,
};
const OURS = new RegExp(`^(${Object.values(KEY).map(bridgeName).join('|')}|vtsc)`);

async function sh(...argv: string[]) {
  return runRaw(argv);
}
async function inNs(ns: string, ...argv: string[]) {
  return runRaw(['ip', 'netns', 'exec', ns, ...argv]);
}
async function ping(ns: string, ip: string) {
  return (await inNs(ns, BUSYBOX!, 'ping', '-c1', '-W1', ip)).code === 0;
}
/** Connects from `ns` (or the host) to ip:port, returns what the server sent ('' on failure). */
async function fetchFrom(ns: string | undefined, ip: string, port: number): Promise<string> {
  const js = `const s=require('net').connect(${port},'${ip}');let d='';s.setTimeout(1500,()=>{s.destroy();process.exit(3)});s.on('data',b=>d+=b);s.on('end',()=>{process.stdout.write(d);process.exit(0)});s.on('error',()=>process.exit(2))`;
  const r = ns ? await inNs(ns, process.execPath, '-e', js) : await sh(process.execPath, '-e', js);
  return r.code === 0 ? r.stdout : '';
}

interface Snapshot {
  links: string[];
  netns: string[];
  tables: string[];
  iptables: string[];
  sysctl: string;
}
async function snapshot(): Promise<Snapshot> {
  const links = (await sh('ip', '-o', 'link')).stdout
    .split('\n')
    .map((l) => l.split(':')[1]?.trim().split('@')[0] ?? '')
    .filter((n) => OURS.test(n));
  const netns = (await fs.readdir('/run/netns').catch(() => [] as string[])).filter((n) => Object.values(ids).some((id) => n === netnsName(id)));
  const tables = (await sh('nft', 'list', 'tables')).stdout
    .split('\n')
    .filter((l) => /tsc-/.test(l) && Object.values(KEY).some((k) => l.includes(bridgeName(k))));
  const iptables = (await sh('iptables-save')).stdout.split('\n').filter((l) => Object.values(KEY).some((k) => l.includes(bridgeName(k))));
  const sysctl = (await fs.readFile('/proc/sys/net/ipv4/ip_forward', 'utf8')).trim();
  return { links, netns, tables, iptables, sysctl };
}

async function counter(table: string, comment: string): Promise<number> {
  const r = await sh('nft', 'list', 'table', 'ip', table);
  const line = r.stdout.split('\n').find((l) => l.includes(`comment "${comment}"`));
  return Number(/packets (\d+)/.exec(line ?? '')?.[1] ?? NaN);
}

async function hostAddress(): Promise<string> {
  const dev = defaultRouteIface(await fs.readFile('/proc/net/route', 'utf8')) ?? 'lo';
  const j = JSON.parse((await sh('ip', '-j', '-4', 'addr', 'show', 'dev', dev)).stdout) as { addr_info: { local: string }[] }[];
  return j[0]!.addr_info[0]!.local;
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;

d('native networking (root)', () => {
  let dir: string;
  let nets: NativeNetworks;
  let before: Snapshot;
  let hostIp: string;
  const servers: ChildProcess[] = [];
  const eps = {} as Record<'a1' | 'a2' | 'b1' | 'c1' | 'a2b', EndpointRecord>;
  const timings: Record<string, number[]> = {
    createNetwork: [],
    connect: [],
    connectWithPorts: [],
    disconnect: [],
    removeNetwork: [],
    releaseNetns: [],
  };
  const timed = async <T>(k: string, fn: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    try {
      return await fn();
    } finally {
      timings[k]!.push(performance.now() - t);
    }
  };
  let webPort = 0;
  let localPort = 0;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tsc-net-'));
    nets = new NativeNetworks({ stateDir: dir });
    before = await snapshot();
    hostIp = await hostAddress();
  });

  afterAll(async () => {
    for (const s of servers) s.kill('SIGKILL');
    // Clean up even when a test failed half-way.
    for (const k of Object.values(KEY)) await nets.removeNetwork(k, { force: true }).catch((e) => console.error(e));
    for (const id of Object.values(ids)) await nets.releaseNetns(netnsName(id)).catch((e) => console.error(e));
    await fs.rm(dir, { recursive: true, force: true });
    console.log(
      `timings (ms, median of n): ${Object.entries(timings)
        .filter(([, v]) => v.length)
        .map(([k, v]) => `${k}=${median(v).toFixed(1)} (n=${v.length})`)
        .join(', ')}`,
    );
  });

  it('creates networks: bridge, nft table, DOCKER-USER accepts (idempotent)', async () => {
    const a = await timed('createNetwork', () => nets.createNetwork({ key: KEY.a, name: 'a' }));
    const b = await timed('createNetwork', () => nets.createNetwork({ key: KEY.b, name: 'b', internal: true }));
    const c = await timed('createNetwork', () =>
      nets.createNetwork({ key: KEY.c, name: 'c', driverOpts: { 'com.docker.network.driver.mtu': '1300' } }),
    );
    expect(new Set([a, b, c].map((x) => x.network.subnet)).size).toBe(3);
    // Again: converges, same subnet.
    expect((await timed('createNetwork', () => nets.createNetwork({ key: KEY.a }))).network.subnet).toBe(a.network.subnet);
    const link = JSON.parse((await sh('ip', '-j', 'addr', 'show', 'dev', a.network.bridge)).stdout)[0];
    expect(link.addr_info.find((x: { family: string }) => x.family === 'inet').local).toBe(a.network.gateway);
    expect(link.operstate === 'UP' || link.flags.includes('UP')).toBe(true);
    expect(JSON.parse((await sh('ip', '-j', 'link', 'show', 'dev', c.network.bridge)).stdout)[0].mtu).toBe(1300);
    expect((await fs.readFile(`/proc/sys/net/ipv4/conf/${a.network.bridge}/route_localnet`, 'utf8')).trim()).toBe('1');
    expect((await fs.readFile(`/proc/sys/net/ipv4/conf/${b.network.bridge}/forwarding`, 'utf8')).trim()).toBe('0');
    const tables = (await sh('nft', 'list', 'tables')).stdout;
    for (const n of [a, b, c]) expect(tables).toContain(`table ip ${n.network.bridge}`);
    if (a.network.iptablesChain) {
      const save = (await sh('iptables-save', '-t', 'filter')).stdout;
      expect(save).toContain(`-A ${a.network.iptablesChain} -i ${a.network.bridge} -m comment --comment "tscompose ${a.network.bridge}" -j ACCEPT`);
      expect(save.split('\n').filter((l) => l.includes(`tscompose ${a.network.bridge}"`))).toHaveLength(2);
    }
  });

  it('connects containers; they ping each other across the bridge', async () => {
    eps.a1 = await timed('connect', () => nets.connect({ network: KEY.a, endpointId: ids.a1 }));
    eps.a2 = await timed('connect', () => nets.connect({ network: KEY.a, endpointId: ids.a2 }));
    eps.b1 = await timed('connect', () => nets.connect({ network: KEY.b, endpointId: ids.b1 }));
    eps.c1 = await timed('connect', () => nets.connect({ network: KEY.c, endpointId: ids.c1 }));
    eps.a2b = await timed('connect', () => nets.connect({ network: KEY.b, endpointId: ids.a2 }));
    // The gateway's MAC is the bridge's own, set once: it does not follow the lowest port's as ports come and go
    // (containers would keep sending to the old one; see planBridge).
    const mac = async (dev: string) => (await fs.readFile(`/sys/class/net/${dev}/address`, 'utf8')).trim();
    const bridgeA = (await nets.read()).networks[KEY.a]!;
    expect(await mac(bridgeA.bridge)).toBe(macFromIp(bridgeA.gateway));
    expect((await fs.readFile(`/sys/class/net/${bridgeA.bridge}/addr_assign_type`, 'utf8')).trim()).toBe('3'); // NET_ADDR_SET
    expect(eps.a1.netns).toBe(netnsName(ids.a1));
    expect(eps.a2b.ifname).toBe('eth1');
    expect(eps.a2b.defaultRoute).toBe(false);
    expect(eps.b1.defaultRoute).toBe(false);
    expect(await ping(eps.a1.netns, eps.a2.ip)).toBe(true);
    expect(await ping(eps.a2.netns, eps.a1.ip)).toBe(true);
    expect(await ping(eps.a1.netns, eps.a1.gateway)).toBe(true);
    // Internal network: a2 (eth1) and b1 talk on it.
    expect(await ping(eps.b1.netns, eps.a2b.ip)).toBe(true);
    const r = await sh('ip', '-n', eps.a2.netns, '-j', 'route', 'show', 'default');
    expect(JSON.parse(r.stdout)[0]).toMatchObject({ gateway: eps.a2.gateway, dev: 'eth0' });
    const addr = JSON.parse((await sh('ip', '-n', eps.a1.netns, '-j', 'addr', 'show', 'dev', 'eth0')).stdout)[0];
    expect(addr.address).toBe(eps.a1.mac);
    expect(addr.mtu).toBe((await nets.read()).networks[KEY.a]!.mtu);
  });

  it('re-running connect after a crash converges (same address, interface rebuilt)', async () => {
    await sh('ip', 'link', 'del', eps.a2.hostVeth); // as if half torn down
    const again = await timed('connect', () => nets.connect({ network: KEY.a, endpointId: ids.a2 }));
    expect(again.ip).toBe(eps.a2.ip);
    const again2 = await nets.connect({ network: KEY.a, endpointId: ids.a2 }); // veth exists: replaced
    expect(again2.ip).toBe(eps.a2.ip);
    expect(await ping(eps.a1.netns, eps.a2.ip)).toBe(true);
  });

  it('publishes ports: host loopback, host address, hairpin, other network; 127.0.0.1-only binding', async () => {
    const srv = spawn(
      'ip',
      ['netns', 'exec', eps.a1.netns, process.execPath, '-e', "require('net').createServer(s=>s.end('hi')).listen(8080,()=>console.log('up'))"],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    servers.push(srv);
    await new Promise<void>((resolve, reject) => {
      srv.stdout!.once('data', () => resolve());
      srv.once('exit', (c) => reject(new Error(`server exited ${c}`)));
    });
    eps.a1 = await timed('connectWithPorts', () =>
      nets.connect({
        network: KEY.a,
        endpointId: ids.a1,
        owner: 'a1',
        ports: [
          { containerPort: 8080, protocol: 'tcp' },
          { hostIp: '127.0.0.1', containerPort: 8080, protocol: 'tcp' },
        ],
      }),
    );
    webPort = eps.a1.ports[0]!.hostPort;
    localPort = eps.a1.ports[1]!.hostPort;
    expect(webPort).toBeGreaterThan(1023);
    expect(localPort).not.toBe(webPort);
    // Idempotent: re-connect keeps the ephemeral host ports.
    const again = await nets.connect({
      network: KEY.a,
      endpointId: ids.a1,
      ports: [
        { containerPort: 8080, protocol: 'tcp' },
        { hostIp: '127.0.0.1', containerPort: 8080, protocol: 'tcp' },
      ],
    });
    expect(again.ports.map((p) => p.hostPort)).toEqual([webPort, localPort]);
    expect(await fetchFrom(undefined, '127.0.0.1', webPort)).toBe('hi');
    expect(await fetchFrom(undefined, hostIp, webPort)).toBe('hi');
    expect(await fetchFrom(undefined, '127.0.0.1', localPort)).toBe('hi');
    expect(await fetchFrom(undefined, hostIp, localPort)).toBe(''); // bound to 127.0.0.1 only
    expect(await fetchFrom(eps.a2.netns, hostIp, webPort)).toBe('hi'); // hairpin to another container
    expect(await fetchFrom(eps.a1.netns, hostIp, webPort)).toBe('hi'); // hairpin to itself
    expect(await fetchFrom(eps.c1.netns, hostIp, webPort)).toBe('hi'); // from another network via the published port
    expect(await fetchFrom(eps.a2.netns, eps.a1.ip, 8080)).toBe('hi'); // same network, direct
    expect(await fetchFrom(eps.b1.netns, hostIp, webPort)).toBe(''); // internal network: no way out
    // A host port already published is refused, as is one a host process listens on.
    await expect(
      nets.connect({
        network: KEY.c,
        endpointId: ids.c1,
        ports: [{ hostPort: { start: webPort, end: webPort }, containerPort: 1, protocol: 'tcp' }],
      }),
    ).rejects.toThrow(/already published/);
    // A host range: one free port of it (the lowest one not published nor held by a host socket).
    const ranged = await nets.connect({
      network: KEY.c,
      endpointId: ids.r1,
      ports: [{ hostIp: '127.0.0.1', hostPort: { start: webPort, end: webPort + 5 }, containerPort: 8080, protocol: 'tcp' }],
    });
    expect(ranged.ports).toHaveLength(1);
    expect(ranged.ports[0]!.hostPort).toBeGreaterThan(webPort);
    expect(ranged.ports[0]!.hostPort).toBeLessThanOrEqual(webPort + 5);
    await nets.releaseContainer(ids.r1);
    // The container on a second network (no ports there): a client on that network still gets its replies
    // through the host (hairpin masquerade from any tscompose bridge), not straight over the shared network.
    await nets.connect({ network: KEY.c, endpointId: ids.a1 });
    expect(await fetchFrom(eps.c1.netns, hostIp, webPort)).toBe('hi');
    await nets.disconnect(KEY.c, ids.a1);
  });

  it('isolates networks from each other', async () => {
    const table = (await nets.read()).networks[KEY.a]!.bridge;
    const n0 = await counter(table, 'isolation');
    expect(await ping(eps.c1.netns, eps.a1.ip)).toBe(false); // routed via the host, dropped entering bridge a
    expect(await counter(table, 'isolation')).toBeGreaterThan(n0);
    expect(await fetchFrom(eps.c1.netns, eps.a1.ip, 8080)).toBe(''); // unpublished path to the container
    expect(await ping(eps.a1.netns, eps.c1.ip)).toBe(false);
    expect(await ping(eps.c1.netns, eps.c1.gateway)).toBe(true);
  });

  it('internal network: no default route, nothing leaves the bridge but the gateway answers', async () => {
    const ns = eps.b1.netns;
    expect(JSON.parse((await sh('ip', '-n', ns, '-j', 'route', 'show', 'default')).stdout)).toEqual([]);
    expect(await ping(ns, hostIp)).toBe(false); // Network unreachable: nothing sent
    expect(await ping(ns, eps.b1.gateway)).toBe(true);
    // A container with NET_ADMIN could add a route: the firewall still stops it (counted, not sent anywhere).
    await sh('ip', '-n', ns, 'route', 'add', 'default', 'via', eps.b1.gateway);
    const table = (await nets.read()).networks[KEY.b]!.bridge;
    const [in0, fw0] = [await counter(table, 'internal: host only via the gateway'), await counter(table, 'internal: nothing leaves')];
    expect(await ping(ns, hostIp)).toBe(false);
    expect(await counter(table, 'internal: host only via the gateway')).toBeGreaterThan(in0);
    // forwarding=0 on the bridge: the kernel does not even route it (nft counter untouched)...
    expect(await ping(ns, eps.a1.ip)).toBe(false);
    // ...and with forwarding re-enabled, the nft rule alone still drops it.
    const fwd = `/proc/sys/net/ipv4/conf/${table}/forwarding`;
    await fs.writeFile(fwd, '1');
    try {
      // Same-priority base chains run in an unspecified order: b's "nothing leaves" or a's "isolation" drops it.
      const tableA = (await nets.read()).networks[KEY.a]!.bridge;
      const iso0 = await counter(tableA, 'isolation');
      expect(await ping(ns, eps.a1.ip)).toBe(false);
      expect((await counter(table, 'internal: nothing leaves')) + (await counter(tableA, 'isolation'))).toBeGreaterThan(fw0 + iso0);
    } finally {
      await fs.writeFile(fwd, '0');
    }
  });

  it('disconnect hands the default route over and unpublishes ports', async () => {
    await timed('disconnect', () => nets.disconnect(KEY.a, ids.a1));
    expect(await fetchFrom(undefined, '127.0.0.1', webPort)).toBe('');
    expect(existsSync(`/sys/class/net/${eps.a1.hostVeth}`)).toBe(false);
    await timed('disconnect', () => nets.disconnect(KEY.a, ids.a1)); // again: fine
    // a2: eth0 on a (default route), eth1 on internal b; dropping a leaves no default route (b is internal).
    await timed('disconnect', () => nets.disconnect(KEY.a, ids.a2));
    expect(JSON.parse((await sh('ip', '-n', eps.a2.netns, '-j', 'route', 'show', 'default')).stdout)).toEqual([]);
    expect(await ping(eps.b1.netns, eps.a2b.ip)).toBe(true);
  });

  it('removes everything it made', async () => {
    await expect(nets.removeNetwork(KEY.b)).rejects.toThrow(/active endpoints/);
    for (const k of [KEY.a, KEY.b, KEY.c]) await timed('removeNetwork', () => nets.removeNetwork(k, { force: true }));
    for (const id of Object.values(ids)) await timed('releaseNetns', () => nets.releaseNetns(netnsName(id)));
    await nets.removeNetwork(KEY.a); // again: fine
    expect(await snapshot()).toEqual(before);
    expect((await nets.read()).networks).toEqual({});
  });
});

d('native networking: a removal racing a connect (root)', () => {
  it("a connect between the removal's check and its teardown makes the removal refuse, not delete the bridge under it", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tsc-netr-'));
    const nets = new NativeNetworks({ stateDir: dir });
    const key = `tscr${tag}`;
    const id = `race${tag}`;
    try {
      await nets.createNetwork({ key });
      // Queued in this order on the state lock: the removal's endpoint check, the connect's record, then the
      // removal's teardown (queued only once its check is done), while the connect attaches its veth.
      const removal = nets.removeNetwork(key);
      const connected = nets.connect({ network: key, endpointId: id });
      await expect(removal).rejects.toThrow(/active endpoints/);
      const ep = await connected;
      expect(existsSync(`/sys/class/net/${ep.hostVeth}`)).toBe(true);
      expect(Object.keys((await nets.read()).networks[key]?.endpoints ?? {})).toEqual([id]);
    } finally {
      await nets.removeNetwork(key, { force: true });
      await nets.releaseNetns(netnsName(id)).catch(() => undefined);
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

d('native networking: endpoints made at the same time (root)', () => {
  it('all are attached (host sides merged into shared ip -batch runs); one the kernel refuses fails alone', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tsc-netc-'));
    const nets = new NativeNetworks({ stateDir: dir });
    const key = `tscc${tag}`;
    const names = [1, 2, 3, 4, 5, 6].map((i) => ({ netns: `tscc${i}${tag}`, hostVeth: `vtscc${i}${tag}` }));
    try {
      await nets.createNetwork({ key });
      const net = (await nets.read()).networks[key]!;
      const base = net.gateway.split('.').map(Number);
      const spec = (i: number) => ({
        ...names[i]!,
        bridge: net.bridge,
        ifname: 'eth0',
        address: [...base.slice(0, 3), base[3]! + 1 + i].join('.'),
        prefixLen: Number(net.subnet.split('/')[1]),
        gateway: net.gateway,
        defaultRoute: true,
        mtu: net.mtu,
        // A multicast MAC for the third: the planning takes it, the kernel refuses the veth.
        ...(i === 2 ? { mac: '01:00:5e:00:00:01' } : {}),
      });
      // All at once: the first host side runs alone, the others come while it runs and go as one batch, which
      // the refused one makes fail; each of those then runs its own again.
      const results = await Promise.allSettled(names.map((_, i) => attachEndpoint(spec(i), { createNetns: true })));
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
      expect(String((results[2] as PromiseRejectedResult).reason)).toMatch(/Cannot assign requested address/);
      for (const i of [0, 1, 3, 4, 5]) {
        expect(existsSync(`/sys/class/net/${names[i]!.hostVeth}/brport`)).toBe(true);
        expect(await ping(names[i]!.netns, net.gateway)).toBe(true);
      }
      expect(await ping(names[0]!.netns, spec(5).address)).toBe(true);
      expect(existsSync(`/sys/class/net/${names[2]!.hostVeth}`)).toBe(false);
    } finally {
      for (const n of names) {
        await detachEndpoint(n.hostVeth).catch(() => undefined);
        await removeNetns(n.netns).catch(() => undefined);
      }
      await nets.removeNetwork(key, { force: true });
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

d('native networking costs (root)', () => {
  it('measures create / attach / teardown (medians of 5)', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tsc-netb-'));
    const nets = new NativeNetworks({ stateDir: dir });
    const t = { create: [] as number[], attach: [] as number[], attachPort: [] as number[], detach: [] as number[], remove: [] as number[] };
    const key = `tscb${tag}`;
    try {
      for (let i = 0; i < 5; i++) {
        let s = performance.now();
        await nets.createNetwork({ key });
        t.create.push(performance.now() - s);
        const id = `bench${tag}${i}`;
        s = performance.now();
        await nets.connect({ network: key, endpointId: id });
        t.attach.push(performance.now() - s);
        const id2 = `benchp${tag}${i}`;
        s = performance.now();
        await nets.connect({ network: key, endpointId: id2, ports: [{ containerPort: 80, protocol: 'tcp' }] });
        t.attachPort.push(performance.now() - s);
        s = performance.now();
        await nets.releaseContainer(id);
        await nets.releaseContainer(id2);
        t.detach.push((performance.now() - s) / 2);
        s = performance.now();
        await nets.removeNetwork(key);
        t.remove.push(performance.now() - s);
      }
    } finally {
      await nets.removeNetwork(key, { force: true });
      await fs.rm(dir, { recursive: true, force: true });
    }
    const spawn1: number[] = [];
    for (let i = 0; i < 5; i++) {
      const s = performance.now();
      await sh('ip', 'link', 'show', 'lo');
      spawn1.push(performance.now() - s);
    }
    console.log(
      `costs (ms, median of 5): ${Object.entries(t)
        .map(([k, v]) => `${k}=${median(v).toFixed(1)}`)
        .join(', ')}; one \`ip link show lo\` = ${median(spawn1).toFixed(1)}`,
    );
    expect(t.create.length).toBe(5);
  });
});
