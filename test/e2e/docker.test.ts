/**
 * End-to-end: drives bin/tscompose against the real Docker Engine (started by scripts/engine-env.sh; images come
 * from the local registry mirror). Every project is named e2e-<random> and removed afterwards by label.
 *
 * Runs when Docker answers. With TSCOMPOSE_E2E=1 (set by .ci/run) a missing engine is a failure, not a skip.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Projects, SLEEPER, docker, engine, ok, required, requireEngine, tsc } from './helpers.js';

const run = engine || required ? describe : describe.skip;
const projects = new Projects();
const project = (files: Record<string, string>) => projects.create(files);

/** Containers of a project: name → id, from the compose labels. */
function containers(name: string, all = true): Record<string, string> {
  const out = docker('ps', ...(all ? ['-a'] : []), '--filter', `label=com.docker.compose.project=${name}`, '--format', '{{.Names}} {{.ID}}');
  return Object.fromEntries(
    out
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(' ') as [string, string]),
  );
}

const label = (id: string, key: string): string => docker('inspect', '-f', `{{index .Config.Labels "${key}"}}`, id);

const randomPort = (): number => 20000 + Math.floor(Math.random() * 20000);

afterAll(() => {
  projects.cleanup();
});

beforeAll(requireEngine);

run('docker engine e2e', () => {
  test('up -d creates labelled containers and a default network; a second up changes nothing', () => {
    const p = project({ 'compose.yaml': `services:\n  a:\n    ${SLEEPER}\n  b:\n    ${SLEEPER}\n    depends_on: [a]\n` });
    ok(tsc(p, 'up', '-d'));
    const c = containers(p.name, false);
    expect(Object.keys(c).sort()).toEqual([`${p.name}-a-1`, `${p.name}-b-1`]);
    const b = c[`${p.name}-b-1`]!;
    expect(label(b, 'com.docker.compose.project')).toBe(p.name);
    expect(label(b, 'com.docker.compose.service')).toBe('b');
    expect(label(b, 'com.docker.compose.container-number')).toBe('1');
    expect(label(b, 'com.docker.compose.oneoff')).toBe('False');
    expect(label(b, 'com.docker.compose.config-hash')).toMatch(/^[0-9a-f]{64}$/);
    expect(docker('network', 'ls', '--format', '{{.Name}}', '--filter', `label=com.docker.compose.project=${p.name}`)).toBe(`${p.name}_default`);
    ok(tsc(p, 'up', '-d'));
    expect(containers(p.name, false)).toEqual(c);
  });

  test('only the service whose config changed is recreated', () => {
    const p = project({ 'compose.yaml': `services:\n  a:\n    ${SLEEPER}\n  b:\n    ${SLEEPER}\n` });
    ok(tsc(p, 'up', '-d'));
    const before = containers(p.name);
    writeFileSync(join(p.dir, 'compose.yaml'), `services:\n  a:\n    ${SLEEPER}\n  b:\n    ${SLEEPER}\n    environment: {X: "1"}\n`);
    ok(tsc(p, 'up', '-d'));
    const after = containers(p.name);
    expect(after[`${p.name}-a-1`]).toBe(before[`${p.name}-a-1`]);
    expect(after[`${p.name}-b-1`]).toBeDefined();
    expect(after[`${p.name}-b-1`]).not.toBe(before[`${p.name}-b-1`]);
    expect(Object.keys(after)).toHaveLength(2);
  });

  test('network_mode: service:X shares X network namespace, also after X is recreated', () => {
    const compose = (x: string) =>
      `services:\n  net:\n    ${SLEEPER}\n    environment: {X: "${x}"}\n  web:\n    image: busybox:latest\n    command: ["sh", "-c", "mkdir -p /www && echo from-sidecar > /www/index.html && exec httpd -f -p 8080 -h /www"]\n    network_mode: service:net\n`;
    const p = project({ 'compose.yaml': compose('1') });
    const fetch = (): string => {
      for (let i = 0; i < 25; i++) {
        const r = tsc(p, 'exec', '-T', 'net', 'wget', '-qO-', 'http://127.0.0.1:8080/');
        if (r.status === 0) return r.stdout.trim();
        spawnSync('sleep', ['0.2']);
      }
      return '';
    };
    ok(tsc(p, 'up', '-d'));
    expect(fetch()).toBe('from-sidecar');
    writeFileSync(join(p.dir, 'compose.yaml'), compose('2'));
    ok(tsc(p, 'up', '-d'));
    expect(fetch()).toBe('from-sidecar');
  });

  test('limits, ulimits, sysctls, shm_size and security_opt reach the container', () => {
    const p = project({
      'compose.yaml': `services:\n  s:\n    ${SLEEPER}\n    mem_limit: 64m\n    cpus: 0.5\n    pids_limit: 50\n    shm_size: 32m\n    ulimits:\n      nofile: {soft: 1024, hard: 2048}\n    sysctls:\n      net.core.somaxconn: 1024\n    security_opt: ["no-new-privileges:true"]\n`,
    });
    ok(tsc(p, 'up', '-d'));
    const id = containers(p.name)[`${p.name}-s-1`]!;
    const host = JSON.parse(docker('inspect', '-f', '{{json .HostConfig}}', id)) as Record<string, unknown>;
    expect(host).toMatchObject({
      Memory: 67108864,
      NanoCpus: 500000000,
      PidsLimit: 50,
      ShmSize: 33554432,
      Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 2048 }],
      Sysctls: { 'net.core.somaxconn': '1024' },
      SecurityOpt: ['no-new-privileges:true'],
    });
    // PID 1 carries the configured limits (Docker gives exec'd processes soft = hard).
    expect(ok(tsc(p, 'exec', '-T', 's', 'grep', 'open files', '/proc/1/limits'))).toMatch(/Max open files\s+1024\s+2048/);
  });

  test('scale up and down keeps stable numbers', () => {
    const p = project({ 'compose.yaml': `services:\n  w:\n    ${SLEEPER}\n` });
    ok(tsc(p, 'up', '-d', '--scale', 'w=3'));
    expect(Object.keys(containers(p.name)).sort()).toEqual([1, 2, 3].map((n) => `${p.name}-w-${n}`));
    ok(tsc(p, 'up', '-d', '--scale', 'w=1'));
    expect(Object.keys(containers(p.name))).toEqual([`${p.name}-w-1`]);
  });

  test('a published port answers on 127.0.0.1', () => {
    const port = randomPort();
    const p = project({
      'compose.yaml': `services:\n  web:\n    image: busybox:latest\n    command: ["sh", "-c", "mkdir -p /www && echo hello-e2e > /www/index.html && exec httpd -f -p 8080 -h /www"]\n    ports: ["127.0.0.1:${port}:8080"]\n`,
    });
    ok(tsc(p, 'up', '-d'));
    let body = '';
    for (let i = 0; i < 50 && !body.includes('hello-e2e'); i++) {
      body = spawnSync('curl', ['-fsS', `http://127.0.0.1:${port}/`], { encoding: 'utf8' }).stdout ?? '';
      if (!body) spawnSync('sleep', ['0.2']);
    }
    expect(body).toContain('hello-e2e');
    expect(ok(tsc(p, 'port', 'web', '8080')).trim()).toBe(`127.0.0.1:${port}`);
  });

  test('named volumes survive down, go with down -v; down leaves nothing else', () => {
    const compose = `services:\n  s:\n    ${SLEEPER}\n    volumes: ["data:/data"]\nvolumes:\n  data: {}\n`;
    const p = project({ 'compose.yaml': compose });
    ok(tsc(p, 'up', '-d'));
    ok(tsc(p, 'exec', '-T', 's', 'sh', '-c', 'echo kept > /data/f'));
    ok(tsc(p, 'down', '-t', '1'));
    expect(containers(p.name)).toEqual({});
    expect(docker('network', 'ls', '-q', '--filter', `label=com.docker.compose.project=${p.name}`)).toBe('');
    expect(docker('volume', 'ls', '-q', '--filter', `label=com.docker.compose.project=${p.name}`)).toBe(`${p.name}_data`);
    ok(tsc(p, 'up', '-d'));
    expect(ok(tsc(p, 'exec', '-T', 's', 'cat', '/data/f')).trim()).toBe('kept');
    ok(tsc(p, 'down', '-v', '-t', '1'));
    expect(docker('volume', 'ls', '-q', '--filter', `label=com.docker.compose.project=${p.name}`)).toBe('');
  });

  test('run and exec return the command exit code', () => {
    const p = project({ 'compose.yaml': `services:\n  s:\n    ${SLEEPER}\n` });
    expect(tsc(p, 'run', '--rm', '-T', 's', 'sh', '-c', 'exit 3').status).toBe(3);
    ok(tsc(p, 'up', '-d'));
    expect(tsc(p, 'exec', '-T', 's', 'sh', '-c', 'exit 4').status).toBe(4);
    const r = tsc(p, 'run', '--rm', '-T', '-e', 'FOO=bar', 's', 'sh', '-c', 'echo $FOO');
    expect(ok(r).trim()).toBe('bar');
    expect(Object.keys(containers(p.name)).filter((n) => n.includes('-run-'))).toEqual([]);
  });

  test('depends_on: service_healthy and service_completed_successfully are waited for', () => {
    const p = project({
      'compose.yaml': `services:
  init:
    image: busybox:latest
    command: ["sh", "-c", "sleep 1; echo done > /shared/ready"]
    volumes: ["shared:/shared"]
  db:
    ${SLEEPER}
    healthcheck: {test: ["CMD", "true"], interval: 1s, retries: 5}
  app:
    image: busybox:latest
    command: ["sh", "-c", "cat /shared/ready && sleep 3600"]
    init: true
    volumes: ["shared:/shared"]
    depends_on:
      init: {condition: service_completed_successfully}
      db: {condition: service_healthy}
volumes:
  shared: {}
`,
    });
    ok(tsc(p, 'up', '-d', '--wait'));
    const c = containers(p.name);
    expect(docker('inspect', '-f', '{{.State.Health.Status}}', c[`${p.name}-db-1`]!)).toBe('healthy');
    expect(docker('inspect', '-f', '{{.State.Running}}', c[`${p.name}-app-1`]!)).toBe('true');
    expect(docker('inspect', '-f', '{{.State.ExitCode}}', c[`${p.name}-init-1`]!)).toBe('0');
  });

  test('a failing dependency stops up with a clear error', () => {
    const p = project({
      'compose.yaml': `services:\n  bad:\n    image: busybox:latest\n    command: ["sh", "-c", "exit 2"]\n  app:\n    ${SLEEPER}\n    depends_on:\n      bad: {condition: service_completed_successfully}\n`,
    });
    const r = tsc(p, 'up', '-d');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/didn't complete successfully: exit 2/);
    const q = project({
      'compose.yaml': `services:\n  db:\n    ${SLEEPER}\n  app:\n    ${SLEEPER}\n    depends_on:\n      db: {condition: service_healthy}\n`,
    });
    const r2 = tsc(q, 'up', '-d');
    expect(r2.status).not.toBe(0);
    expect(r2.stderr).toMatch(/has no healthcheck configured/);
  });

  test('ps, logs and down work from -p alone', () => {
    const p = project({
      'compose.yaml': `services:\n  talk:\n    image: busybox:latest\n    command: ["sh", "-c", "echo line-one; echo line-two; sleep 3600"]\n    init: true\n`,
    });
    ok(tsc(p, 'up', '-d'));
    const ps = JSON.parse(
      `[${ok(tsc(p, 'ps', '--format', 'json'))
        .trim()
        .split('\n')
        .join(',')}]`
        .replace('[[', '[')
        .replace(']]', ']'),
    );
    expect(JSON.stringify(ps)).toContain(`${p.name}-talk-1`);
    let logs = '';
    for (let i = 0; i < 25 && !logs.includes('line-two'); i++) {
      logs = ok(tsc(p, 'logs', '--no-color'));
      if (!logs.includes('line-two')) spawnSync('sleep', ['0.2']);
    }
    expect(logs).toMatch(/talk-1\s+\| line-one/);
    const elsewhere = { dir: tmpdir(), name: p.name };
    expect(
      ok(tsc(elsewhere, 'ps', '-q'))
        .trim()
        .split('\n'),
    ).toHaveLength(1);
    ok(tsc(elsewhere, 'down', '-t', '1'));
    expect(containers(p.name)).toEqual({});
  });

  test('bad input fails with file:line:col and touches nothing', () => {
    const p = project({ 'compose.yaml': 'services:\n  a:\n    image: busybox\n    ports: [1, 2\n' });
    const r = tsc(p, 'up', '-d');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${join(p.dir, 'compose.yaml')}:`);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
    expect(containers(p.name)).toEqual({});
  });
});
