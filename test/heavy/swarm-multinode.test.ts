/**
 * `tscompose --runtime swarm` on a three-node swarm on this host (issue 15's multi-node e2e), run by
 * `npm run test:heavy`: three Docker Engines, each in a network namespace of its own with its own data root, joined
 * over a bridge the test creates (test/e2e/swarm-harness.ts: node 0 the manager, nodes 1 and 2 workers). Test
 * traffic goes only to those namespaces (the nodes' bridge addresses) and to the engines' sockets.
 *
 * 1. **Spread**: `up -d --wait` of a project whose `spread` service has 6 replicas with
 *    `placement.max_replicas_per_node: 3`: `ps` puts tasks on all three nodes, none on more than 3.
 * 2. **By name over the overlay**: from the task of a global `client` service on every node (`docker exec` through
 *    that node's engine socket), `spread:8080` answered by name reaches every one of the 6 replicas, so traffic
 *    crosses the overlay to the other nodes. The service uses `endpoint_mode: dnsrr`. **By VIP** needs IPVS in the
 *    kernel, which this host lacks (no /proc/net/ip_vs; the harness's `hasIpvs()`): only where it is present does
 *    the project get a `vipspread` service (endpoint mode vip) that must answer by name and at its VIP from every
 *    node; elsewhere that check is skipped and the test logs why.
 * 3. **A rolling update loses no request**: `web` (2 replicas, a port published in `mode: host` on 8080,
 *    `update_config: {order: start-first, parallelism: 1}`, a healthcheck) serves the text of `$CONTENT`; `up -d
 *    --wait` with CONTENT v1 → v2 runs while a bounded request loop (./swarm-request-loop.ts) sends sequential GETs
 *    from the host to port 8080 of the three nodes, round robin. Without IPVS there is no routing mesh: a node
 *    serves the port only while it runs a `web` task, and a host-mode port makes swarm put at most one task per
 *    node. So a client must be allowed to move on from a node that refuses the connection, as any client of
 *    several addresses does; the loop's rule (written in its header) is: a connection never established is retried
 *    on the next node, but only for 1.5 s (longer is an outage: lost); every error after the connection is
 *    established (reset, early close, timeout, wrong status or body) is a lost request. Why the update can be
 *    loss-free under that rule: with 2 replicas on 3 nodes, start-first starts the new task on the free node, waits
 *    until it is healthy (it answers), and only then stops an old one. The old task's server (WEB_SERVER below,
 *    python:3.11-slim) shuts down as a server behind no load balancer must: on SIGTERM it stops at a point of its
 *    own choosing (between requests), serves what the kernel already queued on its listening socket, and closes
 *    it, so later connections are refused (retried elsewhere by the client) rather than accepted and dropped.
 *    Busybox httpd cannot do that: SIGTERM kills its listener at any instant, also between an accept() and the
 *    fork that would answer; that lost one request in one of the first runs here, under a load average of ~25.
 *    Checked: no request lost, both contents served, only v2 after `up --wait` returned, every node served.
 *    The server starts slowly (it listens 3 s after it starts, as an application loading itself would), which
 *    start-first hides behind the healthcheck. The control, same loop, same server: an update to v3 with
 *    `order: stop-first, parallelism: 2` stops both replicas at once, so no node answers for at least those 3 s,
 *    longer than the loop's 1.5 s of retries, and the loop must count lost requests (it does see outages, so a zero
 *    above means something).
 *    What is not covered: TCP has no atomic "stop accepting", so a handshake that completes in the microseconds
 *    between the server's last accept() (EAGAIN) and its close() would be reset and counted as lost. Swarm removes a
 *    task from its load balancer before stopping it only for VIPs (IPVS), not for host-mode ports.
 * 4. **Drain**: `setNodeAvailability(worker 2, drain)` moves its tasks away: all 6 `spread` replicas run on the two
 *    other nodes (3 each, the per-node maximum), `web` keeps 2 replicas on them, node 2's engine runs no task
 *    container; then the node is made active again.
 * 5. **Nothing left**: `down` leaves no service, network, secret or config of the stack, and after the harness stops,
 *    no netns, link, iptables rule, mount, directory or process of the run remains, and no `tscsw-*` netns or link
 *    that a live run (another test's swarm) does not own.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DockerSwarm } from '../../src/swarm/docker/swarm-docker.js';
import type { SwarmTask } from '../../src/swarm/port.js';
import { bin } from '../e2e/helpers.js';
import { hasIpvs, PREFIX, startSwarm, swarmUnavailable, type SwarmHarness } from '../e2e/swarm-harness.js';
import { requestLoop, type LoopResult } from './swarm-request-loop.js';

const exec = promisify(execFile);
const required = process.env.TSCOMPOSE_E2E === '1';
const describeIf = swarmUnavailable === undefined || required ? describe : describe.skip;
if (swarmUnavailable !== undefined && !required) console.log(`three-node swarm test skipped: ${swarmUnavailable}`);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const MIN = 60_000;
const PORT = 8080;
const SPREAD = 6;
const WEB = 2;
const IPVS = hasIpvs();

// JSON strings are YAML flow scalars (the scripts hold no `$`, which compose would interpolate).
const q = (v: unknown): string => JSON.stringify(v);
// The web server: one process, one request at a time; it starts slowly (listens only after STARTUP_S seconds); on
// SIGTERM it finishes the request under way, answers the connections already queued on the listening socket, then
// closes it (see the header, step 3).
const STARTUP_S = 3;
const WEB_SERVER = String.raw`
import os, select, signal, socket, time
body = (os.environ['CONTENT'] + '\n').encode()
resp = b'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n' % len(body) + body
stop = []
signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
time.sleep(STARTUP_S)
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('0.0.0.0', PORT))
s.listen(128)
def serve(c):
    c.settimeout(5)
    data = b''
    try:
        while b'\r\n\r\n' not in data:
            d = c.recv(4096)
            if not d:
                break
            data += d
        c.sendall(resp)
    except OSError:
        pass
    c.close()
while not stop:
    if select.select([s], [], [], 0.2)[0]:
        serve(s.accept()[0])
s.setblocking(False)
while True:
    try:
        c = s.accept()[0]
    except BlockingIOError:
        break
    c.setblocking(True)
    serve(c)
s.close()
`
  .replace('PORT', String(PORT))
  .replace('STARTUP_S', String(STARTUP_S));
const PROBE = `import urllib.request; urllib.request.urlopen('http://127.0.0.1:${PORT}/', timeout=2)`;
const HOSTNAME_SERVER = `mkdir -p /www && hostname > /www/index.html && exec httpd -f -p ${PORT} -h /www`;

function compose(content: string, order: 'start-first' | 'stop-first', parallelism: number): string {
  return `
services:
  spread:
    image: busybox:latest
    command: ${q(['sh', '-c', HOSTNAME_SERVER])}
    init: true
    deploy:
      replicas: ${SPREAD}
      endpoint_mode: dnsrr
      placement: {max_replicas_per_node: 3}
${
  IPVS
    ? `  vipspread:
    image: busybox:latest
    command: ${q(['sh', '-c', HOSTNAME_SERVER])}
    init: true
    deploy: {replicas: 3, endpoint_mode: vip}
`
    : ''
}  web:
    image: python:3.11-slim
    init: true
    environment: {CONTENT: ${q(content)}}
    command: ${q(['python', '-c', WEB_SERVER])}
    ports: [{target: ${PORT}, published: ${PORT}, mode: host}]
    healthcheck: {test: ${q(['CMD', 'python', '-c', PROBE])}, interval: 1s, timeout: 3s, retries: 30}
    deploy:
      replicas: ${WEB}
      endpoint_mode: dnsrr
      update_config: {order: ${order}, parallelism: ${parallelism}}
  client:
    image: busybox:latest
    command: ["sleep", "3600"]
    init: true
    deploy: {mode: global, endpoint_mode: dnsrr}
`;
}

interface PsRow {
  readonly Name: string;
  readonly Service: string;
  readonly Node: string;
  readonly State: string;
}

const countBy = <T>(xs: readonly T[]): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const x of xs) out[String(x)] = (out[String(x)] ?? 0) + 1;
  return out;
};

const summary = (r: LoopResult): string =>
  `${r.requests} requests in ${r.ms} ms, ${r.ok} answered, ${r.lost.length} lost, ${r.refused} connections refused (retried); ` +
  `bodies ${JSON.stringify(Object.fromEntries(r.bodies))}, per node ${JSON.stringify(Object.fromEntries(r.perHost))}`;

/** Runs of the harness whose owner process is alive (another test's swarm): their names are not ours to judge. */
function liveRuns(): string[] {
  const root = '/run/tscompose-swarm';
  if (!existsSync(root)) return [];
  return readdirSync(root).filter((run) => {
    try {
      const { owner } = JSON.parse(readFileSync(join(root, run, 'state.json'), 'utf8')) as { owner: number };
      process.kill(owner, 0);
      return true;
    } catch {
      return false;
    }
  });
}

describeIf('--runtime swarm on a three-node swarm on one host', () => {
  let h: SwarmHarness | undefined;
  let swarm: DockerSwarm;
  let dir: string;
  let downDone = false;
  const name = `mn${Math.random().toString(36).slice(2, 7)}`;
  const args = (...a: string[]): string[] => ['--runtime', 'swarm', '-p', name, '--progress', 'plain', ...a];
  const env = (): NodeJS.ProcessEnv => ({ ...process.env, ...h!.env(), NO_COLOR: '1' });
  const ts = (...a: string[]): string => {
    const r = spawnSync(bin, args(...a), { cwd: dir, env: env(), encoding: 'utf8', timeout: 5 * MIN });
    if (r.status !== 0) throw new Error(`tscompose ${a.join(' ')}: exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    return r.stdout + r.stderr;
  };
  /** `up -d --wait` without blocking the event loop (the request loop runs meanwhile); resolves at its exit. */
  const upAsync = (): Promise<{ code: number | null; out: string }> =>
    new Promise((resolve) => {
      const c = spawn(bin, args('up', '-d', '--wait', '--wait-timeout', '240'), { cwd: dir, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      c.stdout.on('data', (d: Buffer) => (out += d.toString()));
      c.stderr.on('data', (d: Buffer) => (out += d.toString()));
      c.on('close', (code) => resolve({ code, out }));
    });
  const ps = (): PsRow[] =>
    ts('ps', '--format', 'json')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as PsRow);
  const svcId = async (service: string): Promise<string> => (await swarm.inspectService(`${name}_${service}`)).id;
  const running = async (service: string): Promise<SwarmTask[]> =>
    (await swarm.listTasks({ service: await svcId(service) })).filter((t) => t.desiredState === 'running' && t.state === 'running');
  /** The node index (0 manager, 1, 2 workers) of each node id. */
  const nodeIndex = async (): Promise<Map<string, number>> =>
    new Map((await swarm.listNodes()).map((n) => [n.id, h!.hostnames.indexOf(n.hostname)] as const));
  const dockerOn = async (node: number, ...a: string[]): Promise<string> =>
    (await exec('docker', ['-H', h!.hosts[node]!, ...a], { timeout: MIN })).stdout;

  beforeAll(async () => {
    if (swarmUnavailable !== undefined) throw new Error(`TSCOMPOSE_E2E=1 but the swarm harness cannot run here: ${swarmUnavailable}`);
    const t = Date.now();
    h = await startSwarm({ nodes: 3 });
    console.log(`three-node swarm ${h.run} up in ${Date.now() - t} ms (${JSON.stringify(h.timings)}); IPVS: ${IPVS ? 'yes' : 'no'}`);
    swarm = new DockerSwarm({ env: h.env() });
    dir = mkdtempSync(join(tmpdir(), 'tsc-swarm-multinode-'));
    writeFileSync(join(dir, 'compose.yaml'), compose('v1', 'start-first', 1));
  }, 3 * MIN);

  afterAll(async () => {
    try {
      if (h && !downDone) spawnSync(bin, args('down'), { cwd: dir, env: env(), timeout: 3 * MIN });
    } finally {
      await h?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  }, 5 * MIN);

  test(
    'up --wait: the replicas spread over the three nodes (ps)',
    () => {
      const t = Date.now();
      const up = ts('up', '-d', '--wait', '--wait-timeout', '240').replace(/ +/g, ' ');
      console.log(`up -d --wait of the project: ${Date.now() - t} ms`);
      expect(up).toContain(`Service ${name}_spread Running ${SPREAD}/${SPREAD}`);
      expect(up).toContain(`Service ${name}_web Running ${WEB}/${WEB}`);
      expect(up).toContain(`Service ${name}_client Running 3/3`);
      const rows = ps();
      const spread = countBy(rows.filter((r) => r.Service === 'spread' && r.State === 'running').map((r) => r.Node));
      console.log(`spread's tasks per node: ${JSON.stringify(spread)}`);
      expect(Object.keys(spread).sort()).toEqual([...h!.hostnames].sort());
      expect(Object.values(spread).reduce((a, b) => a + b, 0)).toBe(SPREAD);
      expect(Math.max(...Object.values(spread))).toBeLessThanOrEqual(3);
      const web = rows.filter((r) => r.Service === 'web' && r.State === 'running').map((r) => r.Node);
      expect(new Set(web).size).toBe(WEB); // a host-mode port: one task per node
      const clients = rows.filter((r) => r.Service === 'client' && r.State === 'running').map((r) => r.Node);
      expect(clients.sort()).toEqual([...h!.hostnames].sort());
    },
    6 * MIN,
  );

  test(
    `a service answers by name from a task on every node over the overlay${IPVS ? ', and at its VIP' : ' (VIP: no IPVS here)'}`,
    async () => {
      const nodes = await nodeIndex();
      const replicas = (await running('spread')).map((t) => t.containerId!.slice(0, 12)).sort();
      expect(replicas).toHaveLength(SPREAD);
      const clients = await running('client');
      expect(clients).toHaveLength(3);
      const get = (target: string, times: number): string =>
        `for i in $(seq ${times}); do printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 ${target} ${PORT} | tail -n 1; echo; done`;
      for (const c of clients) {
        const node = nodes.get(c.nodeId!)!;
        // DNS round robin: the embedded DNS shuffles the 6 records per query; 120 queries miss one with p < 1e-8.
        const out = await dockerOn(node, 'exec', c.containerId!, 'sh', '-c', get('spread', 120));
        const seen = [...new Set(out.split('\n').filter(Boolean))].sort();
        expect([node, seen]).toEqual([node, replicas]);
      }
      if (!IPVS) {
        console.log(
          'VIP check skipped: the kernel has no IPVS (/proc/net/ip_vs missing), so a service VIP resolves but nothing answers behind it; ' +
            'swarm VIPs and the ingress routing mesh cannot work on this host',
        );
        return;
      }
      const vipReplicas = (await running('vipspread')).map((t) => t.containerId!.slice(0, 12)).sort();
      const vips = JSON.parse(await dockerOn(0, 'service', 'inspect', `${name}_vipspread`, '--format', '{{json .Endpoint.VirtualIPs}}')) as {
        Addr: string;
      }[];
      const vip = vips[0]!.Addr.split('/')[0]!;
      for (const c of clients) {
        const node = nodes.get(c.nodeId!)!;
        for (const target of ['vipspread', vip]) {
          const out = await dockerOn(node, 'exec', c.containerId!, 'sh', '-c', get(target, 30));
          expect([node, target, [...new Set(out.split('\n').filter(Boolean))].sort()]).toEqual([node, target, vipReplicas]);
        }
      }
    },
    5 * MIN,
  );

  test(
    'a start-first rolling update loses no request of a loop against the host-mode port; a stop-first one does',
    async () => {
      const hosts = h!.nodeIps;
      const loopDuring = async (content: string): Promise<{ r: LoopResult; upAt: number; out: string }> => {
        let upAt = 0;
        let out = '';
        const t0 = Date.now();
        const stop = (async () => {
          await sleep(2_000); // the loop runs on the old version first
          const up = await upAsync();
          upAt = Date.now() - t0;
          out = up.out;
          if (up.code !== 0) throw new Error(`up to ${content}: exit ${up.code}\n${up.out}`);
          await sleep(3_000); // and on after the update
        })();
        const r = await requestLoop({
          hosts,
          port: PORT,
          bodies: ['v1', 'v2', 'v3'],
          maxRequests: 20_000,
          stop,
          connectTimeoutMs: 500,
          retryForMs: 1_500,
        });
        await stop;
        return { r, upAt, out };
      };

      writeFileSync(join(dir, 'compose.yaml'), compose('v2', 'start-first', 1));
      const a = await loopDuring('v2');
      console.log(`start-first, parallelism 1 (v1 → v2, up --wait returned at ${a.upAt} ms): ${summary(a.r)}`);
      if (a.r.lost.length) console.log(`lost:\n${a.r.lost.join('\n')}`);
      expect(a.out).toContain(`${name}_web`);
      expect(a.r.lost).toEqual([]);
      expect(a.r.requests).toBeLessThan(20_000); // ended by the update, not by the bound
      expect(a.r.bodies.get('v1')).toBeGreaterThan(0);
      expect(a.r.bodies.get('v2')).toBeGreaterThan(0);
      expect(a.r.last).toBe('v2');
      expect(a.r.seen.get('v1')!.last).toBeLessThan(a.upAt); // up --wait returns once the old version is gone
      expect(a.r.perHost.size).toBe(3); // each node served some of it: the replicas moved

      writeFileSync(join(dir, 'compose.yaml'), compose('v3', 'stop-first', 2));
      const b = await loopDuring('v3');
      console.log(`control: stop-first, parallelism 2 (v2 → v3, up --wait returned at ${b.upAt} ms): ${summary(b.r)}\nlost:\n${b.r.lost.join('\n')}`);
      expect(b.r.lost.length).toBeGreaterThan(0);
      expect(b.r.last).toBe('v3');
    },
    10 * MIN,
  );

  test(
    'draining a worker moves its tasks to the other nodes',
    async () => {
      const nodes = await swarm.listNodes();
      const drained = nodes.find((n) => n.hostname === h!.hostnames[2])!;
      const before = countBy((await running('spread')).map((t) => t.nodeId));
      expect(before[drained.id]).toBeGreaterThan(0);
      const t = Date.now();
      await swarm.setNodeAvailability(drained.id, 'drain');
      const others = nodes.filter((n) => n.id !== drained.id).map((n) => n.id);
      const host = (id: string | undefined): string => nodes.find((n) => n.id === id)?.hostname ?? String(id);
      let state: string;
      for (const end = Date.now() + 3 * MIN; ;) {
        const [spread, web, all] = await Promise.all([running('spread'), running('web'), swarm.listTasks()]);
        const onDrained = all.filter((t) => t.nodeId === drained.id && (t.desiredState === 'running' || t.state === 'running'));
        const perNode = countBy(spread.map((t) => t.nodeId));
        state = `spread ${JSON.stringify(countBy(spread.map((t) => host(t.nodeId))))}, web on ${JSON.stringify(web.map((t) => host(t.nodeId)))}, ${onDrained.length} tasks still on the drained node`;
        if (onDrained.length === 0 && spread.length === SPREAD && web.length === WEB && others.every((id) => perNode[id] === 3)) break;
        if (Date.now() > end) throw new Error(`drain did not converge: ${state}`);
        await sleep(500);
      }
      console.log(`drain of ${drained.hostname}: converged in ${Date.now() - t} ms (${state})`);
      const web = await running('web');
      expect(new Set(web.map((t) => t.nodeId)).size).toBe(WEB);
      expect(web.every((t) => others.includes(t.nodeId!))).toBe(true);
      expect((await running('client')).map((t) => t.nodeId).sort()).toEqual([...others].sort());
      // The drained node's engine runs no container of the stack any more.
      for (const end = Date.now() + MIN; ;) {
        const left = (await dockerOn(2, 'ps', '-q', '--filter', `label=com.docker.stack.namespace=${name}`)).trim();
        if (left === '') break;
        if (Date.now() > end) throw new Error(`containers still running on the drained node: ${left}`);
        await sleep(500);
      }
      await swarm.setNodeAvailability(drained.id, 'active');
      expect((await swarm.listNodes()).find((n) => n.id === drained.id)!.availability).toBe('active');
    },
    5 * MIN,
  );

  test(
    'down, then the harness stop, leave nothing',
    async () => {
      ts('down');
      downDone = true;
      const mine = { labels: { 'com.docker.stack.namespace': name } };
      expect(await swarm.listServices(mine)).toEqual([]);
      expect(await swarm.listNetworks(mine)).toEqual([]);
      expect(await swarm.listSecrets(mine)).toEqual([]);
      expect(await swarm.listConfigs(mine)).toEqual([]);
      // Task containers go shortly after their services.
      for (const end = Date.now() + MIN; ;) {
        const left = (await Promise.all([0, 1, 2].map((i) => dockerOn(i, 'ps', '-aq', '--filter', `label=com.docker.stack.namespace=${name}`))))
          .join('')
          .trim();
        if (left === '') break;
        if (Date.now() > end) throw new Error(`task containers left after down: ${left}`);
        await sleep(500);
      }

      const run = h!.run;
      await h!.stop();
      const mineRun = `${PREFIX}-${run}`;
      const [{ stdout: ns }, { stdout: links }, { stdout: rules }, { stdout: procs }] = await Promise.all([
        exec('ip', ['netns', 'list']),
        exec('ip', ['-o', 'link', 'show']),
        exec('iptables', ['-S', 'FORWARD']),
        exec('ps', ['-eo', 'args']),
      ]);
      expect(ns).not.toContain(mineRun);
      expect(links).not.toContain(mineRun);
      expect(rules).not.toContain(mineRun);
      expect(procs).not.toContain(`tscompose-swarm/${run}`);
      expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(`tscompose-swarm/${run}`);
      expect(existsSync(`/run/tscompose-swarm/${run}`)).toBe(false);
      expect(existsSync(`/var/lib/tscompose-swarm/${run}`)).toBe(false);
      // No tscsw-* netns or link at all, but those of runs another live test owns.
      const live = liveRuns();
      const names = [
        ...ns.split('\n').map((l) => l.split(' ')[0] ?? ''),
        ...links.split('\n').map((l) => /^\d+: ([^:@]+)/.exec(l)?.[1] ?? ''),
      ].filter((n) => n.startsWith(`${PREFIX}-`));
      expect(names.filter((n) => !live.some((r) => n.startsWith(`${PREFIX}-${r}`)))).toEqual([]);
    },
    5 * MIN,
  );
});
