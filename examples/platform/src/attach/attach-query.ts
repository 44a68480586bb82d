import { ApiError } from '../api-error.js';

export interface AttachQuery {
  ticket?: string;
  command?: string[];
  tty: boolean;
  cols?: number;
  rows?: number;
  session?: string;
}

const SESSION_ID = /^[A-Za-z0-9_-]{16,64}$/;
/** Kubernetes exec's own parameters, accepted so its clients work unchanged; the platform always wires all streams. */
const KUBE_EXEC = new Set(['stdin', 'stdout', 'stderr', 'container']);
const KNOWN = new Set(['ticket', 'command', 'tty', 'cols', 'rows', 'session', ...KUBE_EXEC]);

const bad = (message: string) => new ApiError(400, 'INVALID_ATTACH_QUERY', message);

function bool(name: string, value: string | null): boolean {
  if (value === null || value === 'false' || value === '0') return false;
  if (value === 'true' || value === '1' || value === '') return true;
  throw bad(`${name} must be true or false`);
}

function size(name: string, value: string | null): number | undefined {
  if (value === null) return undefined;
  const n = Number(value);
  if (!/^\d{1,5}$/.test(value) || n < 1 || n > 0xffff) throw bad(`${name} must be an integer from 1 to 65535`);
  return n;
}

/** The attach endpoint's query: unknown parameters are errors, as everywhere in the API. */
export function attachQuery(params: URLSearchParams): AttachQuery {
  for (const name of params.keys()) if (!KNOWN.has(name)) throw bad(`Unknown query parameter ${name}`);
  for (const name of ['ticket', 'tty', 'cols', 'rows', 'session'])
    if (params.getAll(name).length > 1) throw bad(`${name} may be given once`);
  const command = params.getAll('command');
  if (command.length > 256 || command.some((a) => a.length > 8192 || a.includes('\0')))
    throw bad('command: at most 256 arguments of at most 8192 characters, without NUL');
  if (command.length && command[0] === '') throw bad('command: the program may not be empty');
  const session = params.get('session') ?? undefined;
  if (session !== undefined && !SESSION_ID.test(session)) throw bad('session: 16 to 64 of A-Z a-z 0-9 _ -');
  const cols = size('cols', params.get('cols'));
  const rows = size('rows', params.get('rows'));
  const ticket = params.get('ticket') ?? undefined;
  return {
    tty: bool('tty', params.get('tty')),
    ...(ticket !== undefined ? { ticket } : {}),
    ...(command.length ? { command } : {}),
    ...(cols !== undefined ? { cols } : {}),
    ...(rows !== undefined ? { rows } : {}),
    ...(session !== undefined ? { session } : {}),
  };
}
