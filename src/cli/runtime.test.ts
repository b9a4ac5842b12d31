/** runtime.ts: `--dry-run` without an engine plans against an empty runtime, and says so. */
import { describe, expect, test } from '@jest/globals';
import { createDryRunRuntime } from './runtime.js';

// A Docker socket that does not exist: nothing answers (and nothing is started).
const noEngine = { DOCKER_HOST: 'unix:///nonexistent/docker.sock' };

describe('createDryRunRuntime', () => {
  test('no engine answering: an empty runtime, and a warning that the plan assumes nothing exists', async () => {
    const warnings: string[] = [];
    const rt = await createDryRunRuntime('docker', (m) => warnings.push(m), noEngine);
    expect(await rt.listContainers()).toEqual([]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^--dry-run: no container engine answered \(.*nonexistent\/docker\.sock.*\); the plan assumes no container, network or volume exists yet$/,
    );
  });

  test('a usage error is not hidden behind the empty runtime', async () => {
    const warnings: string[] = [];
    await expect(createDryRunRuntime('bogus', (m) => warnings.push(m), noEngine)).rejects.toMatchObject({ code: 'TSC_USAGE' });
    expect(warnings).toEqual([]);
  });
});
