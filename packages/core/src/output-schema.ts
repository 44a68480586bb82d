import { z } from 'zod';

/** The most repairs a run may ask for: each one is a full extra turn. */
export const MAX_OUTPUT_REPAIRS = 5;

/** What the TypeScript API takes for `outputSchema`: a JSON Schema object, or a zod schema (turned into one). */
export type OutputSchemaInput = Record<string, unknown> | z.ZodType;

/** A JSON Schema, as a plain JSON object; what every adapter and the wire see. */
export type JsonSchema = Record<string, unknown>;

const isPlainJson = (value: unknown, depth = 0): boolean => {
  if (depth > 64) return false;
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every((v) => isPlainJson(v, depth + 1));
  if (typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  return Object.values(value).every((v) => isPlainJson(v, depth + 1));
};

/**
 * A JSON Schema the final answer must satisfy. A zod schema is converted with zod's own `z.toJSONSchema`, so
 * hosts that already describe their output in zod need not write it twice; anything else must be plain JSON.
 */
export const OutputSchemaSchema = z.custom<OutputSchemaInput>().transform((value, ctx): JsonSchema => {
  let schema: unknown = value;
  if (value instanceof z.ZodType) {
    try {
      schema = z.toJSONSchema(value);
    } catch (error) {
      ctx.addIssue({
        code: 'custom',
        message: `the zod schema has no JSON Schema form: ${error instanceof Error ? error.message : String(error)}`,
      });
      return z.NEVER;
    }
  }
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema) || !isPlainJson(schema)) {
    ctx.addIssue({ code: 'custom', message: 'must be a JSON Schema: a plain JSON object' });
    return z.NEVER;
  }
  return schema as JsonSchema;
});

export const OutputRepairsSchema = z.number().int().min(0).max(MAX_OUTPUT_REPAIRS);
