/**
 * The Runtime contract (../contract/suite.ts) on the native runtime, as root with runc (or crun) and conmon; skipped
 * with the reason otherwise, failed instead with TSCOMPOSE_E2E=1. It drives the built adapter (dist/, `npm run build`
 * first, as for the native e2e tests): the runtime spawns its DNS resolver from the built lib/dns/resolver.js. It uses a temporary state and run directory of its
 * own (never the host's tscompose state) and pulls its images from the local registry scripts/engine-env.sh runs.
 * After the suite the images are pruned, leftover mounts under the temp directory unmounted and the directory removed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runtimeContract } from '../contract/suite.js';
import type * as NativeModule from './native-runtime.js';

const built = fileURLToPath(new URL('../../../dist/runtime/native/native-runtime.js', import.meta.url));

const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const missing = [
  process.getuid?.() === 0 ? undefined : 'root',
  has('conmon') ? undefined : 'conmon',
  has('runc') || has('crun') ? undefined : 'runc or crun',
  existsSync(built) ? undefined : 'a build (npm run build)',
].filter((x): x is string => x !== undefined);
const REGISTRY = `127.0.0.1:${process.env.TSCOMPOSE_REGISTRY_PORT ?? '5001'}`;

runtimeContract('native', {
  unavailable: missing.length === 0 ? undefined : `the native runtime needs ${missing.join(', ')}`,
  setup: async () => {
    const { NativeRuntime } = (await import(pathToFileURL(built).href)) as typeof NativeModule;
    const dir = mkdtempSync(join(tmpdir(), 'tscompose-contract-native-'));
    const runtime = new NativeRuntime({
      env: {
        ...process.env,
        TSCOMPOSE_STATE_DIR: join(dir, 'state'),
        TSCOMPOSE_RUN_DIR: join(dir, 'run'),
        TSCOMPOSE_REGISTRY_MIRRORS: `http://${REGISTRY}`,
      },
    });
    const images = { busybox: `${REGISTRY}/library/busybox:latest`, python: `${REGISTRY}/library/python:3.11-slim` };
    for (const ref of Object.values(images)) await runtime.pullImage(ref);
    const cleanup = async (): Promise<void> => {
      await runtime.pruneImages({ all: true }).catch(() => undefined);
      const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
        .split('\n')
        .filter((l) => l.includes(dir));
      for (const m of mounts.reverse()) spawnSync('umount', ['-l', m.split(' ')[4]!]);
      rmSync(dir, { recursive: true, force: true });
    };
    return { runtime, images, capabilities: { reachablePorts: true, dns: true, volumeContent: true, processes: true }, cleanup };
  },
});
