/**
 * End-to-end: commands that change one project, run at the same time from separate processes, on Docker and on the
 * native runtime. Three `up -d` of one project all succeed and leave one network and one container per service
 * (before the project lock, Docker got three default networks and two of the three failed with "network is
 * ambiguous"); `up -d` of two other projects at the same time proceed alongside; `down` then leaves nothing.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bin, docker, engine, env as dockerEnv, requireEngine, required } from './helpers.js';
import { capable, nativeDescribe, NativeSuite } from './native-harness.js';
import { nativePaths } from '../../src/runtime/native/state.js';

const COMPOSE = `services:
  a:
    image: busybox:latest
    command: ["sleep", "3600"]
    init: true
  b:
    image: busybox:latest
    command: ["sleep", "3600"]
    init: true
`;

/** Runs the CLI without blocking the event loop (the point is that several run at once). */
function run(dir: string, env: NodeJS.ProcessEnv, args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(bin, ['--progress', 'plain', ...args], { cwd: dir, env });
    let out = '';
    p.stdout.on('data', (c: Buffer) => (out += c.toString()));
    p.stderr.on('data', (c: Buffer) => (out += c.toString()));
    p.on('close', (code) => resolve({ code, out }));
  });
}

async function scenario(
  env: NodeJS.ProcessEnv,
  names: { same: string; others: [string, string] },
  state: (project: string) => { containers: string[]; networks: string[] },
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tsc-parallel-'));
  try {
    writeFileSync(join(dir, 'compose.yaml'), COMPOSE);
    const results = await Promise.all([1, 2, 3].map(() => run(dir, env, ['-p', names.same, 'up', '-d'])));
    for (const r of results) expect([r.code, r.out]).toEqual([0, expect.any(String)]);
    const s = state(names.same);
    expect(s.networks).toEqual([`${names.same}_default`]);
    expect(s.containers.sort()).toEqual([`${names.same}-a-1`, `${names.same}-b-1`]);
    const others = await Promise.all(names.others.map((p) => run(dir, env, ['-p', p, 'up', '-d'])));
    for (const r of others) expect([r.code, r.out]).toEqual([0, expect.any(String)]);
    for (const p of [names.same, ...names.others]) expect((await run(dir, env, ['-p', p, 'down', '-t', '0'])).code).toBe(0);
    for (const p of [names.same, ...names.others]) expect(state(p)).toEqual({ containers: [], networks: [] });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const rand = (): string => Math.random().toString(36).slice(2, 8);

(engine || required ? describe : describe.skip)('parallel commands on one project: Docker', () => {
  const id = rand();
  const names = { same: `e2e-par-${id}`, others: [`e2e-par2-${id}`, `e2e-par3-${id}`] as [string, string] };
  beforeAll(requireEngine);
  afterAll(() => {
    for (const p of [names.same, ...names.others]) void run(tmpdir(), dockerEnv, ['-p', p, 'down', '-t', '0']);
  });
  test('three up -d of one project: all succeed, one network, one container per service; other projects alongside', async () => {
    const lines = (s: string): string[] => s.split('\n').filter(Boolean);
    await scenario(dockerEnv, names, (p) => ({
      containers: lines(docker('ps', '-a', '--filter', `label=com.docker.compose.project=${p}`, '--format', '{{.Names}}')),
      networks: lines(docker('network', 'ls', '--filter', `label=com.docker.compose.project=${p}`, '--format', '{{.Name}}')),
    }));
  }, 180_000);
});

(nativeDescribe ? describe : describe.skip)('parallel commands on one project: native', () => {
  let suite: NativeSuite | undefined;
  const id = rand();
  const names = { same: `nb-par-${id}`, others: [`nb-par2-${id}`, `nb-par3-${id}`] as [string, string] };
  beforeAll(() => {
    if (required && !capable) throw new Error('TSCOMPOSE_E2E=1 but the native runtime cannot run here');
    suite = new NativeSuite();
  });
  afterAll(() => suite?.cleanup(), 120_000);
  test('three up -d of one project: all succeed, one network, one container per service; other projects alongside', async () => {
    const s = suite!;
    const paths = nativePaths({ stateDir: s.env['TSCOMPOSE_STATE_DIR'], runDir: s.env['TSCOMPOSE_RUN_DIR'] });
    const netState = join(paths.root, 'net', 'networks.json');
    await scenario(s.env, names, (p) => {
      const ps = s.ts({ dir: tmpdir(), name: p }, 'ps', '-a', '--format', 'json');
      const containers = ps.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => (JSON.parse(l) as { Name: string }).Name);
      const nets = existsSync(netState)
        ? Object.keys((JSON.parse(readFileSync(netState, 'utf8')) as { networks?: Record<string, unknown> }).networks ?? {})
        : [];
      return { containers, networks: nets.filter((n) => n.startsWith(`${p}_`)) };
    });
    expect(s.leftovers()).toEqual([]);
  }, 180_000);
});
