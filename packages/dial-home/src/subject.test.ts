import { describe, expect, it } from 'vitest';
import { compilePattern, parseSubject, subjectToken, subjects } from './subject.js';

describe('subjects', () => {
  it('builds and parses agent and run subjects', () => {
    expect(subjects.run('agt_1', 'run_7', 'event')).toBe('agent.agt_1.run.run_7.event');
    expect(parseSubject('agent.agt_1.run.run_7.event')).toEqual({ agentId: 'agt_1', runId: 'run_7', kind: 'event' });
    expect(parseSubject('agent.agt_1.heartbeat.ack')).toEqual({ agentId: 'agt_1', kind: 'heartbeat.ack' });
    for (const bad of ['', 'agent', 'agent.x', 'other.x.hello', 'agent..hello', 'agent.x.run.r'])
      expect(parseSubject(bad)).toBeUndefined();
  });

  it('escapes ids so they can neither split a token nor act as a wildcard', () => {
    for (const id of ['a.b', '*', '>', 'sp ace', 'ü', '%41', '']) {
      const token = subjectToken(id);
      expect(token).toMatch(/^[A-Za-z0-9_:%-]+$/);
      expect(parseSubject(subjects.run(id, id, 'event'))).toEqual({ agentId: id, runId: id, kind: 'event' });
    }
    expect(compilePattern(subjects.run('*', 'r', 'event'))('agent.agt_1.run.r.event')).toBe(false);
  });

  it('matches * to one token and a final > to one or more', () => {
    const m = (p: string, s: string) => compilePattern(p)(s);
    expect(m('agent.a.>', 'agent.a.run.r.event')).toBe(true);
    expect(m('agent.a.>', 'agent.a')).toBe(false);
    expect(m('agent.*.online', 'agent.a.online')).toBe(true);
    expect(m('agent.*.online', 'agent.a.b.online')).toBe(false);
    expect(m('agent.*.run.*.event', 'agent.a.run.r.event')).toBe(true);
    expect(m('agent.a.hello', 'agent.a.hello')).toBe(true);
    expect(m('>', 'anything.at.all')).toBe(true);
    expect(() => compilePattern('a.>.b')).toThrow(expect.objectContaining({ code: 'INVALID_SUBJECT_PATTERN' }));
    expect(() => compilePattern('a.b*')).toThrow(expect.objectContaining({ code: 'INVALID_SUBJECT_PATTERN' }));
  });
});
