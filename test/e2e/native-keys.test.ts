/**
 * End-to-end: host-level compose keys on the native runtime against the real OCI runtime (issue 18, "keys accepted
 * and then silently ignored"): `pid: host` sees the host's processes, `uts: host` the host's name, `group_add` and
 * `oom_score_adj` reach the process, `cpu_period`/`cpu_quota` its cgroup; a key the native runtime does not honour
 * (`gpus`, `pid: service:`) is named in a warning by `up`. Images from the local registry (scripts/engine-env.sh).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { hostname } from 'node:os';
import { required } from './helpers.js';
import { capable, nativeDescribe, NativeSuite, ok, type NativeProject } from './native-harness.js';

const run = nativeDescribe ? describe : describe.skip;
const suite = new NativeSuite();
let p: NativeProject;
let upOutput = '';

const svc = (extra: string): string => `    image: busybox\n    network_mode: none\n    command: ["sleep", "3600"]\n${extra}`;

beforeAll(() => {
  if (required && !capable) throw new Error('TSCOMPOSE_E2E=1 but the native runtime cannot run here (root, conmon and runc/crun needed)');
  if (!capable) return;
  p = suite.project({
    'compose.yaml': [
      'services:',
      '  plain:',
      svc(''),
      '  hostns:',
      svc('    pid: host\n    uts: host\n'),
      '  tuned:',
      svc('    group_add: [www-data, "4321"]\n    oom_score_adj: 321\n    cpu_period: 50000\n    cpu_quota: 25000\n'),
      '  unsupported:',
      svc('    gpus: all\n'),
    ].join('\n'),
  });
  ok(suite.ts(undefined, 'image', 'pull', 'busybox'));
  const r = suite.ts(p, 'up', '-d');
  upOutput = `${r.stdout}${r.stderr}`;
  ok(r);
}, 300_000);

afterAll(() => {
  if (capable) suite.cleanup();
}, 120_000);

const out = (service: string, cmd: string): string => ok(suite.ts(p, 'exec', '-T', service, 'sh', '-c', cmd)).trim();

run('native: host-level service keys', () => {
  test('pid: host sees the host processes (pid 1 is not the service); uts: host has the host name', () => {
    expect(out('plain', 'cat /proc/1/cmdline | tr "\\0" " "')).toMatch(/^sleep 3600/);
    expect(out('hostns', 'cat /proc/1/cmdline | tr "\\0" " "')).not.toMatch(/^sleep 3600/);
    expect(out('hostns', 'hostname')).toBe(hostname());
    expect(out('plain', 'hostname')).not.toBe(hostname());
  });

  test('group_add: the image group by name and a numeric one; oom_score_adj', () => {
    const groups = out('tuned', 'id -G').split(/\s+/);
    const wwwData = out('tuned', 'grep ^www-data: /etc/group | cut -d: -f3');
    expect(wwwData).toMatch(/^\d+$/);
    expect(groups).toEqual(expect.arrayContaining([wwwData, '4321']));
    expect(out('tuned', 'cat /proc/1/oom_score_adj')).toBe('321');
  });

  test('cpu_period / cpu_quota in the cgroup', () => {
    const v = out(
      'tuned',
      'cat /sys/fs/cgroup/cpu.max 2>/dev/null || echo "$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || cat /sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us) $(cat /sys/fs/cgroup/cpu/cpu.cfs_period_us 2>/dev/null || cat /sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us)"',
    );
    expect(v).toBe('25000 50000');
  });

  test('up names what the native runtime does not honour: key, service and runtime', () => {
    expect(upOutput).toContain('service "unsupported": gpus "all" is ignored on the native runtime');
    expect(upOutput).not.toContain('tty');
  });
});
