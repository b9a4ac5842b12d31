/**
 * Runtime contract case for networks, declared by ./suite.ts inside its describe: create (a taken name conflicts),
 * containers attached with aliases, DNS between them by name and alias, listNetworks by label, and a network in use
 * refusing removal.
 */
import { expect, test } from '@jest/globals';
import { CONFLICT, LABEL, NOT_FOUND, type ContractScope } from './scope.js';

export function networksCases(scope: ContractScope): void {
  const { n, run, labels, runId } = scope;
  test('networks and DNS: two containers on one network reach each other by name and alias', async () => {
    const rt = scope.runtime();
    const own = n('dnsnet');
    const { id } = await rt.createNetwork({ name: own, labels: { ...labels, 'org.tscompose.contract.case': 'dns' } });
    await expect(rt.createNetwork({ name: own, labels })).rejects.toMatchObject(CONFLICT);
    const a = await run('dns-a', { networks: [{ network: own }] });
    const b = await run('dns-b', { networks: [{ network: own, aliases: ['contract-alias'] }] });
    expect(Object.keys((await rt.inspectContainer(b)).networks)).toEqual([own]);
    expect((await rt.inspectContainer(b)).networks[own]?.aliases).toContain('contract-alias');
    expect([...(await rt.inspectNetwork(own)).containers].sort()).toEqual(
      [(await rt.inspectContainer(a)).id, (await rt.inspectContainer(b)).id].sort(),
    );
    if (scope.capabilities().dns) {
      for (const host of [b, 'contract-alias'])
        expect(await rt.exec(a, { cmd: ['ping', '-c', '1', '-W', '5', host] })).toMatchObject({ exitCode: 0 });
      expect((await rt.exec(b, { cmd: ['ping', '-c', '1', '-W', '5', a] })).exitCode).toBe(0);
    }
    expect((await rt.listNetworks({ labels: { [LABEL]: runId, 'org.tscompose.contract.case': 'dns' } })).map((x) => x.id)).toEqual([id]);
    await expect(rt.removeNetwork(own)).rejects.toMatchObject(CONFLICT);
    await rt.removeContainer(a, { force: true });
    await rt.removeContainer(b, { force: true });
    await rt.removeNetwork(own);
    await expect(rt.inspectNetwork(own)).rejects.toMatchObject(NOT_FOUND);
  });
}
