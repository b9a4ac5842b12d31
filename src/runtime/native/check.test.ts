import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pidAlive } from '../../lib/fs/proc.js';
import { bridgeName } from '../../lib/net/index.js';
import { checkNativeState } from './check.js';
import { ContainerService } from './containers.js';
import { NativeContext } from './context.js';
import { NetworkService } from './networks.js';
import type { ContainerRecord } from './state.js';
import { VolumeService } from './volumes.js';

let dir: string;
let n = 0;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsc-check-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function freshContext(): NativeContext {
  const k = ++n;
  return new NativeContext({
    TSCOMPOSE_STATE_DIR: join(dir, `state-${k}`),
    TSCOMPOSE_RUN_DIR: join(dir, `run-${k}`),
    TSCOMPOSE_DOCKER_DAEMON_JSON: '',
  });
}

const hex = (s: string): string => createHash('sha256').update(s).digest('hex');

function deadPid(): number {
  for (let p = 4_000_000; ; p--) if (!pidAlive(p)) return p;
}

function record(id: string, name: string, extra: Partial<ContainerRecord> = {}): ContainerRecord {
  return {
    id,
    name,
    image: 'alpine:3',
    imageId: '',
    labels: {},
    created: 1_714_557_600_000,
    hostname: id.slice(0, 12),
    spec: { name, image: 'alpine:3', labels: {}, command: ['sleep', '1'], restart: 'no' },
    mounts: [],
    anonymousVolumes: [],
    state: { status: 'created', exitCode: 0, restartCount: 0, stoppedByUser: false, generation: 0 },
    ...extra,
  };
}

function plant(ctx: NativeContext, r: ContainerRecord, claim = true): void {
  mkdirSync(ctx.state.containerDir(r.id), { recursive: true });
  writeFileSync(ctx.state.recordFile(r.id), JSON.stringify(r));
  if (claim) {
    mkdirSync(join(ctx.paths.root, 'names'), { recursive: true });
    writeFileSync(ctx.state.nameFile(r.name), r.id);
  }
}

/** Sets a path's times a minute back (past the 30 s grace of creations under way). */
function age(p: string): void {
  const t = new Date(Date.now() - 60_000);
  utimesSync(p, t, t);
}

describe('checkNativeState', () => {
  test('an empty or missing state directory has no problems', async () => {
    const r = await checkNativeState(freshContext());
    expect(r.problems).toEqual([]);
    expect(r.checked.map((c) => c.area)).toEqual(['images', 'blobs', 'layers', 'containers', 'networks', 'volumes', 'build']);
  });

  test('containers: unreadable records, abandoned creations, names, unrecorded exits, missing images, run dirs', async () => {
    const ctx = freshContext();
    const dead = deadPid();
    const good = record(hex('good'), 'good');
    plant(ctx, good);
    // an unreadable record: reported, never removed
    const torn = hex('torn');
    mkdirSync(ctx.state.containerDir(torn), { recursive: true });
    writeFileSync(ctx.state.recordFile(torn), '{"id": "');
    // an abandoned creation (its CLI is gone), and a directory never given a record
    const abandoned = record(hex('abandoned'), 'abandoned', { creating: dead });
    plant(ctx, abandoned);
    const bare = hex('bare');
    mkdirSync(join(ctx.state.containerDir(bare), 'bundle'), { recursive: true });
    age(ctx.state.containerDir(bare));
    // a creation under way (this process): left alone
    plant(ctx, record(hex('creating'), 'creating', { creating: process.pid }));
    // a stale claim, and a container whose name is not claimed
    mkdirSync(join(ctx.paths.root, 'names'), { recursive: true });
    writeFileSync(ctx.state.nameFile('stale'), hex('nobody'));
    age(ctx.state.nameFile('stale'));
    const unclaimed = record(hex('unclaimed'), 'unclaimed');
    plant(ctx, unclaimed, false);
    // recorded running, its process gone
    const crashed = record(hex('crashed'), 'crashed', { state: { ...good.state, status: 'running', pid: dead, generation: 1 } });
    plant(ctx, crashed);
    // its image gone
    const orphan = record(hex('orphan'), 'orphan', { imageId: `sha256:${'e'.repeat(64)}` });
    plant(ctx, orphan);
    // the run directory of no container
    mkdirSync(join(ctx.paths.run, hex('gone').slice(0, 12)), { recursive: true });
    // conmon's socket links: one of a container (kept), two of none (dangling)
    const sock = join(ctx.paths.run, 'sock');
    mkdirSync(sock, { recursive: true });
    symlinkSync(join(ctx.state.containerDir(good.id), 'bundle'), join(sock, good.id));
    for (const g of ['gone1', 'gone2']) symlinkSync(join(ctx.paths.containers, hex(g), 'bundle'), join(sock, hex(g)));

    const found = await checkNativeState(ctx);
    const subjects = found.problems.map((p) => p.subject).sort();
    expect(subjects).toEqual(
      [
        torn.slice(0, 12),
        'abandoned',
        bare.slice(0, 12),
        'names/stale',
        'unclaimed',
        'crashed',
        'orphan',
        join(ctx.paths.run, hex('gone').slice(0, 12)),
        sock,
      ].sort(),
    );
    expect(found.problems.find((p) => p.subject === sock)?.problem).toBe('2 conmon socket links of no container');
    expect(found.problems.every((p) => !p.repaired && p.area === 'containers')).toBe(true);

    const fixed = await checkNativeState(ctx, { repair: true });
    const left = fixed.problems.filter((p) => !p.repaired).map((p) => p.subject);
    expect(left.sort()).toEqual([torn.slice(0, 12), 'orphan'].sort());
    expect(fixed.problems.find((p) => p.subject === 'orphan')?.problem).toMatch(/not in the image store.*pull alpine:3 again/);
    expect(existsSync(ctx.state.containerDir(abandoned.id))).toBe(false);
    expect(existsSync(ctx.state.containerDir(bare))).toBe(false);
    expect(existsSync(ctx.state.recordFile(torn))).toBe(true);
    expect(existsSync(ctx.state.nameFile('stale'))).toBe(false);
    expect(readdirSync(sock)).toEqual([good.id]);
    expect(readFileSync(ctx.state.nameFile('unclaimed'), 'utf8')).toBe(unclaimed.id);
    expect((await ctx.state.read(crashed.id))?.state.status).toBe('exited');
    expect((await ctx.state.read(crashed.id))?.state.interrupted).toBe(true);

    const again = await checkNativeState(ctx);
    expect(again.problems.map((p) => p.subject).sort()).toEqual([torn.slice(0, 12), 'orphan'].sort());
  });

  test('networks: endpoints of containers not running or gone, of dead builds, and leaked addresses', async () => {
    const ctx = freshContext();
    const dead = deadPid();
    const stopped = record(hex('stopped'), 'stopped', {
      state: { status: 'exited', exitCode: 0, restartCount: 0, stoppedByUser: true, generation: 1 },
    });
    plant(ctx, stopped);
    const ep = (id: string, ip: string) => ({
      endpointId: id,
      netns: `tsc-${id.slice(0, 12)}`,
      ownNetns: true,
      ifname: 'eth0',
      hostVeth: `vtscheck${ip.split('.')[3]}`,
      ip,
      prefixLen: 24,
      gateway: '10.250.77.1',
      mac: '02:42:0a:fa:4d:02',
      defaultRoute: true,
      ports: [],
    });
    const build = `0a0b0c0db${dead}`;
    const net = {
      key: 'p_default',
      name: 'p_default',
      bridge: 'lo', // a link that exists (a missing bridge is the next test's)
      internal: false,
      mtu: 1500,
      subnet: '10.250.77.0/24',
      gateway: '10.250.77.1',
      allocations: { [stopped.id]: '10.250.77.2', [hex('gone')]: '10.250.77.3', [build]: '10.250.77.4', [hex('leak')]: '10.250.77.5' },
      endpoints: { [stopped.id]: ep(stopped.id, '10.250.77.2'), [hex('gone')]: ep(hex('gone'), '10.250.77.3'), [build]: ep(build, '10.250.77.4') },
    };
    mkdirSync(join(ctx.paths.root, 'net'), { recursive: true });
    writeFileSync(join(ctx.paths.root, 'net', 'networks.json'), JSON.stringify({ version: 1, networks: { p_default: net } }));
    const found = await checkNativeState(ctx);
    expect(found.problems.filter((p) => p.area === 'networks').map((p) => p.subject)).toEqual([
      `p_default/${stopped.id.slice(0, 12)}`,
      `p_default/${hex('gone').slice(0, 12)}`,
      `p_default/${build}`,
      'p_default/10.250.77.5',
    ]);
    const fixed = await checkNativeState(ctx, { repair: true });
    expect(fixed.problems.every((p) => p.repaired)).toBe(true);
    const state = JSON.parse(readFileSync(join(ctx.paths.root, 'net', 'networks.json'), 'utf8')) as { networks: Record<string, typeof net> };
    expect(state.networks.p_default!.endpoints).toEqual({});
    expect(state.networks.p_default!.allocations).toEqual({});
    expect((await checkNativeState(ctx)).problems).toEqual([]);
  });

  test('volumes and build scratch', async () => {
    const ctx = freshContext();
    const dead = deadPid();
    const vol = (name: string, json?: string, data?: string): void => {
      mkdirSync(join(ctx.paths.volumes, name, '_data'), { recursive: true });
      if (json !== undefined) writeFileSync(join(ctx.paths.volumes, name, 'volume.json'), json);
      if (data !== undefined) writeFileSync(join(ctx.paths.volumes, name, '_data', 'file'), data);
    };
    vol('fine', JSON.stringify({ name: 'fine', driver: 'local', labels: { a: 'b' }, created: 1 }));
    vol('interrupted');
    vol('kept', undefined, 'precious');
    vol('torn', '{"name": ', 'precious too');
    mkdirSync(join(ctx.paths.root, 'build', 'runs', `${dead}-abc`, 'empty'), { recursive: true });
    mkdirSync(join(ctx.paths.root, 'build', 'runs', `${process.pid}-live`), { recursive: true });
    mkdirSync(join(ctx.paths.root, 'build', 'worker', 'run-0123456789ab'), { recursive: true });
    mkdirSync(join(ctx.paths.images, 'tmp', `${dead}-x`), { recursive: true });
    const found = await checkNativeState(ctx);
    expect(found.problems.map((p) => `${p.area} ${p.subject}`).sort()).toEqual(
      ['volumes interrupted', 'volumes kept', 'volumes torn', `build build/runs/${dead}-abc`, `images tmp/${dead}-x`].sort(),
    );
    const fixed = await checkNativeState(ctx, { repair: true });
    expect(fixed.problems.every((p) => p.repaired)).toBe(true);
    expect(existsSync(join(ctx.paths.volumes, 'interrupted'))).toBe(false);
    expect(readFileSync(join(ctx.paths.volumes, 'kept', '_data', 'file'), 'utf8')).toBe('precious');
    expect(JSON.parse(readFileSync(join(ctx.paths.volumes, 'torn', 'volume.json'), 'utf8'))).toEqual(
      expect.objectContaining({ name: 'torn', driver: 'local' }),
    );
    expect(readFileSync(join(ctx.paths.volumes, 'torn', '_data', 'file'), 'utf8')).toBe('precious too');
    expect(existsSync(join(ctx.paths.root, 'build', 'runs', `${dead}-abc`))).toBe(false);
    expect(existsSync(join(ctx.paths.root, 'build', 'runs', `${process.pid}-live`))).toBe(true);
    expect((await checkNativeState(ctx)).problems).toEqual([]);
    // with no live build, a RUN step's scratch is a leftover
    rmSync(join(ctx.paths.root, 'build', 'runs', `${process.pid}-live`), { recursive: true });
    const worker = await checkNativeState(ctx, { repair: true });
    expect(worker.problems.map((p) => [p.subject, p.repaired])).toEqual([['build/worker/run-0123456789ab', true]]);
  });

  test('a down killed mid-removal: its tombstone, or the recordless directory an in-place delete left, is finished', async () => {
    const ctx = freshContext();
    // killed between renaming the directory and releasing the name: the tombstone holds the record, the claim stays
    const renamed = record(hex('renamed'), 'renamed');
    plant(ctx, renamed);
    mkdirSync(join(ctx.state.containerDir(renamed.id), 'upper', 'etc'), { recursive: true });
    renameSync(ctx.state.containerDir(renamed.id), ctx.state.tombstoneDir(renamed.id));
    age(ctx.state.nameFile('renamed'));
    // killed while deleting the tombstone
    const deleting = hex('deleting');
    mkdirSync(join(ctx.state.tombstoneDir(deleting), 'upper', 'usr', 'sbin'), { recursive: true });
    // an older version's recursive rm killed midway, record gone first: only upper/etc and upper/usr/sbin/docker-init
    const leftover = hex('leftover');
    mkdirSync(join(ctx.state.containerDir(leftover), 'upper', 'etc'), { recursive: true });
    mkdirSync(join(ctx.state.containerDir(leftover), 'upper', 'usr', 'sbin'), { recursive: true });
    writeFileSync(join(ctx.state.containerDir(leftover), 'upper', 'usr', 'sbin', 'docker-init'), '');

    const found = await checkNativeState(ctx);
    expect(found.problems.map((p) => [p.subject, p.problem.replace(/ \(.*/, '')])).toEqual([
      [renamed.id.slice(0, 12), 'an interrupted removal'],
      [deleting.slice(0, 12), 'an interrupted removal'],
      [leftover.slice(0, 12), 'an abandoned creation: a directory without a record'],
    ]); // the claim held by the tombstone is not reported as stale: it goes with it
    const fixed = await checkNativeState(ctx, { repair: true });
    expect(fixed.problems.every((p) => p.repaired)).toBe(true);
    expect(readdirSync(ctx.paths.containers)).toEqual([]);
    expect(existsSync(ctx.state.nameFile('renamed'))).toBe(false);
    expect((await checkNativeState(ctx)).problems).toEqual([]);
  });

  test('destroy rerun after a kill at its rename finishes the removal, and is idempotent', async () => {
    const ctx = freshContext();
    const containers = new ContainerService(ctx, new VolumeService(ctx), new NetworkService(ctx));
    const r = record(hex('down'), 'down');
    plant(ctx, r);
    renameSync(ctx.state.containerDir(r.id), ctx.state.tombstoneDir(r.id));
    await containers.destroy(r.id);
    expect(readdirSync(ctx.paths.containers)).toEqual([]);
    expect(existsSync(ctx.state.nameFile('down'))).toBe(false);
    await containers.destroy(r.id);
    // and a whole destroy
    const whole = record(hex('whole'), 'whole');
    plant(ctx, whole);
    await containers.destroy(whole.id);
    expect(readdirSync(ctx.paths.containers)).toEqual([]);
    expect(existsSync(ctx.state.nameFile('whole'))).toBe(false);
  });

  test('temp files of interrupted atomic writes: reported and removed outside the image store; file trees are not ours', async () => {
    const ctx = freshContext();
    const dead = deadPid();
    const good = record(hex('good'), 'good');
    plant(ctx, good);
    mkdirSync(join(ctx.paths.volumes, 'v', '_data'), { recursive: true });
    writeFileSync(join(ctx.paths.volumes, 'v', 'volume.json'), JSON.stringify({ name: 'v', driver: 'local', labels: {}, created: 1 }));
    const temp = (name: string, pid = dead): string => `.${name}.tmp-${pid}-0a1b2c3d`;
    const stale = [
      join('net', temp('networks.json')),
      join('containers', good.id, temp('record.json')),
      join('volumes', 'v', temp('volume.json')),
      join('dns', 'dns', 'networks', temp('p_default.json')),
      temp('x'),
    ];
    const kept = [
      join('net', temp('networks.json', process.pid)), // a write under way
      join('containers', good.id, 'upper', 'app', temp('conf')), // the container's own files
      join('volumes', 'v', '_data', temp('db')), // a volume's data
      join('build', 'cache-mounts', 'abc', temp('f')),
      join('net', `networks.json.tmp-${dead}-0a1b2c3d`), // not the pattern
    ];
    for (const f of [...stale, ...kept]) {
      mkdirSync(join(ctx.paths.root, f, '..'), { recursive: true });
      writeFileSync(join(ctx.paths.root, f), '{"half');
    }
    const found = await checkNativeState(ctx);
    expect(found.problems.map((p) => `${p.area} ${p.subject}`)).toEqual(stale.map((f) => `files ${f}`).sort());
    expect(found.problems[0]?.problem).toBe(`the temp file of an interrupted write (pid ${dead} is gone)`);
    const fixed = await checkNativeState(ctx, { repair: true });
    expect(fixed.problems.every((p) => p.repaired)).toBe(true);
    for (const f of stale) expect(existsSync(join(ctx.paths.root, f))).toBe(false);
    for (const f of kept) expect(existsSync(join(ctx.paths.root, f))).toBe(true);
    expect((await checkNativeState(ctx)).problems).toEqual([]);
  });

  test('the fstab file of merged mounts (run directory) whose writer was killed: reported and removed', async () => {
    const ctx = freshContext();
    mkdirSync(ctx.paths.run, { recursive: true });
    const stale = join(ctx.paths.run, `.mounts.fstab.tmp-${deadPid()}-0a1b2c3d`);
    const live = join(ctx.paths.run, `.mounts.fstab.tmp-${process.pid}-0a1b2c3d`);
    for (const f of [stale, live]) writeFileSync(f, 'overlay /x overlay lowerdir=a,upperdir=/u,workdir=/w 0 0\n');
    expect((await checkNativeState(ctx)).problems.map((p) => `${p.area} ${p.subject}`)).toEqual([`files ${stale}`]);
    await checkNativeState(ctx, { repair: true });
    expect([existsSync(stale), existsSync(live)]).toEqual([false, true]);
  });

  test('the owner of the network state sweeps the dead temp files of its directory when it takes its lock', async () => {
    const ctx = freshContext();
    const net = join(ctx.paths.root, 'net');
    mkdirSync(net, { recursive: true });
    const stale = `.networks.json.tmp-${deadPid()}-0a1b2c3d`;
    writeFileSync(join(net, stale), '{"half');
    await ctx.networks.releaseContainers([]);
    expect(readdirSync(net).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  test('a network record whose bridge is gone: reported; a build network with no build running is to be removed', async () => {
    const ctx = freshContext();
    const rec = (key: string) => ({
      key,
      name: key,
      bridge: bridgeName(key),
      internal: false,
      mtu: 1500,
      subnet: '10.250.80.0/24',
      gateway: '10.250.80.1',
      allocations: {},
      endpoints: {},
      ready: true,
    });
    const build = 'tscompose_build_0badc0de';
    mkdirSync(join(ctx.paths.root, 'net'), { recursive: true });
    writeFileSync(
      join(ctx.paths.root, 'net', 'networks.json'),
      JSON.stringify({ version: 1, networks: { p_gone: rec('p_gone'), [build]: rec(build) } }),
    );
    const found = await checkNativeState(ctx);
    expect(found.problems.map((p) => [p.subject, p.problem, p.repair])).toEqual([
      ['p_gone', `its bridge ${bridgeName('p_gone')} does not exist`, 'create the bridge and its rules again'],
      [build, `its bridge ${bridgeName(build)} does not exist (a build network, no build running)`, 'remove the network'],
    ]);
  });

  const netAdmin = process.getuid?.() === 0 && ['ip', 'nft'].every((b) => spawnOk(b));
  (netAdmin ? test : test.skip)(
    "repair re-creates a deleted bridge (and its rules), and removes a dead build's network",
    async () => {
      const ctx = freshContext();
      const key = `tsccheck_br_${process.pid}`;
      const build = 'tscompose_build_0badc0de';
      try {
        const { network } = await ctx.networks.createNetwork({ key, name: key, labels: { a: 'b' } });
        const buildNet = await ctx.networks.createNetwork({ key: build, name: build });
        execFileSync('ip', ['link', 'del', network.bridge]);
        execFileSync('ip', ['link', 'del', buildNet.network.bridge]);
        const fixed = await checkNativeState(ctx, { repair: true });
        expect(fixed.problems.map((p) => [p.subject, p.repaired])).toEqual([
          [key, true],
          [build, true],
        ]);
        expect(existsSync(join('/sys/class/net', network.bridge))).toBe(true);
        const state = await ctx.networks.read();
        expect(Object.keys(state.networks)).toEqual([key]);
        expect(state.networks[key]?.labels).toEqual({ a: 'b' });
        expect(existsSync(join('/sys/class/net', buildNet.network.bridge))).toBe(false);
        expect((await checkNativeState(ctx)).problems).toEqual([]);
      } finally {
        await ctx.networks.removeNetwork(key, { force: true }).catch(() => undefined);
        await ctx.networks.removeNetwork(build, { force: true }).catch(() => undefined);
      }
    },
    30_000,
  );
});

function spawnOk(bin: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
