/**
 * Runtime contract cases for containers themselves, declared by ./suite.ts inside its describe as three groups (the
 * suite declares them among the other files' cases, in the order they have always run): the lifecycle (create, start,
 * stop, kill, remove) with its typed errors and exit codes; labels as a filter, and rename; pause and unpause, and stats.
 */
import { expect, test } from '@jest/globals';
import { CONFLICT, LABEL, NOT_FOUND, NOT_MODIFIED, sleep, type ContractScope } from './scope.js';

/** Create, start, stop, kill and remove, each with its typed errors; exit codes (the command's, a kill's). */
export function lifecycleCases(scope: ContractScope): void {
  const { n, create, run } = scope;
  test('create, start, stop, kill, remove, with typed errors', async () => {
    const rt = scope.runtime();
    const c = await create('life');
    expect((await rt.inspectContainer(c)).status).toBe('created');
    await expect(create('life')).rejects.toMatchObject(CONFLICT);
    await rt.startContainer(c);
    expect((await rt.inspectContainer(c)).status).toBe('running');
    await expect(rt.startContainer(c)).rejects.toMatchObject(NOT_MODIFIED);
    await expect(rt.removeContainer(c)).rejects.toMatchObject(CONFLICT);
    await rt.stopContainer(c, { timeoutSeconds: 2 });
    expect((await rt.inspectContainer(c)).status).toBe('exited');
    await expect(rt.stopContainer(c, { timeoutSeconds: 2 })).rejects.toMatchObject(NOT_MODIFIED);
    await rt.startContainer(c);
    await rt.killContainer(c);
    expect(await rt.waitContainer(c)).toBe(137);
    await rt.removeContainer(c);
    await expect(rt.inspectContainer(c)).rejects.toMatchObject(NOT_FOUND);
    await expect(rt.startContainer(n('missing'))).rejects.toMatchObject(NOT_FOUND);
    await expect(rt.removeContainer(n('missing'))).rejects.toMatchObject(NOT_FOUND);
    const forced = await run('forced');
    await rt.removeContainer(forced, { force: true });
    await expect(rt.inspectContainer(forced)).rejects.toMatchObject(NOT_FOUND);
    // A stop made for a removal (down): the removal right after finds it stopped and leaves nothing.
    const going = await run('going');
    await rt.stopContainer(going, { timeoutSeconds: 2, removing: true });
    expect((await rt.inspectContainer(going)).status).toBe('exited');
    await rt.removeContainer(going);
    await expect(rt.inspectContainer(going)).rejects.toMatchObject(NOT_FOUND);
  });

  test('exit codes: the command exits 3; a kill is 137', async () => {
    const rt = scope.runtime();
    const c = await run('exit3', { command: ['sh', '-c', 'exit 3'] });
    expect(await rt.waitContainer(c)).toBe(3);
    const i = await rt.inspectContainer(c);
    expect(i.status).toBe('exited');
    expect(i.exitCode).toBe(3);
    expect(i.command).toEqual(['sh', '-c', 'exit 3']); // ps's COMMAND
    const k = await run('killed');
    await rt.killContainer(k);
    expect(await rt.waitContainer(k)).toBe(137);
    expect((await rt.inspectContainer(k)).exitCode).toBe(137);
  });
}

/**
 * prepareStart (optional): the container stays `created` until its start, which then runs it; a preparation undone by
 * discardPreparedStarts, or removed with its container, leaves it startable or gone; a running one is not prepared.
 */
export function preparedStartCases(scope: ContractScope): void {
  const { create } = scope;
  test('prepareStart: created until the start; undone by discardPreparedStarts or by the removal', async () => {
    const rt = scope.runtime();
    if (!rt.prepareStart || !rt.discardPreparedStarts) return; // a runtime that prepares nothing has nothing to show
    const a = await create('prep-a');
    await rt.prepareStart(a);
    expect((await rt.inspectContainer(a)).status).toBe('created');
    await rt.startContainer(a);
    expect((await rt.inspectContainer(a)).status).toBe('running');
    if (scope.capabilities().processes) expect((await rt.topContainer(a)).processes.length).toBeGreaterThan(0);
    await rt.prepareStart(a); // running: nothing to prepare
    await expect(rt.startContainer(a)).rejects.toMatchObject(NOT_MODIFIED);
    const b = await create('prep-b');
    await rt.prepareStart(b);
    await rt.discardPreparedStarts();
    expect((await rt.inspectContainer(b)).status).toBe('created');
    await rt.startContainer(b);
    expect((await rt.inspectContainer(b)).status).toBe('running');
    const c = await create('prep-c');
    await rt.prepareStart(c);
    await rt.removeContainer(c);
    await expect(rt.inspectContainer(c)).rejects.toMatchObject(NOT_FOUND);
    await rt.discardPreparedStarts();
  });
}

/** listContainers by label (value and presence); renameContainer. */
export function labelsAndRenameCases(scope: ContractScope): void {
  const { n, create, run, labels, runId } = scope;
  test('labels: listContainers filters by value and by presence', async () => {
    const rt = scope.runtime();
    await create('lab-1', { labels: { 'org.tscompose.contract.case': 'labels', tier: 'front' } });
    await create('lab-2', { labels: { 'org.tscompose.contract.case': 'labels', tier: 'back' } });
    const names = async (sel: Record<string, string | true>): Promise<string[]> =>
      (await rt.listContainers({ all: true, labels: { ...labels, ...sel } })).map((c) => c.name).sort();
    expect(await names({ 'org.tscompose.contract.case': 'labels' })).toEqual([n('lab-1'), n('lab-2')]);
    expect(await names({ tier: 'front' })).toEqual([n('lab-1')]);
    expect(await names({ tier: true })).toEqual([n('lab-1'), n('lab-2')]);
    expect(await names({ tier: 'side' })).toEqual([]);
    expect((await rt.inspectContainer(n('lab-1'))).labels).toMatchObject({ tier: 'front', [LABEL]: runId });
    expect(await rt.listContainers({ all: false, labels: { ...labels, 'org.tscompose.contract.case': 'labels' } })).toEqual([]);
  });

  test('rename: the new name answers, the old one is gone, a taken name conflicts', async () => {
    const rt = scope.runtime();
    const c = await run('ren-a');
    await create('ren-taken');
    const { id } = await rt.inspectContainer(c);
    await rt.renameContainer(c, n('ren-b'));
    expect((await rt.inspectContainer(n('ren-b'))).id).toBe(id);
    await expect(rt.inspectContainer(c)).rejects.toMatchObject(NOT_FOUND);
    await expect(rt.renameContainer(n('ren-b'), n('ren-taken'))).rejects.toMatchObject(CONFLICT);
  });
}

/** pauseContainer and unpauseContainer; containerStats. */
export function pauseAndStatsCases(scope: ContractScope): void {
  const { n, run } = scope;
  test('pause and unpause', async () => {
    const rt = scope.runtime();
    const c = await run('pause');
    await rt.pauseContainer(c);
    expect((await rt.inspectContainer(c)).status).toBe('paused');
    await expect(rt.pauseContainer(c)).rejects.toMatchObject(CONFLICT);
    await rt.unpauseContainer(c);
    expect((await rt.inspectContainer(c)).status).toBe('running');
    await expect(rt.unpauseContainer(c)).rejects.toMatchObject(CONFLICT);
    expect((await rt.exec(c, { cmd: ['echo', 'awake'] })).stdout).toBe('awake\n');
  });

  test('containerStats: usage and limit of a running container, counters that grow, zeros once stopped', async () => {
    const rt = scope.runtime();
    const c = await run('stats', { resources: { memoryBytes: 64 * 1024 * 1024 } });
    const a = await rt.containerStats(c);
    expect(a.pids).toBeGreaterThanOrEqual(1);
    expect(a.memoryBytes).toBeGreaterThan(0);
    expect(a.memoryLimitBytes).toBe(64 * 1024 * 1024);
    expect(a.onlineCpus).toBeGreaterThanOrEqual(1);
    expect(a.systemCpuNs).toBeGreaterThan(0);
    await sleep(300);
    const b = await rt.containerStats(c);
    expect(b.cpuNs).toBeGreaterThanOrEqual(a.cpuNs);
    expect(b.systemCpuNs).toBeGreaterThan(a.systemCpuNs);
    expect(b.netRxBytes).toBeGreaterThanOrEqual(a.netRxBytes);
    await rt.stopContainer(c, { timeoutSeconds: 2 });
    expect(await rt.containerStats(c)).toMatchObject({ cpuNs: 0, memoryBytes: 0, pids: 0 });
    await expect(rt.containerStats(n('missing'))).rejects.toMatchObject(NOT_FOUND);
  });
}
