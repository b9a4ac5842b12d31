/**
 * The Runtime contract: one set of jest cases every adapter of the runtime port (../runtime.ts) must pass, as
 * containerd's snapshotter testsuite is for snapshotters. `runtimeContract(name, target)` declares them; each adapter
 * runs them from its own `*.contract.test.ts` (fake always, Docker when it answers, native as root with runc and
 * conmon). An adapter that cannot run here is skipped with the reason printed, unless TSCOMPOSE_E2E=1, when it fails.
 *
 * Cases: lifecycle and typed errors, exit codes, logs, exec (with stdin: ./exec-stdin.ts; TTYs: ./tty.ts), attach (stdin and output), published ports (fixed, ephemeral, a range, udp),
 * volumes, networks and DNS, labels, rename, pause, importImage, export and commit. Where the fake cannot do what a
 * real backend does, the target says so in `capabilities` (each flag says what it stands for) and the case checks
 * everything else.
 *
 * Everything a run creates is named `tsc-contract-<random>-…`, carries the label `org.tscompose.contract=<random>`,
 * and is removed after each case (containers) and after the suite (networks, volumes). Traffic goes only to
 * 127.0.0.1 and to the containers the suite created.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { createSocket } from 'node:dgram';
import { connect, createServer } from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import type { ContainerSpec, LogLine, LogsOptions, PublishedPort, Runtime } from '../runtime.js';
import type { ContractCapabilities } from './capabilities.js';
import { execStdinCases } from './exec-stdin.js';
import { ttyCases } from './tty.js';

export type { ContractCapabilities } from './capabilities.js';

export interface ContractTarget {
  readonly runtime: Runtime;
  /** Image refs present (or pullable) on the runtime: busybox, and python for the UDP server. */
  readonly images: { readonly busybox: string; readonly python: string };
  readonly capabilities: ContractCapabilities;
  /** Called after the suite's own clean-up (temp state, images). */
  readonly cleanup?: () => Promise<void>;
}

export interface ContractOptions {
  /** Why the adapter cannot run here (undefined = it can). */
  readonly unavailable: string | undefined;
  /** Builds the target (pull images, …); runs in beforeAll. */
  readonly setup: () => Promise<ContractTarget>;
  /** beforeAll timeout (image pulls), default 300 s. */
  readonly setupTimeoutMs?: number;
}

const required = process.env.TSCOMPOSE_E2E === '1';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await sleep(200);
  }
}

async function text(stream: Readable): Promise<string> {
  let out = '';
  for await (const d of stream) out += (d as Buffer).toString();
  return out;
}

async function collect(it: AsyncIterable<LogLine>): Promise<LogLine[]> {
  const out: LogLine[] = [];
  for await (const l of it) out.push(l);
  return out;
}

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
const SLEEPER = ['sleep', '3600'];
/**
 * The typed errors of ../errors.ts, matched by their stable code rather than by class: the native contract drives the
 * built adapter (dist/), whose error classes are other copies of the same ones.
 */
const NOT_FOUND = { code: 'TSC_NOT_FOUND' };
const CONFLICT = { code: 'TSC_CONFLICT' };
const NOT_MODIFIED = { code: 'TSC_NOT_MODIFIED' };
const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

export function runtimeContract(name: string, options: ContractOptions): void {
  const describeIf = options.unavailable === undefined || required ? describe : describe.skip;
  if (options.unavailable !== undefined && !required) console.log(`runtime contract (${name}) skipped: ${options.unavailable}`);

  describeIf(`runtime contract: ${name}`, () => {
    const runId = Math.random().toString(36).slice(2, 8);
    const prefix = `tsc-contract-${runId}`;
    const LABEL = 'org.tscompose.contract';
    const labels = { [LABEL]: runId };
    let target: ContractTarget;
    let rt: Runtime;
    let net: string;

    const n = (suffix: string): string => `${prefix}-${suffix}`;
    const create = async (suffix: string, spec: Partial<ContainerSpec> = {}): Promise<string> => {
      await rt.createContainer({
        name: n(suffix),
        image: target.images.busybox,
        command: SLEEPER,
        init: true,
        networks: [{ network: net }],
        ...spec,
        labels: { ...labels, ...spec.labels },
      });
      return n(suffix);
    };
    const run = async (suffix: string, spec: Partial<ContainerSpec> = {}): Promise<string> => {
      const c = await create(suffix, spec);
      await rt.startContainer(c);
      return c;
    };
    const logs = async (c: string, o: LogsOptions = {}): Promise<LogLine[]> => collect(rt.containerLogs(c, o));
    const port = (ports: readonly PublishedPort[] | undefined, containerPort: number, protocol = 'tcp'): PublishedPort[] =>
      (ports ?? []).filter((p) => p.containerPort === containerPort && p.protocol === protocol);

    beforeAll(async () => {
      if (options.unavailable !== undefined) throw new Error(`TSCOMPOSE_E2E=1 but the ${name} runtime cannot run here: ${options.unavailable}`);
      target = await options.setup();
      rt = target.runtime;
      net = n('net');
      await rt.createNetwork({ name: net, labels });
    }, options.setupTimeoutMs ?? 300_000);

    afterEach(async () => {
      if (!rt) return;
      for (const c of await rt.listContainers({ all: true, labels }))
        await rt.removeContainer(c.id, { force: true, volumes: true }).catch(() => undefined);
    }, 60_000);

    afterAll(async () => {
      if (rt) {
        for (const c of await rt.listContainers({ all: true, labels }))
          await rt.removeContainer(c.id, { force: true, volumes: true }).catch(() => undefined);
        for (const x of await rt.listNetworks({ labels })) await rt.removeNetwork(x.id).catch(() => undefined);
        for (const v of await rt.listVolumes({ labels })) await rt.removeVolume(v.name, { force: true }).catch(() => undefined);
      }
      await target?.cleanup?.();
    }, 120_000);

    test('create, start, stop, kill, remove, with typed errors', async () => {
      const c = await create('life');
      expect((await rt.inspectContainer(c)).status).toBe('created');
      await expect(create('life')).rejects.toMatchObject(CONFLICT);
      await rt.startContainer(c);
      expect((await rt.inspectContainer(c)).status).toBe('running');
      await expect(rt.startContainer(c)).rejects.toMatchObject(NOT_MODIFIED);
      await expect(rt.removeContainer(c)).rejects.toMatchObject(CONFLICT);
      await rt.stopContainer(c, { timeoutSeconds: 2 });
      expect((await rt.inspectContainer(c)).status).toBe('exited');
      await expect(rt.stopContainer(c, { timeoutSeconds: 2 })).rejects.toMatchObject(NOT_MODIFIED);
      await rt.startContainer(c);
      await rt.killContainer(c);
      expect(await rt.waitContainer(c)).toBe(137);
      await rt.removeContainer(c);
      await expect(rt.inspectContainer(c)).rejects.toMatchObject(NOT_FOUND);
      await expect(rt.startContainer(n('missing'))).rejects.toMatchObject(NOT_FOUND);
      await expect(rt.removeContainer(n('missing'))).rejects.toMatchObject(NOT_FOUND);
      const forced = await run('forced');
      await rt.removeContainer(forced, { force: true });
      await expect(rt.inspectContainer(forced)).rejects.toMatchObject(NOT_FOUND);
      // A stop made for a removal (down): the removal right after finds it stopped and leaves nothing.
      const going = await run('going');
      await rt.stopContainer(going, { timeoutSeconds: 2, removing: true });
      expect((await rt.inspectContainer(going)).status).toBe('exited');
      await rt.removeContainer(going);
      await expect(rt.inspectContainer(going)).rejects.toMatchObject(NOT_FOUND);
    });

    test('exit codes: the command exits 3; a kill is 137', async () => {
      const c = await run('exit3', { command: ['sh', '-c', 'exit 3'] });
      expect(await rt.waitContainer(c)).toBe(3);
      const i = await rt.inspectContainer(c);
      expect(i.status).toBe('exited');
      expect(i.exitCode).toBe(3);
      expect(i.command).toEqual(['sh', '-c', 'exit 3']); // ps's COMMAND
      const k = await run('killed');
      await rt.killContainer(k);
      expect(await rt.waitContainer(k)).toBe(137);
      expect((await rt.inspectContainer(k)).exitCode).toBe(137);
    });

    test('logs: stdout and stderr lines, tail, timestamps', async () => {
      // stdout and stderr are two pipes: their lines keep their order within a stream, not across streams, so the
      // last line comes a moment after the others
      const c = await run('logs', { command: ['sh', '-c', 'echo one; echo two >&2; sleep 0.5; echo three'] });
      expect(await rt.waitContainer(c)).toBe(0);
      const all = await logs(c);
      expect(all.filter((l) => l.stream === 'stdout').map((l) => l.line)).toEqual(['one', 'three']);
      expect(all.filter((l) => l.stream === 'stderr').map((l) => l.line)).toEqual(['two']);
      expect(all.every((l) => l.timestamp === undefined)).toBe(true);
      expect((await logs(c, { tail: 1 })).map((l) => l.line)).toEqual(['three']);
      expect(await logs(c, { tail: 0 })).toEqual([]);
      const stamped = await logs(c, { timestamps: true });
      expect(stamped).toHaveLength(3);
      for (const l of stamped) expect(l.timestamp).toMatch(TIMESTAMP);
    });

    test('exec: output, exit codes, 127 for a missing command, env, user, workdir', async () => {
      const c = await run('exec');
      expect(await rt.exec(c, { cmd: ['echo', 'hello', 'there'] })).toMatchObject({ exitCode: 0, stdout: 'hello there\n' });
      expect((await rt.exec(c, { cmd: ['sh', '-c', 'exit 5'] })).exitCode).toBe(5);
      // A missing executable: Docker's API (20.10) answers 126 for it ("executable file not found in $PATH": the exec
      // could not start), so the port allows 126 or 127; a command the shell cannot find is always 127.
      expect([126, 127]).toContain((await rt.exec(c, { cmd: ['no-such-command-here'] })).exitCode);
      expect((await rt.exec(c, { cmd: ['sh', '-c', 'no-such-command-here'] })).exitCode).toBe(127);
      expect((await rt.exec(c, { cmd: ['sh', '-c', 'echo $CONTRACT_VAR'], env: ['CONTRACT_VAR=from-exec'] })).stdout).toBe('from-exec\n');
      expect((await rt.exec(c, { cmd: ['id', '-u'], user: '1234' })).stdout).toBe('1234\n');
      expect((await rt.exec(c, { cmd: ['pwd'], workdir: '/tmp' })).stdout).toBe('/tmp\n');
      await rt.stopContainer(c, { timeoutSeconds: 2 });
      await expect(rt.exec(c, { cmd: ['true'] })).rejects.toMatchObject(CONFLICT);
    });

    execStdinCases({ runtime: () => rt, capabilities: () => target.capabilities, run });
    ttyCases({ runtime: () => rt, capabilities: () => target.capabilities, create, run });

    test('attachContainer before the start: stdin forwarded and, with stdinOnce, closed at its end; output as written', async () => {
      const script = 'read l; echo "got $l"; printf partial; cat >/dev/null; echo " eof"; echo err >&2';
      const c = await create('attach-once', { command: ['sh', '-c', script], openStdin: true, stdinOnce: true });
      const session = await rt.attachContainer(c, { stdin: Readable.from([Buffer.from('hello\n'), Buffer.from('more\n')]) });
      expect(session).toMatchObject({ tty: false, stdin: true });
      await rt.startContainer(c);
      const [out, err] = await Promise.all([text(session.stdout), text(session.stderr)]);
      expect(await rt.waitContainer(c)).toBe(0);
      if (!target.capabilities.processes) return;
      expect(out).toBe('got hello\npartial eof\n');
      expect(err).toBe('err\n');
    });

    test('attachContainer on a running container: its stdin (without stdinOnce) stays open after the input ends; close() detaches', async () => {
      const c = await run('attach-open', { command: ['sh', '-c', 'while read l; do echo "got $l"; done; echo eof; exit 3'], openStdin: true });
      const input = new PassThrough();
      const session = await rt.attachContainer(c, { stdin: input });
      expect(session).toMatchObject({ tty: false, stdin: true });
      let out = '';
      session.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const ended = new Promise<void>((resolve) => session.stdout.on('end', resolve));
      input.write('one\n');
      if (target.capabilities.processes) await until('the line reached the container', () => Promise.resolve(out.includes('got one')));
      // Without stdinOnce the end of the input leaves the container's stdin open (Docker's engine ends the output then).
      input.end();
      await sleep(300);
      if (target.capabilities.processes) expect((await rt.inspectContainer(c)).status).toBe('running');
      session.close();
      await ended;
      expect(out).not.toContain('eof');
      const plain = await run('attach-plain');
      const none = await rt.attachContainer(plain, { stdin: Readable.from([Buffer.from('x\n')]) });
      expect(none.stdin).toBe(false);
      none.close();
    });

    test('ports: a fixed port on 127.0.0.1 and an ephemeral one, published and reachable', async () => {
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
      if (target.capabilities.reachablePorts) await until(`127.0.0.1:${fixed} answers`, async () => (await tcpRead(fixed)).includes('hi'));
    });

    test('ports: the range 127.0.0.1:9000-9010:80 publishes ONE port of the range onto 80, reachable', async () => {
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
      if (target.capabilities.reachablePorts) await until(`127.0.0.1:${hostPort} answers`, async () => (await tcpRead(hostPort)).includes('hi'));
    });

    test('ports: a udp port is published and a datagram reaches the container', async () => {
      const c = await run('udp', {
        image: target.images.python,
        command: UDP_SERVER,
        init: false,
        ports: [{ containerPort: 53, protocol: 'udp', hostIp: '127.0.0.1' }],
      });
      const published = port((await rt.inspectContainer(c)).publishedPorts, 53, 'udp');
      expect(published).toHaveLength(1);
      const hostPort = published[0]!.hostPort!;
      expect(hostPort).toBeGreaterThan(0);
      expect(port((await rt.inspectContainer(c)).publishedPorts, 53, 'tcp')).toEqual([]);
      if (!target.capabilities.reachablePorts) return;
      await until('the datagram shows in the logs', async () => {
        await udpSend(hostPort, `contract-udp-${runId}`);
        return (await logs(c)).some((l) => l.line === `contract-udp-${runId}`);
      });
    });

    test('volumes: a named volume outlives its container; listVolumes by label', async () => {
      const vol = n('vol');
      await rt.createVolume({ name: vol, labels: { ...labels, 'org.tscompose.contract.case': 'volumes' } });
      const mounts = [{ type: 'volume' as const, source: vol, target: '/data' }];
      const w = await run('vol-w', { command: ['sh', '-c', 'echo kept > /data/f'], mounts });
      expect(await rt.waitContainer(w)).toBe(0);
      expect((await rt.inspectContainer(w)).mounts).toEqual([expect.objectContaining({ type: 'volume', source: vol, target: '/data' })]);
      await rt.removeContainer(w);
      expect((await rt.inspectVolume(vol)).name).toBe(vol);
      if (target.capabilities.volumeContent) {
        const r = await run('vol-r', { command: ['cat', '/data/f'], mounts });
        const exitCode = await rt.waitContainer(r);
        expect({ exitCode, logs: (await logs(r)).map((l) => `${l.stream}: ${l.line}`) }).toEqual({ exitCode: 0, logs: ['stdout: kept'] });
        await rt.removeContainer(r);
      }
      expect((await rt.listVolumes({ labels: { 'org.tscompose.contract.case': 'volumes', [LABEL]: runId } })).map((v) => v.name)).toEqual([vol]);
      expect(await rt.listVolumes({ labels: { [LABEL]: `${runId}-other` } })).toEqual([]);
      await rt.removeVolume(vol);
      await expect(rt.inspectVolume(vol)).rejects.toMatchObject(NOT_FOUND);
    });

    test('networks and DNS: two containers on one network reach each other by name and alias', async () => {
      const own = n('dnsnet');
      const { id } = await rt.createNetwork({ name: own, labels: { ...labels, 'org.tscompose.contract.case': 'dns' } });
      await expect(rt.createNetwork({ name: own, labels })).rejects.toMatchObject(CONFLICT);
      const a = await run('dns-a', { networks: [{ network: own }] });
      const b = await run('dns-b', { networks: [{ network: own, aliases: ['contract-alias'] }] });
      expect(Object.keys((await rt.inspectContainer(b)).networks)).toEqual([own]);
      expect((await rt.inspectContainer(b)).networks[own]?.aliases).toContain('contract-alias');
      expect([...(await rt.inspectNetwork(own)).containers].sort()).toEqual(
        [(await rt.inspectContainer(a)).id, (await rt.inspectContainer(b)).id].sort(),
      );
      if (target.capabilities.dns) {
        for (const host of [b, 'contract-alias'])
          expect(await rt.exec(a, { cmd: ['ping', '-c', '1', '-W', '5', host] })).toMatchObject({ exitCode: 0 });
        expect((await rt.exec(b, { cmd: ['ping', '-c', '1', '-W', '5', a] })).exitCode).toBe(0);
      }
      expect((await rt.listNetworks({ labels: { [LABEL]: runId, 'org.tscompose.contract.case': 'dns' } })).map((x) => x.id)).toEqual([id]);
      await expect(rt.removeNetwork(own)).rejects.toMatchObject(CONFLICT);
      await rt.removeContainer(a, { force: true });
      await rt.removeContainer(b, { force: true });
      await rt.removeNetwork(own);
      await expect(rt.inspectNetwork(own)).rejects.toMatchObject(NOT_FOUND);
    });

    test('labels: listContainers filters by value and by presence', async () => {
      await create('lab-1', { labels: { 'org.tscompose.contract.case': 'labels', tier: 'front' } });
      await create('lab-2', { labels: { 'org.tscompose.contract.case': 'labels', tier: 'back' } });
      const names = async (sel: Record<string, string | true>): Promise<string[]> =>
        (await rt.listContainers({ all: true, labels: { ...labels, ...sel } })).map((c) => c.name).sort();
      expect(await names({ 'org.tscompose.contract.case': 'labels' })).toEqual([n('lab-1'), n('lab-2')]);
      expect(await names({ tier: 'front' })).toEqual([n('lab-1')]);
      expect(await names({ tier: true })).toEqual([n('lab-1'), n('lab-2')]);
      expect(await names({ tier: 'side' })).toEqual([]);
      expect((await rt.inspectContainer(n('lab-1'))).labels).toMatchObject({ tier: 'front', [LABEL]: runId });
      expect(await rt.listContainers({ all: false, labels: { ...labels, 'org.tscompose.contract.case': 'labels' } })).toEqual([]);
    });

    test('rename: the new name answers, the old one is gone, a taken name conflicts', async () => {
      const c = await run('ren-a');
      await create('ren-taken');
      const { id } = await rt.inspectContainer(c);
      await rt.renameContainer(c, n('ren-b'));
      expect((await rt.inspectContainer(n('ren-b'))).id).toBe(id);
      await expect(rt.inspectContainer(c)).rejects.toMatchObject(NOT_FOUND);
      await expect(rt.renameContainer(n('ren-b'), n('ren-taken'))).rejects.toMatchObject(CONFLICT);
    });

    test('importImage: a rootfs tarball becomes a tagged image with the changes; a non-tar is refused', async () => {
      const { default: tarStream } = await import('tar-stream');
      const pack = tarStream.pack();
      pack.entry({ name: 'etc/', type: 'directory', mode: 0o755, mtime: new Date(0) });
      pack.entry({ name: 'etc/hello', mode: 0o644, mtime: new Date(0) }, `hello ${runId}\n`);
      pack.finalize();
      const tag = `${prefix}-import:1`;
      const { id } = await rt.importImage(Readable.from(pack as unknown as AsyncIterable<Buffer>), {
        tag,
        changes: ['LABEL org.tscompose.contract.import=yes', 'CMD ["/bin/true"]'],
        message: 'contract',
      });
      try {
        expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
        const details = await rt.inspectImageDetails(tag);
        expect(details.id).toBe(id);
        expect(details.repoTags).toContain(tag);
        expect(details.config.labels).toMatchObject({ 'org.tscompose.contract.import': 'yes' });
        await expect(rt.importImage(Readable.from([Buffer.from('not a tarball\n'.repeat(64))]), { tag: `${prefix}-bad:1` })).rejects.toThrow();
      } finally {
        await rt.removeImage(id, { force: true }).catch(() => undefined);
      }
    });

    test('exportContainer and commitContainer: its files as a tar; an image of its changes with the changes given', async () => {
      const { default: tarStream } = await import('tar-stream');
      const entriesOf = async (archive: Readable): Promise<Map<string, string>> => {
        const out = new Map<string, string>();
        const extract = tarStream.extract();
        const done = new Promise<void>((resolve, reject) => {
          extract.on('entry', (h, body, next) => {
            const parts: Buffer[] = [];
            body.on('data', (d: unknown) => parts.push(d as Buffer));
            body.on('end', () => {
              out.set(h.name.replace(/^\.\//, ''), Buffer.concat(parts).toString('utf8'));
              next();
            });
          });
          extract.on('finish', resolve);
          extract.on('error', reject);
        });
        archive.pipe(extract);
        await done;
        return out;
      };
      const c = await run('export');
      const pack = tarStream.pack();
      pack.entry({ name: 'contract-export.txt', mode: 0o644, mtime: new Date(0) }, `exported ${runId}\n`);
      pack.finalize();
      await rt.copyToContainer(c, '/tmp', Readable.from(pack as unknown as AsyncIterable<Buffer>));
      const files = await entriesOf(await rt.exportContainer(c));
      expect(files.get('tmp/contract-export.txt')).toBe(`exported ${runId}\n`);
      if (target.capabilities.volumeContent) expect(files.has('bin/busybox') || files.has('bin/sh')).toBe(true);
      await expect(rt.exportContainer(n('missing'))).rejects.toMatchObject(NOT_FOUND);
      await expect(rt.commitContainer(n('missing'))).rejects.toMatchObject(NOT_FOUND);

      const tag = `${prefix}-commit:1`;
      const { id } = await rt.commitContainer(c, {
        reference: tag,
        author: 'contract',
        message: 'contract',
        changes: ['LABEL org.tscompose.contract.commit=yes'],
      });
      try {
        expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
        expect((await rt.inspectContainer(c)).status).toBe('running'); // paused meanwhile, running again
        const details = await rt.inspectImageDetails(tag);
        expect(details.id).toBe(id);
        expect(details.repoTags).toContain(tag);
        expect(details.config.labels).toMatchObject({ 'org.tscompose.contract.commit': 'yes', [LABEL]: runId });
        if (target.capabilities.volumeContent) {
          const r = await run('from-commit', { image: tag, command: ['cat', '/tmp/contract-export.txt'] });
          const exitCode = await rt.waitContainer(r);
          expect({ exitCode, logs: (await logs(r)).map((l) => l.line) }).toEqual({ exitCode: 0, logs: [`exported ${runId}`] });
          await rt.removeContainer(r, { force: true });
        }
      } finally {
        await rt.removeImage(id, { force: true }).catch(() => undefined);
      }
    });

    test('pause and unpause', async () => {
      const c = await run('pause');
      await rt.pauseContainer(c);
      expect((await rt.inspectContainer(c)).status).toBe('paused');
      await expect(rt.pauseContainer(c)).rejects.toMatchObject(CONFLICT);
      await rt.unpauseContainer(c);
      expect((await rt.inspectContainer(c)).status).toBe('running');
      await expect(rt.unpauseContainer(c)).rejects.toMatchObject(CONFLICT);
      expect((await rt.exec(c, { cmd: ['echo', 'awake'] })).stdout).toBe('awake\n');
    });

    test('containerStats: usage and limit of a running container, counters that grow, zeros once stopped', async () => {
      const c = await run('stats', { resources: { memoryBytes: 64 * 1024 * 1024 } });
      const a = await rt.containerStats(c);
      expect(a.pids).toBeGreaterThanOrEqual(1);
      expect(a.memoryBytes).toBeGreaterThan(0);
      expect(a.memoryLimitBytes).toBe(64 * 1024 * 1024);
      expect(a.onlineCpus).toBeGreaterThanOrEqual(1);
      expect(a.systemCpuNs).toBeGreaterThan(0);
      await sleep(300);
      const b = await rt.containerStats(c);
      expect(b.cpuNs).toBeGreaterThanOrEqual(a.cpuNs);
      expect(b.systemCpuNs).toBeGreaterThan(a.systemCpuNs);
      expect(b.netRxBytes).toBeGreaterThanOrEqual(a.netRxBytes);
      await rt.stopContainer(c, { timeoutSeconds: 2 });
      expect(await rt.containerStats(c)).toMatchObject({ cpuNs: 0, memoryBytes: 0, pids: 0 });
      await expect(rt.containerStats(n('missing'))).rejects.toMatchObject(NOT_FOUND);
    });

    test('withProjectLock: one project at a time, other projects alongside', async () => {
      const order: string[] = [];
      const hold = (tag: string, ms: number) => async () => {
        order.push(`${tag}+`);
        await new Promise((r) => setTimeout(r, ms));
        order.push(`${tag}-`);
        return tag;
      };
      const p = `contract-lock-${process.pid}`;
      const results = await Promise.all([
        rt.withProjectLock(p, hold('a', 80)),
        rt.withProjectLock(p, hold('b', 10)),
        rt.withProjectLock(`${p}-other`, hold('c', 10)),
      ]);
      expect(results).toEqual(['a', 'b', 'c']);
      // b starts only after a ended; c ran while a held its own project's lock
      expect(order.indexOf('b+')).toBeGreaterThan(order.indexOf('a-'));
      expect(order.indexOf('c-')).toBeLessThan(order.indexOf('a-'));
      await expect(rt.withProjectLock(p, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
      expect(await rt.withProjectLock(p, async () => 'free again')).toBe('free again');
    });

    test('projectLocalDir: absolute, stable, one per project', () => {
      const a = rt.projectLocalDir('contract-a');
      expect(a.startsWith('/')).toBe(true);
      expect(rt.projectLocalDir('contract-a')).toBe(a);
      expect(rt.projectLocalDir('contract-b')).not.toBe(a);
    });

    test('listResumable: never a running container; checkState: a report', async () => {
      const c = await create('resumable', { restart: 'always' });
      await rt.startContainer(c);
      expect(await rt.listResumable()).not.toContain((await rt.inspectContainer(c)).id);
      const report = await rt.checkState();
      expect(Array.isArray(report.checked)).toBe(true);
      expect(Array.isArray(report.problems)).toBe(true);
    });

    test('hostSysctl: a number-like string or undefined, never a throw', async () => {
      const v = await rt.hostSysctl('vm.max_map_count');
      if (v !== undefined) expect(v).toMatch(/^\d+$/);
      expect(await rt.hostSysctl('vm.no_such_setting')).toBeUndefined();
      expect(await rt.hostSysctl('../../etc/passwd')).toBeUndefined();
    });
  });
}
