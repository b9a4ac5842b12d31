import { describe, expect, test } from '@jest/globals';
import { labelFilters, sortableTime, sortTasks, toNode, toSwarmInfo, toTask, type EngineTask } from './map.js';

describe('Engine swarm objects → port values', () => {
  test('a task: state, message, error, container, exit code, slot, node, desired state, spec version', () => {
    const t: EngineTask = {
      ID: 't1',
      ServiceID: 's1',
      NodeID: 'n1',
      Slot: 2,
      DesiredState: 'shutdown',
      SpecVersion: { Index: 12 },
      Status: {
        Timestamp: '2026-01-01T00:00:01.5Z',
        State: 'failed',
        Message: 'started',
        Err: 'task: non-zero exit (3)',
        ContainerStatus: { ContainerID: 'c1', ExitCode: 3 },
      },
    };
    expect(toTask(t)).toEqual({
      id: 't1',
      serviceId: 's1',
      nodeId: 'n1',
      slot: 2,
      desiredState: 'shutdown',
      state: 'failed',
      message: 'started',
      error: 'task: non-zero exit (3)',
      exitCode: 3,
      containerId: 'c1',
      updatedAt: '2026-01-01T00:00:01.5Z',
      specVersion: 12,
    });
    const pending = toTask({
      ID: 't2',
      ServiceID: 's1',
      Slot: 0,
      Status: { State: 'pending', Message: 'pending task scheduling', Err: 'no suitable node' },
    });
    expect(pending).toMatchObject({ slot: undefined, nodeId: undefined, containerId: undefined, exitCode: undefined, error: 'no suitable node' });
  });
  test('tasks sort per service and slot, newest first (fractions of a second compared as times)', () => {
    expect(sortableTime('2026-01-01T00:00:06.84Z') < sortableTime('2026-01-01T00:00:06.843Z')).toBe(true);
    const task = (ID: string, Slot: number, CreatedAt: string): EngineTask => ({ ID, ServiceID: 's', Slot, CreatedAt });
    const sorted = sortTasks([
      task('a', 2, '2026-01-01T00:00:01Z'),
      task('b', 1, '2026-01-01T00:00:06.84Z'),
      task('c', 1, '2026-01-01T00:00:06.843Z'),
    ]);
    expect(sorted.map((t) => t.ID)).toEqual(['c', 'b', 'a']);
  });
  test('nodes, swarm info, label filters', () => {
    expect(
      toNode({
        ID: 'n',
        Spec: { Role: 'manager', Availability: 'drain', Labels: { a: 'b' } },
        Description: { Hostname: 'h' },
        Status: { State: 'ready', Addr: '10.77.0.10' },
      }),
    ).toEqual({ id: 'n', hostname: 'h', role: 'manager', availability: 'drain', state: 'ready', address: '10.77.0.10', labels: { a: 'b' } });
    expect(toSwarmInfo({ Swarm: { LocalNodeState: 'inactive' } })).toBeUndefined();
    expect(toSwarmInfo({ Swarm: { LocalNodeState: 'active', NodeID: 'n', ControlAvailable: false, Nodes: 3, Managers: 1 } })).toEqual({
      nodeId: 'n',
      clusterId: '',
      isManager: false,
      nodes: 3,
      managers: 1,
    });
    expect(labelFilters({ 'com.docker.stack.namespace': 'p' })).toBe('{"label":["com.docker.stack.namespace=p"]}');
    expect(labelFilters(undefined)).toBeUndefined();
  });
});
