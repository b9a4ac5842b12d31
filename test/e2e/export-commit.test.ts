/**
 * End-to-end: `export`, `commit` and `volumes` (issue 18) on Docker Engine and on the native runtime, the same
 * scenario on both: a service writes a file and deletes one of its image's, `export` gives its filesystem as a tar
 * (to a file and to a pipe) without the deleted file, `commit` makes an image whose containers see the change, with
 * the `-c` instructions, message and author; `volumes` lists the project's volumes. Docker runs when the engine
 * answers; native as root with conmon and runc/crun, images from the local registry (scripts/engine-env.sh).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Projects, SLEEPER, bin, engine, env as dockerEnv, ok, required, requireEngine, tsc } from './helpers.js';
import { capable, nativeDescribe, NativeSuite } from './native-harness.js';

type Run = (p: { dir: string; name: string }, ...args: string[]) => SpawnSyncReturns<string>;

const COMPOSE = `services:\n  app:\n    ${SLEEPER}\n    volumes: [data:/data]\nvolumes:\n  data:\n`;

/** The member names of a tar file (GNU tar). */
const members = (file: string): string[] =>
  ok(spawnSync('tar', ['-tf', file], { encoding: 'utf8' }))
    .split('\n')
    .filter(Boolean);

function scenario(
  label: string,
  ts: Run,
  env: NodeJS.ProcessEnv,
  create: (files: Record<string, string>) => { dir: string; name: string },
  images: string[],
): void {
  let p: { dir: string; name: string };

  beforeAll(() => {
    p = create({ 'compose.yaml': COMPOSE });
    ok(ts(p, 'up', '-d'));
    ok(ts(p, 'exec', '-T', 'app', 'sh', '-c', 'echo kept > /added.txt && rm /etc/group && echo vol > /data/in-volume'));
  }, 300_000);

  test(`${label}: export -o FILE: the container's files, the deleted one gone, the volume's content not in it`, () => {
    const file = join(p.dir, 'app.tar');
    const r = ts(p, 'export', 'app', '-o', file);
    ok(r);
    expect(r.stderr).toMatch(/Exported/);
    const names = members(file);
    expect(names).toEqual(expect.arrayContaining(['added.txt', 'bin/busybox']));
    expect(names.some((n) => n.startsWith('./'))).toBe(false);
    expect(names).not.toContain('etc/group');
    expect(names).not.toContain('data/in-volume');
    expect(ok(spawnSync('tar', ['-xOf', file, 'added.txt'], { encoding: 'utf8' }))).toBe('kept\n');
    // docker's output path check
    const bad = ts(p, 'export', 'app', '-o', join(p.dir, 'no', 'such', 'x.tar'));
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/invalid output path: directory ".*no\/such" does not exist/);
    expect(existsSync(join(p.dir, 'no'))).toBe(false);
  }, 120_000);

  test(`${label}: export to a pipe; an unknown index is refused as compose words it`, () => {
    const r = spawnSync('sh', ['-c', `cd "$1" && "$0" -p "$2" --progress plain export app | tar -tf - | grep -c '^added.txt$'`, bin, p.dir, p.name], {
      encoding: 'utf8',
      env,
    });
    expect(r.stdout.trim()).toBe('1');
    const missing = ts(p, 'export', '--index', '5', 'app', '-o', join(p.dir, 'x.tar'));
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toContain('service "app" is not running container #5');
  }, 120_000);

  test(`${label}: commit makes an image of the changes with -c, -m, -a; its containers see them`, () => {
    const ref = `${p.name}-committed:1`;
    images.push(ref);
    const r = ts(
      p,
      'commit',
      '-c',
      'ENV COMMITTED=yes',
      '-c',
      'CMD ["cat", "/added.txt"]',
      '-m',
      'e2e commit',
      '-a',
      'E2E <e2e@example.com>',
      'app',
      ref,
    );
    ok(r);
    expect(r.stderr).toMatch(/Committed as sha256:[0-9a-f]{64}/);
    const [inspect] = JSON.parse(ok(ts(p, 'image', 'inspect', ref))) as {
      Author: string;
      Config: { Env: string[]; Cmd: string[]; Labels: Record<string, string> };
    }[];
    expect(inspect!.Author).toBe('E2E <e2e@example.com>');
    expect(inspect!.Config.Env).toContain('COMMITTED=yes');
    expect(inspect!.Config.Cmd).toEqual(['cat', '/added.txt']);
    expect(inspect!.Config.Labels['com.docker.compose.service']).toBe('app');
    // the container is running again (it was paused meanwhile)
    expect(ok(ts(p, 'ps', '--format', 'json'))).toMatch(/"State":"running"/);

    const q = create({ 'compose.yaml': `services:\n  from:\n    image: ${ref}\n` });
    expect(ok(ts(q, 'run', '--rm', 'from')).trim()).toBe('kept');
    expect(
      ok(ts(q, 'run', '--rm', 'from', 'sh', '-c', 'test -e /etc/group && echo present || echo gone; echo $COMMITTED'))
        .trim()
        .split('\n'),
    ).toEqual(['gone', 'yes']);
  }, 300_000);

  test(`${label}: volumes lists the project's volume (table, -q, json, by service)`, () => {
    const vol = `${p.name}_data`;
    expect(ok(ts(p, 'volumes')).split('\n')[0]).toMatch(/^DRIVER\s+VOLUME NAME$/);
    expect(ok(ts(p, 'volumes', '-q')).trim()).toBe(vol);
    expect(JSON.parse(ok(ts(p, 'volumes', '--format', 'json')).trim())).toMatchObject({ Name: vol, Driver: 'local' });
    expect(ok(ts(p, 'volumes', '-q', 'app')).trim()).toBe(vol);
    expect(ts(p, 'volumes', 'nope').stderr).toContain('no such service: nope');
  }, 120_000);
}

// -- Docker --------------------------------------------------------------------------------------------------------

const dockerImages: string[] = [];
const projects = new Projects();
const dockerTs: Run = (p, ...args) => tsc(p, ...args);

(engine || required ? describe : describe.skip)('docker: export, commit, volumes', () => {
  beforeAll(requireEngine);
  afterAll(() => {
    projects.cleanup();
    for (const img of dockerImages) spawnSync('docker', ['rmi', '-f', img]);
  }, 120_000);
  scenario('docker', dockerTs, dockerEnv, (files) => projects.create(files), dockerImages);
});

// -- native --------------------------------------------------------------------------------------------------------

const suite = new NativeSuite();
const nativeTs: Run = (p, ...args) => suite.ts(p, ...args);

(nativeDescribe ? describe : describe.skip)('native: export, commit, volumes', () => {
  beforeAll(() => {
    if (required && !capable) throw new Error('TSCOMPOSE_E2E=1 but the native runtime cannot run here (root, conmon and runc/crun needed)');
    ok(suite.ts(undefined, 'image', 'pull', 'busybox:latest'));
  }, 300_000);
  afterAll(() => suite.cleanup(), 120_000);
  scenario('native', nativeTs, suite.env, (files) => suite.project(files), []);

  test('native: a stopped container is refused as compose does; once started again its changes are exported', () => {
    const p = suite.project({ 'compose.yaml': COMPOSE });
    ok(suite.ts(p, 'up', '-d'));
    ok(suite.ts(p, 'exec', '-T', 'app', 'sh', '-c', 'echo x > /stopped.txt'));
    // compose exports running containers only
    ok(suite.ts(p, 'stop', '-t', '0'));
    expect(suite.ts(p, 'export', 'app', '-o', join(p.dir, 's.tar')).stderr).toContain('service "app" is not running');
    ok(suite.ts(p, 'start'));
    ok(suite.ts(p, 'export', 'app', '-o', join(p.dir, 's.tar')));
    expect(members(join(p.dir, 's.tar'))).toContain('stopped.txt');
    expect(readFileSync(join(p.dir, 's.tar')).length % 512).toBe(0);
  }, 300_000);
});
