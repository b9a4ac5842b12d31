import { describe, expect, it } from '@jest/globals';
import { collector } from './__fixtures__/build.js';
import {
  convertCaps,
  convertDns,
  convertEnvironment,
  convertExtraHosts,
  convertHealthcheck,
  convertLogging,
  convertSecurityOpt,
  convertUlimits,
} from './convert-container.js';
import type { ServiceConfig } from '../project/types.js';

describe('container fields', () => {
  it('sorts the environment; a null value stays a bare name', () => {
    expect(convertEnvironment({ B: '2', A: '1', E: '', U: null })).toEqual(['A=1', 'B=2', 'E=', 'U']);
    expect(convertEnvironment(undefined)).toEqual([]);
  });

  it('writes extra_hosts in SwarmKit notation', () => {
    expect(convertExtraHosts('s', ['a.example=10.0.0.1', 'b.example:10.0.0.2', 'v6=[::1]', 'v6b=fe80::1'])).toEqual([
      '10.0.0.1 a.example',
      '10.0.0.2 b.example',
      '::1 v6',
      'fe80::1 v6b',
    ]);
    expect(() => convertExtraHosts('s', ['nohost'])).toThrow(/extra_hosts\[0\]/);
  });

  it('maps dns, dns_search and dns_opt', () => {
    expect(convertDns({ dns: ['1.1.1.1'], dns_search: ['x'], dns_opt: ['ndots:1'] } as ServiceConfig)).toEqual({
      Nameservers: ['1.1.1.1'],
      Search: ['x'],
      Options: ['ndots:1'],
    });
    expect(convertDns({} as ServiceConfig)).toBeUndefined();
  });

  it('normalizes capabilities as docker/cli does', () => {
    expect(convertCaps(['net_admin', 'CAP_SYS_TIME'], ['ALL', 'chown'])).toEqual({ add: ['CAP_NET_ADMIN', 'CAP_SYS_TIME'], drop: ['ALL'] });
    expect(convertCaps(['ALL', 'net_admin'], ['net_admin', 'mknod'])).toEqual({ add: ['ALL'], drop: ['CAP_MKNOD', 'CAP_NET_ADMIN'] });
    expect(convertCaps(['chown'], ['CHOWN'])).toEqual({ add: ['CAP_CHOWN'], drop: [] });
  });

  it('sorts ulimits; a single number sets both', () => {
    expect(convertUlimits('s', { nproc: 10, nofile: { soft: 1, hard: 2 } })).toEqual([
      { Name: 'nofile', Soft: 1, Hard: 2 },
      { Name: 'nproc', Soft: 10, Hard: 10 },
    ]);
    expect(() => convertUlimits('s', { nofile: { soft: 1 } })).toThrow(/ulimits\.nofile/);
  });

  it('converts healthchecks to nanoseconds; disable becomes NONE', () => {
    expect(
      convertHealthcheck('s', { test: ['CMD', 'true'], interval: '5s', timeout: '1s', start_period: '1m0s', start_interval: '500ms', retries: 3 }),
    ).toEqual({
      Test: ['CMD', 'true'],
      Interval: 5e9,
      Timeout: 1e9,
      StartPeriod: 60e9,
      StartInterval: 5e8,
      Retries: 3,
    });
    expect(convertHealthcheck('s', { disable: true, test: ['CMD', 'true'] })).toEqual({ Test: ['NONE'] });
    expect(convertHealthcheck('s', undefined)).toBeUndefined();
  });

  it('maps logging, dropping null options', () => {
    expect(convertLogging({ logging: { driver: 'syslog', options: { a: '1', b: null } } } as ServiceConfig)).toEqual({
      Name: 'syslog',
      Options: { a: '1' },
    });
    expect(convertLogging({} as ServiceConfig)).toBeUndefined();
  });

  it('maps the security options swarm has fields for and warns about the rest', () => {
    const { warn, warnings } = collector();
    expect(
      convertSecurityOpt(
        's',
        [
          'no-new-privileges',
          'seccomp=unconfined',
          'apparmor:unconfined',
          'label:user:u',
          'label:level:s0',
          'seccomp=/p.json',
          'systempaths=unconfined',
        ],
        warn,
      ),
    ).toEqual({ NoNewPrivileges: true, Seccomp: { Mode: 'unconfined' }, AppArmor: { Mode: 'disabled' }, SELinuxContext: { User: 'u', Level: 's0' } });
    expect(warnings.map((w) => w.key)).toEqual(['security_opt[5]', 'security_opt[6]']);
    expect(convertSecurityOpt('s', undefined, warn)).toBeUndefined();
  });
});
