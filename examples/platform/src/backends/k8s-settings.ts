import { ValidationError } from '@forge/core';
import type { PodTemplate } from '@forge/k8s';

type V1ResourceRequirements = NonNullable<PodTemplate['resources']>;

/** The k8s backend's pod bounds and lifetimes, from FORGE_K8S_* (read at startup, so a typo stops the platform). */
export interface K8sPodSettings {
  /** Every agent pod's requests/limits (FORGE_K8S_RESOURCES). */
  resources?: V1ResourceRequirements;
  /** Images an agent may be created with, by the name the API takes (FORGE_K8S_IMAGES). */
  images: Record<string, string>;
  /** An agent's pod is removed after this long without a run (FORGE_K8S_IDLE_TTL); undefined: never. */
  idleTtlMs?: number;
  /** How often idle and dead pods are looked for (FORGE_K8S_REAP_INTERVAL_MS). */
  reapIntervalMs: number;
}

function bad(setting: string, message: string): never {
  throw new ValidationError('INVALID_CONFIG', `${setting}: ${message}`, [
    { path: setting, code: 'INVALID_CONFIG', message },
  ]);
}

/** A Kubernetes quantity (`500m`, `1.5`, `2Gi`, `1e3`), as the API server accepts it. */
const QUANTITY = /^(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+|Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)?$/;
const RESOURCE = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$/i;

function quantities(setting: string, where: string, value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    bad(setting, `${where} must be an object of resource → quantity`);
  const out: Record<string, string> = {};
  for (const [name, q] of Object.entries(value)) {
    if (!RESOURCE.test(name)) bad(setting, `${where}.${name} is not a resource name`);
    const text = typeof q === 'number' ? String(q) : q;
    if (typeof text !== 'string' || !QUANTITY.test(text))
      bad(setting, `${where}.${name} must be a Kubernetes quantity (e.g. 500m, 1, 2Gi), got ${JSON.stringify(q)}`);
    out[name] = text;
  }
  return out;
}

/**
 * FORGE_K8S_RESOURCES: JSON `{ "requests": { "cpu": "250m" }, "limits": { "memory": "1Gi" } }`, or the short form
 * `cpu=500m,memory=1Gi` (requests and limits alike), where `requests.cpu=…` / `limits.memory=…` set one side.
 */
export function parseK8sResources(text: string | undefined, setting = 'FORGE_K8S_RESOURCES') {
  if (!text?.trim()) return undefined;
  const trimmed = text.trim();
  let resources: V1ResourceRequirements;
  if (trimmed.startsWith('{')) {
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch (error) {
      bad(setting, `not JSON: ${(error as Error).message}`);
    }
    const { requests, limits, ...rest } = value as Record<string, unknown>;
    const unknown = Object.keys(rest);
    if (unknown.length) bad(setting, `unknown field ${unknown[0]} (only requests and limits)`);
    resources = {
      ...(requests !== undefined ? { requests: quantities(setting, 'requests', requests) } : {}),
      ...(limits !== undefined ? { limits: quantities(setting, 'limits', limits) } : {}),
    };
  } else {
    const requests: Record<string, unknown> = {};
    const limits: Record<string, unknown> = {};
    for (const part of trimmed.split(',').map((p) => p.trim())) {
      const [key = '', value, ...more] = part.split('=');
      if (value === undefined || more.length || !key) bad(setting, `"${part}" is not name=quantity`);
      const [side, name] = key.includes('.') && /^(requests|limits)\./.test(key) ? key.split(/\.(.*)/) : ['', key];
      if (side !== 'limits') requests[name!] = value;
      if (side !== 'requests') limits[name!] = value;
    }
    resources = {
      ...(Object.keys(requests).length ? { requests: quantities(setting, 'requests', requests) } : {}),
      ...(Object.keys(limits).length ? { limits: quantities(setting, 'limits', limits) } : {}),
    };
  }
  if (!resources.requests && !resources.limits) bad(setting, 'names no requests and no limits');
  return resources;
}

const IMAGE_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;
/** A container image reference: [registry/]path[:tag][@digest], no spaces or shell characters. */
const IMAGE_REF = /^[a-z0-9]([a-z0-9._:/-]*[a-z0-9])?(:[\w][\w.-]{0,127})?(@sha256:[a-f0-9]{64})?$/i;

/** FORGE_K8S_IMAGES: JSON `{ "python": "registry/agent-python:3" }` or `python=registry/agent-python:3,node=…`. */
export function parseK8sImages(text: string | undefined, setting = 'FORGE_K8S_IMAGES'): Record<string, string> {
  if (!text?.trim()) return {};
  const trimmed = text.trim();
  let entries: Array<[string, unknown]>;
  if (trimmed.startsWith('{')) {
    try {
      entries = Object.entries(JSON.parse(trimmed) as Record<string, unknown>);
    } catch (error) {
      bad(setting, `not JSON: ${(error as Error).message}`);
    }
  } else {
    entries = trimmed.split(',').map((part) => {
      const at = part.indexOf('=');
      if (at < 1) bad(setting, `"${part.trim()}" is not name=image`);
      return [part.slice(0, at).trim(), part.slice(at + 1).trim()];
    });
  }
  const images: Record<string, string> = {};
  for (const [name, image] of entries) {
    if (!IMAGE_NAME.test(name)) bad(setting, `"${name}" is not an image name (lower-case letters, digits, . _ -)`);
    if (typeof image !== 'string' || !IMAGE_REF.test(image))
      bad(setting, `${name}: ${JSON.stringify(image)} is not a container image reference`);
    images[name] = image;
  }
  return images;
}

/** A duration: milliseconds, or a number with ms, s, m, h or d (`30m`, `1h`). */
export function parseDurationMs(setting: string, text: string | undefined): number | undefined {
  if (!text?.trim()) return undefined;
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(text.trim());
  if (!m) bad(setting, `expected a duration such as 900000, 900s, 15m or 1h, got "${text}"`);
  const ms = Number(m[1]) * { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] ?? 'ms']!;
  if (!(ms >= 1_000) || ms > 365 * 86_400_000) bad(setting, `must be from 1 s to 365 days, got "${text}"`);
  return Math.round(ms);
}

export function readK8sPodSettings(env: NodeJS.ProcessEnv): K8sPodSettings {
  const resources = parseK8sResources(env.FORGE_K8S_RESOURCES);
  const idleTtlMs = parseDurationMs('FORGE_K8S_IDLE_TTL', env.FORGE_K8S_IDLE_TTL);
  const reapIntervalMs =
    parseDurationMs('FORGE_K8S_REAP_INTERVAL_MS', env.FORGE_K8S_REAP_INTERVAL_MS) ??
    // Often enough that an idle pod outlives its TTL by at most a tenth of it.
    Math.min(60_000, Math.max(1_000, Math.round((idleTtlMs ?? 600_000) / 10)));
  return {
    ...(resources ? { resources } : {}),
    images: parseK8sImages(env.FORGE_K8S_IMAGES),
    ...(idleTtlMs !== undefined ? { idleTtlMs } : {}),
    reapIntervalMs,
  };
}
