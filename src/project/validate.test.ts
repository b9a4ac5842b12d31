import { describe, test, expect } from '@jest/globals';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigValidationError, type SchemaIssue } from '../errors.js';
import { schemaHash } from '../../schemas/compose-spec.validator.js';
import { validateSchema, formatPath } from './validate.js';
import { parseYaml, Tagged, type Path } from './yaml.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const projectRoot = join(here, '..', '..');
const conformance = join(projectRoot, '..', 'shared', 'conformance');

/** Crude stand-in for interpolation: `${X:-d}` → d, other variables → "x", `$$` → `$`. */
function substitute(text: string): string {
  return (
    text
      .replace(/\$\$/g, '\u0000')
      .replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-?+])([^}]*)\}/g, (_m, _name: string, op: string, arg: string) => (op.endsWith('-') ? arg : 'x'))
      .replace(/\$\{[A-Za-z_][A-Za-z0-9_]*\}/g, 'x')
      .replace(/\$[A-Za-z_][A-Za-z0-9_]*/g, 'x')
      // eslint-disable-next-line no-control-regex -- NUL stands in for `$$` above
      .replace(/\u0000/g, '$')
  );
}

function validateText(text: string, file = 'compose.yaml'): void {
  const parsed = parseYaml(text, file);
  validateSchema(parsed.data, parsed);
}

/** The issues a document produces (none when it is valid). */
function issuesOf(text: string): SchemaIssue[] {
  try {
    validateText(text);
    return [];
  } catch (e) {
    if (e instanceof ConfigValidationError) return [...e.issues];
    throw e;
  }
}

const brief = (i: SchemaIssue): string => `${i.position?.line}:${i.position?.col} ${i.path}: ${i.message}`;

function listFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) listFiles(p, out);
    else if (/\.ya?ml$/.test(name)) out.push(p);
  }
  return out;
}

/** Conformance files that are not meant to be a valid Compose file on their own. */
const NOT_STANDALONE: Record<string, string> = {
  // An extends source: its `nil:` service is intentionally null and only other services are ever extended.
  'compose-go-testdata/loader/testdata/extends/base.yaml': 'extends source with a null service',
};

function conformanceFiles(): string[] {
  if (!existsSync(conformance)) return [];
  return listFiles(conformance).filter((f) => {
    const rel = f.slice(conformance.length + 1);
    if (NOT_STANDALONE[rel]) return false;
    if (rel.startsWith('compose-go-merge/')) {
      const expect = JSON.parse(readFileSync(join(f, '..', 'expect.json'), 'utf8')) as { skip?: string };
      return !expect.skip;
    }
    return true;
  });
}

// The corpus beside the project (../shared/conformance); a clone with nothing beside it skips these.
(existsSync(conformance) ? describe : describe.skip)('conformance corpus', () => {
  const files = conformanceFiles();

  test('the corpus is there', () => {
    expect(files.length).toBeGreaterThan(200);
  });

  if (files.length > 0)
    test.each(files.map((f) => [f.slice(conformance.length + 1), f]))('%s is valid', (_rel, file) => {
      expect(() => validateText(substitute(readFileSync(file, 'utf8')), file)).not.toThrow();
    });

  test("compose-go's canonical output of the full example is valid", () => {
    const file = join(conformance, 'compose-go-full-example', 'expected.json');
    const data: unknown = JSON.parse(readFileSync(file, 'utf8'));
    expect(() => validateSchema(data, { file, locate: () => ({ file }) })).not.toThrow();
  });
});

describe("tscompose's canonical output forms", () => {
  const canonical = {
    name: 'demo',
    services: {
      web: {
        image: 'nginx:1.27',
        command: null,
        entrypoint: null,
        ports: [
          { mode: 'ingress', target: 80, published: '8080', protocol: 'tcp' },
          { mode: 'host', host_ip: '127.0.0.1', target: 443, published: '8443-8450', protocol: 'tcp', app_protocol: 'https', name: 'tls' },
        ],
        secrets: [{ source: 's', target: '/run/secrets/s', uid: '103', gid: '103', mode: '0440' }],
        configs: [{ source: 'c', target: '/c', mode: 288 }],
        extra_hosts: ['somehost=162.242.195.82', 'myhostv6=::1'],
        env_file: [
          { path: '/p/a.env', required: true },
          { path: '/p/b.env', required: false, format: 'raw' },
        ],
        label_file: ['/p/app.labels'],
        depends_on: {
          db: { condition: 'service_healthy', required: true, restart: true },
          cache: { condition: 'service_started', required: false },
        },
        volumes: [
          { type: 'bind', source: '/src', target: '/app', bind: {} },
          { type: 'bind', source: '/etc/x', target: '/x', read_only: true, bind: { create_host_path: true, selinux: 'z' } },
          { type: 'volume', source: 'data', target: '/data', volume: {} },
          { type: 'volume', target: '/anon', volume: { nocopy: true, subpath: 'sub' } },
          { type: 'tmpfs', target: '/tmp', tmpfs: { size: '10000' } },
          { type: 'tmpfs', target: '/run', tmpfs: { size: 10000, mode: 1777 } },
          { type: 'image', source: 'busybox', target: '/img', image: { subpath: 'bin' } },
        ],
        deploy: {
          replicas: 2,
          resources: {
            limits: { cpus: 0.5, memory: '104857600', pids: 100 },
            reservations: { cpus: 0.25, memory: '20971520', devices: [{ capabilities: ['gpu'], count: -1 }] },
          },
          restart_policy: { condition: 'on-failure', delay: '5s', max_attempts: 3, window: '2m0s' },
          update_config: { parallelism: 2, delay: '10s', monitor: '1m0s', order: 'stop-first', max_failure_ratio: 0.3 },
          'x-deploy-note': 1,
        },
        healthcheck: { test: ['CMD', 'true'], interval: '1m30s', timeout: '10s', retries: 3, start_period: '0s', start_interval: '500ms' },
        stop_grace_period: '1m0s',
        cpus: 1.5,
        mem_limit: '536870912',
        shm_size: 67108864,
        ulimits: { nofile: { soft: 20000, hard: 40000 }, nproc: 65535 },
        networks: { front: null, back: { aliases: ['api'], ipv4_address: '172.16.0.10', priority: 10, gw_priority: 1 } },
        models: { llm: { endpoint_var: 'LLM_URL', model_var: 'LLM' }, other: null },
        environment: { A: '1', B: null },
        labels: { 'com.example.x': 'y' },
        build: { context: '/src', dockerfile: 'Dockerfile', args: { V: '1' }, 'x-build-note': true },
        develop: { watch: [{ path: '/src', action: 'sync+restart', target: '/app', ignore: ['node_modules'] }] },
        restart: 'on-failure:3',
        pull_policy: 'every_12h',
        'x-service-note': { any: ['thing'] },
      },
      db: { image: 'postgres', networks: { back: null } },
      cache: { image: 'redis' },
    },
    networks: {
      front: { ipam: {} },
      back: { ipam: { driver: 'default', config: [{ subnet: '172.16.0.0/24' }] }, 'x-net': 1 },
      outside: { name: 'outside', external: true },
    },
    volumes: { data: { 'x-vol': 'y' }, ext: { name: 'real', external: true } },
    secrets: { s: { file: '/p/s.txt', 'x-secret': 1 }, e: { environment: 'TOKEN' } },
    configs: { c: { content: 'hello', 'x-config': 1 } },
    models: { llm: { model: 'ai/smollm2', context_size: 1024, runtime_flags: ['--flag'] }, other: { model: 'ai/other' } },
    'x-top': { anything: true },
  };

  test('the long forms tscompose emits are all accepted', () => {
    expect(() => validateSchema(canonical, { file: 'out.json', locate: () => ({ file: 'out.json' }) })).not.toThrow();
  });

  test('version is accepted (obsolete)', () => {
    expect(issuesOf('version: "3.8"\nservices:\n  a:\n    image: x\n')).toEqual([]);
  });

  test('an empty document is not a schema error', () => {
    expect(issuesOf('# nothing here\n')).toEqual([]);
  });
});

describe('error reports', () => {
  test('unknown service key: reported at its own path, positioned on the key', () => {
    const issues = issuesOf('services:\n  web:\n    image: nginx\n    imagee: typo\n');
    expect(issues.map(brief)).toEqual(['4:5 services.web.imagee: additional property "imagee" is not allowed (did you mean "image"?)']);
    expect(issues[0]!.position?.file).toBe('compose.yaml');
  });

  test('invalid top-level key', () => {
    expect(issuesOf('services:\n  web:\n    image: nginx\nservice:\n  x: 1\n').map(brief)).toEqual([
      '4:1 service: additional property "service" is not allowed (did you mean "services"?)',
    ]);
  });

  test('x-* extension keys are accepted where the spec allows them, and only there', () => {
    const ok =
      'x-top: 1\nservices:\n  web:\n    image: n\n    x-a: 1\n    build:\n      context: .\n      x-b: 1\n    deploy:\n      x-c: 1\n      resources:\n        x-d: 1\nnetworks:\n  n:\n    x-e: 1\n';
    expect(issuesOf(ok)).toEqual([]);
    // but not as service names' siblings of fixed keys that are not extensions
    expect(issuesOf('services:\n  web:\n    image: n\n    y-a: 1\n').map((i) => i.path)).toEqual(['services.web.y-a']);
  });

  test('ports must be a list', () => {
    expect(issuesOf('services:\n  web:\n    image: n\n    ports: "8080:80"\n').map(brief)).toEqual(['4:12 services.web.ports: must be a list']);
  });

  test('a port of the wrong type names the accepted forms, once', () => {
    expect(issuesOf('services:\n  web:\n    image: n\n    ports:\n      - "80"\n      - true\n').map(brief)).toEqual([
      '6:9 services.web.ports[1]: must be a number, a string or a mapping',
    ]);
  });

  test('an unknown key in a long-form port drops the other alternatives', () => {
    expect(issuesOf('services:\n  web:\n    image: n\n    ports:\n      - target: 80\n        publish: 8080\n').map(brief)).toEqual([
      '6:9 services.web.ports[0].publish: additional property "publish" is not allowed (did you mean "published"?)',
    ]);
  });

  test('bad restart value', () => {
    expect(issuesOf('services:\n  web:\n    image: n\n    restart: sometimes\n').map(brief)).toEqual([
      '4:14 services.web.restart: must be one of: "no", always, on-failure[:max-retries], unless-stopped',
    ]);
    expect(issuesOf('services:\n  web:\n    image: n\n    restart: on-failure:5\n')).toEqual([]);
  });

  test('bad pull_policy', () => {
    const [issue] = issuesOf('services:\n  web:\n    image: n\n    pull_policy: sometimes\n');
    expect(issue!.path).toBe('services.web.pull_policy');
    expect(issue!.message).toMatch(/^must be one of: always, never, missing, build/);
  });

  test('bad service name: positioned on the name', () => {
    expect(issuesOf('services:\n  web:\n    image: n\n  "my web":\n    image: n\n').map(brief)).toEqual([
      '4:3 services["my web"]: invalid service name "my web": only letters, digits, ".", "_" and "-" are allowed',
    ]);
  });

  test('bad network name in a service', () => {
    expect(issuesOf('services:\n  web:\n    image: n\n    networks:\n      "a b": {}\n').map((i) => `${i.path}: ${i.message}`)).toEqual([
      'services.web.networks["a b"]: invalid network name "a b": only letters, digits, ".", "_" and "-" are allowed',
    ]);
  });

  test('string or list', () => {
    expect(issuesOf('services:\n  web:\n    image: n\n    dns: 8\n').map((i) => `${i.path}: ${i.message}`)).toEqual([
      'services.web.dns: must be a string or a list of strings',
    ]);
  });

  test('a list item of the wrong type inside a string-or-mapping', () => {
    expect(issuesOf('services:\n  web:\n    image: n\n    environment:\n      - A=1\n      - 2\n').map(brief)).toEqual([
      '6:9 services.web.environment[1]: must be a string',
    ]);
  });

  test('mapping values and dotted keys', () => {
    expect(issuesOf('services:\n  web:\n    image: n\n    labels:\n      com.example.a: [1]\n').map((i) => `${i.path}: ${i.message}`)).toEqual([
      'services.web.labels["com.example.a"]: must be a string, a number, a boolean or null',
    ]);
  });

  test('booleans, durations and byte values', () => {
    const issues = issuesOf(
      'services:\n  web:\n    image: n\n    privileged: maybe\n    stop_grace_period: 10 seconds\n    mem_limit: lots\n    tty: 3\n',
    );
    expect(issues.map((i) => `${i.path}: ${i.message}`)).toEqual([
      'services.web.privileged: must be a boolean (true or false)',
      'services.web.stop_grace_period: must be a duration such as "10s" or "1m30s"',
      'services.web.mem_limit: must be a byte value such as 1024, "512m" or "2gb"',
      'services.web.tty: must be a boolean (true or false)',
    ]);
  });

  test('depends_on: enum and required inside the long form', () => {
    const issues = issuesOf(
      'services:\n  web:\n    image: n\n    depends_on:\n      db:\n        condition: healthy\n      cache:\n        required: false\n',
    );
    expect(issues.map(brief)).toEqual([
      '6:20 services.web.depends_on.db.condition: must be one of: service_started, service_healthy, service_completed_successfully',
      '8:9 services.web.depends_on.cache: missing required property "condition"',
    ]);
  });

  test('duplicates in a list are reported on the duplicate', () => {
    expect(issuesOf('services:\n  web:\n    image: n\n    cap_add: [NET_ADMIN, SYS_TIME, NET_ADMIN]\n').map(brief)).toEqual([
      '4:36 services.web.cap_add[2]: duplicate item (same as item [0])',
    ]);
  });

  test('enum with a value of another type', () => {
    expect(issuesOf('services:\n  web:\n    image: n\n    cgroup: [host]\n').map((i) => i.message)).toEqual(['must be one of: host, private']);
  });

  test('several problems are all reported, in file order', () => {
    const err = (() => {
      try {
        validateText('services:\n  a:\n    image: 1\n  b:\n    image: n\n    bogus: 1\nnetworks:\n  n:\n    driver: 5\n');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(ConfigValidationError);
    const e = err as ConfigValidationError;
    expect(e.issues.map(brief)).toEqual([
      '3:12 services.a.image: must be a string',
      '6:5 services.b.bogus: additional property "bogus" is not allowed',
      '9:13 networks.n.driver: must be a string',
    ]);
    expect(e.code).toBe('TSC_SCHEMA');
    expect(e.message).toMatch(/^compose\.yaml:3:12: services\.a\.image: must be a string\n {2}compose\.yaml:6:5: services\.b\.bogus/);
  });

  test('a non-mapping document', () => {
    expect(issuesOf('- a\n- b\n').map((i) => `${i.path}: ${i.message}`)).toEqual(['(root): must be a mapping']);
  });
});

describe('Tagged values', () => {
  test('!override is validated through its value', () => {
    expect(issuesOf('services:\n  web:\n    image: n\n    environment: !override {A: "1"}\n')).toEqual([]);
    expect(issuesOf('services:\n  web:\n    image: n\n    ports: !override ["80", {target: 80, nope: 1}]\n').map(brief)).toEqual([
      '4:42 services.web.ports[1].nope: additional property "nope" is not allowed',
    ]);
  });

  test('!reset removes the key whatever it holds; so does !override null', () => {
    // Neither build nor healthcheck is nullable, and ports is not a mapping: as removals they are fine.
    expect(issuesOf('services:\n  web:\n    image: n\n    build: !reset null\n    healthcheck: !reset\n    ports: !reset {}\n')).toEqual([]);
    // (parseYaml currently reads `!override null` as the string "null", so this one is built by hand.)
    const data = { services: { web: { image: 'n', deploy: new Tagged('override', null), dns: new Tagged('override', undefined) } } };
    expect(() => validateSchema(data, { file: 'f', locate: () => ({ file: 'f' }) })).not.toThrow();
  });

  test('removed list items keep the other items at their original index', () => {
    const data = {
      services: { web: { image: 'n', ports: [new Tagged('reset', null), '80', true], dns: new Tagged('override', ['8.8.8.8']) } },
    };
    const seen: Path[] = [];
    try {
      validateSchema(data, {
        file: 'f.yaml',
        locate: (p) => {
          seen.push(p);
          return { file: 'f.yaml', line: 1, col: 1 };
        },
      });
      throw new Error('expected a validation error');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigValidationError);
      expect((e as ConfigValidationError).issues.map((i) => i.path)).toEqual(['services.web.ports[2]']);
      expect(seen).toEqual([['services', 'web', 'ports', 2]]);
    }
  });

  test('untagged data is validated without copying (tags do not leak into the input)', () => {
    const data = { services: { web: { image: 'n', labels: new Tagged('override', { a: 'b' }) } } };
    validateSchema(data, { file: 'f', locate: () => ({ file: 'f' }) });
    expect(data.services.web.labels).toBeInstanceOf(Tagged);
  });
});

describe('paths', () => {
  test('formatPath', () => {
    expect(formatPath([])).toBe('(root)');
    expect(formatPath(['services', 'web', 'ports', 0, 'target'])).toBe('services.web.ports[0].target');
    expect(formatPath(['services', 'web', 'labels', 'com.example.x'])).toBe('services.web.labels["com.example.x"]');
    expect(formatPath(['services', 'my.app'])).toBe('services["my.app"]');
  });
});

describe('generated validator', () => {
  test('is up to date with schemas/compose-spec.json (run `npm run build:schema` if not)', () => {
    const text = readFileSync(join(projectRoot, 'schemas', 'compose-spec.json'), 'utf8');
    expect(schemaHash).toBe(createHash('sha256').update(text).digest('hex'));
  });

  test('a 500-service file validates quickly', () => {
    const services: Record<string, unknown> = {};
    for (let i = 0; i < 500; i++) {
      services[`svc-${i}`] = {
        image: 'nginx:1.27',
        ports: ['8080:80', { target: 80, published: '8081' }],
        environment: { A: '1', B: null },
        depends_on: i > 0 ? { [`svc-${i - 1}`]: { condition: 'service_started', required: true } } : undefined,
        volumes: ['./a:/b:ro', { type: 'bind', source: '/x', target: '/y', bind: {} }],
        healthcheck: { test: ['CMD', 'true'], interval: '10s' },
        deploy: { resources: { limits: { memory: '104857600', cpus: 0.5 } } },
        restart: 'always',
        labels: ['a=b'],
      };
    }
    const data = { services };
    const source = { file: 'big.yaml', locate: () => ({ file: 'big.yaml' }) };
    validateSchema(data, source); // warm-up
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) validateSchema(data, source);
    const perRun = (performance.now() - t0) / 5;
    expect(perRun).toBeLessThan(100);
  });
});
