/**
 * End-to-end: user namespaces on the native runtime (issue 13 item 3), with the remap on for the whole suite
 * (TSCOMPOSE_USERNS_REMAP=UID:GID:SIZE, as dockerd's `userns-remap`). A container's root is the range's first id on
 * the host: its uid_map shows the range, a file it makes in a bind mount belongs to that id; `userns_mode: host`
 * keeps a container out of it; `network_mode: service:` joins the other's user namespace. DNS between services, a published port, a named volume and a healthcheck work as
 * without the remap (the bridge network's namespace is moved into the container's user namespace, so `exec`, and
 * with it the healthcheck, can join it); secrets keep the owner and mode the compose file gives; `down -v` leaves
 * nothing.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { required } from './helpers.js';
import { capable, nativeDescribe, NativeSuite, ok, type NativeProject } from './native-harness.js';
import { secretsFixture } from './secrets-project.js';

const run = nativeDescribe ? describe : describe.skip;
const RANGE = { uid: 300000, gid: 310000, size: 65536 };
const suite = new NativeSuite();
suite.env.TSCOMPOSE_USERNS_REMAP = `${RANGE.uid}:${RANGE.gid}:${RANGE.size}`;
const runDir = `/run/tscompose-userns/${RANGE.uid}.${RANGE.gid}.${RANGE.size}`;
const port = 21000 + Math.floor(Math.random() * 8000);

beforeAll(() => {
  if (required && !capable) throw new Error('TSCOMPOSE_E2E=1 but the native runtime cannot run here (root, conmon and runc/crun needed)');
});
afterAll(() => {
  if (capable) suite.cleanup();
}, 120_000);

async function until(what: string, cond: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const uidMap = (text: string): string => text.trim().split(/\s+/).join(' ');

run('native user namespaces e2e', () => {
  let p: NativeProject;
  const sh = (svc: string, cmd: string): string => ok(suite.ts(p, 'exec', '-T', svc, 'sh', '-c', cmd)).trim();
  const ids: string[] = [];

  test('up: the remapped root, a bind mount, userns_mode: host, DNS, a published port, a volume, a healthcheck', async () => {
    p = suite.project({
      'compose.yaml': `services:
  web:
    image: busybox:latest
    command: ["sh", "-c", "mkdir -p /www && echo hello-userns > /www/index.html && exec httpd -f -p 8080 -h /www"]
    ports: ["127.0.0.1:${port}:8080"]
    volumes:
      - ./made:/made
      - ./open:/open
      - data:/data
    healthcheck:
      test: ["CMD", "wget", "-qO-", "http://127.0.0.1:8080/"]
      interval: 1s
      retries: 30
  client:
    image: busybox:latest
    command: ["sleep", "3600"]
  side:
    image: busybox:latest
    network_mode: service:client
    command: ["sleep", "3600"]
  hostns:
    image: busybox:latest
    userns_mode: host
    command: ["sleep", "3600"]
    volumes:
      - ./open:/open
volumes:
  data:
`,
    });
    // An existing directory anyone may write to: what a container creates there shows its host owner.
    mkdirSync(join(p.dir, 'open'));
    chmodSync(join(p.dir, 'open'), 0o777);
    const hostNull = statSync('/dev/null');
    ok(suite.ts(p, 'up', '-d'));
    for (const s of ['web', 'client', 'side', 'hostns']) ids.push(ok(suite.ts(p, 'ps', '-q', s)).trim());
    // The host's /dev/null is not the containers' stdin: crun 1.8 chowned it to the remapped root (300000:310000).
    expect(statSync('/dev/null')).toMatchObject({ uid: hostNull.uid, gid: hostNull.gid });

    // Root in the container is the range's first id on the host.
    expect(uidMap(sh('web', 'cat /proc/self/uid_map'))).toBe(`0 ${RANGE.uid} ${RANGE.size}`);
    expect(uidMap(sh('web', 'cat /proc/self/gid_map'))).toBe(`0 ${RANGE.gid} ${RANGE.size}`);
    expect(sh('web', 'id -u')).toBe('0');
    expect(uidMap(sh('hostns', 'cat /proc/self/uid_map'))).toBe('0 0 4294967295');

    sh('web', 'touch /open/by-web /made/by-web && mkdir /open/dir-by-web && chown 1000:1000 /open/dir-by-web');
    sh('hostns', 'touch /open/by-hostns');
    expect(statSync(join(p.dir, 'open', 'by-web'))).toMatchObject({ uid: RANGE.uid, gid: RANGE.gid });
    expect(statSync(join(p.dir, 'open', 'dir-by-web'))).toMatchObject({ uid: RANGE.uid + 1000, gid: RANGE.gid + 1000 });
    expect(statSync(join(p.dir, 'open', 'by-hostns'))).toMatchObject({ uid: 0, gid: 0 });
    // A bind source the runtime creates belongs to the remapped root (as dockerd makes it).
    expect(statSync(join(p.dir, 'made'))).toMatchObject({ uid: RANGE.uid, gid: RANGE.gid });
    expect(statSync(join(p.dir, 'made', 'by-web'))).toMatchObject({ uid: RANGE.uid, gid: RANGE.gid });
    // Host root's files are nobody's in the container, and root there cannot write them.
    expect(sh('web', 'stat -c %u /open/by-hostns')).toBe('65534');
    expect(suite.ts(p, 'exec', '-T', 'web', 'sh', '-c', 'echo x >> /open/by-hostns').status).not.toBe(0);

    // The image's files are the container's root's: a chowned copy of each layer, owned by the range.
    expect(sh('web', 'stat -c %u:%g /bin/busybox /etc/passwd')).toBe('0:0\n0:0');
    const layers = join(suite.stateDir, 'state', 'userns', `${RANGE.uid}.${RANGE.gid}.${RANGE.size}`, 'l');
    expect(readdirSync(layers).length).toBeGreaterThan(0);
    for (const l of readdirSync(layers)) expect(statSync(join(layers, l))).toMatchObject({ uid: RANGE.uid, gid: RANGE.gid });
    // runc reaches the rootfs through a directory only host root and the range's root group can search.
    expect(statSync(runDir)).toMatchObject({ uid: 0, gid: RANGE.gid });
    expect(statSync(runDir).mode & 0o777).toBe(0o710);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).toContain(`${runDir}/${ids[0]}`);

    // DNS between services, the published port, the healthcheck (runc exec into the remapped container).
    await until(
      'web answering by name',
      () => suite.ts(p, 'exec', '-T', 'client', 'wget', '-qO-', 'http://web:8080/').stdout.trim() === 'hello-userns',
    );
    // network_mode service:client joins client's network and so its user namespace (exec works into it).
    const webIp = sh('client', "nslookup web | awk '/^Address/ { a = $NF } END { print a }'");
    expect(sh('side', `wget -qO- http://${webIp}:8080/`)).toBe('hello-userns');
    expect(sh('side', 'ip -4 -o addr show eth0')).toBe(sh('client', 'ip -4 -o addr show eth0'));
    expect(sh('side', 'readlink /proc/self/ns/user')).toBe(sh('client', 'readlink /proc/self/ns/user'));
    expect(uidMap(sh('side', 'cat /proc/self/uid_map'))).toBe(`0 ${RANGE.uid} ${RANGE.size}`);
    const res = await fetch(`http://127.0.0.1:${port}/`);
    expect((await res.text()).trim()).toBe('hello-userns');
    await until('web healthy', () => ok(suite.ts(p, 'ps', 'web')).includes('(healthy)'));

    // A named volume: the remapped root's, written and read back after the container is recreated.
    sh('web', 'echo kept > /data/file');
    const volume = join(suite.stateDir, 'state', 'volumes', `${p.name}_data`, '_data');
    expect(statSync(volume)).toMatchObject({ uid: RANGE.uid, gid: RANGE.gid });
    expect(statSync(join(volume, 'file'))).toMatchObject({ uid: RANGE.uid, gid: RANGE.gid });
    ok(suite.ts(p, 'up', '-d', '--force-recreate', 'web'));
    expect(sh('web', 'cat /data/file')).toBe('kept');
    ids.push(ok(suite.ts(p, 'ps', '-q', 'web')).trim());
  }, 300_000);

  test('a restart keeps the remap and the network (the netns is moved again)', async () => {
    ok(suite.ts(p, 'restart', 'web'));
    expect(uidMap(sh('web', 'cat /proc/self/uid_map'))).toBe(`0 ${RANGE.uid} ${RANGE.size}`);
    // The resolver reloads the new address in the background: ask until it answers. (Timed out once in a full CI
    // run under load, not reproduced alone or beside other native suites: the last answer goes into the error.)
    let last = '';
    try {
      await until(
        'web answering by name',
        () => {
          const r = suite.ts(p, 'exec', '-T', 'client', 'wget', '-qO-', 'http://web:8080/');
          last = `wget: exit ${r.status} ${r.stdout.trim()} ${r.stderr.trim()}`;
          return r.stdout.trim() === 'hello-userns';
        },
        60_000,
      );
    } catch (e) {
      const ns = suite.ts(p, 'exec', '-T', 'client', 'nslookup', 'web');
      const ps = suite.ts(p, 'ps', '-a');
      throw new Error(`${(e as Error).message}; last ${last}; nslookup web: ${ns.stdout}${ns.stderr}; ps: ${ps.stdout}`);
    }
    await until('web healthy again', () => ok(suite.ts(p, 'ps', 'web')).includes('(healthy)'));
  }, 120_000);

  test('secrets and configs keep the owner and mode the compose file gives', () => {
    const fx = secretsFixture('busybox:latest');
    const s = suite.project(fx.files);
    ok(suite.ts(s, 'up', '-d'));
    for (const [path, want] of Object.entries(fx.expected)) {
      // A `file:` source without mode or owner is the host's file bound as it is: host root's, so nobody's here.
      const stat = path === '/run/secrets/plain_file' ? want.stat.replace(/ 0 0$/, ' 65534 65534') : want.stat;
      expect(`${path}: ${ok(suite.ts(s, 'exec', '-T', 'app', 'stat', '-c', '%a %u %g', path)).trim()}`).toBe(`${path}: ${stat}`);
      expect(ok(suite.ts(s, 'exec', '-T', 'app', 'cat', path)).trim()).toBe(want.content);
    }
    ok(suite.ts(s, 'down', '-v', '-t', '0'));
  }, 300_000);

  test('an overlay-backed bind (:O) is writable by the remapped root; the host directory never changes', () => {
    const o = suite.project({
      'compose.yaml': 'services:\n  a:\n    image: busybox:latest\n    volumes: ["./src:/src:O"]\n    command: ["sleep", "3600"]\n    init: true\n',
      'src/kept.txt': 'from the host\n',
    });
    ok(suite.ts(o, 'up', '-d'));
    // (files the host's root owns stay read-only to the remapped root, as in a plain bind under Docker's remap)
    expect(ok(suite.ts(o, 'exec', '-T', 'a', 'sh', '-c', 'echo new > /src/new.txt && cat /src/new.txt /src/kept.txt'))).toBe('new\nfrom the host\n');
    expect(ok(suite.ts(o, 'exec', '-T', 'a', 'stat', '-c', '%u', '/src')).trim()).toBe('0');
    expect(readdirSync(join(o.dir, 'src'))).toEqual(['kept.txt']);
    expect(readFileSync(join(o.dir, 'src', 'kept.txt'), 'utf8')).toBe('from the host\n');
    ok(suite.ts(o, 'down', '-v', '-t', '0'));
  }, 120_000);

  test('privileged needs userns_mode: host; other modes are refused', () => {
    const q = suite.project({
      'compose.yaml': 'services:\n  a:\n    image: busybox:latest\n    privileged: true\n    command: ["true"]\n',
    });
    const r = suite.ts(q, 'up', '-d');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('privileged mode is incompatible with user namespaces');
    const k = suite.project({
      'compose.yaml': 'services:\n  a:\n    image: busybox:latest\n    userns_mode: keep-id\n    command: ["true"]\n',
    });
    const r2 = suite.ts(k, 'up', '-d');
    expect(r2.status).not.toBe(0);
    expect(r2.stderr).toContain('userns_mode "keep-id" is not supported');
    ok(suite.ts(q, 'down', '-v'));
    ok(suite.ts(k, 'down', '-v'));
  }, 120_000);

  test('down -v leaves nothing: no mounts, runtime state, binds for runc or network namespaces', () => {
    ok(suite.ts(p, 'down', '-v', '-t', '0'));
    const left = suite.mounts();
    if (left.length > 0)
      console.log(
        readFileSync('/proc/self/mountinfo', 'utf8')
          .split('\n')
          .filter((l) => left.some((m) => l.includes(m)))
          .join('\n'),
      );
    expect(left).toEqual([]);
    expect(suite.leftovers()).toEqual([]);
    const mountinfo = readFileSync('/proc/self/mountinfo', 'utf8');
    for (const id of ids) {
      expect(mountinfo).not.toContain(`${runDir}/${id}`);
      expect(existsSync(`${runDir}/${id}`)).toBe(false);
      expect(existsSync(`${runDir}/${id}.userns`)).toBe(false);
      expect(existsSync(`/run/netns/tsc-${id.slice(0, 12)}`)).toBe(false);
    }
    expect(existsSync(join(suite.stateDir, 'state', 'volumes', `${p.name}_data`))).toBe(false);
  }, 120_000);
});
