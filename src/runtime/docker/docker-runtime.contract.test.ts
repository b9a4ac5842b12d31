/**
 * The Runtime contract (../contract/suite.ts) on the Docker Engine at /var/run/docker.sock (or DOCKER_HOST), when it
 * answers; skipped with the reason otherwise, failed instead with TSCOMPOSE_E2E=1. Images come through the local
 * registry mirror scripts/engine-env.sh sets up (busybox:latest, python:3.11-slim), pulled only when missing.
 */
import { runtimeContract } from '../contract/suite.js';
import { NotFoundError } from '../errors.js';
import { DockerRuntime } from './docker-runtime.js';

const runtime = new DockerRuntime();
const answers = await runtime.ping();

runtimeContract('docker', {
  unavailable: answers ? undefined : `Docker does not answer on ${process.env.DOCKER_HOST ?? '/var/run/docker.sock'} (run scripts/engine-env.sh)`,
  setup: async () => {
    const images = { busybox: 'busybox:latest', python: 'python:3.11-slim' };
    for (const ref of Object.values(images)) {
      await runtime.inspectImage(ref).catch(async (e: unknown) => {
        if (!(e instanceof NotFoundError)) throw e;
        await runtime.pullImage(ref);
      });
    }
    return { runtime, images, capabilities: { reachablePorts: true, dns: true, volumeContent: true, processes: true } };
  },
});
