/**
 * The service config hash: golden values (the hash without inputs is the one earlier versions wrote, so their
 * containers are not recreated), the keys left out, and the input digests hashed with the service.
 */
import { describe, expect, test } from '@jest/globals';
import { serviceConfigHash, stableStringify } from './hash.js';
import type { ServiceConfig } from './types.js';

const SVC: ServiceConfig = {
  image: 'busybox:latest',
  command: ['sleep', '3600'],
  environment: { A: '1' },
  secrets: [{ source: 'a' }],
  deploy: { replicas: 2, labels: { x: 'y' } },
};
/** serviceConfigHash(SVC) as the version before content-aware hashing computed it. */
const BEFORE_INPUTS = 'de3b191bde1a20467005c680fb69c054e1be988e8256891a273e7c2ace0e54bd';
const DIGEST_A = 'a'.repeat(64);
const DIGEST_B = 'b'.repeat(64);

describe('serviceConfigHash', () => {
  test('without inputs: the hash earlier versions wrote (golden)', () => {
    expect(serviceConfigHash(SVC)).toBe(BEFORE_INPUTS);
    expect(serviceConfigHash(SVC, {})).toBe(BEFORE_INPUTS);
  });

  test('keys that must not recreate are left out: build, pull_policy, scale, replicas, depends_on, profiles, develop', () => {
    const more: ServiceConfig = {
      ...SVC,
      build: { context: '/x' },
      pull_policy: 'always',
      scale: 3,
      deploy: { ...SVC.deploy, replicas: 5 },
      depends_on: { db: { condition: 'service_started', required: true } },
      profiles: ['dev'],
      develop: { watch: [{ path: '/src', action: 'sync', target: '/app' }] },
    };
    expect(serviceConfigHash(more)).toBe(BEFORE_INPUTS);
    expect(serviceConfigHash({ ...SVC, environment: { A: '2' } })).not.toBe(BEFORE_INPUTS);
    expect(serviceConfigHash({ ...SVC, deploy: { replicas: 2, labels: { x: 'z' } } })).not.toBe(BEFORE_INPUTS);
  });

  test('input digests are hashed with the service, whatever their order', () => {
    const one = serviceConfigHash(SVC, { 'secrets/a.txt': DIGEST_A, 'b.env': DIGEST_B });
    expect(one).toMatch(/^[0-9a-f]{64}$/);
    expect(one).not.toBe(BEFORE_INPUTS);
    expect(serviceConfigHash(SVC, { 'b.env': DIGEST_B, 'secrets/a.txt': DIGEST_A })).toBe(one);
    expect(serviceConfigHash(SVC, { 'secrets/a.txt': DIGEST_B, 'b.env': DIGEST_B })).not.toBe(one);
    expect(serviceConfigHash(SVC, { 'secrets/a.txt': DIGEST_A })).not.toBe(one);
    // golden: a change here recreates every container with inputs
    expect(serviceConfigHash(SVC, { 'secrets/a.txt': DIGEST_A })).toBe('e91bd4efbbfc0fa36764b9b05be5cf948a3ed64825713d110698d75e27a3e52f');
  });

  test('stableStringify sorts keys and drops undefined ones', () => {
    expect(stableStringify({ b: 1, a: [{ d: undefined, c: 'x' }], e: null })).toBe('{"a":[{"c":"x"}],"b":1,"e":null}');
  });
});
