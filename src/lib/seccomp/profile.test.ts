import { describe, expect, test } from '@jest/globals';
import { apparmorProfileFor, loadedApparmorProfiles } from './apparmor.js';
import { AppArmorProfileError, SeccompProfileError } from './errors.js';
import { parseSeccompProfile } from './profile.js';

describe('parseSeccompProfile', () => {
  test('reads a Docker-format profile, ignoring unknown fields and nulls', () => {
    const p = parseSeccompProfile(
      JSON.stringify({
        defaultAction: 'SCMP_ACT_ALLOW',
        archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: null }],
        syscalls: [
          { names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 1, args: null, comment: 'no dirs', includes: { caps: ['CAP_X'] }, x: 1 },
          { name: 'personality', action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] },
        ],
        unknown: true,
      }),
      'p.json',
    );
    expect(p).toEqual({
      defaultAction: 'SCMP_ACT_ALLOW',
      archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: null }],
      syscalls: [
        { names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 1, comment: 'no dirs', includes: { caps: ['CAP_X'] } },
        { name: 'personality', action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] },
      ],
    });
  });

  test('errors name the source and the field', () => {
    expect(() => parseSeccompProfile('{', 'bad.json')).toThrow(/seccomp profile bad.json: not valid JSON/);
    expect(() => parseSeccompProfile('[]', 'a.json')).toThrow(/a.json: the profile: expected an object/);
    expect(() => parseSeccompProfile('{"defaultAction": 1}', 'a.json')).toThrow(/defaultAction: expected a string/);
    expect(() => parseSeccompProfile('{"defaultAction": "x", "syscalls": [{"names": "mkdir", "action": "y"}]}', 'a.json')).toThrow(
      /syscalls\[0\].names: expected a list of strings/,
    );
    expect(() =>
      parseSeccompProfile('{"defaultAction": "x", "syscalls": [{"names": [], "action": "y", "includes": {"minKernel": "4"}}]}', 'a.json'),
    ).toThrow(/syscalls\[0\].includes.minKernel: invalid kernel version "4"/);
    try {
      parseSeccompProfile('{', 'bad.json');
    } catch (e) {
      expect(e).toBeInstanceOf(SeccompProfileError);
      expect((e as SeccompProfileError).code).toBe('TSC_SECCOMP_PROFILE');
    }
  });
});

describe('apparmorProfileFor', () => {
  const on = { enabled: true, loaded: ['docker-default', 'mine'] };
  const off = { enabled: false, loaded: [] };

  test('docker-default unless privileged or asked otherwise; unconfined = none', () => {
    expect(apparmorProfileFor(undefined, false, on)).toEqual({ profile: 'docker-default' });
    expect(apparmorProfileFor(undefined, true, on)).toEqual({});
    expect(apparmorProfileFor('unconfined', false, on)).toEqual({});
    expect(apparmorProfileFor('mine', true, on)).toEqual({ profile: 'mine' });
  });

  test('nothing where AppArmor is off; a note where docker-default is not loaded; an error for a missing asked-for profile', () => {
    expect(apparmorProfileFor(undefined, false, off)).toEqual({});
    expect(apparmorProfileFor('mine', false, off).note).toMatch(/not enabled/);
    expect(apparmorProfileFor(undefined, false, { enabled: true, loaded: [] })).toEqual({
      note: expect.stringMatching(/docker-default is not loaded/),
    });
    expect(() => apparmorProfileFor('other', false, on)).toThrow(AppArmorProfileError);
  });

  test('loaded profile names from the securityfs list', () => {
    expect(loadedApparmorProfiles('docker-default (enforce)\n/usr/bin/man (enforce)\nlsb_release (complain)\n')).toEqual([
      'docker-default',
      '/usr/bin/man',
      'lsb_release',
    ]);
  });
});
