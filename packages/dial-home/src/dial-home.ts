import { ForgeError, TransportError, ValidationError } from '@forge/core';
import { Backoff, delay } from '@forge/core/internal';
import { checkAgentName } from './agent-name.js';
import { readCredentialFile } from './credential-file.js';
import { attachOnce } from './dial-attach.js';
import { enrollAgent } from './dial-enrol.js';
import { Fatal, asForge, classifyFailure } from './dial-failure.js';
import type { DialHome, DialHomeOptions } from './dial-home-options.js';
import { DialState } from './dial-state.js';
import { DialHomeCodes } from './errors.js';

export type { DialHome, DialHomeOptions, DialHomeStatus } from './dial-home-options.js';

/**
 * The agent side: connects out to the platform (enrolling first if needed), serves `agent` over
 * that connection, keeps it alive with heartbeats and dials again after any drop. The connect loop
 * is here; one Attach stream is dial-attach.ts, enrolment dial-enrol.ts, what a failure means
 * dial-failure.ts, and what they share one DialState.
 */
export function dialHome(options: DialHomeOptions): DialHome {
  const backoff = new Backoff(options.backoff);
  let url: URL;
  try {
    url = new URL(options.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    throw new ValidationError('INVALID_URL', `url must be an http:// or https:// URL, got "${options.url}"`, [
      { path: 'url', code: 'INVALID_URL', message: 'not an http(s) URL' },
    ]);
  }
  checkAgentName(options.name);
  const state = new DialState(options, url, backoff);
  const { logger } = state;

  const done = (async () => {
    while (!state.stopping) {
      const { client, sessions } = state.newTransport();
      let phase: 'enroll' | 'attach' = 'attach';
      try {
        let stored = state.forceEnrol ? undefined : await readCredentialFile(options.credentialFile, logger);
        if (!stored) {
          if (!options.enrolmentToken || state.tokenTried) {
            throw new Fatal(
              new ForgeError(
                DialHomeCodes.NOT_ENROLLED,
                `No credential in ${options.credentialFile} and no (unused) enrolment token`,
                'validation',
              ),
            );
          }
          phase = 'enroll';
          stored = await enrollAgent(state, client);
          state.forceEnrol = false;
        }
        state.agentId = stored.agentId;
        phase = 'attach';
        await attachOnce(state, client, stored);
      } catch (error) {
        if (state.stopping) break;
        let e: ForgeError;
        try {
          e = classifyFailure(state, error, phase);
        } catch (fatal) {
          const f = (fatal as Fatal).error ?? asForge(fatal, options.url);
          logger.error('dialling home stopped', { code: f.code, message: f.message });
          state.lastError = f;
          for (const w of state.onlineWaiters) w.reject(f);
          state.setStatus('stopped', f);
          break;
        }
        state.lastError = e;
        logger.warn('link to the platform failed', { code: e.code, message: e.message, attempt: backoff.attempts + 1 });
      } finally {
        sessions.abort();
      }
      if (state.stopping) break;
      if (backoff.exhausted) {
        const e = new TransportError(
          'RECONNECT_GAVE_UP',
          `Gave up after ${backoff.attempts} attempts: ${state.lastError?.message ?? 'unknown error'}`,
          {
            retryable: false,
            ...(state.lastError ? { cause: state.lastError } : {}),
          },
        );
        state.lastError = e;
        for (const w of state.onlineWaiters) w.reject(e);
        state.setStatus('stopped', e);
        break;
      }
      const wait = backoff.next();
      state.setStatus(state.everOnline ? 'reconnecting' : 'connecting', state.lastError);
      await delay(wait, state.stopController.signal);
    }
    if (state.status !== 'stopped') state.setStatus('stopped');
  })();

  return {
    get status() {
      return state.status;
    },
    get agentId() {
      return state.agentId;
    },
    get lastError() {
      return state.lastError;
    },
    done,
    whenOnline() {
      if (state.status === 'online') return Promise.resolve();
      if (state.status === 'stopped')
        return Promise.reject(state.lastError ?? new ForgeError('STOPPED', 'dialHome was stopped', 'internal'));
      return new Promise((resolve, reject) => state.onlineWaiters.add({ resolve, reject }));
    },
    async stop() {
      if (!state.stopping) {
        state.stopping = true;
        const g = state.graceful;
        if (g) await g().catch(() => {});
        state.stopController.abort();
      }
      await done;
    },
  };
}
