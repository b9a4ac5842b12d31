/**
 * Smoke test of the multi-node swarm harness (./swarm-harness.ts): three engines in network namespaces of their own
 * form one swarm (one manager, two workers, distinct hostnames); a 3-replica service (at most one per node) spreads
 * over the three nodes, and from a task on every node it answers by name over an overlay network, each replica
 * reached (through the service's VIP where the kernel has IPVS, else by DNS round robin); stop() leaves no process, namespace, link, mount, iptables rule or directory.
 * Skipped when not root or without dockerd/nsenter (failed instead with TSCOMPOSE_E2E=1).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import type { ServiceSpec } from '../../src/swarm/api-types.js';
import { DockerSwarm } from '../../src/swarm/docker/swarm-docker.js';
import type { SwarmTask } from '../../src/swarm/port.js';
import { hasIpvs, PREFIX, startSwarm, swarmUnavailable, type SwarmHarness } from './swarm-harness.js';

const exec = promisify(execFile);
const required = process.env.TSCOMPOSE_E2E === '1';
const describeIf = swarmUnavailable === undefined || required ? describe : describe.skip;
if (swarmUnavailable !== undefined && !required) console.log(`swarm harness test skipped: ${swarmUnavailable}`);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const labels = { 'org.tscompose.test': 'swarm-harness' };

function spec(name: string, args: string[], mode: ServiceSpec['Mode'], extra: Partial<ServiceSpec['TaskTemplate']> = {}): ServiceSpec {
  return {
    Name: name,
    Labels: labels,
    TaskTemplate: {
      ContainerSpec: { Image: 'busybox:latest', Args: args, Init: true, StopGracePeriod: 1e9 },
      Networks: [{ Target: 'smoke' }],
      ...extra,
    },
    Mode: mode,
  };
}

describeIf('swarm harness: three engines in network namespaces', () => {
  let h: SwarmHarness;
  let swarm: DockerSwarm;

  beforeAll(async () => {
    if (swarmUnavailable !== undefined) throw new Error(`TSCOMPOSE_E2E=1 but the swarm harness cannot run here: ${swarmUnavailable}`);
    const t = Date.now();
    h = await startSwarm({ nodes: 3 });
    console.log(`swarm harness: 3 nodes in ${Date.now() - t} ms: ${JSON.stringify(h.timings)}`);
    swarm = new DockerSwarm({ env: h.env() });
  }, 180_000);

  afterAll(async () => {
    if (!h) return;
    const run = h.run;
    await h.stop();
    // Nothing of the run is left.
    const { stdout: ns } = await exec('ip', ['netns', 'list']);
    const { stdout: links } = await exec('ip', ['-o', 'link', 'show']);
    const { stdout: rules } = await exec('iptables', ['-S', 'FORWARD']);
    const mine = `${PREFIX}-${run}`;
    expect(ns).not.toContain(mine);
    expect(links).not.toContain(mine);
    expect(rules).not.toContain(mine);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(`tscompose-swarm/${run}`);
    expect(existsSync(`/run/tscompose-swarm/${run}`)).toBe(false);
    expect(existsSync(`/var/lib/tscompose-swarm/${run}`)).toBe(false);
    const { stdout: ps } = await exec('ps', ['-eo', 'args']);
    expect(ps).not.toContain(`tscompose-swarm/${run}`);
  }, 120_000);

  test('one manager and two workers, each with a hostname of its own', async () => {
    const nodes = await swarm.listNodes();
    expect(nodes.map((n) => n.hostname).sort()).toEqual([...h.hostnames].sort());
    expect(nodes.filter((n) => n.role === 'manager').map((n) => n.hostname)).toEqual([h.hostnames[0]]);
    expect(nodes.every((n) => n.state === 'ready' && n.availability === 'active')).toBe(true);
    expect(nodes.map((n) => n.address).sort()).toEqual([...h.nodeIps].sort());
  });

  test('a 3-replica service spreads over the three nodes and answers by name over the overlay from a task on every node', async () => {
    await swarm.createNetwork({ Name: 'smoke', Driver: 'overlay', Attachable: true, Labels: labels });
    // The VIP (and the ingress routing mesh) needs IPVS, which some kernels lack (no /proc/net/ip_vs, no modules):
    // there the name resolves to the VIP but nothing answers behind it, so the service uses DNS round robin.
    const web = await swarm.createService({
      ...spec(
        'web',
        ['sh', '-c', 'mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www'],
        { Replicated: { Replicas: 3 } },
        {
          Placement: { MaxReplicas: 1 },
        },
      ),
      EndpointSpec: { Mode: hasIpvs() ? 'vip' : 'dnsrr' },
    });
    const client = await swarm.createService(spec('client', ['sleep', '3600'], { Global: {} }));
    const runningTasks = async (id: string, n: number): Promise<SwarmTask[]> => {
      const end = Date.now() + 90_000;
      for (;;) {
        const tasks = (await swarm.listTasks({ service: id })).filter((t) => t.desiredState === 'running' && t.state === 'running');
        if (tasks.length === n) return tasks;
        const failed = (await swarm.listTasks({ service: id })).filter((t) => t.error);
        if (Date.now() > end) throw new Error(`service ${id}: ${tasks.length}/${n} running; errors: ${failed.map((t) => t.error).join('; ')}`);
        await sleep(500);
      }
    };
    const webTasks = await runningTasks(web.id, 3);
    expect(new Set(webTasks.map((t) => t.nodeId)).size).toBe(3);
    const clients = await runningTasks(client.id, 3);
    const nodes = await swarm.listNodes();
    const replicas = new Set(webTasks.map((t) => t.containerId!.slice(0, 12)));

    for (const c of clients) {
      const hostname = nodes.find((n) => n.id === c.nodeId)!.hostname;
      const env = h.env(h.hostnames.indexOf(hostname));
      const seen = new Set<string>();
      for (let i = 0; i < 30 && seen.size < 3; i++) {
        // nc, not wget: the busybox-static wget of the local images crashes (SIGSEGV) before it connects.
        const { stdout } = await exec(
          'docker',
          ['exec', c.containerId!, 'sh', '-c', `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 web 8080 | tail -n 1`],
          { env },
        );
        seen.add(stdout.trim());
      }
      expect([hostname, [...seen].sort()]).toEqual([hostname, [...replicas].sort()]);
    }
    await swarm.removeService(client.id);
    await swarm.removeService(web.id);
  }, 240_000);
});
