import { afterAll, describe, expect, test } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BPF_ANNOTATION, cachedFilter, rememberFilter, seccompCacheKey } from './seccomp-cache.js';
import type { OciSpec } from './spec-types.js';

const dir = mkdtempSync(join(tmpdir(), 'tsc-seccomp-cache-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const spec = (names: string[]): OciSpec =>
  ({
    ociVersion: '1.0.2',
    linux: { seccomp: { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names, action: 'SCMP_ACT_ALLOW' }] } },
  }) as unknown as OciSpec;

describe('seccomp filter cache', () => {
  const binary = join(dir, 'crun');
  writeFileSync(binary, 'a binary');

  test('the key covers the profile and the runtime binary; no seccomp, no key', () => {
    const a = seccompCacheKey(spec(['read']), binary);
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(seccompCacheKey(spec(['read']), binary)).toBe(a);
    expect(seccompCacheKey(spec(['write']), binary)).not.toBe(a);
    expect(seccompCacheKey({ ociVersion: '1.0.2' } as OciSpec, binary)).toBeUndefined();
    expect(seccompCacheKey(spec(['read']), join(dir, 'missing'))).toBeUndefined();
    expect(seccompCacheKey({ ...spec(['read']), annotations: { [BPF_ANNOTATION]: 'x' } }, binary)).toBeUndefined();
    writeFileSync(binary, 'another build of it');
    expect(seccompCacheKey(spec(['read']), binary)).not.toBe(a);
  });

  test("keeps crun's compiled program once and gives it back as base64; refuses what is no BPF program", async () => {
    const root = join(dir, 'oci');
    const cache = join(dir, 'cache');
    mkdirSync(join(root, 'c1'), { recursive: true });
    mkdirSync(join(root, 'c2'), { recursive: true });
    const prog = Buffer.from([6, 0, 0, 0, 0, 0, 0xff, 0x7f]); // one instruction: ret ALLOW
    writeFileSync(join(root, 'c1', 'seccomp.bpf'), prog);
    writeFileSync(join(root, 'c2', 'seccomp.bpf'), Buffer.from([1, 2, 3]));
    expect(cachedFilter(cache, 'k')).toBeUndefined();
    await rememberFilter(cache, 'bad', root, 'c2');
    expect(cachedFilter(cache, 'bad')).toBeUndefined();
    await rememberFilter(cache, 'k', root, 'c1');
    expect(cachedFilter(cache, 'k')).toBe(prog.toString('base64'));
    await rememberFilter(cache, 'k', root, 'missing'); // kept already: nothing read
    expect(cachedFilter(cache, 'k')).toBe(prog.toString('base64'));
  });
});
