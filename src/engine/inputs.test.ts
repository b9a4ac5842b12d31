/**
 * Input digests (what a service's content depends on, read from disk) and `configChange`, the content-aware
 * config-hash rule with its reasons.
 */
import { afterAll, describe, expect, test } from '@jest/globals';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serviceConfigHash } from '../project/hash.js';
import { loadProjectSync } from '../project/load.js';
import type { LoadedProject, ServiceConfig } from '../project/types.js';
import { inputsLabel, parseInputsLabel } from './labels.js';
import { changedInputs, configChange, digestsOf, inputName, readInputs, serviceInputSources, type ServiceInputs } from './inputs.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

function project(files: Record<string, string>, env: Record<string, string> = {}): LoadedProject & { dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tsc-inputs-'));
  dirs.push(dir);
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(join(dir, f, '..'), { recursive: true });
    writeFileSync(join(dir, f), text);
  }
  return { ...loadProjectSync({ cwd: dir, env, projectName: 'demo' }), dir };
}

const COMPOSE = `
services:
  s1:
    image: busybox
    secrets: [a, ext]
    configs: [inline, fromenv, tree]
  s2:
    image: busybox
    secrets: [b]
    env_file: [s2.env, { path: opt.env, required: false }]
    label_file: labels.txt
secrets:
  a: { file: ./secrets/a.txt }
  b: { file: ./secrets/b.txt }
  ext: { external: true }
configs:
  inline: { content: hello }
  fromenv: { environment: TSC_VALUE }
  tree: { file: ./conf.d }
`;
const FILES = {
  'compose.yaml': COMPOSE,
  'secrets/a.txt': 'A1',
  'secrets/b.txt': 'B1',
  's2.env': 'X=1\n',
  'labels.txt': 'l=1\n',
  'conf.d/one.conf': 'one',
  'conf.d/sub/two.conf': 'two',
};

describe('input sources and digests', () => {
  test('names: paths relative to the project directory, inline sources by kind and key; external ones left out', () => {
    const p = project(FILES, { TSC_VALUE: 'v' });
    const names = (s: string): string[] => serviceInputSources(p.project, p.project.services[s]!, p.dir).map((x) => `${x.kind} ${x.name}`);
    expect(names('s1')).toEqual([
      'secret secrets/a.txt',
      'config config:inline (content)',
      'config config:fromenv (environment TSC_VALUE)',
      'config conf.d',
    ]);
    expect(names('s2')).toEqual(['secret secrets/b.txt', 'env_file s2.env', 'env_file opt.env', 'label_file labels.txt']);
    expect(inputName('/elsewhere/x.txt', p.dir)).toBe('/elsewhere/x.txt');
    expect(inputName(join(p.dir, 'a.txt'), undefined)).toBe(join(p.dir, 'a.txt'));
  });

  test('digests: a file is its sha256, inline sources hashed, a missing optional env_file left out', async () => {
    const p = project(FILES, { TSC_VALUE: 'v' });
    const inputs = await readInputs(p.project, { workingDir: p.dir });
    expect(Object.keys(inputs).sort()).toEqual(['s1', 's2']);
    const s1 = digestsOf(inputs.s1!);
    expect(s1['secrets/a.txt']).toBe(sha('A1'));
    expect(s1['config:inline (content)']).toBe(sha('hello'));
    expect(s1['config:fromenv (environment TSC_VALUE)']).toBe(sha('v'));
    expect(s1['conf.d']).toMatch(/^[0-9a-f]{64}$/);
    expect(digestsOf(inputs.s2!)).toEqual({ 'secrets/b.txt': sha('B1'), 's2.env': sha('X=1\n'), 'labels.txt': sha('l=1\n') });
    expect(inputs.s2!.map((e) => e.name)).toEqual(['labels.txt', 's2.env', 'secrets/b.txt']);
  });

  test('only the services asked for; a directory follows its nested files and links; missing and unset are marked', async () => {
    const p = project(FILES);
    const before = digestsOf((await readInputs(p.project, { services: ['s1'], workingDir: p.dir })).s1!)['conf.d'];
    expect(Object.keys(await readInputs(p.project, { services: ['s1'] }))).toEqual(['s1']);
    writeFileSync(join(p.dir, 'conf.d/sub/two.conf'), 'TWO');
    const nested = digestsOf((await readInputs(p.project, { services: ['s1'], workingDir: p.dir })).s1!)['conf.d'];
    expect(nested).not.toBe(before);
    symlinkSync('one.conf', join(p.dir, 'conf.d/link'));
    const linked = digestsOf((await readInputs(p.project, { services: ['s1'], workingDir: p.dir })).s1!)['conf.d'];
    expect(linked).not.toBe(nested);
    rmSync(join(p.dir, 'secrets/a.txt'));
    const s1 = digestsOf((await readInputs(p.project, { services: ['s1'], workingDir: p.dir })).s1!);
    expect(s1['secrets/a.txt']).toBe('missing');
    expect(s1['config:fromenv (environment TSC_VALUE)']).toBe('unset');
  });

  test('an optional env_file that appears is an input from then on', async () => {
    const p = project(FILES);
    writeFileSync(join(p.dir, 'opt.env'), 'Y=2\n');
    expect(digestsOf((await readInputs(p.project, { services: ['s2'], workingDir: p.dir })).s2!)['opt.env']).toBe(sha('Y=2\n'));
  });

  test('the io.tscompose.inputs label: sorted JSON, read back; anything else is no label', () => {
    const label = inputsLabel({ 'secrets/b.txt': 'b', 'a.env': 'a' });
    expect(label).toBe('{"a.env":"a","secrets/b.txt":"b"}');
    expect(parseInputsLabel(label)).toEqual({ 'a.env': 'a', 'secrets/b.txt': 'b' });
    expect(parseInputsLabel('{}')).toEqual({});
    for (const bad of [undefined, '', 'x', '[]', 'null', '{"a":1}']) expect(parseInputsLabel(bad)).toBeUndefined();
  });

  test('changedInputs: changed, added and removed names, sorted', () => {
    expect(changedInputs({ a: '1', b: '2', c: '3' }, { a: '1', b: '9', d: '4' })).toEqual(['b', 'c', 'd']);
    expect(changedInputs({ a: '1' }, { a: '1' })).toEqual([]);
  });
});

describe('configChange', () => {
  const svc: ServiceConfig = { image: 'busybox', secrets: [{ source: 'a' }], environment: { X: '1' } };
  const entries = (d: Record<string, string>, kind: 'secret' | 'env_file' = 'secret'): ServiceInputs =>
    Object.entries(d).map(([name, digest]) => ({ name, kind, digest }));
  const A = { 'secrets/a.txt': sha('A1') };
  const recordedWith = (s: ServiceConfig, inputs: Record<string, string>) => ({ configHash: serviceConfigHash(s, inputs), inputs });

  test('up to date: same config, same inputs', () => {
    expect(configChange(svc, recordedWith(svc, A), entries(A))).toBeUndefined();
  });

  test('a changed input is named; several are listed, at most three', () => {
    expect(configChange(svc, recordedWith(svc, A), entries({ 'secrets/a.txt': sha('A2') }))).toBe('secrets/a.txt changed');
    const many = { a: '1', b: '1', c: '1', d: '1', e: '1' };
    const now = { a: '2', b: '2', c: '2', d: '2', e: '2' };
    expect(configChange(svc, recordedWith(svc, many), entries(now))).toBe('a, b, c and 2 more changed');
  });

  test('the rest of the service changed too: said as well, unless a changed env_file explains it', () => {
    const other: ServiceConfig = { ...svc, environment: { X: '2' } };
    expect(configChange(other, recordedWith(svc, A), entries({ 'secrets/a.txt': sha('A2') }))).toBe('secrets/a.txt changed, config changed');
    const env = { 'app.env': sha('X=1\n') };
    expect(configChange(other, recordedWith(svc, env), entries({ 'app.env': sha('X=2\n') }, 'env_file'))).toBe('app.env changed');
  });

  test('only the config changed: config changed', () => {
    expect(configChange({ ...svc, environment: { X: '2' } }, recordedWith(svc, A), entries(A))).toBe('config changed');
  });

  test('a container made before inputs were kept (no label) is compared with the hash without inputs', () => {
    const legacy = { configHash: serviceConfigHash(svc) };
    expect(configChange(svc, legacy, entries(A))).toBeUndefined();
    expect(configChange({ ...svc, environment: { X: '2' } }, legacy, entries(A))).toBe('config changed');
    expect(configChange(svc, { configHash: undefined }, entries(A))).toBe('config changed');
  });

  test('inputs not read: the recorded ones are taken as current', () => {
    expect(configChange(svc, recordedWith(svc, A), undefined)).toBeUndefined();
    expect(configChange(svc, { configHash: serviceConfigHash(svc) }, undefined)).toBeUndefined();
    expect(configChange({ ...svc, environment: { X: '2' } }, recordedWith(svc, A), undefined)).toBe('config changed');
  });

  test('an empty recorded set: a new input is named', () => {
    expect(configChange(svc, recordedWith(svc, {}), entries({ 'opt.env': sha('Y') }, 'env_file'))).toBe('opt.env changed');
  });
});
