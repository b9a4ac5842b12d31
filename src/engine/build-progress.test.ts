import { describe, expect, test } from '@jest/globals';
import { BuildLog, VertexCounter } from './build-progress.js';
import type { ProgressEvent } from './events.js';

const step = (id: string, status: 'running' | 'cached' | 'done' | 'error', extra: Record<string, unknown> = {}) => ({
  text: '',
  step: { id, number: 2, total: 3, text: 'RUN make', status, ...extra },
});

describe('build log', () => {
  test('steps, output and ends as docker compose prints them; one number sequence for the builds of a command', () => {
    const events: ProgressEvent[] = [];
    const counter = new VertexCounter();
    const web = new BuildLog('Image web', 'web', (e) => events.push(e), counter);
    const api = new BuildLog('Image api', 'api', (e) => events.push(e), counter);
    web.progress(step('a', 'running'));
    api.progress({ text: '#1 [internal] load build definition from Dockerfile' });
    web.progress({ text: 'hello\nwor', output: { stepId: 'a', stream: 'stdout' } });
    web.progress({ text: 'ld\n', output: { stepId: 'a', stream: 'stdout' } });
    web.progress(step('a', 'error', { durationMs: 1200, error: 'exit code: 2' }));
    api.progress({ ...step('b', 'cached'), step: { ...step('b', 'cached').step, stage: 'builder' } });
    expect(events.map((e) => e.log?.replace(/ \d\.\d{3} /, ' T '))).toEqual([
      '#1 [web 2/3] RUN make',
      '#2 [api internal] load build definition from Dockerfile',
      '#1 T hello',
      '#1 T world',
      '#1 ERROR 1.2s: exit code: 2',
      '#3 [api builder 2/3] RUN make\n#3 CACHED',
    ]);
    expect(events.every((e) => e.resource.startsWith('Image ') && e.status === 'working')).toBe(true);
  });

  test('text lines without a number pass through', () => {
    const events: ProgressEvent[] = [];
    new BuildLog('Image web', 'web', (e) => events.push(e)).progress({ text: 'using BuildKit' });
    expect(events[0]!.log).toBe('using BuildKit');
  });
});
