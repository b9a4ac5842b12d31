/**
 * End-to-end: `tscompose check [--repair]` on the native runtime. A clean state (an image pulled, a project up with
 * a network and a volume) passes; then the damage a `kill -9` or a bad disk leaves is planted (scratch and temp
 * files of dead writers, a corrupt blob, a missing layer link, a stale name claim, an abandoned creation with its
 * rootfs mounted, a container whose conmon and process were killed (its exit unrecorded, its endpoint leaked), a
 * half-made volume, a dead build's scratch with a mount): `check` finds each and fails with TSC_STATE_CHECK's hint,
 * `check --repair` repairs them, `check` passes again, and `up`/`exec`/`down` still work.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { required } from './helpers.js';
import { capable, nativeDescribe, NativeSuite, ok } from './native-harness.js';
import { pidAlive } from '../../src/lib/fs/proc.js';
import { shortLinkName } from '../../src/lib/image/digest.js';
import { nativePaths } from '../../src/runtime/native/state.js';

const run = nativeDescribe ? describe : describe.skip;
const suite = new NativeSuite();
const paths = nativePaths({ stateDir: suite.env['TSCOMPOSE_STATE_DIR'], runDir: suite.env['TSCOMPOSE_RUN_DIR'] });

beforeAll(() => {
  if (required && !capable) throw new Error('TSCOMPOSE_E2E=1 but the native runtime cannot run here (root, conmon and runc/crun needed)');
});
afterAll(() => {
  if (capable) suite.cleanup();
}, 120_000);

interface CheckJson {
  ok: boolean;
  problems: { area: string; subject: string; problem: string; repair?: string; repaired: boolean }[];
}

function check(...args: string[]): { status: number | null; json: CheckJson; stderr: string } {
  const r = suite.ts(undefined, 'check', '--format', 'json', ...args);
  return { status: r.status, json: JSON.parse(r.stdout) as CheckJson, stderr: r.stderr };
}

function deadPid(): number {
  for (let p = 4_000_000; ; p--) if (!pidAlive(p)) return p;
}

function aged(p: string): void {
  const t = new Date(Date.now() - 120_000);
  utimesSync(p, t, t);
}

const COMPOSE = `services:
  web:
    image: busybox:latest
    command: ["sleep", "3600"]
    init: true
    volumes: [data:/data]
volumes:
  data:
`;

run('tscompose check on the native runtime', () => {
  test('a clean state passes; planted damage is found, repaired, and the project still works', () => {
    ok(suite.ts(undefined, 'image', 'pull', 'busybox:latest'));
    const p = suite.project({ 'compose.yaml': COMPOSE });
    ok(suite.ts(p, 'up', '-d'));
    ok(suite.ts(p, 'exec', '-T', 'web', 'sh', '-c', 'echo kept > /data/f'));

    const clean = check();
    expect(clean.json.problems).toEqual([]);
    expect(clean.status).toBe(0);
    const table = suite.ts(undefined, 'check');
    expect(table.status).toBe(0);
    expect(table.stdout).toMatch(/No problems found/);

    // --- the damage -----------------------------------------------------------------------------------------------
    const dead = deadPid();
    const images = paths.images;
    mkdirSync(join(images, 'tmp', `${dead}-abc`, 'diff'), { recursive: true });
    writeFileSync(join(images, `.repositories.json.tmp-${dead}-0a1b`), '{"tags":');
    // a corrupt layer blob (the layer itself stays unpacked) and a missing layer link
    const names = JSON.parse(readFileSync(join(images, 'repositories.json'), 'utf8')) as { tags: Record<string, string> };
    const imageId = names.tags['docker.io/library/busybox:latest']!;
    const record = JSON.parse(readFileSync(join(images, 'images', `${imageId.slice(7)}.json`), 'utf8')) as {
      manifest: { digest: string };
      layers: { chainId: string }[];
    };
    const manifest = JSON.parse(readFileSync(join(images, 'blobs', 'sha256', record.manifest.digest.slice(7)), 'utf8')) as {
      layers: { digest: string }[];
    };
    const layerBlob = join(images, 'blobs', 'sha256', manifest.layers[0]!.digest.slice(7));
    writeFileSync(layerBlob, 'not the layer');
    const link = join(images, 'l', shortLinkName(record.layers[0]!.chainId));
    const linkTarget = readlinkSync(link);
    unlinkSync(link);
    // a stale name claim
    writeFileSync(join(paths.root, 'names', 'ghost'), 'f'.repeat(64));
    aged(join(paths.root, 'names', 'ghost'));
    // the service's conmon and process killed: its exit unrecorded, its network endpoint leaked (before the
    // abandoned creation is planted: `ps` removes those)
    const webId = ok(suite.ts(p, 'ps', '-q', 'web')).trim();
    const web = JSON.parse(readFileSync(join(paths.containers, webId, 'record.json'), 'utf8')) as { state: { pid: number; conmonPid: number } };
    process.kill(web.state.conmonPid, 'SIGKILL');
    process.kill(web.state.pid, 'SIGKILL');
    // an abandoned creation, its rootfs mounted, with the anonymous volume it had made
    const abandoned = createHash('sha256').update('abandoned').digest('hex');
    const anonymous = createHash('sha256').update('abandoned-volume').digest('hex');
    mkdirSync(join(paths.volumes, anonymous, '_data'), { recursive: true });
    writeFileSync(
      join(paths.volumes, anonymous, 'volume.json'),
      JSON.stringify({ name: anonymous, driver: 'local', labels: { 'com.docker.volume.anonymous': '' }, created: Date.now() }),
    );
    const adir = join(paths.containers, abandoned);
    mkdirSync(join(adir, 'bundle', 'rootfs'), { recursive: true });
    writeFileSync(
      join(adir, 'record.json'),
      JSON.stringify({
        id: abandoned,
        name: 'abandoned',
        image: 'busybox:latest',
        imageId,
        labels: {},
        created: Date.now(),
        hostname: 'x',
        spec: { name: 'abandoned', image: 'busybox:latest', labels: {} },
        mounts: [],
        anonymousVolumes: [anonymous],
        state: { status: 'created', exitCode: 0, restartCount: 0, stoppedByUser: false, generation: 0 },
        creating: dead,
      }),
    );
    writeFileSync(join(paths.root, 'names', 'abandoned'), abandoned);
    expect(spawnSync('mount', ['-t', 'tmpfs', 'tmpfs', join(adir, 'bundle', 'rootfs')]).status).toBe(0);
    // a volume whose creation was cut off, and a dead build's scratch with a mount in it
    mkdirSync(join(paths.volumes, 'half', '_data'), { recursive: true });
    // what DNS resolvers serve for networks with no record (a removal cut off by an older version)
    const dnsFiles = join(paths.root, 'dns', 'dns', 'networks');
    const served = readdirSync(dnsFiles).filter((f) => f.endsWith('.json'));
    expect(served.length).toBeGreaterThan(0); // the project's network (dropped by the repair too: its one container is killed below)
    writeFileSync(join(dnsFiles, 'ghostnet.json'), readFileSync(join(dnsFiles, served[0]!)));
    mkdirSync(join(paths.root, 'dns-links', 'ghostlink'), { recursive: true });
    // and a volume whose removal was cut off after its data went
    mkdirSync(join(paths.volumes, 'gutted'), { recursive: true });
    writeFileSync(join(paths.volumes, 'gutted', 'volume.json'), JSON.stringify({ name: 'gutted', driver: 'local', labels: {}, created: Date.now() }));
    const runDir = join(paths.root, 'build', 'runs', `${dead}-x1`);
    mkdirSync(join(runDir, 'root-0'), { recursive: true });
    expect(spawnSync('mount', ['-t', 'tmpfs', 'tmpfs', join(runDir, 'root-0')]).status).toBe(0);

    // --- found ----------------------------------------------------------------------------------------------------
    let found: ReturnType<typeof check> | undefined;
    for (let i = 0; i < 50; i++) {
      found = check();
      if (found.json.problems.some((x) => x.problem.includes('exit was not recorded'))) break;
      spawnSync('sleep', ['0.1']);
    }
    const got = found!.json.problems.map((x) => `${x.area} ${x.subject}`);
    expect(found!.status).toBe(1);
    expect(found!.stderr).toContain('tscompose check --repair');
    expect(found!.json.ok).toBe(false);
    expect(got).toEqual(
      expect.arrayContaining([
        `images tmp/${dead}-abc`,
        `images .repositories.json.tmp-${dead}-0a1b`,
        `images ${manifest.layers[0]!.digest}`,
        `images l/${shortLinkName(record.layers[0]!.chainId)}`,
        'containers names/ghost',
        'containers abandoned',
        `containers ${p.name}-web-1`,
        'volumes half',
        'volumes gutted',
        'networks ghostnet',
        'networks ghostlink',
        `build build/runs/${dead}-x1`,
      ]),
    );
    expect(found!.json.problems.some((x) => x.area === 'networks' && x.problem.includes('not running'))).toBe(true);
    expect(found!.json.problems.every((x) => !x.repaired && x.repair !== undefined)).toBe(true);

    // --- repaired -------------------------------------------------------------------------------------------------
    const fixed = check('--repair');
    expect(fixed.json.problems.filter((x) => !x.repaired)).toEqual([]);
    expect(fixed.status).toBe(0);
    expect(existsSync(adir)).toBe(false);
    expect(existsSync(join(paths.volumes, anonymous))).toBe(false);
    expect(existsSync(runDir)).toBe(false);
    expect(existsSync(join(paths.volumes, 'half'))).toBe(false);
    expect(existsSync(join(paths.volumes, 'gutted'))).toBe(false);
    expect(existsSync(join(dnsFiles, 'ghostnet.json'))).toBe(false);
    expect(existsSync(join(paths.root, 'dns-links', 'ghostlink'))).toBe(false);
    expect(existsSync(layerBlob)).toBe(false);
    expect(readlinkSync(link)).toBe(linkTarget);
    expect(suite.mounts().filter((m) => m.startsWith(adir) || m.startsWith(runDir))).toEqual([]);
    const again = check();
    expect(again.json.problems).toEqual([]);
    expect(again.status).toBe(0);

    // --- the project still works ----------------------------------------------------------------------------------
    expect(ok(suite.ts(p, 'ps', '-a'))).toMatch(/Exited/);
    ok(suite.ts(p, 'up', '-d'));
    expect(ok(suite.ts(p, 'exec', '-T', 'web', 'cat', '/data/f')).trim()).toBe('kept');
    ok(suite.ts(p, 'down', '-v', '-t', '0'));
    expect(check().json.problems).toEqual([]);
    expect(suite.leftovers()).toEqual([]);
  }, 240_000);

  test('a creation that fails removes the anonymous volumes it made', () => {
    ok(suite.ts(undefined, 'image', 'pull', 'busybox:latest'));
    const volumes = (): string[] => (existsSync(paths.volumes) ? readdirSync(paths.volumes).sort() : []);
    const before = volumes();
    // A relative working_dir passes the loader and fails the creation after its volumes are made, as Docker's does.
    const p = suite.project({
      'compose.yaml':
        'services:\n  bad:\n    image: busybox:latest\n    command: ["sleep", "60"]\n    working_dir: relative\n    volumes: ["/data"]\n',
    });
    const r = suite.ts(p, 'up', '-d');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("the working directory 'relative' is invalid");
    expect(volumes()).toEqual(before);
    ok(suite.ts(p, 'down', '-v'));
    expect(check().json.problems).toEqual([]);
  }, 120_000);
});
