import { describe, expect, test } from '@jest/globals';
import { parseVolumeSpec } from './canonical-volumes.js';
import { canonicalFile } from './canonical.js';
import { Tagged, parseYaml } from './yaml.js';

const ctx = { baseDir: '/proj', home: '/home/u' };

describe('volumes', () => {
  test('anonymous, named, bind, home, modes', () => {
    expect(parseVolumeSpec('/data', ctx)).toEqual({ type: 'volume', target: '/data', volume: {} });
    expect(parseVolumeSpec('db:/var/lib/db:nocopy', ctx)).toEqual({ type: 'volume', source: 'db', target: '/var/lib/db', volume: { nocopy: true } });
    expect(parseVolumeSpec('./src:/app:ro,z', ctx)).toEqual({
      type: 'bind',
      source: '/proj/src',
      target: '/app',
      read_only: true,
      bind: { selinux: 'z' },
    });
    expect(parseVolumeSpec('~/cfg:/etc/cfg:rw', ctx)).toEqual({ type: 'bind', source: '/home/u/cfg', target: '/etc/cfg', bind: {} });
    expect(parseVolumeSpec('./lower:/data:O', ctx)).toMatchObject({ type: 'bind', 'x-tscompose-overlay': true });
    expect(parseVolumeSpec('a:b:c:d', ctx)).toBeUndefined();
    expect(parseVolumeSpec('./x:/y:bogus', ctx)).toBeUndefined();
  });
});

function canon(text: string): Record<string, any> {
  const parsed = parseYaml(text, '/proj/compose.yaml');
  return canonicalFile(parsed.data, { ...ctx, source: parsed }) as Record<string, any>;
}

describe('services', () => {
  test('short forms become long forms', () => {
    const m = canon(`
services:
  web:
    build: ./app
    command: python -m "http.server" 8000
    environment: [A=1, B]
    labels: {x: 1, y: null}
    depends_on: [db]
    env_file: .env.web
    extra_hosts: ["h1:1.2.3.4", "h2=::1"]
    healthcheck: {test: curl -f localhost, interval: 90s, retries: "3"}
    stop_grace_period: 1500ms
    mem_limit: 1g
    cpus: "0.5"
    networks: [front]
    secrets: [s1, {source: s2, mode: 0400, uid: 10}]
    devices: ["/dev/fuse"]
    pull_policy: if_not_present
`).services.web;
    expect(m.build).toEqual({ context: '/proj/app' });
    expect(m.command).toEqual(['python', '-m', 'http.server', '8000']);
    expect(m.environment).toEqual({ A: '1', B: null });
    expect(m.labels).toEqual({ x: '1', y: '' });
    expect(m.depends_on).toEqual({ db: { condition: 'service_started', required: true } });
    expect(m.env_file).toEqual([{ path: '/proj/.env.web' }]);
    expect(m.extra_hosts).toEqual(['h1=1.2.3.4', 'h2=::1']);
    expect(m.healthcheck).toEqual({ test: ['CMD-SHELL', 'curl -f localhost'], interval: '1m30s', retries: 3 });
    expect(m.stop_grace_period).toBe('1.5s');
    expect(m.mem_limit).toBe(String(1024 ** 3));
    expect(m.cpus).toBe(0.5);
    expect(m.networks).toEqual({ front: null });
    expect(m.secrets).toEqual([{ source: 's1' }, { source: 's2', mode: '0400', uid: '10' }]);
    expect(m.devices).toEqual([{ source: '/dev/fuse', target: '/dev/fuse', permissions: 'rwm' }]);
    expect(m.pull_policy).toBe('missing');
  });

  test("a network's priority and gw_priority are integers, a string one read as one", () => {
    const m = canon(`
services:
  web:
    networks:
      front: {gw_priority: "5", priority: 2, interface_name: lan0}
      back: {gw_priority: -1}
`).services.web;
    expect(m.networks).toEqual({ front: { gw_priority: 5, priority: 2, interface_name: 'lan0' }, back: { gw_priority: -1 } });
    expect(() => canon('services:\n  web:\n    networks:\n      front: {gw_priority: "1.5"}\n')).toThrow(
      /services\.web\.networks\.front\.gw_priority: invalid integer/,
    );
  });

  test('tags survive canonical form', () => {
    const m = canon(`
services:
  web:
    ports: !reset []
    environment: !override {A: 1}
`).services.web;
    expect(m.ports).toBeInstanceOf(Tagged);
    expect(m.ports.value).toEqual([]);
    expect(m.environment).toEqual(new Tagged('override', { A: '1' }));
  });

  test('bad values are reported with file:line:col', () => {
    expect(() => canon('services:\n  web:\n    ports: ["80:90:100:x"]\n')).toThrow('/proj/compose.yaml:3:13: services.web.ports[0]: invalid port');
    expect(() => canon('services:\n  web:\n    stop_grace_period: soon\n')).toThrow(/compose.yaml:3:24: .*invalid duration/);
  });
});

describe('top-level resources', () => {
  test('external names, ipam, file paths', () => {
    const m = canon(`
networks:
  a:
  b: {external: {name: real}}
volumes:
  v: {driver_opts: {size: 1}}
secrets:
  s: {file: ./s.txt}
configs:
  c: {file: ~/c.txt}
`);
    expect(m.networks).toEqual({ a: { ipam: {} }, b: { name: 'real', external: true, ipam: {} } });
    expect(m.volumes).toEqual({ v: { driver_opts: { size: '1' } } });
    expect(m.secrets.s.file).toBe('/proj/s.txt');
    expect(m.configs.c.file).toBe('/home/u/c.txt');
  });
});

describe('yaml edge cases', () => {
  test('bare !reset and !override null are null', () => {
    const d = parseYaml('a: !reset\nb: !override null\nc: !reset []\n', 'f.yaml').data as Record<string, Tagged>;
    expect(d.a).toEqual(new Tagged('reset', null));
    expect(d.b).toEqual(new Tagged('override', null));
    expect(d.c).toEqual(new Tagged('reset', []));
  });
  test('recursive aliases are a syntax error, not a crash', () => {
    expect(() => parseYaml('x-a: &a [1, *a]\n', 'f.yaml')).toThrow('f.yaml:1:13: recursive alias');
  });
  test('go-yaml octal and merge keys', () => {
    expect(parseYaml('m: 0440\nb: &b {x: 1, y: 2}\nc: {<<: *b, y: 3}\n', 'f.yaml').data).toEqual({ m: 0o440, b: { x: 1, y: 2 }, c: { x: 1, y: 3 } });
  });
});
