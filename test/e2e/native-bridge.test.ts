/**
 * End-to-end on the native runtime, bridge networks: DNS by service name and alias on the network only, published
 * ports (fixed and ephemeral, hairpin), internal networks, isolation between networks, nothing left in the kernel
 * after down; and the flask+redis example built from its Dockerfile and answering on its published port. State
 * directory of its own.
 *
 * Runs as root when conmon and runc/crun are installed; with TSCOMPOSE_E2E=1 (.ci/run) their absence fails it.
 * After the suite: no mounts, cgroups, processes or runtime state of it may be left. The state directory, helpers
 * and hooks are in ./native-e2e-helpers.ts (shared with native.test.ts, native-images.test.ts, native-bridge.test.ts).
 */
import { expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bin, root } from './helpers.js';
import { env, expectNoLeftovers, nativeE2eHooks, ok, project, projectNames, psLine, run, sleep, ts, until } from './native-e2e-helpers.js';

nativeE2eHooks();

run('native runtime e2e', () => {
  test('bridge networks: DNS by service name and alias on the network only, published ports, internal network, isolation', async () => {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const p = project({
      'compose.yaml': `services:
  web:
    image: busybox:latest
    init: true
    command: ["sh", "-c", "echo hello-web > /index.html; httpd -f -p 8080 -h /"]
    ports: ["127.0.0.1:${port}:8080", "8080"]
    networks:
      front:
        aliases: [www]
      back: {}
  client:
    image: busybox:latest
    init: true
    command: ["sleep", "3600"]
    networks: [front]
  other:
    image: busybox:latest
    init: true
    command: ["sleep", "3600"]
    networks: [back]
  lonely:
    image: busybox:latest
    init: true
    command: ["sleep", "3600"]
    networks: [inner]
    links: ["web:ignored"]
networks:
  front: {}
  back: {}
  inner: {internal: true}
`,
    });
    ok(ts(p, 'up', '-d'));
    const sh = (svc: string, cmd: string) => ts(p, 'exec', '-T', svc, 'sh', '-c', cmd);
    // Names resolve on their network: service, alias, container name.
    for (const name of ['web', 'www', `${p.name}-web-1`])
      expect(ok(sh('client', `nslookup ${name}`))).toMatch(/Address: 10\.|Address: 172\.|Address: 192\./);
    expect(ok(sh('client', 'echo -e "GET /index.html HTTP/1.0\\r\\n\\r\\n" | nc -w 3 www 8080'))).toContain('hello-web');
    // …and not on another network.
    expect(sh('client', 'nslookup other').status).not.toBe(0);
    expect(sh('other', 'nslookup client').status).not.toBe(0);
    expect(sh('other', 'nslookup web').status).toBe(0);
    // Traffic between networks is dropped: client (front) cannot reach other (back) by address.
    const otherIp = /Address: (\d+\.\d+\.\d+\.\d+)$/m.exec(ok(sh('web', 'nslookup other')))![1]!;
    expect(sh('client', `ping -c1 -W1 ${otherIp}`).status).not.toBe(0);
    // Published ports answer on 127.0.0.1, the fixed one and the ephemeral one (shown by ps/port).
    const { request } = await import('node:http');
    const get = (hostPort: number) =>
      new Promise<string>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: hostPort, path: '/index.html', timeout: 3000 }, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve(body));
        });
        req.on('error', reject);
        req.end();
      });
    expect(await get(port)).toContain('hello-web');
    expect(ok(ts(p, 'port', 'web', '8080')).trim()).toBe(`127.0.0.1:${port}`); // the first binding, as docker compose
    const eph = Number(/0\.0\.0\.0:(\d+)->8080\/tcp/.exec(psLine(p, 'web'))?.[1]);
    expect(eph).toBeGreaterThan(0);
    expect(await get(eph)).toContain('hello-web');
    // The internal network has no way out: no default route, and the outside is unreachable.
    expect(ok(sh('lonely', 'ip route'))).not.toContain('default');
    // The host's own address (on this machine, so no traffic leaves it) answers the published port from the
    // host, but not from the internal network.
    const hostIp = /inet (\d+\.\d+\.\d+\.\d+)\//.exec(
      spawnSync('ip', ['-4', '-o', 'addr', 'show', 'scope', 'global'], { encoding: 'utf8' })
        .stdout.split('\n')
        .find((l) => !/tsc-|docker|br-/.test(l)) ?? '',
    )?.[1];
    if (hostIp) {
      expect(ok(sh('client', `echo -e "GET /index.html HTTP/1.0\\r\\n\\r\\n" | nc -w 3 ${hostIp} ${eph}`))).toContain('hello-web'); // hairpin
      expect(sh('lonely', `echo -e "GET / HTTP/1.0\\r\\n\\r\\n" | nc -w 2 ${hostIp} ${eph}`).stdout).not.toContain('hello-web');
    }
    // This project's bridges and network namespaces (other suites running at once, builds among them, have their own).
    const netState = JSON.parse(readFileSync(join(env.TSCOMPOSE_STATE_DIR, 'net', 'networks.json'), 'utf8')) as {
      networks: Record<string, { bridge: string; endpoints: Record<string, { netns: string; hostVeth: string }> }>;
    };
    const mine = Object.entries(netState.networks)
      .filter(([key]) => key.startsWith(`${p.name}_`))
      .flatMap(([, n]) => [n.bridge, ...Object.values(n.endpoints).flatMap((e) => [e.netns, e.hostVeth])]);
    expect(mine.length).toBeGreaterThan(3);
    ok(ts(p, 'down', '-t', '0'));
    // Nothing of the project is left in the kernel.
    const left = (text: string) => mine.filter((name) => new RegExp(`\\b${name}\\b`).test(text));
    expect(left(spawnSync('ip', ['-o', 'link'], { encoding: 'utf8' }).stdout)).toEqual([]);
    expect(left(spawnSync('ip', ['netns'], { encoding: 'utf8' }).stdout)).toEqual([]);
    expect(left(spawnSync('nft', ['list', 'tables'], { encoding: 'utf8' }).stdout)).toEqual([]);
  }, 90_000);

  test('the flask+redis example builds from its Dockerfile and answers on its published port with an increasing counter', async () => {
    ok(ts(undefined, 'image', 'pull', 'python:3.11-slim'));
    ok(ts(undefined, 'image', 'pull', 'redis:7'));
    const dir = join(root, 'examples/flask-redis');
    const name = `ne2e-flask-${Math.random().toString(36).slice(2, 6)}`;
    projectNames.push(name);
    const f = (...args: string[]) =>
      spawnSync(bin, ['-p', name, '-f', join(dir, 'compose.yaml'), '--progress', 'plain', ...args], {
        cwd: dir,
        env,
        encoding: 'utf8',
        timeout: 120_000,
      });
    ok(f('up', '-d', '--build'));
    const { request } = await import('node:http');
    const get = () =>
      new Promise<string>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: 5000, path: '/', timeout: 3000 }, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve(body));
        });
        req.on('error', reject);
        req.end();
      });
    let first = '';
    await until('flask answers', () => false, 1).catch(() => undefined);
    const end = Date.now() + 30_000;
    while (Date.now() < end) {
      first = await get().catch(() => '');
      if (first.includes('seen')) break;
      await sleep(300);
    }
    const n1 = Number(/seen (\d+) times/.exec(first)?.[1]);
    const n2 = Number(/seen (\d+) times/.exec(await get())?.[1]);
    expect(n1).toBeGreaterThan(0);
    expect(n2).toBe(n1 + 1);
    ok(f('down', '-t', '1'));
  }, 120_000);

  test('after the suite: no leftover mounts, cgroups, processes or runtime state', async () => {
    await expectNoLeftovers();
  }, 60_000);
});
