import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { appendEvent } from './events-file.js';
import { nativePaths, recordForDisk, securePrivateDir, StateStore, type ContainerRecord, type NativePaths } from './state.js';
import { lockPresent as present } from '../../lib/fs/__fixtures__/lock-present.js';

let dir: string;
let n = 0;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsc-state-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A store on a fresh, not yet existing state directory. */
function freshStore(): { store: StateStore; paths: NativePaths } {
  const k = ++n;
  const paths = nativePaths({ stateDir: join(dir, `state-${k}`), runDir: join(dir, `run-${k}`) });
  return { store: new StateStore(paths), paths };
}

function record(id: string, name: string, extra: Partial<ContainerRecord> = {}): ContainerRecord {
  return {
    id,
    name,
    image: 'alpine:3',
    imageId: 'sha256:' + 'f'.repeat(64),
    labels: { 'com.docker.compose.project': 'p', 'com.docker.compose.service': name },
    created: 1_714_557_600_000,
    hostname: id.slice(0, 12),
    spec: { name, image: 'alpine:3', labels: {}, command: ['sleep', '1'], restart: 'no' },
    mounts: [],
    anonymousVolumes: [],
    state: { status: 'created', exitCode: 0, restartCount: 0, stoppedByUser: false, generation: 0 },
    ...extra,
  };
}

const hex = (s: string) => createHash('sha256').update(s).digest('hex');
/** Two ids sharing their first 11 characters, differing at the 12th. */
const ID_A = `abcdef012345${'0'.repeat(52)}`;
const ID_B = `abcdef01234f${'1'.repeat(52)}`;
const ID_C = hex('c');

describe('nativePaths', () => {
  test('the layout under the state and run directories', () => {
    const p = nativePaths({ stateDir: '/srv/tsc', runDir: '/run/x' });
    expect(p).toEqual({
      root: '/srv/tsc',
      run: '/run/x',
      containers: '/srv/tsc/containers',
      volumes: '/srv/tsc/volumes',
      images: '/srv/tsc/images',
      locks: '/srv/tsc/locks',
      events: '/srv/tsc/events.jsonl',
      ociRoot: '/run/x/oci',
    });
  });

  test('defaults: /var/lib/tscompose and a run dir named after the hash of the state dir', () => {
    const p = nativePaths({});
    expect(p.root).toBe('/var/lib/tscompose');
    expect(p.run).toBe(`/run/tscompose/native-${hex('/var/lib/tscompose').slice(0, 12)}`);
    const q = nativePaths({ stateDir: '/srv/other' });
    expect(q.run).toBe(`/run/tscompose/native-${hex('/srv/other').slice(0, 12)}`);
    expect(q.run).not.toBe(p.run);
    expect(nativePaths({ stateDir: '/srv/other' }).run).toBe(q.run);
  });

  test('relative directories are resolved', () => {
    const p = nativePaths({ stateDir: 'rel/state', runDir: 'rel/run' });
    expect(p.root).toBe(resolve('rel/state'));
    expect(p.run).toBe(resolve('rel/run'));
  });
});

describe('StateStore files', () => {
  test('per-container paths', () => {
    const { store, paths } = freshStore();
    expect(store.containerDir(ID_C)).toBe(join(paths.containers, ID_C));
    expect(store.recordFile(ID_C)).toBe(join(paths.containers, ID_C, 'record.json'));
    expect(store.exitFile(ID_C)).toBe(join(paths.containers, ID_C, 'exits', ID_C));
    expect(store.logFile(ID_C)).toBe(join(paths.containers, ID_C, 'ctr.log'));
  });

  test('write then read gives the record back; a missing one is undefined', async () => {
    const { store } = freshStore();
    const r = record(ID_C, 'web');
    mkdirSync(store.containerDir(ID_C), { recursive: true });
    await store.write(r);
    expect(await store.read(ID_C)).toEqual(r);
    expect(JSON.parse(readFileSync(store.recordFile(ID_C), 'utf8'))).toEqual(r);
    expect(readdirSync(store.containerDir(ID_C))).toEqual(['record.json']);
    expect(await store.read(ID_A)).toBeUndefined();
  });

  test('a corrupt record reads as absent', async () => {
    const { store } = freshStore();
    mkdirSync(store.containerDir(ID_C), { recursive: true });
    writeFileSync(store.recordFile(ID_C), '{"id": "');
    expect(await store.read(ID_C)).toBeUndefined();
  });

  test('ids and all: only 64-hex directories; none when the state dir does not exist', async () => {
    const { store, paths } = freshStore();
    expect(await store.ids()).toEqual([]);
    expect(await store.all()).toEqual([]);
    for (const [id, name] of [
      [ID_A, 'a'],
      [ID_B, 'b'],
    ] as const) {
      mkdirSync(store.containerDir(id), { recursive: true });
      await store.write(record(id, name));
    }
    mkdirSync(join(paths.containers, 'not-an-id'));
    mkdirSync(join(paths.containers, ID_C)); // no record yet
    expect((await store.ids()).sort()).toEqual([ID_A, ID_B, ID_C].sort());
    expect((await store.all()).map((r) => r.name).sort()).toEqual(['a', 'b']);
  });
});

describe('StateStore.markStopping', () => {
  test('a hard link to one empty file (no inode of its own); again is fine; no directory, no mark', async () => {
    const { store, paths } = freshStore();
    for (const id of [ID_A, ID_B]) {
      mkdirSync(store.containerDir(id), { recursive: true });
      await store.write(record(id, id === ID_A ? 'a' : 'b'));
    }
    store.markStopping(ID_A);
    store.markStopping(ID_A);
    store.markStopping(ID_B);
    const empty = statSync(join(paths.root, 'stopping.empty'));
    expect(statSync(store.stoppingFile(ID_A)).ino).toBe(empty.ino);
    expect(statSync(store.stoppingFile(ID_B)).ino).toBe(empty.ino);
    expect(empty.nlink).toBe(3);
    expect(empty.mode & 0o777).toBe(0o600);
    expect(() => store.markStopping(ID_C)).not.toThrow();
    expect(existsSync(store.containerDir(ID_C))).toBe(false);
  });

  test('written as a file of its own when no link can be made', async () => {
    const { store, paths } = freshStore();
    mkdirSync(store.containerDir(ID_A), { recursive: true });
    await store.write(record(ID_A, 'a'));
    mkdirSync(join(paths.root, 'stopping.empty')); // a directory cannot be linked (EPERM)
    store.markStopping(ID_A);
    expect(statSync(store.stoppingFile(ID_A)).isFile()).toBe(true);
  });
});

describe('StateStore.find', () => {
  let store: StateStore;

  beforeAll(async () => {
    store = freshStore().store;
    for (const r of [record(ID_A, 'alpha'), record(ID_B, 'beta'), record(ID_C, 'abcdef0')]) {
      mkdirSync(store.containerDir(r.id), { recursive: true });
      await store.write(r);
    }
  });

  test('by name, with or without a leading slash', async () => {
    expect((await store.find('alpha'))?.id).toBe(ID_A);
    expect((await store.find('/beta'))?.id).toBe(ID_B);
  });

  test('by its name claim, and past a claim that no longer names its holder (renamed, removed, garbage)', async () => {
    const { store: s } = freshStore();
    for (const r of [record(ID_A, 'web'), record(ID_B, 'db')]) {
      mkdirSync(s.containerDir(r.id), { recursive: true });
      await s.write(r);
    }
    expect(await s.claimName('web', ID_A)).toBeUndefined();
    expect((await s.find('web'))?.id).toBe(ID_A);
    // A claim left to another container (db was renamed from cache): the record's own name decides.
    mkdirSync(dirname(s.nameFile('cache')), { recursive: true });
    writeFileSync(s.nameFile('cache'), ID_B);
    expect(await s.find('cache')).toBeUndefined();
    writeFileSync(s.nameFile('db'), ID_A); // wrong holder: found by the scan
    expect((await s.find('db'))?.id).toBe(ID_B);
    writeFileSync(s.nameFile('db'), '../../etc');
    expect((await s.find('db'))?.id).toBe(ID_B);
    expect(await s.find('../names/web')).toBeUndefined();
  });

  test('by full id', async () => {
    expect((await store.find(ID_A))?.name).toBe('alpha');
    expect((await store.find(ID_B))?.name).toBe('beta');
  });

  test('by a unique 12-character prefix (and longer ones)', async () => {
    expect((await store.find(ID_A.slice(0, 12)))?.name).toBe('alpha');
    expect((await store.find(ID_B.slice(0, 12)))?.name).toBe('beta');
    expect((await store.find(ID_A.slice(0, 40)))?.name).toBe('alpha');
    expect((await store.find(ID_C.slice(0, 12)))?.name).toBe('abcdef0');
  });

  test('an ambiguous prefix → undefined', async () => {
    expect(await store.find(ID_A.slice(0, 11))).toBeUndefined();
    expect(await store.find('abcdef01')).toBeUndefined();
  });

  test('a name that looks like an id prefix wins over the prefix', async () => {
    // `abcdef0` is both a (shared) prefix of ID_A/ID_B and the name of the third container
    expect((await store.find('abcdef0'))?.id).toBe(ID_C);
  });

  test('unknown names, ids and too-short prefixes → undefined', async () => {
    expect(await store.find('gamma')).toBeUndefined();
    expect(await store.find(hex('nope'))).toBeUndefined();
    expect(await store.find(ID_C.slice(0, 2))).toBeUndefined();
    expect(await store.find('')).toBeUndefined();
  });
});

describe('StateStore.update', () => {
  async function withOne(): Promise<StateStore> {
    const { store } = freshStore();
    mkdirSync(store.containerDir(ID_C), { recursive: true });
    await store.write(record(ID_C, 'web'));
    return store;
  }

  test('writes and returns what fn returns', async () => {
    const store = await withOne();
    const next = await store.update(ID_C, (r) => ({ ...r, state: { ...r.state, status: 'running', pid: 1234 } }));
    expect(next?.state).toMatchObject({ status: 'running', pid: 1234 });
    expect((await store.read(ID_C))?.state).toMatchObject({ status: 'running', pid: 1234 });
    expect(present(join(store.paths.locks, `c-${ID_C}`))).toBe(false);
  });

  test('fn returning undefined leaves the record and returns it as it is', async () => {
    const store = await withOne();
    const before = await store.read(ID_C);
    expect(await store.update(ID_C, () => undefined)).toEqual(before);
    expect(await store.read(ID_C)).toEqual(before);
  });

  test('a missing record: undefined, fn not called', async () => {
    const { store } = freshStore();
    let called = false;
    expect(
      await store.update(ID_A, (r) => {
        called = true;
        return r;
      }),
    ).toBeUndefined();
    expect(called).toBe(false);
  });

  test('concurrent updates (async fns) are all applied', async () => {
    const store = await withOne();
    const N = 6;
    await Promise.all(
      Array.from({ length: N }, (_, i) =>
        store.update(ID_C, async (r) => {
          await new Promise((res) => setTimeout(res, i % 3));
          return { ...r, state: { ...r.state, restartCount: r.state.restartCount + 1 }, labels: { ...r.labels, [`k${i}`]: String(i) } };
        }),
      ),
    );
    const r = await store.read(ID_C);
    expect(r?.state.restartCount).toBe(N);
    for (let i = 0; i < N; i++) expect(r?.labels[`k${i}`]).toBe(String(i));
  });

  test('an error in fn propagates and frees the lock', async () => {
    const store = await withOne();
    await expect(
      store.update(ID_C, () => {
        throw new Error('nope');
      }),
    ).rejects.toThrow('nope');
    expect(present(join(store.paths.locks, `c-${ID_C}`))).toBe(false);
    expect((await store.update(ID_C, (r) => ({ ...r, name: 'renamed' })))?.name).toBe('renamed');
  });

  test('withNamesLock runs fn under locks/names', async () => {
    const { store, paths } = freshStore();
    const seen = await store.withNamesLock(async () => present(join(paths.locks, 'names')));
    expect(seen).toBe(true);
    expect(present(join(paths.locks, 'names'))).toBe(false);
  });
});

describe('StateStore.readExitCode', () => {
  test('parses the code and reports the file’s mtime', async () => {
    const { store } = freshStore();
    mkdirSync(join(store.containerDir(ID_C), 'exits'), { recursive: true });
    const before = Date.now();
    writeFileSync(store.exitFile(ID_C), '137');
    const r = await store.readExitCode(ID_C);
    expect(r?.code).toBe(137);
    expect(Object.prototype.toString.call(r?.at)).toBe('[object Date]'); // (another realm's Date under Jest)
    expect(Math.abs(r!.at.getTime() - before)).toBeLessThan(5000);
    writeFileSync(store.exitFile(ID_C), '0\n');
    expect((await store.readExitCode(ID_C))?.code).toBe(0);
    writeFileSync(store.exitFile(ID_C), ' 2 \n');
    expect((await store.readExitCode(ID_C))?.code).toBe(2);
  });

  test('garbage → -1; no file → undefined', async () => {
    const { store } = freshStore();
    expect(await store.readExitCode(ID_C)).toBeUndefined();
    mkdirSync(join(store.containerDir(ID_C), 'exits'), { recursive: true });
    expect(await store.readExitCode(ID_C)).toBeUndefined();
    writeFileSync(store.exitFile(ID_C), 'oops');
    expect((await store.readExitCode(ID_C))?.code).toBe(-1);
  });
});

describe('appendEvent', () => {
  const attrs = { name: 'web', image: 'alpine' };

  test('creates the state dir and appends one JSON line per event', async () => {
    const { paths } = freshStore();
    expect(existsSync(paths.root)).toBe(false);
    const before = Date.now();
    await appendEvent(paths, { type: 'container', action: 'create', id: ID_C, attributes: attrs });
    await appendEvent(paths, { type: 'container', action: 'start', id: ID_C, attributes: attrs, time: 1234 });
    const text = readFileSync(paths.events, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    const lines = text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ type: 'container', action: 'create', id: ID_C, attributes: attrs });
    expect(lines[0]!.time).toBeGreaterThanOrEqual(before);
    expect(lines[0]!.time).toBeLessThanOrEqual(Date.now());
    expect(lines[1]).toEqual({ type: 'container', action: 'start', id: ID_C, attributes: attrs, time: 1234 });
  });

  test('concurrent appends stay whole lines', async () => {
    const { paths } = freshStore();
    const N = 40;
    await Promise.all(
      Array.from({ length: N }, (_, i) =>
        appendEvent(paths, { type: 'container', action: `a${i}`, id: ID_C, attributes: { i: String(i), pad: 'x'.repeat(500) } }),
      ),
    );
    const lines = readFileSync(paths.events, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(N);
    expect(lines.map((l) => (JSON.parse(l) as { action: string }).action).sort()).toEqual(Array.from({ length: N }, (_, i) => `a${i}`).sort());
  });
});

describe('StateStore creations in progress and abandoned', () => {
  test('a record marked creating is no container yet; abandoned when its pid is dead; a bare old dir too', async () => {
    const { store } = freshStore();
    const { spawnSync } = await import('node:child_process');
    const dead = spawnSync('true').pid!; // exited: its pid is free
    await store.write(record(ID_A, 'done'));
    await store.write({ ...record(ID_B, 'live'), creating: process.pid });
    await store.write({ ...record(ID_C, 'dead'), creating: dead });
    const bareOld = hex('bare-old');
    const bareNew = hex('bare-new');
    mkdirSync(store.containerDir(bareOld), { recursive: true });
    mkdirSync(store.containerDir(bareNew), { recursive: true });
    // bare-new is being made by a live creation (it holds the container's lock); bare-orphan's creator is gone
    mkdirSync(store.paths.locks, { recursive: true });
    symlinkSync(String(process.pid), join(store.paths.locks, `c-${bareNew}`));
    const bareOrphan = hex('bare-orphan');
    mkdirSync(store.containerDir(bareOrphan), { recursive: true });
    const { utimesSync } = await import('node:fs');
    const past = new Date(Date.now() - 60_000);
    utimesSync(store.containerDir(bareOld), past, past);
    expect((await store.all()).map((r) => r.name)).toEqual(['done']);
    expect(await store.find('live')).toBeUndefined();
    expect(await store.find(ID_B)).toBeUndefined();
    expect((await store.abandoned()).sort()).toEqual([ID_C, bareOld, bareOrphan].sort());
  });

  test('claimName: exclusive, stale claims (no record, or a renamed one) are taken over', async () => {
    const { store } = freshStore();
    expect(await store.claimName('web', ID_A)).toBeUndefined();
    await store.write(record(ID_A, 'web'));
    expect(await store.claimName('web', ID_B)).toBe(ID_A);
    expect(await store.claimName('web', ID_A)).toBeUndefined(); // its own claim
    expect(await store.claimName('ghost', ID_C)).toBeUndefined();
    expect(await store.claimName('ghost', ID_B)).toBeUndefined(); // ID_C has no record: stale
    await store.releaseName('web', ID_B); // not the holder: no effect
    expect(await store.claimName('web', ID_B)).toBe(ID_A);
    await store.releaseName('web', ID_A);
    expect(await store.claimName('web', ID_B)).toBeUndefined();
  });
});

describe('StateStore removals (tombstones)', () => {
  /** The state a `down` killed after renaming the directory and before releasing the name leaves. */
  async function killedAfterRename(store: StateStore, id: string, name: string): Promise<void> {
    await store.write(record(id, name));
    expect(await store.claimName(name, id)).toBeUndefined();
    mkdirSync(join(store.containerDir(id), 'upper', 'etc'), { recursive: true });
    mkdirSync(join(store.paths.locks, `c-${id}`), { recursive: true });
    renameSync(store.containerDir(id), store.tombstoneDir(id));
  }

  test('a removal killed after the rename: the next scan finishes it (name released, lock and tombstone deleted)', async () => {
    const { store, paths } = freshStore();
    await killedAfterRename(store, ID_A, 'web');
    await store.write(record(ID_B, 'db'));
    expect(await store.ids()).toEqual([ID_B]); // gone at once: its record went with the rename
    expect(await store.tombstones()).toEqual([ID_A]);
    expect(readFileSync(store.nameFile('web'), 'utf8')).toBe(ID_A);
    const seen = await store.scan();
    expect(seen.containers.map((r) => r.name)).toEqual(['db']);
    expect(seen.abandoned).toEqual([]);
    expect(readdirSync(paths.containers)).toEqual([ID_B]);
    expect(existsSync(store.nameFile('web'))).toBe(false);
    expect(present(join(paths.locks, `c-${ID_A}`))).toBe(false);
  });

  test('a removal killed while deleting the tombstone (its record already gone) is finished too', async () => {
    const { store, paths } = freshStore();
    mkdirSync(join(store.tombstoneDir(ID_A), 'upper', 'usr', 'sbin'), { recursive: true });
    mkdirSync(join(store.tombstoneDir(ID_A), 'upper', 'etc'));
    writeFileSync(join(store.tombstoneDir(ID_A), 'upper', 'usr', 'sbin', 'docker-init'), '');
    expect((await store.scan()).abandoned).toEqual([]);
    expect(existsSync(paths.containers) && readdirSync(paths.containers)).toEqual([]);
  });

  test('removeContainerDir: the directory, its claim and lock go; idempotent; a claim now held by another is kept', async () => {
    const { store, paths } = freshStore();
    await store.write(record(ID_A, 'web'));
    expect(await store.claimName('web', ID_A)).toBeUndefined();
    await store.removeContainerDir(ID_A);
    expect(readdirSync(paths.containers)).toEqual([]);
    expect(existsSync(store.nameFile('web'))).toBe(false);
    await store.removeContainerDir(ID_A); // a rerun
    // a rerun after a kill between the rename and the name release, the name since taken over by a new container
    await killedAfterRename(store, ID_B, 'db');
    writeFileSync(store.nameFile('db'), ID_C);
    await store.removeContainerDir(ID_B);
    expect(readdirSync(paths.containers)).toEqual([]);
    expect(readFileSync(store.nameFile('db'), 'utf8')).toBe(ID_C);
  });

  test('a directory without a record: a removal an older version was killed in, or a creation whose CLI is gone, is abandoned at once; a creation under way is not', async () => {
    const { store } = freshStore();
    const { spawnSync } = await import('node:child_process');
    const dead = spawnSync('true').pid!; // exited: its pid is free
    const holdLock = (id: string, pid: number): void => {
      mkdirSync(store.paths.locks, { recursive: true });
      symlinkSync(String(pid), join(store.paths.locks, `c-${id}`));
    };
    // what a recursive rm killed midway left: no record, only upper/etc and upper/usr/sbin/docker-init
    const leftover = hex('leftover');
    mkdirSync(join(store.containerDir(leftover), 'upper', 'etc'), { recursive: true });
    mkdirSync(join(store.containerDir(leftover), 'upper', 'usr', 'sbin'), { recursive: true });
    writeFileSync(join(store.containerDir(leftover), 'upper', 'usr', 'sbin', 'docker-init'), '');
    // a creation that has made bundle/ and is writing its first record, holding the container's lock
    const creating = hex('creating');
    mkdirSync(join(store.containerDir(creating), 'bundle'), { recursive: true });
    writeFileSync(join(store.containerDir(creating), `.record.json.tmp-${process.pid}-0a1b2c3d`), '{');
    holdLock(creating, process.pid);
    // creations whose CLI was killed: after making bundle/ (no lock left behind: it had not taken it, or an older
    // version), and while writing the record (its lock held by a dead pid)
    const killedEarly = hex('killed-early');
    mkdirSync(join(store.containerDir(killedEarly), 'bundle'), { recursive: true });
    const killedWriting = hex('killed-writing');
    mkdirSync(join(store.containerDir(killedWriting), 'bundle'), { recursive: true });
    writeFileSync(join(store.containerDir(killedWriting), `.record.json.tmp-${dead}-0a1b2c3d`), '{');
    holdLock(killedWriting, dead);
    // an unreadable record: the user's files, never abandoned
    const torn = hex('torn');
    mkdirSync(join(store.containerDir(torn), 'upper'), { recursive: true });
    writeFileSync(store.recordFile(torn), '{"id": "');
    expect((await store.abandoned()).sort()).toEqual([leftover, killedEarly, killedWriting].sort());
    expect(await store.recordlessAbandoned(hex('missing'))).toBe(false);
  });

  test('createContainerDir: the directory and its first record made under the container lock', async () => {
    const { store } = freshStore();
    const id = hex('new');
    let heldDuring: boolean | undefined;
    const write = store.write.bind(store);
    store.write = async (r) => {
      heldDuring = present(join(store.paths.locks, `c-${id}`));
      // meanwhile, another command sees a creation under way
      expect(await store.recordlessAbandoned(id)).toBe(false);
      return write(r);
    };
    await store.createContainerDir({ ...record(id, 'fresh'), creating: process.pid });
    expect(heldDuring).toBe(true);
    expect(present(join(store.paths.locks, `c-${id}`))).toBe(false);
    expect(existsSync(join(store.containerDir(id), 'bundle'))).toBe(true);
    expect((await store.read(id))?.creating).toBe(process.pid);
  });

  const rootOnly = process.getuid?.() === 0 ? test : test.skip;
  rootOnly('never deletes through a mount: what is mounted under a tombstone is unmounted first', async () => {
    const { store } = freshStore();
    const outside = join(dir, `precious-${n}`);
    mkdirSync(outside);
    writeFileSync(join(outside, 'file'), 'kept');
    await killedAfterRename(store, ID_A, 'web');
    const target = join(store.tombstoneDir(ID_A), 'upper', 'bind');
    mkdirSync(target);
    const { execFileSync } = await import('node:child_process');
    execFileSync('mount', ['--bind', outside, target]);
    try {
      await store.finishRemoval(ID_A);
    } finally {
      if (readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${target} `)) execFileSync('umount', ['-l', target]);
    }
    expect(existsSync(store.tombstoneDir(ID_A))).toBe(false);
    expect(readFileSync(join(outside, 'file'), 'utf8')).toBe('kept');
  });
});

describe('secrets at rest', () => {
  const modeOf = (p: string): number => statSync(p).mode & 0o7777;

  test('the first write makes the state and run directories 0700 (parents keep the usual modes)', async () => {
    const { paths } = freshStore();
    const nested = nativePaths({ stateDir: join(paths.root, 'deep', 'state'), runDir: join(paths.run, 'deep', 'run') });
    const s2 = new StateStore(nested);
    await s2.write(record(ID_A, 'web'));
    expect(modeOf(nested.root)).toBe(0o700);
    expect(modeOf(nested.run)).toBe(0o700);
    expect(modeOf(join(paths.root, 'deep')) & 0o005).toBe(0o005); // not ours to tighten
  });

  test('existing directories are tightened; 0710 (a remapped root group) is kept', async () => {
    const { store, paths } = freshStore();
    mkdirSync(paths.root, { recursive: true, mode: 0o755 });
    chmodSync(paths.root, 0o755);
    mkdirSync(paths.run, { recursive: true });
    chmodSync(paths.run, 0o710);
    expect(await store.claimName('web', ID_A)).toBeUndefined();
    expect(modeOf(paths.root)).toBe(0o700);
    expect(modeOf(paths.run)).toBe(0o710);
    chmodSync(paths.root, 0o777);
    await securePrivateDir(paths.root);
    expect(modeOf(paths.root)).toBe(0o700);
  });

  test('a record keeps no inline content of secrets or configs', async () => {
    const { store } = freshStore();
    const r = record(ID_A, 'web');
    const files = [
      { target: '/run/secrets/a', content: 'TOP-SECRET-VALUE', mode: 0o400, uid: 1000 },
      { target: '/b', source: '/etc/hostname' },
    ];
    await store.write({ ...r, spec: { ...r.spec, files } });
    const text = readFileSync(store.recordFile(ID_A), 'utf8');
    expect(text).not.toContain('TOP-SECRET-VALUE');
    expect((await store.read(ID_A))?.spec.files).toEqual([{ target: '/run/secrets/a', mode: 0o400, uid: 1000 }, files[1]]);
    expect(recordForDisk(r)).toBe(r);
  });
});
