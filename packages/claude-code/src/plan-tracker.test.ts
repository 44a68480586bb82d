import { describe, expect, it } from 'vitest';
import { PlanTracker } from './plan-tracker.js';

describe('PlanTracker', () => {
  it('TodoWrite gives the whole list (older CLIs)', () => {
    const plan = new PlanTracker();
    plan.call('t1', 'TodoWrite', {
      todos: [
        { content: 'read', status: 'completed', activeForm: 'Reading', priority: 'high' },
        { content: 'fix', status: 'in_progress', activeForm: 'Fixing' },
      ],
    });
    expect(plan.result('t1', false, undefined)).toEqual([
      { content: 'read', status: 'completed', priority: 'high' },
      { content: 'fix', status: 'in_progress' },
    ]);
  });

  it('ignores failed tools and other tools; a deleted task leaves the plan; an unknown task is added', () => {
    const plan = new PlanTracker();
    plan.call('a', 'TaskCreate', { subject: 'one' });
    expect(plan.result('a', true, { task: { id: '1' } })).toBeUndefined();
    plan.call('b', 'Bash', { command: 'ls' });
    expect(plan.result('b', false, {})).toBeUndefined();
    plan.call('c', 'TaskUpdate', { taskId: '7', status: 'in_progress' });
    expect(plan.result('c', false, {})).toEqual([{ id: '7', content: 'Task 7', status: 'in_progress' }]);
    plan.call('d', 'TaskUpdate', { taskId: '7', status: 'deleted' });
    expect(plan.result('d', false, {})).toEqual([]);
  });
});
