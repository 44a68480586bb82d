import { describe, expect, it } from 'vitest';
import { lookupOsUser, userSwitchProblem } from './os-user.js';

describe('lookupOsUser', () => {
  it('finds an account by name or uid', () => {
    expect(lookupOsUser('root')).toMatchObject({ name: 'root', uid: 0, gid: 0 });
    expect(lookupOsUser('0')).toMatchObject({ name: 'root', uid: 0 });
  });

  it('refuses an unknown user or a name that is none, saying how to make one', () => {
    expect(() => lookupOsUser('forge-no-such-user-x')).toThrow(/no user "forge-no-such-user-x".*useradd/);
    expect(() => lookupOsUser('forge-no-such-user-x')).toThrow(expect.objectContaining({ code: 'INVALID_OS_USER' }));
    expect(() => lookupOsUser('a b:c')).toThrow(/not a user name/);
    expect(() => lookupOsUser('')).toThrow(/not a user name/);
  });
});

describe('userSwitchProblem', () => {
  it('says nothing for root with its capabilities, and why not otherwise', () => {
    const problem = userSwitchProblem();
    if (process.geteuid?.() === 0 && problem === undefined) return;
    expect(problem).toMatch(/root|CAP_/);
  });
});
