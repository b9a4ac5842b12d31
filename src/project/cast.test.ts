import { describe, test, expect } from '@jest/globals';
import { InterpolationError } from '../errors.js';
import { castTypes, parseGoFloat, parseGoInt, toBoolean, TYPE_CASTS } from './cast.js';
import { Tagged, parseYaml } from './yaml.js';

const svc = (attrs: Record<string, unknown>): unknown => ({ services: { web: attrs } });
const castSvc = (attrs: Record<string, unknown>): Record<string, unknown> =>
  (castTypes(svc(attrs)) as { services: { web: Record<string, unknown> } }).services.web;

describe('toBoolean (compose-go loader/interpolate.go)', () => {
  test.each(['true', 'True', 'TRUE', 'tRuE'])('%s → true, no warning', (s) => {
    const warnings: string[] = [];
    expect(toBoolean(s, (w) => warnings.push(w))).toEqual({ ok: true, value: true });
    expect(warnings).toEqual([]);
  });
  test.each(['false', 'False', 'FALSE'])('%s → false', (s) => {
    expect(toBoolean(s)).toEqual({ ok: true, value: false });
  });
  test.each(['y', 'Y', 'yes', 'Yes', 'YES', 'on', 'On', 'ON'])('%s → true with a YAML 1.2 warning', (s) => {
    const warnings: string[] = [];
    expect(toBoolean(s, (w) => warnings.push(w))).toEqual({ ok: true, value: true });
    expect(warnings).toEqual([`"${s}" for boolean is not supported by YAML 1.2, please use \`true\``]);
  });
  test.each(['n', 'N', 'no', 'No', 'NO', 'off', 'Off', 'OFF'])('%s → false with a warning', (s) => {
    const warnings: string[] = [];
    expect(toBoolean(s, (w) => warnings.push(w))).toEqual({ ok: true, value: false });
    expect(warnings).toEqual([`"${s}" for boolean is not supported by YAML 1.2, please use \`false\``]);
  });
  test.each(['', '1', '0', 'yep', ' true', 'true '])('%j is not a boolean', (s) => {
    expect(toBoolean(s)).toEqual({ ok: false, error: `${JSON.stringify(s)} is not a boolean (expected true or false)` });
  });
});

describe('Go number parsing', () => {
  test.each([
    ['0', 0],
    ['42', 42],
    ['-1', -1],
    ['+7', 7],
    ['007', 7],
    ['-0', 0],
    ['9007199254740991', 9007199254740991],
    ['-9007199254740991', -9007199254740991],
  ])('int %s → %d', (s, n) => {
    expect(parseGoInt(s)).toEqual({ ok: true, value: n });
  });
  test.each(['', '1.5', '1e3', ' 1', '1 ', '0x10', '1_000', '--1', '١'])('int %j is invalid syntax', (s) => {
    expect(parseGoInt(s)).toEqual({ ok: false, error: `${JSON.stringify(s)} is not an integer` });
  });
  test('int out of range', () => {
    expect(parseGoInt('9223372036854775808')).toEqual({
      ok: false,
      error: 'integer "9223372036854775808" is out of range',
    });
  });
  test.each(['9007199254740992', '-9007199254740992', '9223372036854775807'])('int %s (within int64, not exact as a number) is refused', (s) => {
    expect(parseGoInt(s)).toEqual({
      ok: false,
      error: `integer "${s}" is out of range (at most 9007199254740991 in size, beyond it a number is not exact)`,
    });
  });
  test.each([
    ['1', 1],
    ['0.5', 0.5],
    ['.5', 0.5],
    ['2.', 2],
    ['-1.5e2', -150],
    ['+3E-1', 0.3],
  ])('float %s → %d', (s, n) => {
    expect(parseGoFloat(s, 64)).toEqual({ ok: true, value: n });
  });
  test.each(['', '.', 'abc', '1,5', '1.5.', 'e3', ' 1'])('float %j is invalid syntax', (s) => {
    expect(parseGoFloat(s, 64)).toEqual({ ok: false, error: `${JSON.stringify(s)} is not a number` });
  });
  test('float out of range (float32 for cpus)', () => {
    expect(parseGoFloat('1e300', 64)).toEqual({ ok: true, value: 1e300 });
    expect(parseGoFloat('1e300', 32).ok).toBe(false);
    expect(parseGoFloat('1e400', 64)).toEqual({ ok: false, error: 'number "1e400" is out of range' });
  });
});

describe('castTypes', () => {
  test('service attributes', () => {
    expect(
      castSvc({
        image: 'nginx',
        cpu_count: '2',
        cpu_percent: '50.5',
        cpu_period: '100000',
        cpu_quota: '-1',
        cpu_rt_period: '1',
        cpu_rt_runtime: '2',
        cpus: '0.5',
        cpu_shares: '512',
        init: 'true',
        oom_kill_disable: 'yes',
        oom_score_adj: '-500',
        pids_limit: '-1',
        privileged: 'True',
        read_only: 'off',
        scale: '3',
        stdin_open: 'y',
        tty: 'FALSE',
        mem_swappiness: '60',
        shm_size: '64m',
        expose: ['80'],
        user: '1000',
      }),
    ).toEqual({
      image: 'nginx',
      cpu_count: 2,
      cpu_percent: 50.5,
      cpu_period: 100000,
      cpu_quota: -1,
      cpu_rt_period: 1,
      cpu_rt_runtime: 2,
      cpus: 0.5,
      cpu_shares: 512,
      init: true,
      oom_kill_disable: true,
      oom_score_adj: -500,
      pids_limit: -1,
      privileged: true,
      read_only: false,
      scale: 3,
      stdin_open: true,
      tty: false,
      // not in compose-go's cast table: left as strings
      mem_swappiness: '60',
      shm_size: '64m',
      expose: ['80'],
      user: '1000',
    });
  });

  test('nested service paths', () => {
    expect(
      castSvc({
        depends_on: { db: { condition: 'service_started', required: 'false', restart: 'true' } },
        deploy: {
          replicas: '2',
          update_config: { parallelism: '1', max_failure_ratio: '0.3' },
          rollback_config: { parallelism: '4', max_failure_ratio: '1' },
          restart_policy: { max_attempts: '5', delay: '5s' },
          placement: { max_replicas_per_node: '1' },
          resources: { limits: { cpus: '0.5', pids: '10' } },
        },
        healthcheck: { retries: '3', disable: 'false', interval: '10s' },
        ports: [{ target: '80', published: '8080' }, '8000:80'],
        ulimits: { nproc: '65535', nofile: { soft: '20000', hard: '40000' } },
        volumes: [{ type: 'volume', source: 'v', target: '/v', read_only: 'true', volume: { nocopy: 'true' } }, 'a:/b'],
      }),
    ).toEqual({
      depends_on: { db: { condition: 'service_started', required: false, restart: true } },
      deploy: {
        replicas: 2,
        update_config: { parallelism: 1, max_failure_ratio: 0.3 },
        rollback_config: { parallelism: 4, max_failure_ratio: 1 },
        restart_policy: { max_attempts: 5, delay: '5s' },
        placement: { max_replicas_per_node: 1 },
        resources: { limits: { cpus: '0.5', pids: '10' } },
      },
      healthcheck: { retries: 3, disable: false, interval: '10s' },
      ports: [{ target: 80, published: '8080' }, '8000:80'],
      ulimits: { nproc: 65535, nofile: { soft: 20000, hard: 40000 } },
      volumes: [{ type: 'volume', source: 'v', target: '/v', read_only: true, volume: { nocopy: true } }, 'a:/b'],
    });
  });

  test('top-level resources', () => {
    const data = {
      networks: { front: { external: 'true', internal: 'no', attachable: 'yes', enable_ipv4: 'false', enable_ipv6: 'true', driver: 'bridge' } },
      volumes: { data: { external: 'false' } },
      secrets: { s: { external: 'true' } },
      configs: { c: { external: 'True' } },
      'x-custom': { external: 'true', replicas: '2' },
    };
    expect(castTypes(data)).toEqual({
      networks: { front: { external: true, internal: false, attachable: true, enable_ipv4: false, enable_ipv6: true, driver: 'bridge' } },
      volumes: { data: { external: false } },
      secrets: { s: { external: true } },
      configs: { c: { external: true } },
      'x-custom': { external: 'true', replicas: '2' },
    });
  });

  test('typed values that are already typed are kept; the input is not modified', () => {
    const data = svc({ privileged: false, scale: 2, cpus: 1.5, tty: 'true' });
    const before = JSON.stringify(data);
    expect(castTypes(data)).toEqual(svc({ privileged: false, scale: 2, cpus: 1.5, tty: true }));
    expect(JSON.stringify(data)).toBe(before);
  });

  test('`[]` paths match list items only; `*` matches keys', () => {
    // ports as a mapping would not be valid compose, and compose-go would not cast it.
    expect(castSvc({ ports: { a: { target: '80' } } })).toEqual({ ports: { a: { target: '80' } } });
    // a service key is any name
    expect(castTypes({ services: { 'a.b': { tty: 'true' } } })).toEqual({ services: { 'a.b': { tty: true } } });
  });

  test('values that do not convert are left unchanged by default', () => {
    expect(castSvc({ privileged: 'maybe', scale: 'two', cpus: 'lots', ports: [{ target: '' }] })).toEqual({
      privileged: 'maybe',
      scale: 'two',
      cpus: 'lots',
      ports: [{ target: '' }],
    });
  });

  test('strict: compose-go error wording with path and position', () => {
    const parsed = parseYaml('services:\n  web:\n    image: x\n    privileged: "maybe"\n', 'compose.yaml');
    let err: unknown;
    try {
      castTypes(parsed.data, { strict: parsed });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InterpolationError);
    const e = err as InterpolationError;
    expect(e.detail).toBe('services.web.privileged: "maybe" is not a boolean (expected true or false)');
    expect(e.position).toEqual({ file: 'compose.yaml', line: 4, col: 17 });
  });

  test('strict: list items print with their index', () => {
    const parsed = parseYaml('services:\n  web:\n    ports:\n      - target: "8o"\n', 'compose.yaml');
    expect(() => castTypes(parsed.data, { strict: parsed })).toThrow('services.web.ports[0].target: "8o" is not an integer');
  });

  test('Tagged markers are transparent', () => {
    const out = castTypes(svc({ privileged: new Tagged('override', 'true'), ports: new Tagged('override', [{ target: '80' }]) })) as {
      services: { web: { privileged: Tagged; ports: Tagged } };
    };
    expect(out.services.web.privileged).toBeInstanceOf(Tagged);
    expect(out.services.web.privileged.tag).toBe('override');
    expect(out.services.web.privileged.value).toBe(true);
    expect(out.services.web.ports.value).toEqual([{ target: 80 }]);
  });

  test('YAML 1.1 boolean warnings are reported', () => {
    const warnings: string[] = [];
    castTypes(svc({ tty: 'yes', init: 'true' }), { onWarning: (w) => warnings.push(w) });
    expect(warnings).toEqual(['"yes" for boolean is not supported by YAML 1.2, please use `true`']);
  });

  test('the table mirrors compose-go (42 entries)', () => {
    expect(TYPE_CASTS).toHaveLength(42);
  });
});
