/**
 * Runtime contract cases for published ports, declared by ./suite.ts inside its describe: a fixed port on 127.0.0.1
 * and an ephemeral one, a host range publishing one port of the range, a udp port; each published as asked and, where
 * the backend has sockets, reachable from the host (traffic goes only to 127.0.0.1).
 */
import { expect, test } from '@jest/globals';
import { createSocket } from 'node:dgram';
import { connect, createServer } from 'node:net';
import type { PublishedPort } from '../runtime.js';
import { until, type ContractScope } from './scope.js';

/** A free TCP port on 127.0.0.1 (asked of the kernel; free again when this resolves). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** What a TCP server on 127.0.0.1:port says before it closes ('' when the connection fails). */
function tcpRead(port: number): Promise<string> {
  return new Promise((resolve) => {
    let data = '';
    const sock = connect({ host: '127.0.0.1', port });
    sock.setTimeout(3000, () => sock.destroy());
    sock.on('data', (d) => (data += String(d)));
    sock.on('error', () => resolve(''));
    sock.on('close', () => resolve(data));
  });
}

function udpSend(port: number, text: string): Promise<void> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.send(text, port, '127.0.0.1', () => {
      s.close();
      resolve();
    });
  });
}

/** busybox: a TCP server on container port 80 saying `hi` to every connection. */
const TCP_SERVER = ['nc', '-ll', '-p', '80', '-e', 'echo', 'hi'];
/** python: a UDP server on container port 53 printing every datagram. */
const UDP_SERVER = [
  'python3',
  '-u',
  '-c',
  "import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ns.bind(('0.0.0.0', 53))\nwhile True: print(s.recvfrom(512)[0].decode())",
];

/** The published ports of one container port and protocol. */
const port = (ports: readonly PublishedPort[] | undefined, containerPort: number, protocol = 'tcp'): PublishedPort[] =>
  (ports ?? []).filter((p) => p.containerPort === containerPort && p.protocol === protocol);

export function portsCases(scope: ContractScope): void {
  const { run, logs, labels, runId } = scope;
  test('ports: a fixed port on 127.0.0.1 and an ephemeral one, published and reachable', async () => {
    const rt = scope.runtime();
    const fixed = await freePort();
    const c = await run('ports', {
      command: TCP_SERVER,
      ports: [
        { containerPort: 80, protocol: 'tcp', hostIp: '127.0.0.1', hostPort: { start: fixed, end: fixed } },
        { containerPort: 8080, protocol: 'tcp', hostIp: '127.0.0.1' },
      ],
    });
    const published = (await rt.inspectContainer(c)).publishedPorts;
    expect(port(published, 80)).toEqual([{ containerPort: 80, protocol: 'tcp', hostIp: '127.0.0.1', hostPort: fixed }]);
    const ephemeral = port(published, 8080);
    expect(ephemeral).toHaveLength(1);
    expect(ephemeral[0]!.hostPort).toBeGreaterThan(0);
    if (scope.capabilities().reachablePorts) await until(`127.0.0.1:${fixed} answers`, async () => (await tcpRead(fixed)).includes('hi'));
  });

  test('ports: the range 127.0.0.1:9000-9010:80 publishes ONE port of the range onto 80, reachable', async () => {
    const rt = scope.runtime();
    const c = await run('range', {
      command: TCP_SERVER,
      ports: [{ containerPort: 80, protocol: 'tcp', hostIp: '127.0.0.1', hostPort: { start: 9000, end: 9010 } }],
    });
    const published = port((await rt.inspectContainer(c)).publishedPorts, 80);
    expect(published).toHaveLength(1);
    const hostPort = published[0]!.hostPort!;
    expect(hostPort).toBeGreaterThanOrEqual(9000);
    expect(hostPort).toBeLessThanOrEqual(9010);
    expect(published[0]!.hostIp).toBe('127.0.0.1');
    const listed = (await rt.listContainers({ labels })).find((x) => x.name === c);
    expect(port(listed?.publishedPorts, 80)).toEqual(published);
    // no other container port is published from the range (the native runtime once mapped 9001→81 … 9010→90)
    expect((await rt.inspectContainer(c)).publishedPorts?.filter((p) => p.containerPort !== 80) ?? []).toEqual([]);
    if (scope.capabilities().reachablePorts) await until(`127.0.0.1:${hostPort} answers`, async () => (await tcpRead(hostPort)).includes('hi'));
  });

  test('ports: a udp port is published and a datagram reaches the container', async () => {
    const rt = scope.runtime();
    const c = await run('udp', {
      image: scope.images().python,
      command: UDP_SERVER,
      init: false,
      ports: [{ containerPort: 53, protocol: 'udp', hostIp: '127.0.0.1' }],
    });
    const published = port((await rt.inspectContainer(c)).publishedPorts, 53, 'udp');
    expect(published).toHaveLength(1);
    const hostPort = published[0]!.hostPort!;
    expect(hostPort).toBeGreaterThan(0);
    expect(port((await rt.inspectContainer(c)).publishedPorts, 53, 'tcp')).toEqual([]);
    if (!scope.capabilities().reachablePorts) return;
    await until('the datagram shows in the logs', async () => {
      await udpSend(hostPort, `contract-udp-${runId}`);
      return (await logs(c)).some((l) => l.line === `contract-udp-${runId}`);
    });
  });
}
