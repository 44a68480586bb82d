/** The label and annotation keys a manager writes, derived from its prefix. */
export interface PodKeys {
  managedBy: string;
  /** Readable user id (sanitised); for humans and kubectl. */
  user: string;
  agent: string;
  /** Hash of the exact user id; what listPods selects on. */
  userHash: string;
  agentHash: string;
  /** Exact ids (annotations carry any string). */
  userIdAnnotation: string;
  agentIdAnnotation: string;
  ttlAnnotation: string;
}

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';

export function podKeys(prefix: string): PodKeys {
  return {
    managedBy: MANAGED_BY_LABEL,
    user: `${prefix}/user`,
    agent: `${prefix}/agent`,
    userHash: `${prefix}/user-hash`,
    agentHash: `${prefix}/agent-hash`,
    userIdAnnotation: `${prefix}/user-id`,
    agentIdAnnotation: `${prefix}/agent-id`,
    ttlAnnotation: `${prefix}/ttl-seconds`,
  };
}
