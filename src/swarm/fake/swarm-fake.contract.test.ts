/** The Swarm port's contract (../contract/suite.ts) on the in-memory fake; tasks print through SwarmFake.addLog. */
import { swarmContract } from '../contract/suite.js';
import { SwarmFake } from './swarm-fake.js';

swarmContract('fake', {
  unavailable: undefined,
  setup: () => {
    const swarm = new SwarmFake();
    return Promise.resolve({ swarm, image: 'busybox:latest', print: (service, slot, message) => swarm.addLog(service, slot, message) });
  },
  taskTimeoutMs: 2_000,
});
