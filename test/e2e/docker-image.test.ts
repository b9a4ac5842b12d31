/**
 * End-to-end, `tscompose --runtime docker image …` against the real Docker Engine, from a directory without a
 * compose file: pull, tag, ls, inspect, save (to a file and to stdout), rm, load (file and stdin). Same
 * conventions as docker.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bin, docker, engine, env, ok, required, requireEngine } from './helpers.js';

const run = engine || required ? describe : describe.skip;
const dir = mkdtempSync(join(tmpdir(), 'tscompose-e2e-image-'));
const tag = `tscompose-e2e-image/${Math.random().toString(36).slice(2, 8)}:t1`;

function image(...args: string[]): SpawnSyncReturns<string> {
  return spawnSync(bin, ['--runtime', 'docker', '--progress', 'plain', 'image', ...args], { cwd: dir, encoding: 'utf8', env, timeout: 180_000 });
}

beforeAll(requireEngine);
afterAll(() => {
  spawnSync('docker', ['rmi', '-f', tag]);
  rmSync(dir, { recursive: true, force: true });
});

run('docker engine e2e: image commands', () => {
  test('pull, tag, ls, inspect, save, rm, load, rm', () => {
    const pulled = image('pull', 'busybox:latest');
    expect(ok(pulled)).toBe('busybox:latest\n');
    expect(pulled.stderr).toContain('Image busybox:latest  Pulled');
    const id = docker('image', 'inspect', '-f', '{{.Id}}', 'busybox:latest');

    expect(ok(image('tag', 'busybox:latest', tag))).toBe('');
    expect(docker('image', 'inspect', '-f', '{{.Id}}', tag)).toBe(id);

    const repo = tag.slice(0, tag.lastIndexOf(':'));
    const listed = ok(image('ls', repo)).split('\n');
    expect(listed[0]).toMatch(/^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
    expect(listed[1]).toMatch(new RegExp(`^${repo}\\s+t1\\s+${id.slice(7, 19)}\\s+.+ ago\\s+[\\d.]+[kMG]?B$`));
    expect(ok(image('ls', '-q', repo))).toBe(`${id.slice(7, 19)}\n`);
    const json = ok(image('list', '--format', 'json', repo))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, string>);
    expect(json).toEqual([expect.objectContaining({ Repository: repo, Tag: 't1', ID: id.slice(7, 19) })]);

    const details = JSON.parse(ok(image('inspect', tag))) as { Id: string; RepoTags: string[]; Config: unknown }[];
    expect(details).toHaveLength(1);
    expect(details[0]!.Id).toBe(id);
    expect(details[0]!.RepoTags).toContain(tag);
    expect(details[0]!.Config).toBeDefined();

    const file = join(dir, 'saved.tar');
    expect(ok(image('save', '-o', file, tag))).toBe('');
    expect(statSync(file).size).toBeGreaterThan(1024);
    const streamed = spawnSync(bin, ['--runtime', 'docker', 'image', 'save', tag], { cwd: dir, env, timeout: 180_000, maxBuffer: 256 * 1024 * 1024 });
    expect(streamed.status).toBe(0);
    expect(streamed.stdout.length).toBeGreaterThan(1024);
    expect(streamed.stdout.includes('manifest.json')).toBe(true);

    expect(ok(image('rm', tag))).toBe(`Untagged: ${tag}\n`);
    expect(spawnSync('docker', ['image', 'inspect', tag]).status).not.toBe(0);
    expect(docker('image', 'inspect', '-f', '{{.Id}}', 'busybox:latest')).toBe(id);

    expect(ok(image('load', '-i', file))).toBe(`Loaded image: ${tag}\n`);
    expect(docker('image', 'inspect', '-f', '{{.Id}}', tag)).toBe(id);
    expect(ok(image('ls', '-q', repo))).toBe(`${id.slice(7, 19)}\n`);

    expect(ok(image('rm', tag))).toBe(`Untagged: ${tag}\n`);
    const fromStdin = spawnSync(bin, ['--runtime', 'docker', 'image', 'load'], {
      cwd: dir,
      env,
      input: readFileSync(file),
      encoding: 'utf8',
      timeout: 180_000,
    });
    expect(ok(fromStdin)).toBe(`Loaded image: ${tag}\n`);

    expect(ok(image('rm', tag))).toBe(`Untagged: ${tag}\n`);
    const missing = image('inspect', tag);
    expect(missing.status).toBe(1);
    expect(missing.stdout).toBe('[]\n');
    expect(missing.stderr).toBe(`error: no such image: ${tag}\n`);
    expect(ok(image('ls', '-q', repo))).toBe('');
  }, 180_000);

  test('errors without stack traces: a missing image to rm, save or tag; a bad archive to load', () => {
    for (const args of [
      ['rm', 'tscompose-e2e-no-such:1'],
      ['save', '-o', join(dir, 'x.tar'), 'tscompose-e2e-no-such:1'],
      ['tag', 'tscompose-e2e-no-such:1', 'x:1'],
    ]) {
      const r = image(...args);
      expect(r.status).toBe(1);
      expect(r.stderr).toBe('error: no such image: tscompose-e2e-no-such:1\n');
    }
    const bad = spawnSync(bin, ['--runtime', 'docker', 'image', 'load'], {
      cwd: dir,
      env,
      input: 'not an archive',
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^error: loading images: /);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  }, 120_000);
});
