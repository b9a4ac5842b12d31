import { afterAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProjectSync } from '../project/load.js';
import { containerSpec } from './container-spec.js';
import { LABEL_WORKING_DIR } from './labels.js';
import { parseSecurityOpts } from './security-opt.js';

describe('parseSecurityOpts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsc-secopt-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    join(dir, 'profile.json'),
    JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] }),
  );
  writeFileSync(join(dir, 'broken.json'), '{"defaultAction": ');

  test("Docker's keys, = or the old : separator", () => {
    expect(parseSecurityOpts(['no-new-privileges'], dir)).toEqual({ noNewPrivileges: true });
    expect(parseSecurityOpts(['no-new-privileges:true'], dir)).toEqual({ noNewPrivileges: true });
    expect(parseSecurityOpts(['no-new-privileges=false'], dir)).toEqual({ noNewPrivileges: false });
    expect(parseSecurityOpts(['seccomp=unconfined', 'apparmor:unconfined'], dir)).toEqual({ seccomp: 'unconfined', apparmor: 'unconfined' });
    expect(parseSecurityOpts(['seccomp=builtin'], dir)).toEqual({ seccomp: 'default' });
    expect(parseSecurityOpts(['label=disable', 'label:user:u', 'systempaths=unconfined', 'writable-cgroups=true'], dir)).toEqual({
      labels: ['disable', 'user:u'],
      unconfinedSystemPaths: true,
      writableCgroups: true,
    });
  });

  test('seccomp=FILE is read relative to the project directory', () => {
    expect(parseSecurityOpts(['seccomp=profile.json'], dir)).toEqual({
      seccomp: {
        file: join(dir, 'profile.json'),
        profile: { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] },
      },
    });
    expect(parseSecurityOpts([`seccomp=${join(dir, 'profile.json')}`], '/elsewhere').seccomp).toMatchObject({ file: join(dir, 'profile.json') });
  });

  test('errors name the option or the file', () => {
    expect(() => parseSecurityOpts(['seccomp=missing.json'], dir)).toThrow(/opening seccomp profile \(missing.json\) failed: ENOENT/);
    expect(() => parseSecurityOpts(['seccomp=broken.json'], dir)).toThrow(`seccomp profile ${join(dir, 'broken.json')}: not valid JSON`);
    expect(() => parseSecurityOpts(['bogus'], dir)).toThrow('invalid security_opt: "bogus"');
    expect(() => parseSecurityOpts(['foo=bar'], dir)).toThrow('invalid security_opt: "foo=bar"');
    expect(() => parseSecurityOpts(['no-new-privileges=maybe'], dir)).toThrow(/not a boolean/);
    expect(() => parseSecurityOpts(['systempaths=confined'], dir)).toThrow(/only systempaths=unconfined/);
  });
});

test('containerSpec carries security_opt parsed, profile paths relative to the project directory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsc-secopt-p-'));
  writeFileSync(join(dir, 'compose.yaml'), 'services:\n  web:\n    image: busybox\n    security_opt: ["seccomp=./p.json", "no-new-privileges"]\n');
  writeFileSync(join(dir, 'p.json'), '{"defaultAction": "SCMP_ACT_LOG"}');
  const project = loadProjectSync({ cwd: dir, env: {}, projectName: 'demo' }).project;
  const spec = containerSpec({ project, service: 'web', svc: project.services.web!, name: 'demo-web-1', labels: { [LABEL_WORKING_DIR]: dir } });
  expect(spec.security).toEqual({ seccomp: { file: join(dir, 'p.json'), profile: { defaultAction: 'SCMP_ACT_LOG' } }, noNewPrivileges: true });
  expect(containerSpec({ project, service: 'web', svc: { image: 'busybox' }, name: 'demo-web-1', labels: {} }).security).toBeUndefined();
  rmSync(dir, { recursive: true, force: true });
});
