import { type AgentRun, NotFoundError } from '@forge/core';
import { decisionFromProto } from './convert-request.js';
import type { PermissionReplyCommand, QuestionAnswerCommand, SteerCommand } from './gen/forge/agent/v1/agent_pb.js';

/**
 * A reply to a live run, as every link carries it: the Connect stream's and the dialled-home session's
 * commands, and (same fields) the unary ReplyPermission / AnswerQuestion / SteerRun requests.
 */
export type RunReply =
  | { case: 'permissionReply'; value: Pick<PermissionReplyCommand, 'runId' | 'permissionId' | 'decision' | 'message'> }
  | { case: 'questionAnswer'; value: Pick<QuestionAnswerCommand, 'runId' | 'questionId' | 'answers'> }
  | { case: 'steer'; value: Pick<SteerCommand, 'runId' | 'text'> };

/**
 * Carries out a reply on the run it names. A run that is not live rejects with RUN_NOT_FOUND, as does any
 * refusal of the run itself: each link then acknowledges or converts the error its own way.
 */
export async function applyRunReply(run: AgentRun | undefined, reply: RunReply): Promise<void> {
  const { runId } = reply.value;
  if (!run) throw new NotFoundError('RUN_NOT_FOUND', `No live run ${runId}`, { runId });
  switch (reply.case) {
    case 'permissionReply':
      return run.respond(reply.value.permissionId, decisionFromProto(reply.value.decision), reply.value.message);
    case 'questionAnswer':
      return run.answer(
        reply.value.questionId,
        reply.value.answers.map((a) => [...a.values]),
      );
    case 'steer':
      return run.steer(reply.value.text);
  }
}
