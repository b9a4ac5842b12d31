import { afterAll, describe, expect, test } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { containerRemap, createBindSources } from './mode.js';

const range = { uid: 100000, gid: 100000, size: 65536 };
const dir = mkdtempSync(join(tmpdir(), 'tsc-userns-mode-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('containerRemap', () => {
  test('the runtime remap unless userns_mode: host', () => {
    expect(containerRemap({ name: 'c' }, range)).toBe(range);
    expect(containerRemap({ name: 'c' }, undefined)).toBeUndefined();
    expect(containerRemap({ name: 'c', usernsMode: 'host' }, range)).toBeUndefined();
    expect(containerRemap({ name: 'c', usernsMode: 'host', privileged: true, networkMode: 'host' }, range)).toBeUndefined();
  });
  test('other modes are refused, with or without a remap', () => {
    for (const mode of ['keep-id', 'auto', 'private', 'ns:/proc/1/ns/user']) {
      expect(() => containerRemap({ name: 'c', usernsMode: mode }, range)).toThrow(/userns_mode "[^"]+" is not supported/);
      expect(() => containerRemap({ name: 'c', usernsMode: mode }, undefined)).toThrow(/not supported/);
    }
  });
  test('privileged and host network need userns_mode: host under the remap (as dockerd)', () => {
    expect(() => containerRemap({ name: 'c', privileged: true }, range)).toThrow(/privileged mode is incompatible with user namespaces/);
    expect(() => containerRemap({ name: 'c', networkMode: 'host' }, range)).toThrow(/host's network namespace/);
    expect(containerRemap({ name: 'c', privileged: true }, undefined)).toBeUndefined();
  });
});

const root = process.getuid?.() === 0;
(root ? test : test.skip)('createBindSources: only the directories it makes belong to the remapped root', async () => {
  mkdirSync(join(dir, 'exists'));
  await createBindSources(
    [
      { type: 'bind', source: join(dir, 'exists', 'a', 'b'), target: '/x' },
      { type: 'bind', source: join(dir, 'nocreate'), target: '/y', createHostPath: false },
      { type: 'volume', source: 'v', target: '/z' },
    ],
    range,
  );
  expect(statSync(join(dir, 'exists')).uid).toBe(0);
  expect(statSync(join(dir, 'exists', 'a')).uid).toBe(100000);
  expect(statSync(join(dir, 'exists', 'a', 'b')).gid).toBe(100000);
  expect(() => statSync(join(dir, 'nocreate'))).toThrow();
});
