/**
 * End-to-end, the rest of the command set against the real Docker Engine: lifecycle (create/start/stop/restart/
 * kill/pause/unpause/rm), build/pull/push/images, top/ls/events/wait/cp, logs -f across a restart, attached up
 * with --exit-code-from. Same conventions as docker.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Projects, SLEEPER, bin, docker, engine, env, ok, required, requireEngine, tsc } from './helpers.js';

const run = engine || required ? describe : describe.skip;
const projects = new Projects();
const project = (files: Record<string, string>) => projects.create(files);

const state = (name: string): string => docker('inspect', '-f', '{{.State.Status}}', name);

const REGISTRY = `127.0.0.1:${process.env.TSCOMPOSE_REGISTRY_PORT ?? '5001'}`;

const images: string[] = [];

afterAll(() => {
  projects.cleanup();
  for (const img of images) spawnSync('docker', ['rmi', '-f', img]);
});

beforeAll(requireEngine);

run('docker engine e2e: command set', () => {
  test('create, start, stop, restart, kill, pause, unpause, rm', () => {
    const p = project({ 'compose.yaml': `services:\n  s:\n    ${SLEEPER}\n` });
    const c = `${p.name}-s-1`;
    ok(tsc(p, 'create'));
    expect(state(c)).toBe('created');
    ok(tsc(p, 'start'));
    expect(state(c)).toBe('running');
    ok(tsc(p, 'pause'));
    expect(state(c)).toBe('paused');
    ok(tsc(p, 'unpause'));
    expect(state(c)).toBe('running');
    const started = docker('inspect', '-f', '{{.State.StartedAt}}', c);
    ok(tsc(p, 'restart', '-t', '1'));
    expect(docker('inspect', '-f', '{{.State.StartedAt}}', c)).not.toBe(started);
    ok(tsc(p, 'stop', '-t', '1'));
    expect(state(c)).toBe('exited');
    ok(tsc(p, 'start'));
    ok(tsc(p, 'kill', '-s', 'SIGKILL'));
    expect(docker('inspect', '-f', '{{.State.ExitCode}}', c)).toBe('137');
    ok(tsc(p, 'rm', '-f'));
    expect(spawnSync('docker', ['inspect', c]).status).not.toBe(0);
  });

  test('build with args, target and labels honours .dockerignore; images lists it; push and pull go through the registry', () => {
    const tag = `${REGISTRY}/tscompose-e2e/app:${Math.random().toString(36).slice(2, 8)}`;
    images.push(tag);
    const p = project({
      'compose.yaml': `services:\n  app:\n    image: ${tag}\n    build:\n      context: .\n      target: final\n      args: {GREETING: hi-from-args}\n      labels: {e2e.label: yes}\n    command: ["sleep", "3600"]\n    init: true\n`,
      Dockerfile: 'FROM busybox:latest AS base\nARG GREETING\nRUN echo "$GREETING" > /greeting\nFROM base AS final\nCOPY . /ctx/\n',
      'keep.txt': 'kept\n',
      'secret.txt': 'must not be sent\n',
      '.dockerignore': 'secret.txt\n',
    });
    ok(tsc(p, 'build'));
    expect(docker('inspect', '-f', '{{index .Config.Labels "e2e.label"}}', tag)).toBe('yes');
    ok(tsc(p, 'up', '-d'));
    expect(ok(tsc(p, 'exec', '-T', 'app', 'cat', '/greeting')).trim()).toBe('hi-from-args');
    expect(tsc(p, 'exec', '-T', 'app', 'test', '-e', '/ctx/secret.txt').status).toBe(1);
    expect(ok(tsc(p, 'exec', '-T', 'app', 'cat', '/ctx/keep.txt')).trim()).toBe('kept');
    expect(ok(tsc(p, 'images'))).toContain(tag.split(':')[0]!.split('/').pop()!);
    ok(tsc(p, 'down', '-t', '1'));
    ok(tsc(p, 'push'));
    docker('rmi', tag);
    ok(tsc(p, 'pull'));
    expect(docker('image', 'inspect', '-f', '{{.Id}}', tag)).toMatch(/^sha256:/);
  });

  test('a failing build and a missing image fail with the engine message', () => {
    const p = project({
      'compose.yaml': 'services:\n  b:\n    build:\n      context: .\n      dockerfile_inline: "FROM busybox:latest\\nRUN exit 7\\n"\n',
    });
    const r = tsc(p, 'build');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/returned a non-zero code: 7|exit code: 7/);
    const q = project({ 'compose.yaml': `services:\n  m:\n    image: ${REGISTRY}/tscompose-e2e/does-not-exist:nope\n` });
    const r2 = tsc(q, 'pull');
    expect(r2.status).not.toBe(0);
    expect(r2.stderr.toLowerCase()).toMatch(/not found|manifest unknown/);
  });

  test('top, ls, wait, cp', () => {
    const p = project({
      'compose.yaml': `services:\n  s:\n    ${SLEEPER}\n  once:\n    image: busybox:latest\n    command: ["sh", "-c", "sleep 1; exit 5"]\n`,
    });
    ok(tsc(p, 'up', '-d'));
    expect(ok(tsc(p, 'top', 's'))).toContain('sleep 3600');
    expect(ok(tsc(p, 'ls'))).toContain(p.name);
    expect(tsc(p, 'wait', 'once').stdout.trim()).toBe('5');
    const local = join(p.dir, 'hello.txt');
    writeFileSync(local, 'copied-in\n');
    ok(tsc(p, 'cp', local, 's:/tmp/hello.txt'));
    expect(ok(tsc(p, 'exec', '-T', 's', 'cat', '/tmp/hello.txt')).trim()).toBe('copied-in');
    const back = join(p.dir, 'back.txt');
    ok(tsc(p, 'cp', 's:/tmp/hello.txt', back));
    expect(existsSync(back) && readFileSync(back, 'utf8')).toBe('copied-in\n');
  });

  test('events --json reports container starts of the project', async () => {
    const p = project({ 'compose.yaml': `services:\n  s:\n    ${SLEEPER}\n` });
    ok(tsc(p, 'create'));
    const child = spawn(bin, ['-p', p.name, 'events', '--json'], { cwd: p.dir, env });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await new Promise((r) => setTimeout(r, 1500));
    ok(tsc(p, 'start'));
    for (let i = 0; i < 50 && !out.includes('"start"'); i++) await new Promise((r) => setTimeout(r, 200));
    child.kill('SIGINT');
    const lines = out
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.some((e) => e.action === 'start' && String(e.service ?? e.container ?? '').length > 0)).toBe(true);
  });

  test('attached up streams prefixed output and --exit-code-from returns that exit code', () => {
    const p = project({
      'compose.yaml': `services:\n  main:\n    image: busybox:latest\n    command: ["sh", "-c", "echo main-says-hi; sleep 1; exit 3"]\n  side:\n    ${SLEEPER}\n`,
    });
    const r = tsc(p, 'up', '--exit-code-from', 'main', '--no-color');
    expect(r.status).toBe(3);
    expect(r.stdout).toMatch(/main-1\s+\| main-says-hi/);
  });

  test('logs -f keeps following across a restart', async () => {
    const p = project({
      'compose.yaml': `services:\n  t:\n    image: busybox:latest\n    command: ["sh", "-c", "echo started-$$RANDOM; sleep 3600"]\n    init: true\n`,
    });
    ok(tsc(p, 'up', '-d'));
    const child = spawn(bin, ['-p', p.name, 'logs', '-f', '--no-color'], { cwd: p.dir, env });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    for (let i = 0; i < 50 && (out.match(/started-/g) ?? []).length < 1; i++) await new Promise((r) => setTimeout(r, 200));
    ok(tsc(p, 'restart', '-t', '1'));
    for (let i = 0; i < 75 && (out.match(/started-/g) ?? []).length < 2; i++) await new Promise((r) => setTimeout(r, 200));
    child.kill('SIGINT');
    expect((out.match(/started-/g) ?? []).length).toBeGreaterThanOrEqual(2);
  });
});
