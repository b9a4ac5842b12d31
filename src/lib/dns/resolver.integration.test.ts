/**
 * The detached resolver end to end (root only): everything runs in network namespaces this test makes, so no
 * packet leaves the machine. Netns H stands for the host: it holds the resolver, a fake upstream DNS server on the
 * loopback address 127.0.0.53 and the two networks' gateway addresses on veths; netns CA and CB stand for a
 * container on network a and one on network b. The first registration happens in a separate, short-lived process
 * (a CLI run), so the resolver is shown to outlive it.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { transformFileSync } from '@swc/core';
import { dnsRemoveNetwork, dnsSetNetwork, dnsStatus, dnsStopAll } from './control.js';
import type { DnsNetwork } from './records.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../../..');
const fixtures = path.join(here, '__fixtures__');

const canRun =
  process.platform === 'linux' && process.getuid?.() === 0 && existsSync('/usr/bin/nsenter') && spawnSync('ip', ['netns', 'list']).status === 0;
const d = canRun ? describe : describe.skip;

const tag = `${process.pid % 100000}`;
const NS = { host: `tscdnsH${tag}`, a: `tscdnsA${tag}`, b: `tscdnsB${tag}` };
const nsPath = (n: string) => `/run/netns/${n}`;

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Compiles the resolver's modules (lib/dns, lib/fs, lib/errors.ts) to JS, as the build would: the resolver runs as plain node. */
function buildResolver(out: string): void {
  const src = path.resolve(here, '..');
  mkdirSync(path.join(out, 'dns'), { recursive: true });
  mkdirSync(path.join(out, 'fs'), { recursive: true });
  const sources = (dir: string) =>
    readdirSync(path.join(src, dir))
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
      .map((f) => `${dir}/${f}`);
  const files = ['errors.ts', 'ip-literal.ts', 'helper-entry.ts', ...sources('fs'), ...sources('dns')];
  for (const f of files) {
    const r = transformFileSync(path.join(src, f), { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'es6' } });
    writeFileSync(path.join(out, f.replace(/\.ts$/, '.js')), r.code);
  }
}

interface QueryResult {
  id?: boolean;
  rcode?: string;
  aa?: boolean;
  answers?: string[];
  error?: string;
}

function query(ns: string, queries: { server: string; name: string; type?: string; proto?: 'udp' | 'tcp' }[]): QueryResult[] {
  const out = execFileSync('nsenter', [`--net=${nsPath(ns)}`, process.execPath, path.join(fixtures, 'query.mjs'), JSON.stringify(queries)], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  return JSON.parse(out) as QueryResult[];
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/\) [ZX] /.test(stat);
  } catch {
    return false;
  }
}

/** Live processes whose command line names `dir`. */
function resolversOf(dir: string): number[] {
  return readdirSync('/proc')
    .filter((f) => /^\d+$/.test(f))
    .filter((f) => {
      try {
        return readFileSync(`/proc/${f}/cmdline`, 'utf8').split('\0').includes(dir) && alive(Number(f));
      } catch {
        return false;
      }
    })
    .map(Number);
}

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return cond();
}

d('dns resolver (root, network namespaces)', () => {
  const GW_A = '10.214.250.1';
  const GW_B = '10.214.251.1';
  let build: string;
  let state: string;
  let upstream: ChildProcess | undefined;
  let upstreamLog = '';
  let entry: string;
  const opts = () => ({ entry, netns: nsPath(NS.host), timeoutMs: 10_000 });

  const netA = (names: string[] = ['web', 'proj-web-1', 'WebAlias', 'abc123def456']): DnsNetwork => ({
    network: 'proj_a',
    gateway: GW_A,
    upstreams: ['127.0.0.53'],
    entries: [{ containerId: 'abc123def4567890', ips: ['10.214.250.5'], names }],
  });
  const netB: DnsNetwork = {
    network: 'proj_b',
    gateway: GW_B,
    upstreams: ['127.0.0.53'],
    entries: [{ containerId: 'fed321', ips: ['10.214.251.5'], names: ['db', 'proj-db-1'] }],
  };

  function cleanupNetns(): void {
    for (const n of Object.values(NS)) spawnSync('ip', ['netns', 'del', n], { stdio: 'ignore' });
  }

  beforeAll(async () => {
    cleanupNetns();
    mkdirSync(path.join(repo, 'node_modules', '.cache'), { recursive: true }); // absent in a fresh clone
    build = mkdtempSync(path.join(repo, 'node_modules', '.cache', 'tscompose-dns-it-'));
    buildResolver(build);
    entry = path.join(build, 'dns', 'resolver.js');
    state = mkdtempSync(path.join(tmpdir(), 'tsc-dns-it-'));
    try {
      for (const n of Object.values(NS)) ip('netns', 'add', n);
      for (const n of Object.values(NS)) ip('-n', n, 'link', 'set', 'lo', 'up');
      for (const [side, ns, gw, addr] of [
        ['va', NS.a, GW_A, '10.214.250.5'],
        ['vb', NS.b, GW_B, '10.214.251.5'],
      ] as const) {
        ip('-n', NS.host, 'link', 'add', side, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
        ip('-n', NS.host, 'addr', 'add', `${gw}/24`, 'dev', side);
        ip('-n', NS.host, 'link', 'set', side, 'up');
        ip('-n', ns, 'addr', 'add', `${addr}/24`, 'dev', 'eth0');
        ip('-n', ns, 'link', 'set', 'eth0', 'up');
      }
      upstream = spawn('nsenter', [`--net=${nsPath(NS.host)}`, process.execPath, path.join(fixtures, 'fake-upstream.mjs'), '127.0.0.53', '53'], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      upstream.stdout!.on('data', (b: Buffer) => (upstreamLog += b.toString()));
      if (!(await waitFor(() => upstreamLog.includes('ready'), 10_000))) throw new Error('fake upstream did not start');
    } catch (e) {
      cleanupNetns();
      throw e;
    }
  });

  afterAll(async () => {
    if (state) await dnsStopAll(state, opts()).catch(() => undefined);
    upstream?.kill('SIGTERM');
    cleanupNetns();
    if (build) rmSync(build, { recursive: true, force: true });
    if (state) rmSync(state, { recursive: true, force: true });
  });

  let pid = 0;

  it('starts from a CLI process that exits, and keeps serving', async () => {
    const r = spawnSync(
      process.execPath,
      [path.join(fixtures, 'cli-set.mjs'), path.join(build, 'dns', 'control.js'), state, JSON.stringify(netA()), JSON.stringify(opts())],
      {
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    const st = await dnsStatus(state);
    expect(st.networks).toEqual(['proj_a']);
    expect(st.pid).toBeGreaterThan(0);
    pid = st.pid!;
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      .slice(readFileSync(`/proc/${pid}/stat`, 'utf8').lastIndexOf(')') + 2)
      .split(' ');
    expect(Number(stat[2])).toBe(pid); // its own process group (and session)
    expect(Number(stat[3])).toBe(pid);
    const rss = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1];
    process.stdout.write(`dns resolver: first dnsSetNetwork (spawn + serve) ${r.stdout.trim()} ms, RSS ${rss} kB\n`);

    const [web, alias, id, upper] = query(NS.a, [
      { server: GW_A, name: 'web' },
      { server: GW_A, name: 'webalias', proto: 'tcp' },
      { server: GW_A, name: 'abc123def456' },
      { server: GW_A, name: 'PROJ-WEB-1.' },
    ]);
    expect(web).toEqual({ id: true, rcode: 'NOERROR', aa: true, answers: ['10.214.250.5'] });
    expect(alias).toEqual({ id: true, rcode: 'NOERROR', aa: true, answers: ['10.214.250.5'] });
    expect(id!.answers).toEqual(['10.214.250.5']);
    expect(upper!.answers).toEqual(['10.214.250.5']);
  });

  it('answers AAAA for a name without IPv6 with an empty NOERROR', () => {
    expect(query(NS.a, [{ server: GW_A, name: 'web', type: 'AAAA' }])).toEqual([{ id: true, rcode: 'NOERROR', aa: true, answers: [] }]);
  });

  it('forwards unknown names to the (loopback) upstream over UDP and TCP', async () => {
    upstreamLog = '';
    const [udp, tcp, single] = query(NS.a, [
      { server: GW_A, name: 'www.example.test' },
      { server: GW_A, name: 'www.example.test', proto: 'tcp' },
      { server: GW_A, name: 'nosuchname' },
    ]);
    expect(udp).toEqual({ id: true, rcode: 'NOERROR', aa: false, answers: ['192.0.2.77'] });
    expect(tcp).toEqual({ id: true, rcode: 'NOERROR', aa: false, answers: ['192.0.2.78'] });
    expect(single).toMatchObject({ id: true, rcode: 'NXDOMAIN', answers: [] });
    // (its output is read once the event loop runs again: query() blocks it)
    await waitFor(() => upstreamLog.includes('got tcp A www.example.test'), 2000);
    expect(upstreamLog).toContain('got udp A www.example.test');
    expect(upstreamLog).toContain('got tcp A www.example.test');
  });

  it("serves a second network on its gateway; neither network sees the other's names", async () => {
    await dnsSetNetwork(state, netB, opts());
    expect((await dnsStatus(state)).pid).toBe(pid);
    const [db, webFromB] = query(NS.b, [
      { server: GW_B, name: 'db' },
      { server: GW_B, name: 'web', proto: 'tcp' },
    ]);
    expect(db!.answers).toEqual(['10.214.251.5']);
    expect(webFromB).toMatchObject({ rcode: 'NXDOMAIN', answers: [] }); // forwarded; the fake upstream says NXDOMAIN
    const [dbFromA] = query(NS.a, [{ server: GW_A, name: 'db' }]);
    expect(dbFromA).toMatchObject({ rcode: 'NXDOMAIN', answers: [] });
  });

  it('reloads changed records without restarting', async () => {
    const t = performance.now();
    await dnsSetNetwork(state, netA(['web', 'newalias']), opts());
    process.stdout.write(`dns resolver: dnsSetNetwork update (SIGHUP + reload) ${(performance.now() - t).toFixed(0)} ms\n`);
    expect((await dnsStatus(state)).pid).toBe(pid);
    const [n, old] = query(NS.a, [
      { server: GW_A, name: 'NewAlias' },
      { server: GW_A, name: 'webalias' },
    ]);
    expect(n!.answers).toEqual(['10.214.250.5']);
    expect(old).toMatchObject({ rcode: 'NXDOMAIN' });
  });

  it('reports an address it cannot bind', async () => {
    await expect(dnsSetNetwork(state, { ...netB, network: 'proj_c', gateway: '10.214.252.1' }, opts())).rejects.toThrow(/proj_c.*cannot listen/);
    expect((await dnsStatus(state)).serving?.proj_c).toMatchObject({ listening: false });
    await dnsRemoveNetwork(state, 'proj_c', opts());
    expect((await dnsStatus(state)).networks).toEqual(['proj_a', 'proj_b']);
  });

  it('stops serving a removed network, and exits after the last one', async () => {
    // noWait: back once the resolver is signalled; it drops the network on its own.
    await dnsRemoveNetwork(state, 'proj_b', { ...opts(), noWait: true });
    expect(existsSync(path.join(state, 'dns', 'networks', 'proj_b.json'))).toBe(false);
    expect(await waitFor(() => query(NS.b, [{ server: GW_B, name: 'db' }])[0]!.error !== undefined, 5000)).toBe(true); // nothing listens there any more
    await dnsRemoveNetwork(state, 'proj_b', opts()); // again, waiting: already done
    expect(alive(pid)).toBe(true);
    expect(query(NS.a, [{ server: GW_A, name: 'web' }])[0]!.answers).toEqual(['10.214.250.5']);
    await dnsRemoveNetwork(state, 'proj_a', opts());
    expect(await waitFor(() => !alive(pid), 5000)).toBe(true);
    expect(await dnsStatus(state)).toEqual({ networks: [] });
    expect(existsSync(path.join(state, 'dns', 'resolver.pid'))).toBe(false);
    expect(readFileSync(path.join(state, 'dns', 'resolver.log'), 'utf8')).toContain('no network left: exiting');
    // and no other resolver of this state directory (a stray second one) is left
    expect(await waitFor(() => resolversOf(path.join(state, 'dns')).length === 0, 3000)).toBe(true);
  });

  it("starts through the caller's starter (a helper shell, not a fork of the caller), and serves", async () => {
    const r = spawnSync(
      process.execPath,
      [
        path.join(fixtures, 'cli-set.mjs'),
        path.join(build, 'dns', 'control.js'),
        state,
        JSON.stringify(netB),
        JSON.stringify({ ...opts(), viaShell: true }),
      ],
      { encoding: 'utf8', timeout: 30_000 },
    );
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    const st = await dnsStatus(state);
    expect(st.networks).toEqual(['proj_b']);
    const started = st.pid!;
    expect(started).not.toBe(pid);
    expect(query(NS.b, [{ server: GW_B, name: 'db' }])[0]!.answers).toEqual(['10.214.251.5']);
    expect(readFileSync(path.join(state, 'dns', 'resolver.log'), 'utf8')).toContain('started by a shell');
    await dnsRemoveNetwork(state, 'proj_b', opts());
    expect(await waitFor(() => !alive(started), 5000)).toBe(true);
  });

  it('leaves no namespace or link behind after cleanup', () => {
    upstream?.kill('SIGTERM');
    cleanupNetns();
    const list = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    for (const n of Object.values(NS)) expect(list).not.toContain(n);
    expect(execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' })).not.toMatch(/tscdns/);
  });
});
