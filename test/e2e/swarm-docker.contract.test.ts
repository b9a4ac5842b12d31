/**
 * The Swarm port's contract (src/swarm/contract/suite.ts) on Docker Engine: DockerSwarm against a throwaway
 * single-node swarm in a network namespace of its own (./swarm-harness.ts), never the host engine's swarm state.
 * Skipped when not root or without dockerd/nsenter (failed instead with TSCOMPOSE_E2E=1). busybox:latest comes from
 * the local registry through the harness's forwarder.
 */
import { swarmContract } from '../../src/swarm/contract/suite.js';
import { DockerSwarm } from '../../src/swarm/docker/swarm-docker.js';
import { startSwarm, swarmUnavailable } from './swarm-harness.js';

swarmContract('docker (single-node swarm in a netns)', {
  unavailable: swarmUnavailable,
  setup: async () => {
    const t = Date.now();
    const harness = await startSwarm({ nodes: 1 });
    console.log(`swarm harness: 1 node in ${Date.now() - t} ms (engine ${harness.timings.enginesMs} ms, init ${harness.timings.initMs} ms)`);
    return { swarm: new DockerSwarm({ env: harness.env() }), image: 'busybox:latest', cleanup: () => harness.stop() };
  },
});
