/**
 * The processes a swarm harness run starts on the host (./swarm-harness.ts), and how it talks to them: the small
 * Engine API client over a unix socket (`api`, `apiOk`), the registry forwarder on the bridge address, and each node's
 * dockerd started in its netns (`startEngine`) and waited for until it answers (`waitEngine`).
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { REGISTRY_PORT, type NodeState } from './swarm-host.js';

/** One Engine API call over a unix socket: status and parsed body (text when not JSON). */
export function api(sock: string, method: string, path: string, body?: unknown, timeoutMs = 30_000): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      {
        socketPath: sock,
        method,
        path,
        headers: data ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) } : {},
        timeout: timeoutMs,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            /* text */
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)));
    req.on('error', reject);
    req.end(data);
  });
}

export async function apiOk(sock: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const r = await api(sock, method, path, body);
  if (r.status >= 300) throw new Error(`${method} ${path} on ${sock}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

const FORWARDER = `
const net = require('net');
const [host, port, target] = process.argv.slice(1);
const server = net.createServer((c) => {
  const u = net.connect(Number(target), '127.0.0.1');
  c.pipe(u).pipe(c);
  c.on('error', () => u.destroy());
  u.on('error', () => c.destroy());
});
server.listen(Number(port), host, () => process.stdout.write('listening\\n'));
server.on('error', (e) => { process.stderr.write(String(e) + '\\n'); process.exit(1); });
`;

export async function startForwarder(host: string, log: string): Promise<number> {
  const err = openSync(log, 'a');
  const child = spawn(process.execPath, ['-e', FORWARDER, host, String(REGISTRY_PORT), String(REGISTRY_PORT)], {
    detached: true,
    stdio: ['ignore', 'pipe', err],
  });
  closeSync(err);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('registry forwarder did not start')), 10_000);
    child.stdout!.once('data', () => {
      clearTimeout(timer);
      resolve();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`registry forwarder exited (${code ?? 'signal'}): see ${log}`));
    });
  });
  child.stdout!.destroy();
  child.unref();
  return child.pid!;
}

export function startEngine(n: NodeState, bridgeIp: string): void {
  mkdirSync(join(n.dir, 'exec'), { recursive: true });
  mkdirSync(n.dataRoot, { recursive: true });
  writeFileSync(join(n.dir, 'daemon.json'), '{}\n');
  const log = openSync(join(n.dir, 'dockerd.log'), 'a');
  const registry = `${bridgeIp}:${REGISTRY_PORT}`;
  const child = spawn(
    'nsenter',
    [
      `--net=/run/netns/${n.netns}`,
      'unshare',
      '-u',
      'sh',
      '-c',
      'hostname "$0" && exec "$@"',
      n.name,
      'dockerd',
      '--data-root',
      n.dataRoot,
      '--exec-root',
      join(n.dir, 'exec'),
      '--pidfile',
      n.pidfile,
      '-H',
      `unix://${n.sock}`,
      '--config-file',
      join(n.dir, 'daemon.json'),
      '--bip',
      '10.78.0.1/24',
      '--default-address-pool',
      'base=10.78.128.0/17,size=24',
      '--registry-mirror',
      `http://${registry}`,
      '--insecure-registry',
      registry,
    ],
    { detached: true, stdio: ['ignore', log, log] },
  );
  closeSync(log);
  child.unref();
}

export async function waitEngine(n: NodeState, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const r = await api(n.sock, 'GET', '/_ping', undefined, 2_000).catch(() => undefined);
    if (r?.status === 200) return;
    if (Date.now() > end) {
      const log = existsSync(join(n.dir, 'dockerd.log')) ? readFileSync(join(n.dir, 'dockerd.log'), 'utf8').slice(-2000) : '';
      throw new Error(`engine ${n.name} did not answer on ${n.sock} within ${timeoutMs} ms:\n${log}`);
    }
    await sleep(200);
  }
}
