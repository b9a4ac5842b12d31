/**
 * Integration tests of the loader: input docker compose refuses is refused here too, with a message that names
 * the file, line:col and what is wrong (ports, numbers too large to be exact, undefined networks, duplicate
 * keys), every schema and type error of a file in one run, and "did you mean" for misspelt keys and values.
 */
import { afterAll, describe, expect, test } from '@jest/globals';
import { join } from 'node:path';
import { ConfigError, ConfigValidationError, ConsistencyError, YamlSyntaxError } from '../errors.js';
import { caught, esc, load, project, removeTmpDirs, svc } from './__fixtures__/load-helpers.js';

afterAll(removeTmpDirs);

const web = (lines: string): string => `services:\n  web:\n    image: nginx\n${lines}`;
const loadText = (yaml: string, opts: Parameters<typeof load>[1] = {}) => load(project({ 'compose.yaml': yaml }), opts);
const errorOf = (yaml: string, opts: Parameters<typeof load>[1] = {}) => {
  const dir = project({ 'compose.yaml': yaml });
  return { e: caught(() => load(dir, opts)), file: join(dir, 'compose.yaml') };
};

describe('ports', () => {
  test('"80:80:80:80" is refused (its host IP would be 80:80), at its line:col', () => {
    const { e, file } = errorOf(web('    ports: ["80:80:80:80"]\n'));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toMatch(new RegExp(`^${esc(file)}:4:13: services\\.web\\.ports\\[0\\]: invalid port "80:80:80:80": invalid IP address 80:80`));
  });

  test('the long form host_ip must be an IP address (compose-go: invalid ip address)', () => {
    const { e, file } = errorOf(web('    ports:\n      - target: 80\n        host_ip: "80:80"\n'));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toBe(`${file}:6:18: services.web.ports[0].host_ip: invalid host IP address "80:80" (expected e.g. 127.0.0.1 or ::1)`);
  });

  test('host IPs (IPv4, IPv6 in brackets or not), ranges and protocols still load', () => {
    const l = loadText(
      web(
        '    ports:\n' +
          '      - "[::1]:80:80"\n' +
          '      - "127.0.0.1:8080:81"\n' +
          '      - "9000-9001:82-83/udp"\n' +
          '      - {target: 84, host_ip: "::1"}\n' +
          '      - {target: 85, host_ip: "[::1]"}\n' +
          '      - {target: 86, host_ip: 10.0.0.1, published: "8086"}\n',
      ),
    );
    expect(svc(l, 'web').ports).toEqual([
      { mode: 'ingress', host_ip: '::1', target: 80, published: '80', protocol: 'tcp' },
      { mode: 'ingress', host_ip: '127.0.0.1', target: 81, published: '8080', protocol: 'tcp' },
      { mode: 'ingress', target: 82, published: '9000', protocol: 'udp' },
      { mode: 'ingress', target: 83, published: '9001', protocol: 'udp' },
      { mode: 'ingress', host_ip: '::1', target: 84, protocol: 'tcp' },
      { mode: 'ingress', host_ip: '[::1]', target: 85, protocol: 'tcp' },
      { mode: 'ingress', host_ip: '10.0.0.1', target: 86, published: '8086', protocol: 'tcp' },
    ]);
  });
});

describe('numbers too large to be exact', () => {
  const BIG = '99999999999999999999';

  test.each([
    ['mem_limit', `    mem_limit: ${BIG}\n`, 'services.web.mem_limit', '4:16'],
    ['shm_size', `    shm_size: ${BIG}\n`, 'services.web.shm_size', '4:15'],
    ['deploy.replicas', `    deploy:\n      replicas: ${BIG}\n`, 'services.web.deploy.replicas', '5:17'],
    ['pids_limit', `    pids_limit: ${BIG}\n`, 'services.web.pids_limit', '4:17'],
    ['cpu_shares', `    cpu_shares: -${BIG}\n`, 'services.web.cpu_shares', '4:17'],
    ['scale', `    scale: 9007199254740992\n`, 'services.web.scale', '4:12'],
  ])('%s: a number is refused with its line:col', (_key, lines, path, at) => {
    const { e, file } = errorOf(web(lines));
    expect(e).toBeInstanceOf(ConfigValidationError);
    expect(e.message).toBe(`${file}:${at}: ${path}: must be between -9007199254740991 and 9007199254740991 (a larger number is not exact)`);
  });

  test.each([
    [
      'mem_limit',
      `    mem_limit: "${BIG}"\n`,
      /:4:16: services\.web\.mem_limit: size "99999999999999999999" is too large \(at most 9007199254740991 bytes/,
    ],
    ['memswap_limit', `    memswap_limit: 100000000p\n`, /:4:20: services\.web\.memswap_limit: size "100000000p" is too large/],
    [
      'deploy.replicas',
      `    deploy:\n      replicas: "9007199254740993"\n`,
      /:5:17: services\.web\.deploy\.replicas: integer "9007199254740993" is out of range/,
    ],
    ['pids_limit', `    pids_limit: \${N}\n`, /:4:17: services\.web\.pids_limit: integer "99999999999999999999" is out of range/],
  ])('%s: a string (or interpolated value) is refused with its line:col', (_key, lines, re) => {
    const { e } = errorOf(web(lines), { env: { N: BIG } });
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toMatch(re);
  });

  test('the largest exact values still load', () => {
    const l = loadText(web('    mem_limit: 9007199254740991\n    shm_size: 7p\n    deploy:\n      replicas: 9007199254740991\n    pids_limit: -1\n'));
    expect(svc(l, 'web')).toMatchObject({
      mem_limit: '9007199254740991',
      shm_size: String(7 * 1024 ** 5),
      deploy: { replicas: 9007199254740991 },
      pids_limit: -1,
    });
  });
});

describe('an undefined network', () => {
  const yaml = web('    networks: [front]\n');

  test('is an error in mode error (`up`, `config -q`), as docker compose refuses the project', () => {
    const { e, file } = errorOf(yaml, { consistency: 'error' });
    expect(e).toBeInstanceOf(ConsistencyError);
    expect(e.code).toBe('TSC_CONSISTENCY');
    expect(e.message).toBe(`${file}:4:15: service "web" refers to undefined network front: invalid compose project`);
  });

  test('as a mapping key too, and in mode error', () => {
    const { e, file } = errorOf(web('    networks:\n      back: {}\n      front:\n        aliases: [x]\nnetworks:\n  back: {}\n'), {
      consistency: 'error',
    });
    expect(e.message).toBe(`${file}:7:9: service "web" refers to undefined network front: invalid compose project`);
  });

  test('is a warning with consistency off (--no-consistency)', () => {
    const warnings: string[] = [];
    const l = loadText(yaml, { consistency: 'off', onWarning: (w) => warnings.push(w) });
    expect(Object.keys(svc(l, 'web').networks)).toEqual(['front']);
    expect(warnings.join('\n')).toMatch(/:4:15: service "web" refers to undefined network front: invalid compose project/);
  });
});

describe('duplicate keys', () => {
  test('the error names the key, the line:col of the duplicate and the line of the first one (go-yaml words)', () => {
    const { e, file } = errorOf('services:\n  web:\n    image: a\n    ports: ["80"]\n    image: b\n');
    expect(e).toBeInstanceOf(YamlSyntaxError);
    expect(e.message).toBe(`${file}:5:5: mapping key "image" already defined at line 3`);
  });

  test('a duplicate service, in a flow mapping, in a later document', () => {
    expect(errorOf('services:\n  web: {image: a}\n  db: {image: b}\n  web: {image: c}\n').e.message).toMatch(
      /compose\.yaml:4:3: mapping key "web" already defined at line 2$/,
    );
    expect(errorOf('services:\n  web: {image: a, image: b}\n').e.message).toMatch(
      /compose\.yaml:2:19: mapping key "image" already defined at line 2$/,
    );
    expect(errorOf('services:\n  web: {image: a}\n---\nservices:\n  web:\n    environment:\n      A: 1\n      "A": 2\n').e.message).toMatch(
      /compose\.yaml:8:7: mapping key "A" already defined at line 7$/,
    );
  });

  test('repeated merge keys are not duplicates', () => {
    const l = loadText('x-a: &a {image: a}\nx-b: &b {init: true}\nservices:\n  web:\n    <<: *a\n    <<: *b\n');
    expect(svc(l, 'web')).toMatchObject({ image: 'a', init: true });
  });
});

describe('every schema and type error of a file in one run', () => {
  test('a value that does not cast to its type is listed with the schema errors, sorted by position', () => {
    const { e, file } = errorOf(
      web('    privileged: maybe\n    unknown: x\n    deploy:\n      replicas: many\n    ports: 80\n    restart: 5\n') +
        '  db:\n    image: x\n    init: perhaps\n',
      { env: {} },
    );
    expect(e).toBeInstanceOf(ConfigValidationError);
    expect(e.code).toBe('TSC_SCHEMA');
    expect((e as ConfigValidationError).issues.map((i) => `${i.position?.line}:${i.position?.col} ${i.path}: ${i.message}`)).toEqual([
      '4:17 services.web.privileged: "maybe" is not a boolean (expected true or false)',
      '5:5 services.web.unknown: additional property "unknown" is not allowed',
      '7:17 services.web.deploy.replicas: "many" is not an integer',
      '8:12 services.web.ports: must be a list',
      '9:14 services.web.restart: must be one of: "no", always, on-failure[:max-retries], unless-stopped',
      '12:11 services.db.init: "perhaps" is not a boolean (expected true or false)',
    ]);
    expect(e.message.startsWith(`${file}:4:17: services.web.privileged: "maybe" is not a boolean`)).toBe(true);
    expect(e.message).toContain(`\n  ${file}:12:11: services.db.init: "perhaps"`);
  });

  test('type errors alone are a schema error too', () => {
    const { e, file } = errorOf(web('    privileged: maybe\n'));
    expect(e).toBeInstanceOf(ConfigValidationError);
    expect(e.message).toBe(`${file}:4:17: services.web.privileged: "maybe" is not a boolean (expected true or false)`);
  });
});

describe('did you mean', () => {
  test('misspelt keys and values get the closest allowed name, each at its line:col', () => {
    const { e } = errorOf(
      'servces:\n  a: {}\nservices:\n  web:\n    imgae: x\n    enviroment: {}\n    restart: alwyas\n    depends_on:\n      db:\n        condition: service_healty\n        requird: true\n    deploy:\n      replcas: 2\n  db:\n    image: x\nnetworks:\n  n:\n    drivr: bridge\n',
    );
    expect(e).toBeInstanceOf(ConfigValidationError);
    expect((e as ConfigValidationError).issues.map((i) => `${i.position?.line}:${i.position?.col} ${i.path}: ${i.message}`)).toEqual([
      '1:1 servces: additional property "servces" is not allowed (did you mean "services"?)',
      '5:5 services.web.imgae: additional property "imgae" is not allowed (did you mean "image"?)',
      '6:5 services.web.enviroment: additional property "enviroment" is not allowed (did you mean "environment"?)',
      '7:14 services.web.restart: must be one of: "no", always, on-failure[:max-retries], unless-stopped (did you mean "always"?)',
      '10:20 services.web.depends_on.db.condition: must be one of: service_started, service_healthy, service_completed_successfully (did you mean "service_healthy"?)',
      '11:9 services.web.depends_on.db.requird: additional property "requird" is not allowed (did you mean "required"?)',
      '13:7 services.web.deploy.replcas: additional property "replcas" is not allowed (did you mean "replicas"?)',
      '18:5 networks.n.drivr: additional property "drivr" is not allowed (did you mean "driver"?)',
    ]);
  });

  test('nothing is suggested for a key far from every allowed one', () => {
    const { e } = errorOf(web('    whatever: 1\n'));
    expect(e.message).toMatch(/services\.web\.whatever: additional property "whatever" is not allowed$/);
  });
});
