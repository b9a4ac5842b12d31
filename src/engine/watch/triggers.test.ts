import { describe, expect, test } from '@jest/globals';
import { DockerIgnore } from '../../lib/build/context/ignore.js';
import type { WatchTrigger } from '../../project/types.js';
import { compileTrigger, containerPath, planServiceChanges, triggerIgnores } from './triggers.js';

const t = (service: string, index: number, trigger: WatchTrigger, context?: string, dockerignore: string[] = []) =>
  compileTrigger(service, index, trigger, context ? { context, ignore: new DockerIgnore(dockerignore) } : undefined);

describe('triggerIgnores', () => {
  const sync = t('web', 0, { path: '/p/src', action: 'sync', target: '/app', ignore: ['node_modules/', '*.log'] }, '/p', ['src/secret', '**/*.tmp']);
  test.each([
    ['/p/src/app.py', false],
    ['/p/src/node_modules/x/index.js', true],
    ['/p/src/sub/debug.log', false], // `*.log` is relative to the trigger path and matches one component only
    ['/p/src/debug.log', true],
    ['/p/src/secret', true], // the build context's .dockerignore
    ['/p/src/deep/a.tmp', true],
    ['/p/src/.git/HEAD', true],
    ['/p/src/.app.py.swp', true],
    ['/p/src/app.py~', true],
    ['/p/other/x', true], // outside the trigger
    ['/p/srcx/y', true],
  ])('%s → %s', (p, ignored) => expect(triggerIgnores(sync, p)).toBe(ignored));

  test('include: only matching files, directories still descended', () => {
    const inc = t('web', 0, { path: '/p/src', action: 'sync', target: '/app', include: ['*.py', 'lib/**'] });
    expect(triggerIgnores(inc, '/p/src/a.py')).toBe(false);
    expect(triggerIgnores(inc, '/p/src/a.js')).toBe(true);
    expect(triggerIgnores(inc, '/p/src/lib/x/y.js')).toBe(false);
    expect(triggerIgnores(inc, '/p/src/other', true)).toBe(false);
  });
});

describe('containerPath', () => {
  test('target + path relative to the trigger; a file trigger maps to its target', () => {
    expect(containerPath({ path: '/p/src', action: 'sync', target: '/app' }, '/p/src/a/b.py')).toBe('/app/a/b.py');
    expect(containerPath({ path: '/p/cfg.ini', action: 'sync', target: '/etc/app.ini' }, '/p/cfg.ini')).toBe('/etc/app.ini');
  });
});

describe('planServiceChanges', () => {
  const triggers = [
    t('web', 0, { path: '/p/web/src', action: 'sync', target: '/app/src' }),
    t('web', 1, { path: '/p/web/cfg', action: 'sync+restart', target: '/etc/web' }),
    t('web', 2, { path: '/p/web', action: 'rebuild' }),
    t('api', 0, { path: '/p/api', action: 'sync+exec', target: '/srv', exec: { command: ['kill', '-HUP', '1'] } }),
    t('api', 1, { path: '/p/api/Dockerfile', action: 'restart' }),
    t('worker', 0, { path: '/p/web/src', action: 'sync', target: '/w' }),
  ];

  test('first trigger per service wins; syncs, removals, one restart, exec once', () => {
    const out = planServiceChanges(triggers, {
      changed: ['/p/web/src/a.py', '/p/web/cfg/x.ini', '/p/api/m.js', '/p/api/n.js'],
      removed: ['/p/web/src/old'],
    });
    expect(out).toEqual([
      {
        service: 'api',
        rebuild: false,
        sync: [
          { host: '/p/api/m.js', container: '/srv/m.js' },
          { host: '/p/api/n.js', container: '/srv/n.js' },
        ],
        remove: [],
        restart: false,
        exec: [{ command: ['kill', '-HUP', '1'] }],
        count: 2,
      },
      {
        service: 'web',
        rebuild: false,
        sync: [
          { host: '/p/web/src/a.py', container: '/app/src/a.py' },
          { host: '/p/web/cfg/x.ini', container: '/etc/web/x.ini' },
        ],
        remove: ['/app/src/old'],
        restart: true,
        exec: [],
        count: 3,
      },
      {
        service: 'worker',
        rebuild: false,
        sync: [{ host: '/p/web/src/a.py', container: '/w/a.py' }],
        remove: ['/w/old'],
        restart: false,
        exec: [],
        count: 2,
      },
    ]);
  });

  test('a rebuild trigger hit means only a rebuild', () => {
    const [web] = planServiceChanges(triggers, { changed: ['/p/web/src/a.py', '/p/web/requirements.txt'], removed: [] });
    expect(web).toEqual({ service: 'web', rebuild: true, sync: [], remove: [], restart: false, exec: [], count: 2 });
  });

  test('ignored files take nothing; a restart trigger only restarts', () => {
    expect(planServiceChanges(triggers, { changed: ['/p/web/src/.a.py.swp', '/p/elsewhere'], removed: [] })).toEqual([]);
    const out = planServiceChanges([triggers[4]!], { changed: ['/p/api/Dockerfile'], removed: [] });
    expect(out).toEqual([{ service: 'api', rebuild: false, sync: [], remove: [], restart: true, exec: [], count: 1 }]);
  });
});
