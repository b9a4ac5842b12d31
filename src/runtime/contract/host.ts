/**
 * Runtime contract cases for what a runtime does for the engine beside containers, declared by ./suite.ts inside its
 * describe: project locks and local directories, the containers to resume and the state check, host sysctls.
 */
import { expect, test } from '@jest/globals';
import type { ContractScope } from './scope.js';

export function hostCases(scope: ContractScope): void {
  const { create } = scope;
  test('withProjectLock: one project at a time, other projects alongside', async () => {
    const rt = scope.runtime();
    const order: string[] = [];
    const hold = (tag: string, ms: number) => async () => {
      order.push(`${tag}+`);
      await new Promise((r) => setTimeout(r, ms));
      order.push(`${tag}-`);
      return tag;
    };
    const p = `contract-lock-${process.pid}`;
    const results = await Promise.all([
      rt.withProjectLock(p, hold('a', 80)),
      rt.withProjectLock(p, hold('b', 10)),
      rt.withProjectLock(`${p}-other`, hold('c', 10)),
    ]);
    expect(results).toEqual(['a', 'b', 'c']);
    // b starts only after a ended; c ran while a held its own project's lock
    expect(order.indexOf('b+')).toBeGreaterThan(order.indexOf('a-'));
    expect(order.indexOf('c-')).toBeLessThan(order.indexOf('a-'));
    await expect(rt.withProjectLock(p, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await rt.withProjectLock(p, async () => 'free again')).toBe('free again');
  });

  test('projectLocalDir: absolute, stable, one per project', () => {
    const rt = scope.runtime();
    const a = rt.projectLocalDir('contract-a');
    expect(a.startsWith('/')).toBe(true);
    expect(rt.projectLocalDir('contract-a')).toBe(a);
    expect(rt.projectLocalDir('contract-b')).not.toBe(a);
  });

  test('listResumable: never a running container; checkState: a report', async () => {
    const rt = scope.runtime();
    const c = await create('resumable', { restart: 'always' });
    await rt.startContainer(c);
    expect(await rt.listResumable()).not.toContain((await rt.inspectContainer(c)).id);
    const report = await rt.checkState();
    expect(Array.isArray(report.checked)).toBe(true);
    expect(Array.isArray(report.problems)).toBe(true);
  });

  test('hostSysctl: a number-like string or undefined, never a throw', async () => {
    const rt = scope.runtime();
    const v = await rt.hostSysctl('vm.max_map_count');
    if (v !== undefined) expect(v).toMatch(/^\d+$/);
    expect(await rt.hostSysctl('vm.no_such_setting')).toBeUndefined();
    expect(await rt.hostSysctl('../../etc/passwd')).toBeUndefined();
  });
}
