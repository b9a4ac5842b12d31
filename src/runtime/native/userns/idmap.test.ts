import { afterAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allocateStart, parseRemapSetting, parseSubids, rangeFromSubids, rangeKey, resolveRemap, toHost } from './idmap.js';

const dir = mkdtempSync(join(tmpdir(), 'tsc-idmap-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('parseRemapSetting', () => {
  test('off by default and for the usual false values', () => {
    for (const v of [undefined, '', ' ', '0', 'off', 'false']) expect(parseRemapSetting(v)).toEqual({ kind: 'off' });
  });
  test('numeric ranges', () => {
    expect(parseRemapSetting('100000:200000:65536')).toEqual({ kind: 'range', range: { uid: 100000, gid: 200000, size: 65536 } });
    expect(parseRemapSetting('100000:65536')).toEqual({ kind: 'range', range: { uid: 100000, gid: 100000, size: 65536 } });
  });
  test('default and user names', () => {
    expect(parseRemapSetting('default')).toEqual({ kind: 'user', user: 'tscompose', group: 'tscompose', allocate: true });
    expect(parseRemapSetting('alice')).toEqual({ kind: 'user', user: 'alice', group: 'alice', allocate: false });
    expect(parseRemapSetting('alice:staff')).toEqual({ kind: 'user', user: 'alice', group: 'staff', allocate: false });
  });
  test('invalid values are refused with a coded error', () => {
    for (const v of ['0:0:65536', '100000:100000:0', '1:2:3:4', 'a b', '4294967295:1:10', 'x:y:z']) {
      expect(() => parseRemapSetting(v)).toThrow(expect.objectContaining({ code: 'TSC_INVALID_USERNS_REMAP' }) as unknown as Error);
    }
  });
});

describe('subordinate id files', () => {
  const subuid = '# comment\nalice:100000:65536\nbad line\ntscompose:300000:65536\n';
  const subgid = 'alice:100000:65536\ntscompose:400000:1000\n';
  test('parse', () => {
    expect(parseSubids(subuid)).toEqual([
      { name: 'alice', start: 100000, count: 65536 },
      { name: 'tscompose', start: 300000, count: 65536 },
    ]);
  });
  test('a user range: its first entries, the smaller count', () => {
    expect(rangeFromSubids({ user: 'tscompose', group: 'tscompose' }, subuid, subgid)).toEqual({ uid: 300000, gid: 400000, size: 1000 });
    expect(rangeFromSubids({ user: 'bob', group: 'bob' }, subuid, subgid)).toBeUndefined();
  });
  test('allocation: the first free block above 100000', () => {
    expect(allocateStart([])).toBe(100000);
    expect(allocateStart(parseSubids(subuid))).toBe(165536);
    expect(
      allocateStart([
        { name: 'a', start: 100000, count: 65536 },
        { name: 'b', start: 165536, count: 65536 },
      ]),
    ).toBe(231072);
    expect(allocateStart([{ name: 'a', start: 300000, count: 10 }])).toBe(100000);
  });
  test('resolveRemap: default appends an entry for tscompose to both files once', () => {
    const files = { subuid: join(dir, 'subuid'), subgid: join(dir, 'subgid') };
    writeFileSync(files.subuid, 'alice:100000:65536');
    writeFileSync(files.subgid, 'alice:100000:65536\n');
    expect(resolveRemap('default', files)).toEqual({ uid: 165536, gid: 165536, size: 65536 });
    expect(resolveRemap('default', files)).toEqual({ uid: 165536, gid: 165536, size: 65536 });
    expect(readFileSync(files.subuid, 'utf8')).toBe('alice:100000:65536\ntscompose:165536:65536\n');
    expect(readFileSync(files.subgid, 'utf8')).toBe('alice:100000:65536\ntscompose:165536:65536\n');
    expect(resolveRemap('alice', files)).toEqual({ uid: 100000, gid: 100000, size: 65536 });
    expect(() => resolveRemap('bob', files)).toThrow(/no \/etc\/subuid entry for bob/);
    expect(resolveRemap(undefined, files)).toBeUndefined();
    expect(resolveRemap('5000:6000:10', files)).toEqual({ uid: 5000, gid: 6000, size: 10 });
  });
});

test('toHost and rangeKey', () => {
  const r = { uid: 100000, gid: 200000, size: 65536 };
  expect(toHost(r, 'uid', 0)).toBe(100000);
  expect(toHost(r, 'gid', 65535)).toBe(265535);
  expect(toHost(r, 'uid', 65536)).toBeUndefined();
  expect(rangeKey(r)).toBe('100000.200000.65536');
});
