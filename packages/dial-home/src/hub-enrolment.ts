import { ForgeError, ValidationError } from '@forge/core';
import type { EnrolmentToken, IssueTokenOptions } from './agent-hub-options.js';
import { checkAgentName } from './agent-name.js';
import { Code, ConnectError, refusal, refuse } from './connect-errors.js';
import { hashCredential, newAgentId, newCredential } from './credential.js';
import { issueEnrolmentToken, verifyEnrolmentToken } from './enrolment-token.js';
import { DialHomeCodes } from './errors.js';
import type { EnrollRequest } from './gen/forge/dialhome/v1/dialhome_pb.js';
import type { HubState } from './hub-state.js';

const nameTaken = (name: string) =>
  refuse(Code.AlreadyExists, DialHomeCodes.NAME_TAKEN, `Agent "${name}" is enrolled already`, { name });

/**
 * The hub's enrolment: the Enroll RPC (a single-use token for a credential, one at a time so two
 * tokens cannot both claim a free name), and issuing and withdrawing tokens.
 */
export function hubEnrolment(state: HubState) {
  const { secret, store, clock, logger } = state;
  let enrolling: Promise<unknown> = Promise.resolve();

  async function enroll(req: EnrollRequest) {
    if (state.closed) throw new ConnectError('The platform is shutting down', Code.Unavailable);
    const now = clock.now();
    try {
      const payload = verifyEnrolmentToken(secret, req.enrolmentToken, now);
      const name = payload.name ?? req.name;
      if (payload.name !== undefined && req.name && req.name !== payload.name) {
        throw new ValidationError(
          DialHomeCodes.NAME_MISMATCH,
          `This enrolment token is for agent "${payload.name}", not "${req.name}"`,
        );
      }
      checkAgentName(name);
      // One enrolment at a time in this hub, so two tokens cannot both claim a free name.
      const enrolled = enrolling.then(async () => {
        // A name is held by its enrolled agent until revoked: a second agent may not take it over.
        const holder = (await store.list()).find((r) => r.name === name && r.revokedAt === undefined);
        if (holder) throw nameTaken(name);
        const tokenUsed = () =>
          new ForgeError(DialHomeCodes.TOKEN_USED, 'The enrolment token was already used', 'validation', {
            details: { tokenId: payload.jti },
          });
        const agentId = newAgentId();
        const credential = newCredential(agentId);
        const record = { agentId, name, credentialHash: hashCredential(credential), enrolledAt: now };
        // A store shared by replicas refuses a name another replica enrolled meanwhile (the check above
        // is only serialised within this hub): the same answer as a name seen taken. With `enrol` the
        // token is spent only if the agent is enrolled.
        if (store.enrol) {
          const outcome = await store.enrol(record, { id: payload.jti, expiresAt: payload.exp }, now);
          if (outcome === 'token-used') throw tokenUsed();
          if (outcome === 'name-taken') throw nameTaken(name);
          return { agentId, credential };
        }
        if (!(await store.consumeToken(payload.jti, payload.exp, now))) throw tokenUsed();
        try {
          await store.put(record);
        } catch (error) {
          if (error instanceof ForgeError && error.code === DialHomeCodes.NAME_TAKEN) throw nameTaken(name);
          throw error;
        }
        return { agentId, credential };
      });
      enrolling = enrolled.catch(() => {});
      const { agentId, credential } = await enrolled;
      logger.info('agent enrolled', { agentId, name, tokenId: payload.jti });
      return { agentId, credential };
    } catch (error) {
      if (error instanceof ValidationError) throw refusal(Code.InvalidArgument, error);
      if (error instanceof ForgeError) throw refusal(Code.Unauthenticated, error);
      throw error;
    }
  }

  function issue(options: IssueTokenOptions = {}): EnrolmentToken {
    const now = clock.now();
    const expiresAt = now + (options.ttlMs ?? state.ttlMs);
    const token = issueEnrolmentToken(secret, {
      iat: now,
      exp: expiresAt,
      ...(options.name !== undefined ? { name: options.name } : {}),
    });
    const id = verifyEnrolmentToken(secret, token, now).jti;
    return { token, id, expiresAt, ...(options.name !== undefined ? { name: options.name } : {}) };
  }

  async function revokeToken(token: string | EnrolmentToken): Promise<boolean> {
    const now = clock.now();
    let payload: ReturnType<typeof verifyEnrolmentToken>;
    try {
      payload = verifyEnrolmentToken(secret, typeof token === 'string' ? token : token.token, now);
    } catch {
      return false;
    }
    const withdrawn = await store.consumeToken(payload.jti, payload.exp, now);
    if (withdrawn) logger.info('enrolment token withdrawn', { tokenId: payload.jti });
    return withdrawn;
  }

  return { enroll, issue, revokeToken };
}
