import type { V1EnvFromSource, V1EnvVar, V1Pod } from '@kubernetes/client-node';
import type { PodKeys } from './pod-keys.js';
import { labelValue, type PodNaming } from './naming.js';
import type { CreatePodOptions, PodId, PodTemplate, SecretKeyRef } from './pod-manager-types.js';

export const DEFAULT_AGENT_PORT = 8080;
export const DEFAULT_CONTAINER = 'agent';
const DEFAULT_UID = 1000;

export interface PodSpecInput {
  id: PodId;
  template: PodTemplate;
  naming: PodNaming;
  keys: PodKeys;
  managedBy: string;
  ttlSeconds?: number | undefined;
  create?: CreatePodOptions;
}

function envVars(env: Record<string, string | SecretKeyRef> | undefined): V1EnvVar[] {
  return Object.entries(env ?? {}).map(([name, value]) =>
    typeof value === 'string'
      ? { name, value }
      : {
          name,
          valueFrom: {
            secretKeyRef: {
              name: value.secret,
              key: value.key,
              ...(value.optional !== undefined ? { optional: value.optional } : {}),
            },
          },
        },
  );
}

/** The pod for one identity: hardened by default, labelled so that selectors isolate users. */
export function buildPod(input: PodSpecInput): V1Pod {
  const { id, template, naming, keys } = input;
  const port = template.agentPort ?? DEFAULT_AGENT_PORT;
  const uid = template.runAsUser ?? DEFAULT_UID;
  const ttl = input.create?.ttlSeconds ?? input.ttlSeconds;
  const env = [
    // The manager's identity variables come first so that the template cannot spoof them.
    { name: 'FORGE_USER_ID', value: id.userId },
    { name: 'FORGE_AGENT_ID', value: id.agentId },
    { name: 'PORT', value: String(port) },
    ...envVars({ ...template.env, ...input.create?.env }).filter(
      (e) => !['FORGE_USER_ID', 'FORGE_AGENT_ID', 'PORT'].includes(e.name),
    ),
    ...(template.extraEnv ?? []),
  ];
  const envFrom: V1EnvFromSource[] = (template.envFromSecrets ?? []).map((name) => ({ secretRef: { name } }));
  const probe =
    template.readinessProbe === null
      ? undefined
      : (template.readinessProbe ?? { tcpSocket: { port }, periodSeconds: 2, failureThreshold: 3, timeoutSeconds: 1 });

  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: naming.podName(id),
      labels: {
        ...template.labels,
        ...input.create?.labels,
        'app.kubernetes.io/name': 'forge-agent',
        [keys.managedBy]: input.managedBy,
        [keys.user]: labelValue(id.userId),
        [keys.agent]: labelValue(id.agentId),
        [keys.userHash]: naming.userHash(id.userId),
        [keys.agentHash]: naming.agentHash(id),
      },
      annotations: {
        ...template.annotations,
        ...input.create?.annotations,
        [keys.userIdAnnotation]: id.userId,
        [keys.agentIdAnnotation]: id.agentId,
        ...(ttl !== undefined ? { [keys.ttlAnnotation]: String(ttl) } : {}),
      },
    },
    spec: {
      automountServiceAccountToken: template.automountServiceAccountToken ?? false,
      ...(template.serviceAccountName ? { serviceAccountName: template.serviceAccountName } : {}),
      restartPolicy: template.restartPolicy ?? 'Always',
      enableServiceLinks: false,
      ...(template.nodeSelector ? { nodeSelector: template.nodeSelector } : {}),
      ...(template.tolerations ? { tolerations: template.tolerations } : {}),
      ...(template.imagePullSecrets ? { imagePullSecrets: template.imagePullSecrets.map((name) => ({ name })) } : {}),
      ...(template.runtimeClassName ? { runtimeClassName: template.runtimeClassName } : {}),
      ...(template.priorityClassName ? { priorityClassName: template.priorityClassName } : {}),
      ...(template.terminationGracePeriodSeconds !== undefined
        ? { terminationGracePeriodSeconds: template.terminationGracePeriodSeconds }
        : {}),
      securityContext: {
        runAsNonRoot: true,
        runAsUser: uid,
        runAsGroup: template.runAsGroup ?? uid,
        fsGroup: template.fsGroup ?? template.runAsGroup ?? uid,
        seccompProfile: { type: 'RuntimeDefault' },
      },
      containers: [
        {
          name: template.containerName ?? DEFAULT_CONTAINER,
          image: input.create?.image ?? template.image,
          ...(template.imagePullPolicy ? { imagePullPolicy: template.imagePullPolicy } : {}),
          ...(template.command ? { command: template.command } : {}),
          ...(template.args ? { args: template.args } : {}),
          ports: [{ name: 'agent', containerPort: port, protocol: 'TCP' }],
          env,
          ...(envFrom.length ? { envFrom } : {}),
          ...((input.create?.resources ?? template.resources)
            ? { resources: input.create?.resources ?? template.resources }
            : {}),
          ...(probe ? { readinessProbe: probe } : {}),
          securityContext: {
            runAsNonRoot: true,
            allowPrivilegeEscalation: false,
            privileged: false,
            capabilities: { drop: ['ALL'] },
            seccompProfile: { type: 'RuntimeDefault' },
            readOnlyRootFilesystem: template.readOnlyRootFilesystem ?? false,
          },
        },
      ],
    },
  };
}
