import { describe, expect, test } from '@jest/globals';
import { systemdUnit, unitName } from './systemd-unit.js';

describe('the boot unit', () => {
  test('runs resume with the native settings and PATH of the installing shell', () => {
    const unit = systemdUnit({
      executable: '/opt/tscompose/bin/tscompose',
      env: {
        PATH: '/usr/local/bin:/usr/bin',
        TSCOMPOSE_STATE_DIR: '/srv/tsc state',
        TSCOMPOSE_RUNTIME: 'docker',
        HOME: '/root',
        TSCOMPOSE_OCI_RUNTIME: 'runc',
      },
    });
    expect(unit).toContain('ExecStart=/opt/tscompose/bin/tscompose --runtime native --progress plain resume\n');
    expect(unit).toContain('Environment="TSCOMPOSE_STATE_DIR=/srv/tsc state"\n');
    expect(unit).toContain('Environment=TSCOMPOSE_OCI_RUNTIME=runc\n');
    expect(unit).toContain('Environment=PATH=/usr/local/bin:/usr/bin\n');
    expect(unit).not.toContain('HOME');
    expect(unit).not.toContain('TSCOMPOSE_RUNTIME=');
    expect(unit).toContain('KillMode=process');
    expect(unit).toContain('WantedBy=multi-user.target');
  });

  test('names: one unit per state directory', () => {
    expect(unitName({})).toBe('tscompose-resume.service');
    expect(unitName({ TSCOMPOSE_STATE_DIR: '/var/lib/tscompose' })).toBe('tscompose-resume.service');
    expect(unitName({ TSCOMPOSE_STATE_DIR: '/srv/a' })).toMatch(/^tscompose-resume-[0-9a-f]{12}\.service$/);
    expect(unitName({ TSCOMPOSE_STATE_DIR: '/srv/a' })).not.toBe(unitName({ TSCOMPOSE_STATE_DIR: '/srv/b' }));
  });

  test('quotes % and $ as systemd wants', () => {
    expect(systemdUnit({ executable: '/x', env: { TSCOMPOSE_REGISTRY_MIRRORS: 'http://a/%$b' } })).toContain(
      'Environment="TSCOMPOSE_REGISTRY_MIRRORS=http://a/%%$$b"',
    );
  });
});
