import { ValidationError, type ValidationIssue } from '@forge/core';
import { closestName } from '@forge/core/internal';
import type { z } from 'zod';

/**
 * Validates a request body with the zod schema the OpenAPI document is generated from, so what is checked and
 * what is documented cannot drift. Unknown fields are UNKNOWN_FIELD (with the closest known name); any other
 * problem takes the code `codes` gives its field, else INVALID_FIELD.
 */
export function parseBody<S extends z.ZodObject>(
  schema: S,
  body: Record<string, unknown>,
  codes: Record<string, string> = {},
): z.output<S> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const known = Object.keys(schema.shape);
  const issues: ValidationIssue[] = parsed.error.issues.flatMap((i): ValidationIssue[] => {
    if (i.code === 'unrecognized_keys')
      return i.keys.map((key) => {
        const guess = closestName(key, known);
        return {
          path: key,
          code: 'UNKNOWN_FIELD',
          message: `unknown field "${key}"${guess ? `; did you mean "${guess}"?` : ''}`,
        };
      });
    const path = i.path.map(String).join('.');
    const head = String(i.path[0] ?? '');
    return [{ path, code: codes[head] ?? 'INVALID_FIELD', message: `${path || 'body'}: ${i.message}` }];
  });
  issues.sort((a, b) => Number(b.code === 'UNKNOWN_FIELD') - Number(a.code === 'UNKNOWN_FIELD'));
  throw new ValidationError(issues[0]!.code, issues.map((i) => i.message).join('; '), issues);
}
