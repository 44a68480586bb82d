/** Codes of errors this package makes. */
export const DialHomeCodes = {
  /** The enrolment token's signature is wrong, or it is not a token at all. */
  TOKEN_INVALID: 'ENROLMENT_TOKEN_INVALID',
  TOKEN_EXPIRED: 'ENROLMENT_TOKEN_EXPIRED',
  /** The enrolment token was already exchanged for a credential (tokens are single use). */
  TOKEN_USED: 'ENROLMENT_TOKEN_USED',
  /** The enrolment token is bound to another agent name. */
  NAME_MISMATCH: 'ENROLMENT_NAME_MISMATCH',
  /** The credential is unknown or malformed. */
  CREDENTIAL_INVALID: 'AGENT_CREDENTIAL_INVALID',
  /** The credential was revoked. */
  CREDENTIAL_REVOKED: 'AGENT_CREDENTIAL_REVOKED',
  /**
   * The Hello announces a name other than the one the credential was enrolled under: a credential
   * speaks for one agent name only.
   */
  IDENTITY_MISMATCH: 'AGENT_IDENTITY_MISMATCH',
  /** Another agent already holds the name (enrolled and not revoked, or online, or a provider). */
  NAME_TAKEN: 'AGENT_NAME_TAKEN',
  /**
   * Another connection presenting the same credential took over the session: the credential is
   * in use on two machines. The older connection stops dialling rather than fight over it.
   */
  REPLACED: 'AGENT_SESSION_REPLACED',
  /** The agent broke the protocol (no Hello first, a subject of another agent…). */
  PROTOCOL: 'DIAL_HOME_PROTOCOL_ERROR',
  /** The agent missed its heartbeats and is taken for offline. */
  HEARTBEAT_LOST: 'AGENT_HEARTBEAT_LOST',
  /** The agent's operator turned attach off (FORGE_ALLOW_ATTACH=0 in examples/remote-agent): no terminal opens there. */
  ATTACH_DISABLED: 'ATTACH_DISABLED',
  /** The agent program is older than terminals over the link. */
  ATTACH_UNSUPPORTED: 'ATTACH_UNSUPPORTED',
  /** The agent is not connected, so the run could not start. */
  OFFLINE: 'AGENT_OFFLINE',
  /** The credential file could not be read or written. */
  CREDENTIAL_FILE: 'CREDENTIAL_FILE_ERROR',
  /** dialHome was given neither a usable credential file nor an enrolment token. */
  NOT_ENROLLED: 'AGENT_NOT_ENROLLED',
} as const;
