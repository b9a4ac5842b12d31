import { describe, expect, it } from '@jest/globals';
import { CodedError } from '../errors.js';
import { mustCidr, mustIPv4 } from './cidr.js';
import { IpamError, NetCommandError, NetConfigError } from './errors.js';
import { portRules } from './firewall.js';
import { allocateAddress, planNetwork, type IpamNetwork } from './ipam.js';
import { runStep } from './run.js';

describe('network library errors', () => {
  it('bad values are NetConfigErrors', () => {
    expect(() => mustIPv4('1.2.3')).toThrow(NetConfigError);
    expect(() => mustCidr('10.0.0.0/33')).toThrow(NetConfigError);
    expect(() => portRules({ hostPort: 0, containerPort: 1, protocol: 'tcp', containerIp: '10.0.0.2' })).toThrow(NetConfigError);
  });

  it('an overlapping subnet and an exhausted subnet are IpamErrors with a code', () => {
    const state = { version: 1 as const, networks: { other: { subnet: '10.50.0.0/16', gateway: '10.50.0.1', allocations: {} } } };
    let err: unknown;
    try {
      planNetwork(state, 'p', [{ subnet: '10.50.3.0/24' }], []);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(IpamError);
    expect(err).toBeInstanceOf(CodedError);
    expect(err).toMatchObject({ code: 'TSC_NET_IPAM', exitCode: 1, name: 'IpamError' });
    const full: IpamNetwork = { subnet: '10.214.5.0/30', gateway: '10.214.5.1', allocations: { a: '10.214.5.2' } };
    expect(() => allocateAddress(full, 'b')).toThrow(IpamError);
  });

  it('a failed command is a NetCommandError with its argv, result and stderr in the message', async () => {
    const err = await runStep({ argv: ['sh', '-c', 'echo "RTNETLINK answers: Operation not permitted" >&2; exit 2'] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetCommandError);
    const e = err as NetCommandError;
    expect(e.code).toBe('TSC_NET_COMMAND');
    expect(e.argv[0]).toBe('sh');
    expect(e.result.code).toBe(2);
    expect(e.message).toMatch(/failed \(exit 2\): RTNETLINK answers: Operation not permitted$/);
    expect(e.hint).toMatch(/root/);
  });

  it('a missing tool is a NetCommandError (exit 127) with a hint; okIf still applies to others', async () => {
    const err = await runStep({ argv: ['tsc-no-such-tool-xyz', 'link'] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetCommandError);
    expect(err).toMatchObject({ result: { code: 127 } });
    expect((err as NetCommandError).hint).toMatch(/tsc-no-such-tool-xyz command is missing/);
    await expect(runStep({ argv: ['sh', '-c', 'echo Cannot find device >&2; exit 1'], okIf: /Cannot find device/ })).resolves.toMatchObject({
      code: 1,
    });
  });
});
