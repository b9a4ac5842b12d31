import { describe, expect, test } from '@jest/globals';
import { FakeRuntime } from '../runtime/fake/fake-runtime.js';
import { MemorySink } from './events.js';
import { LABEL_CONTAINER_NUMBER, LABEL_ONEOFF, LABEL_PROJECT, LABEL_SERVICE, LABEL_VOLUME } from './labels.js';
import { projectVolumes } from './volumes.js';

describe('volumes (engine)', () => {
  test("the project's labelled volumes; with services, those their running containers mount", async () => {
    const rt = new FakeRuntime({ images: { 'busybox:latest': `sha256:${'b'.repeat(64)}` } });
    const engine = { runtime: rt, events: new MemorySink() };
    for (const v of ['demo_db', 'demo_cache', 'demo_logs'])
      await rt.createVolume({ name: v, labels: { [LABEL_PROJECT]: 'demo', [LABEL_VOLUME]: v.slice(5) } });
    await rt.createVolume({ name: 'other_db', labels: { [LABEL_PROJECT]: 'other' } });
    await rt.createVolume({ name: 'loose', labels: {} });
    const labels = (service: string) => ({
      [LABEL_PROJECT]: 'demo',
      [LABEL_SERVICE]: service,
      [LABEL_CONTAINER_NUMBER]: '1',
      [LABEL_ONEOFF]: 'False',
    });
    const db = await rt.createContainer({
      name: 'demo-db-1',
      image: 'busybox:latest',
      labels: labels('db'),
      mounts: [{ type: 'volume', source: 'demo_db', target: '/data' }],
    });
    await rt.startContainer(db.id);
    // stopped: compose lists running containers only
    await rt.createContainer({
      name: 'demo-web-1',
      image: 'busybox:latest',
      labels: labels('web'),
      mounts: [{ type: 'volume', source: 'demo_logs', target: '/logs' }],
    });

    expect((await projectVolumes(engine, 'demo')).map((v) => v.name)).toEqual(['demo_cache', 'demo_db', 'demo_logs']);
    expect((await projectVolumes(engine, 'demo', ['db'])).map((v) => v.name)).toEqual(['demo_db']);
    expect((await projectVolumes(engine, 'demo', ['web'])).map((v) => v.name)).toEqual([]);
    expect(await projectVolumes(engine, 'nope')).toEqual([]);
  });
});
