import { describe, expect, test } from '@jest/globals';
import type { Project, ServiceConfig } from '../project/types.js';
import { FakeRuntime } from '../runtime/fake/fake-runtime.js';
import { hostRequirementWarnings } from './host-requirements.js';

const project = (services: Record<string, ServiceConfig>): Project => ({ name: 'p', services }) as unknown as Project;

describe('hostRequirementWarnings', () => {
  const low = new FakeRuntime({ sysctls: { 'vm.max_map_count': '65530' } });

  test('Elasticsearch by image or by service name, on a host with too low vm.max_map_count', async () => {
    const p = project({
      es: { image: 'docker.elastic.co/elasticsearch/elasticsearch:8.15.0' },
      elasticsearch: { build: { context: '/x' } } as ServiceConfig,
      search: { image: 'opensearchproject/opensearch@sha256:0123' },
      web: { image: 'nginx' },
    });
    expect(await hostRequirementWarnings(low, p, ['elasticsearch', 'es', 'search', 'web'])).toEqual([
      'service "elasticsearch": Elasticsearch needs vm.max_map_count >= 262144, this host has 65530 (raise it: sysctl -w vm.max_map_count=262144)',
      'service "es": Elasticsearch needs vm.max_map_count >= 262144, this host has 65530 (raise it: sysctl -w vm.max_map_count=262144)',
      'service "search": OpenSearch needs vm.max_map_count >= 262144, this host has 65530 (raise it: sysctl -w vm.max_map_count=262144)',
    ]);
  });

  test('nothing when the host meets it, when it cannot be read, for services not selected, or with allow_mmap false', async () => {
    const p = project({ elasticsearch: { image: 'elasticsearch:8' } });
    const ok = new FakeRuntime({ sysctls: { 'vm.max_map_count': '262144' } });
    expect(await hostRequirementWarnings(ok, p, ['elasticsearch'])).toEqual([]);
    expect(await hostRequirementWarnings(new FakeRuntime(), p, ['elasticsearch'])).toEqual([]);
    expect(await hostRequirementWarnings(low, p, [])).toEqual([]);
    const noMmap = project({ elasticsearch: { image: 'elasticsearch:8', environment: { 'node.store.allow_mmap': 'false' } } });
    expect(await hostRequirementWarnings(low, noMmap, ['elasticsearch'])).toEqual([]);
  });

  test('the runtime is asked only when a service needs it', async () => {
    const rt = new FakeRuntime({ sysctls: { 'vm.max_map_count': '1' } });
    await hostRequirementWarnings(rt, project({ web: { image: 'nginx' } }), ['web']);
    expect(rt.calls.filter((c) => c.method === 'hostSysctl')).toEqual([]);
  });
});
