import type { Client } from '@connectrpc/connect';
import { writeCredentialFile, type StoredCredential } from './credential-file.js';
import type { DialState } from './dial-state.js';
import type { WireAgentHubService } from './wire.js';

/** Swaps the enrolment token for a credential and stores it (the token is spent once the platform answered). */
export async function enrollAgent(state: DialState, client: Client<WireAgentHubService>): Promise<StoredCredential> {
  const { options, logger, clock } = state;
  logger.info('enrolling with the platform', { url: options.url, name: options.name });
  const res = await client.enroll(
    { enrolmentToken: options.enrolmentToken!, name: options.name },
    { timeoutMs: state.connectTimeoutMs, signal: state.stopController.signal },
  );
  // Spent now; a failure before this point (platform unreachable) leaves it for the next attempt.
  state.tokenTried = true;
  const stored: StoredCredential = {
    version: 1,
    agentId: res.agentId,
    credential: res.credential,
    url: options.url,
    name: options.name,
    enrolledAt: clock.now(),
  };
  await writeCredentialFile(options.credentialFile, stored);
  logger.info('enrolled; credential stored', { agentId: res.agentId, file: options.credentialFile });
  return stored;
}
