/**
 * Runtime contract case for named volumes, declared by ./suite.ts inside its describe: a volume outlives its container
 * (and keeps what it wrote), listVolumes filters by label, removeVolume removes it.
 */
import { expect, test } from '@jest/globals';
import { LABEL, NOT_FOUND, type ContractScope } from './scope.js';

export function volumesCases(scope: ContractScope): void {
  const { n, run, logs, labels, runId } = scope;
  test('volumes: a named volume outlives its container; listVolumes by label', async () => {
    const rt = scope.runtime();
    const vol = n('vol');
    await rt.createVolume({ name: vol, labels: { ...labels, 'org.tscompose.contract.case': 'volumes' } });
    const mounts = [{ type: 'volume' as const, source: vol, target: '/data' }];
    const w = await run('vol-w', { command: ['sh', '-c', 'echo kept > /data/f'], mounts });
    expect(await rt.waitContainer(w)).toBe(0);
    expect((await rt.inspectContainer(w)).mounts).toEqual([expect.objectContaining({ type: 'volume', source: vol, target: '/data' })]);
    await rt.removeContainer(w);
    expect((await rt.inspectVolume(vol)).name).toBe(vol);
    if (scope.capabilities().volumeContent) {
      const r = await run('vol-r', { command: ['cat', '/data/f'], mounts });
      const exitCode = await rt.waitContainer(r);
      expect({ exitCode, logs: (await logs(r)).map((l) => `${l.stream}: ${l.line}`) }).toEqual({ exitCode: 0, logs: ['stdout: kept'] });
      await rt.removeContainer(r);
    }
    expect((await rt.listVolumes({ labels: { 'org.tscompose.contract.case': 'volumes', [LABEL]: runId } })).map((v) => v.name)).toEqual([vol]);
    expect(await rt.listVolumes({ labels: { [LABEL]: `${runId}-other` } })).toEqual([]);
    await rt.removeVolume(vol);
    await expect(rt.inspectVolume(vol)).rejects.toMatchObject(NOT_FOUND);
  });
}
