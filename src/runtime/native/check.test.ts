import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pidAlive } from '../../lib/fs/proc.js';
import { checkNativeState } from './check.js';
import { NativeContext } from './context.js';
import type { ContainerRecord } from './state.js';

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
      ].sort(),
    );
    expect(found.problems.every((p) => !p.repaired && p.area === 'containers')).toBe(true);

    const fixed = await checkNativeState(ctx, { repair: true });
    const left = fixed.problems.filter((p) => !p.repaired).map((p) => p.subject);
    expect(left.sort()).toEqual([torn.slice(0, 12), 'orphan'].sort());
    expect(fixed.problems.find((p) => p.subject === 'orphan')?.problem).toMatch(/not in the image store.*pull alpine:3 again/);
    expect(existsSync(ctx.state.containerDir(abandoned.id))).toBe(false);
    expect(existsSync(ctx.state.containerDir(bare))).toBe(false);
    expect(existsSync(ctx.state.recordFile(torn))).toBe(true);
    expect(existsSync(ctx.state.nameFile('stale'))).toBe(false);
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
      bridge: 'tsccheck0',
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
});
