/**
 * Load test of the native runtime (issue 14, "under load"), run by `npm run test:heavy` under the exclusive native
 * test lock:
 * 1. `up -d` of a 200-service project (five networks, httpd services with healthchecks and published ports,
 *    `depends_on` gated on health): all 200 running, `ps` shows 200, names resolve, ports answer; `down` removes it;
 * 2. 20 parallel `up -d` of 4-service projects (one network each; one service exits by itself, its exit hook runs),
 *    then 20 parallel `down`;
 * 3. throughout, a DNS query loop in a container of a third project (`nslookup` of a sibling every 200 ms, bounded)
 *    never fails;
 * 4. nothing leaked (test/e2e/host-snapshot.ts) after each phase and at the end;
 * 5. the peak RSS of tscompose's own processes (CLI, DNS resolver, health monitors, exit hooks) sampled every 250 ms
 *    and the wall time of each phase are printed and written to TSCOMPOSE_LOAD_REPORT
 *    (default /tmp/tscompose-load-report.json).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { hostSnapshot, leakedSince, type HostSnapshot } from '../e2e/host-snapshot.js';
import { capable, nativeDescribe, NativeSuite, type NativeProject } from '../e2e/native-harness.js';
import { required } from '../e2e/helpers.js';
import {
  APPS,
  bigCompose,
  cli,
  EPHEMERAL_PORTS,
  FIXED_PORTS,
  HEALTHY_WEBS,
  NETS,
  ok,
  parseProbe,
  PROBE_SCRIPT,
  probeCompose,
  psRows,
  SMALL_COMPOSE,
  WEBS,
  app,
  web,
  type CliResult,
  type ProbeResults,
} from './load-projects.js';
import { RssSampler } from './load-sampler.js';
import { nativePaths } from '../../src/runtime/native/state.js';

const SERVICES = WEBS + APPS;
const PARALLEL = 20;
const PROBE_MAX = 20_000; // the loop's bound: far more than the test needs at one query per ≥ 200 ms
const REPORT = process.env['TSCOMPOSE_LOAD_REPORT'] ?? '/tmp/tscompose-load-report.json';
const MIN = 60_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const uptime = (): number => Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);

/** When the n-th of `times` (ms since the command started) happened, for n at each quarter of `total`. */
function quarters(times: number[], total: number): (number | null)[] {
  return [0.25, 0.5, 0.75, 1].map((q) => times[Math.ceil(total * q) - 1] ?? null);
}

function get(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', timeout: 3000 }, (res) => {
      let b = '';
      res.on('data', (d: Buffer) => (b += d.toString()));
      res.on('end', () => resolve(b));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** The page on `port`, retried for up to 30 s (httpd may not listen yet when `up -d` returns). */
async function page(port: number): Promise<string> {
  let last = '';
  for (const end = Date.now() + 30_000; Date.now() < end; await sleep(250)) {
    try {
      return await get(port);
    } catch (e) {
      last = (e as Error).message;
    }
  }
  return `no answer: ${last}`;
}

/** What the state still has of a project: its networks (net/networks.json) and the resolver's network files. */
function stateOf(env: NodeJS.ProcessEnv, project: string): string[] {
  const root = nativePaths({ stateDir: env['TSCOMPOSE_STATE_DIR'], runDir: env['TSCOMPOSE_RUN_DIR'] }).root;
  const netFile = join(root, 'net', 'networks.json');
  const nets = existsSync(netFile) ? Object.keys((JSON.parse(readFileSync(netFile, 'utf8')) as { networks?: object }).networks ?? {}) : [];
  const dnsDir = join(root, 'dns', 'dns', 'networks');
  const dns = existsSync(dnsDir) ? readdirSync(dnsDir).map((f) => `dns ${f}`) : [];
  return [...nets.map((n) => `network ${n}`), ...dns].filter((x) => x.includes(`${project}_`));
}

/** Polls until nothing more than `since` is on the host (exit hooks and monitors end just after `down`). */
async function leaks(base: string, since: HostSnapshot): Promise<Partial<HostSnapshot>> {
  let left = leakedSince(since, hostSnapshot(base));
  for (const end = Date.now() + 20_000; Object.keys(left).length > 0 && Date.now() < end; left = leakedSince(since, hostSnapshot(base)))
    await sleep(500);
  return left;
}

(nativeDescribe ? describe : describe.skip)('native runtime under load', () => {
  let suite: NativeSuite;
  let sampler: RssSampler;
  let probe: NativeProject;
  let before: HostSnapshot;
  let withProbe: HostSnapshot;
  let dns: ProbeResults | undefined;
  /** When the DNS loop was seen answering (the end of beforeAll). */
  let loopFrom = 0;
  const phases: Record<string, number> = {};
  /** Each phase's window in /proc/uptime seconds (the probe's clock: /proc/uptime is not namespaced). */
  const windows: { name: string; from: number; to: number }[] = [];
  const timeline: Record<string, number[]> = {};
  const commands: Record<string, { ms?: number; maxMs?: number; failed?: number }> = {};
  const portBase = 30_000 + Math.floor(Math.random() * 25_000);

  /** Runs `fn` as a named phase: its wall time is recorded, and the sampler attributes its samples to it. */
  async function phase<T>(name: string, fn: () => Promise<T>): Promise<T> {
    sampler.phase(name);
    const t0 = Date.now();
    const from = uptime();
    try {
      return await fn();
    } finally {
      phases[name] = Date.now() - t0;
      windows.push({ name, from, to: uptime() });
      sampler.phase('between');
    }
  }

  const ts = (p: NativeProject, timeoutMs: number, ...args: string[]): Promise<CliResult> =>
    cli(suite.env, p.dir, ['-p', p.name, ...args], timeoutMs);
  /** Notes when each `Container …  Created|Started` line of a command came. */
  const note = (line: string, ms: number): void => {
    const m = /^Container \S+\s+(Created|Started)$/.exec(line.trim());
    if (m) (timeline[m[1]!] ??= []).push(ms);
  };
  const results = (): string => readFileSync(join(probe.dir, 'out', 'results.txt'), 'utf8');

  beforeAll(async () => {
    if (required && !capable) throw new Error('TSCOMPOSE_E2E=1 but the native runtime cannot run here');
    suite = new NativeSuite();
    sampler = new RssSampler(suite.stateDir, suite.env['TSCOMPOSE_STATE_DIR']!);
    sampler.start();
    probe = suite.project({ 'compose.yaml': probeCompose(PROBE_MAX, 0.2), 'out/probe.sh': PROBE_SCRIPT });
    await phase('pull', async () => ok(await ts(probe, 5 * MIN, 'pull'), 'pull'));
    before = hostSnapshot(suite.stateDir);
    await phase('probe: up -d', async () => {
      ok(await ts(probe, 5 * MIN, 'up', '-d'), 'probe up -d');
      const file = join(probe.dir, 'out', 'results.txt');
      for (const end = Date.now() + 60_000; !(existsSync(file) && results().includes('ok ')) && Date.now() < end;) await sleep(200);
    });
    expect(results()).toMatch(/^ok 1 /);
    withProbe = hostSnapshot(suite.stateDir);
    loopFrom = Date.now();
  }, 15 * MIN);

  afterAll(async () => {
    if (!suite) return;
    sampler.stop();
    const report = {
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, memoryMiB: Math.round(totalmem() / 1024 / 1024) },
      wallMs: phases,
      commands,
      memory: sampler.report(),
      bigUpTimeline: {
        note: `ms after the start of \`up -d\` at which 25/50/75/100 % of the ${SERVICES} containers were created and started`,
        created: quarters(timeline['Created'] ?? [], SERVICES),
        started: quarters(timeline['Started'] ?? [], SERVICES),
      },
      dns: dns && {
        queries: dns.queries,
        failed: dns.failures.length,
        failures: dns.failures.slice(0, 20),
        p50LatencyMs: dns.p50LatencyMs,
        p99LatencyMs: dns.p99LatencyMs,
        maxLatencyMs: dns.maxLatencyMs,
        perPhase: Object.fromEntries(
          windows.map((w) => {
            const in_ = dns!.samples.filter((x) => x.t0 >= w.from && x.t0 < w.to);
            return [w.name, { queries: in_.length, failed: in_.filter((x) => !x.ok).length, maxLatencyMs: Math.max(0, ...in_.map((x) => x.ms)) }];
          }),
        ),
      },
    };
    writeFileSync(REPORT, `${JSON.stringify(report, null, 2)}\n`);
    const m = report.memory;
    const lines = [
      '',
      `tscompose load test (${report.machine.cpus} CPUs, ${report.machine.memoryMiB} MiB)`,
      'wall time per phase:',
      ...Object.entries(phases).map(([k, v]) => `  ${k.padEnd(28)} ${(v / 1000).toFixed(1)} s`),
      `peak RSS of tscompose's Node processes: ${m.peakNodeTotalMiB} MiB (in "${m.peakNodeTotalPhase}"); with conmon: ${m.peakTotalWithConmonMiB} MiB`,
      'per kind (peak sum / peak count / largest one):',
      ...Object.entries(m.kinds).map(([k, v]) => `  ${k.padEnd(16)} ${v.peakSumMiB} MiB / ${v.peakCount} / ${v.maxSingleMiB} MiB`),
      'per phase (peak Node total / processes):',
      ...Object.entries(m.phases).map(([k, v]) => `  ${k.padEnd(28)} ${v.peakNodeTotalMiB} MiB / ${v.peakNodeProcesses}`),
      `big up -d: 25/50/75/100 % created at ${report.bigUpTimeline.created.join('/')} ms, started at ${report.bigUpTimeline.started.join('/')} ms`,
      report.dns
        ? `DNS loop: ${report.dns.queries} queries, ${report.dns.failed} failed, latency p50 ${report.dns.p50LatencyMs} ms, p99 ${report.dns.p99LatencyMs} ms, max ${report.dns.maxLatencyMs} ms`
        : 'DNS loop: no result',
      ...Object.entries(report.dns?.perPhase ?? {}).map(
        ([k, v]) => `  ${k.padEnd(28)} ${v.queries} queries, ${v.failed} failed, max ${v.maxLatencyMs} ms`,
      ),
      `report: ${REPORT}`,
      '',
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    if (probe) await ts(probe, 5 * MIN, 'down', '-v', '-t', '0');
    suite.cleanup();
  }, 30 * MIN);

  test(
    `up -d of a ${SERVICES}-service project: all running, names resolve, ports answer; down removes everything`,
    async () => {
      const big = suite.project({ 'compose.yaml': bigCompose(portBase), 'site/index.html': 'load-test\n' });
      const up = await phase('big: up -d', () => cli(suite.env, big.dir, ['-p', big.name, 'up', '-d'], 25 * MIN, note));
      commands['big up -d'] = { ms: up.ms };
      ok(up, `up -d of ${SERVICES} services`);

      await phase('big: checks', async () => {
        const rows = psRows(ok(await ts(big, 5 * MIN, 'ps', '--format', 'json'), 'ps'));
        expect(rows.length).toBe(SERVICES);
        // Five networks, each served by the resolver (what `down` must remove, checked below).
        expect(stateOf(suite.env, big.name).length).toBe(2 * (NETS + 1));
        expect(rows.filter((r) => r.State !== 'running').map((r) => `${r.Name} ${r.State}`)).toEqual([]);
        // Health-gated dependencies: web-00…04 were healthy before app-000…004 started.
        for (let i = 0; i < 5; i++) expect(rows.find((r) => r.Service === web(i))?.Health).toBe('healthy');

        // Names resolve on each kind of network: a private one (n0), the shared one (front), across kinds.
        for (const [svc, name] of [
          [app(0), app(4)],
          [web(1), web(2)],
          [app(3), web(3)],
          [app(159), app(3)],
        ] as const) {
          const r = await ts(big, 2 * MIN, 'exec', '-T', svc, 'nslookup', '-type=a', name);
          expect([svc, name, r.code, r.stdout]).toEqual([svc, name, 0, expect.stringMatching(/Name:[\s\S]*Address:? *\d+\.\d+\.\d+\.\d+/)]);
        }

        // Published ports: the fixed ones and the ephemeral ones answer.
        const ports = [...Array(FIXED_PORTS).keys()].map((i) => portBase + i);
        for (let i = FIXED_PORTS; i < FIXED_PORTS + EPHEMERAL_PORTS; i++) {
          const pub = rows.find((r) => r.Service === web(i))?.Publishers.find((p) => p.TargetPort === 8080)?.PublishedPort ?? 0;
          expect([web(i), pub > 0]).toEqual([web(i), true]);
          ports.push(pub);
        }
        for (const port of ports) expect([port, await page(port)]).toEqual([port, 'load-test\n']);
        expect(rows.filter((r) => r.Health !== undefined && r.Health !== '').length).toBeGreaterThanOrEqual(HEALTHY_WEBS);
      });

      const down = await phase('big: down', () => ts(big, 15 * MIN, 'down'));
      commands['big down'] = { ms: down.ms };
      ok(down, `down of ${SERVICES} services`);
      expect(psRows(ok(await ts(big, 5 * MIN, 'ps', '-a', '--format', 'json'), 'ps -a'))).toEqual([]);
      expect(stateOf(suite.env, big.name)).toEqual([]);
      expect(await leaks(suite.stateDir, withProbe)).toEqual({});
    },
    60 * MIN,
  );

  test(
    `${PARALLEL} parallel up -d of small projects, then ${PARALLEL} parallel down`,
    async () => {
      const projects = [...Array(PARALLEL).keys()].map(() => suite.project({ 'compose.yaml': SMALL_COMPOSE }));
      const ups = await phase(`parallel: ${PARALLEL} up -d`, () => Promise.all(projects.map((p) => ts(p, 20 * MIN, 'up', '-d'))));
      commands[`parallel up -d (each)`] = { maxMs: Math.max(...ups.map((r) => r.ms)), failed: ups.filter((r) => r.code !== 0).length };
      ups.forEach((r, i) => ok(r, `up -d of ${projects[i]!.name}`));
      // d exits by itself 3 s after its start: its exit hook records the exit (code 3) and releases its network.
      const want = ['a running 0', 'b running 0', 'c running 0', 'd exited 3'];
      for (const p of projects) {
        let rows: string[] = [];
        for (const end = Date.now() + 2 * MIN; Date.now() < end; await sleep(500)) {
          rows = psRows(ok(await ts(p, 5 * MIN, 'ps', '-a', '--format', 'json'), 'ps -a'))
            .map((r) => `${r.Service} ${r.State} ${r.ExitCode}`)
            .sort();
          if (rows.join() === want.join()) break;
        }
        expect([p.name, rows]).toEqual([p.name, want]);
      }
      const downs = await phase(`parallel: ${PARALLEL} down`, () => Promise.all(projects.map((p) => ts(p, 20 * MIN, 'down'))));
      commands[`parallel down (each)`] = { maxMs: Math.max(...downs.map((r) => r.ms)), failed: downs.filter((r) => r.code !== 0).length };
      downs.forEach((r, i) => ok(r, `down of ${projects[i]!.name}`));
      for (const p of projects)
        expect([p.name, psRows(ok(await ts(p, 5 * MIN, 'ps', '-a', '--format', 'json'), 'ps -a')), stateOf(suite.env, p.name)]).toEqual([
          p.name,
          [],
          [],
        ]);
      expect(await leaks(suite.stateDir, withProbe)).toEqual({});
    },
    60 * MIN,
  );

  test(
    'the DNS query loop never failed throughout',
    async () => {
      writeFileSync(join(probe.dir, 'out', 'stop'), '');
      const ranMs = Date.now() - loopFrom;
      for (const end = Date.now() + 60_000; !results().includes('done ') && Date.now() < end;) await sleep(250);
      dns = parseProbe(results());
      expect(dns.done).toBe(true);
      expect(dns.failures).toEqual([]);
      // One query per 200 ms plus its own time while both phases ran: at least half of ranMs / 200 unless the loop
      // stalled. (A fixed 100 assumed the phases took well over 20 s; they take ~20 s now: 95 queries.)
      expect(dns.queries).toBeGreaterThan(ranMs / 200 / 2);
    },
    5 * MIN,
  );

  test(
    'nothing leaked: the host has what it had before the test',
    async () => {
      const down = await phase('probe: down', () => ts(probe, 5 * MIN, 'down', '-v'));
      ok(down, 'probe down');
      expect(stateOf(suite.env, probe.name)).toEqual([]);
      expect(await leaks(suite.stateDir, before)).toEqual({});
      expect(suite.leftovers()).toEqual([]);
    },
    10 * MIN,
  );
});
