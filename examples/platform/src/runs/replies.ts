import { ForgeError, type PermissionDecision } from '@forge/core';
import { ApiError } from '../api-error.js';
import {
  checkAnswerShape,
  checkDecision,
  permissionNotFound,
  questionNotFound,
  runNotFound,
  runNotRunning,
} from './reply-checks.js';
import type { ReplyRelay } from './reply-relay.js';
import type { RunContext } from './run-context.js';

/**
 * Permission replies and question answers for an agent's running run, wherever it executes: here
 * directly, on another instance through the relay, answered as that instance answered.
 */
export class Replies {
  constructor(
    private readonly ctx: RunContext,
    private readonly relay: ReplyRelay,
  ) {}

  /** `signal`: the caller stopped waiting (the client went away). */
  async respond(
    userId: string,
    agentId: string,
    permissionId: string,
    decision: unknown,
    message?: string,
    signal?: AbortSignal,
  ): Promise<{ requestId: string }> {
    checkDecision(decision);
    const here = this.ctx.liveWaitingOn(userId, agentId, (l) => l.pendingPermissions.has(permissionId));
    if (!here) {
      // Sent to the instance running the agent's run, if another one does (looked up and sent in one statement).
      const payload = { user_id: userId, agent_id: agentId, decision, ...(message !== undefined ? { message } : {}) };
      const relayed = await this.relay.relayToRunOf(userId, agentId, 'permission', permissionId, payload, signal);
      if (relayed) return relayed;
    }
    return this.respondHere(userId, agentId, permissionId, decision, message);
  }

  /** One array of labels, or typed text, per question (checked by core), wherever the run executes. */
  async answer(
    userId: string,
    agentId: string,
    questionId: string,
    answers: unknown,
    signal?: AbortSignal,
  ): Promise<{ requestId: string }> {
    checkAnswerShape(answers);
    const here = this.ctx.liveWaitingOn(
      userId,
      agentId,
      (l) => l.pendingQuestions.has(questionId) || l.answeredQuestions.has(questionId),
    );
    if (!here) {
      const payload = { user_id: userId, agent_id: agentId, answers };
      const relayed = await this.relay.relayToRunOf(userId, agentId, 'question', questionId, payload, signal);
      if (relayed) return relayed;
    }
    return this.answerHere(userId, agentId, questionId, answers);
  }

  /**
   * A steering message for the agent's run `requestId` (`run.steer`), wherever it executes: 404 when the agent
   * has no such run, 409 RUN_NOT_RUNNING when it is queued or has ended, 409 UNSUPPORTED when its provider
   * cannot be steered.
   */
  async steer(
    userId: string,
    agentId: string,
    requestId: string,
    text: string,
    signal?: AbortSignal,
  ): Promise<{ requestId: string }> {
    const live = this.ctx.live.get(requestId);
    if (live && live.record.userId === userId && live.record.agentId === agentId)
      return this.steerHere(userId, agentId, requestId, text);
    const run = await this.ctx.store.runs.get(requestId);
    if (!run || run.userId !== userId || run.agentId !== agentId) throw runNotFound(agentId, requestId);
    if (run.status !== 'running') throw runNotRunning(requestId, run.status);
    if (run.owner !== undefined && run.owner !== this.ctx.instanceId)
      return this.relay.relay(run, 'steer', requestId, { user_id: userId, agent_id: agentId, text }, signal);
    return this.steerHere(userId, agentId, requestId, text);
  }

  /** A steering message to a run executing here: the one path for those received here and relayed ones. */
  async steerHere(userId: string, agentId: string, requestId: string, text: string): Promise<{ requestId: string }> {
    const live = this.ctx.live.get(requestId);
    if (!live || live.settled || live.record.userId !== userId || live.record.agentId !== agentId)
      throw runNotRunning(requestId);
    try {
      await live.run.steer(text);
    } catch (error) {
      // A run that cannot take one is in no state to be steered: a conflict, with core's typed code and details.
      if (error instanceof ForgeError && (error.category === 'unsupported' || error.category === 'conflict'))
        throw new ApiError(409, error.code, error.message, {}, error.details);
      throw error;
    }
    return { requestId };
  }

  /** A permission reply to a run executing here: the one path for replies received here and relayed ones. */
  async respondHere(
    userId: string,
    agentId: string,
    permissionId: string,
    decision: PermissionDecision,
    message: string | undefined,
  ): Promise<{ requestId: string }> {
    const live = this.ctx.liveWaitingOn(userId, agentId, (l) => l.pendingPermissions.has(permissionId));
    if (!live) throw permissionNotFound(agentId, permissionId);
    await live.run.respond(permissionId, decision, message);
    live.pendingPermissions.delete(permissionId);
    return { requestId: live.requestId };
  }

  /** A question answer to a run executing here: the one path for answers received here and relayed ones. */
  async answerHere(
    userId: string,
    agentId: string,
    questionId: string,
    answers: string[][],
  ): Promise<{ requestId: string }> {
    const live = this.ctx.liveWaitingOn(
      userId,
      agentId,
      (l) => l.pendingQuestions.has(questionId) || l.answeredQuestions.has(questionId),
    );
    if (live?.answeredQuestions.has(questionId))
      throw new ApiError(409, 'QUESTION_ANSWERED', `Question ${questionId} has already been answered`);
    if (!live) throw questionNotFound(agentId, questionId);
    live.answeredQuestions.add(questionId);
    try {
      await live.run.answer(questionId, answers);
    } catch (error) {
      live.answeredQuestions.delete(questionId);
      throw error;
    }
    live.pendingQuestions.delete(questionId);
    return { requestId: live.requestId };
  }
}
