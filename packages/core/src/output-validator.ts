import type { AnySchema, ValidateFunction } from 'ajv';
import AjvDraft7 from 'ajv';
import Ajv2019 from 'ajv/dist/2019.js';
import Ajv2020 from 'ajv/dist/2020.js';
import { z } from 'zod';
import { CoreErrorCode } from './error-codes.js';
import { ValidationError } from './errors.js';
import type { JsonSchema, OutputSchemaInput } from './output-schema.js';

/** The most validator errors a mismatch reports (in the repair prompt and the failed result). */
export const MAX_OUTPUT_ERRORS = 20;

export type OutputCheckResult = { ok: true; value: unknown } | { ok: false; errors: string[] };

/** Checks one answer against the request's `outputSchema`. */
export type OutputCheck = (value: unknown) => OutputCheckResult;

type AjvInstance = InstanceType<typeof Ajv2020>;
type Draft = '2020-12' | '2019-09' | 'draft-07';

/**
 * Validates answers against a request's `outputSchema`. JSON Schemas go to Ajv (the reference JSON Schema
 * validator, drafts 07, 2019-09 and 2020-12); a zod schema given in the TypeScript API validates with itself, so
 * `result.output` is what that schema outputs. One per agent: Ajv instances are costly to make, so they are kept,
 * and each schema is removed from Ajv's cache once compiled, so a long-lived agent does not grow with its requests.
 *
 * Why not zod's own `z.fromJSONSchema` (zod 4.6): it accepts an object missing a `required` key that has no
 * `properties` entry (a wrong answer passes), cannot resolve draft-07 `#/definitions/…` references, rejects `not`,
 * `if`/`then`/`else`, `dependentRequired` and `unevaluatedProperties`, and writes `default`s into the answer.
 */
export class OutputValidator {
  private readonly instances = new Map<Draft, AjvInstance>();

  /**
   * Compiles the schema now (throws ValidationError INVALID_OUTPUT_SCHEMA when it is not a schema Ajv takes), so a
   * bad schema is refused before any work rather than at the end of a run.
   */
  compile(schema: JsonSchema, original?: OutputSchemaInput): OutputCheck {
    if (original instanceof z.ZodType) return zodCheck(original);
    const ajv = this.instance(draftOf(schema));
    let validate: ValidateFunction;
    try {
      validate = ajv.compile(schema as AnySchema);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new ValidationError(
        CoreErrorCode.INVALID_OUTPUT_SCHEMA,
        `Invalid agent request: outputSchema: ${message}`,
        [{ path: 'outputSchema', code: CoreErrorCode.INVALID_OUTPUT_SCHEMA, message }],
      );
    } finally {
      ajv.removeSchema(schema as AnySchema);
    }
    return (value) => {
      if (validate(value)) return { ok: true, value };
      const errors = (validate.errors ?? []).map((e) => {
        const where = e.instancePath || '(root)';
        const extra = e.keyword === 'additionalProperties' ? ` (${String(e.params.additionalProperty)})` : '';
        return `${where}: ${e.message ?? e.keyword}${extra}`;
      });
      return { ok: false, errors: cap(errors.length ? errors : ['(root): does not match the schema']) };
    };
  }

  private instance(draft: Draft): AjvInstance {
    let ajv = this.instances.get(draft);
    if (!ajv) {
      // strict: false — schemas come from hosts and models' tool formats, with annotations Ajv does not know;
      // formats stay annotations (as JSON Schema 2020-12 says by default), and nothing is logged to the console.
      // validateSchema: false — checking against the meta-schema costs ~200 ms per instance, and compiling
      // already refuses a malformed keyword (`type: "wrong"`, `required: "x"`, an unresolvable `$ref`).
      const options = {
        strict: false,
        allErrors: true,
        logger: false,
        validateFormats: false,
        validateSchema: false,
      } as const;
      ajv = (
        draft === 'draft-07'
          ? new AjvDraft7(options)
          : draft === '2019-09'
            ? new Ajv2019(options)
            : new Ajv2020(options)
      ) as AjvInstance;
      this.instances.set(draft, ajv);
    }
    return ajv;
  }
}

function draftOf(schema: JsonSchema): Draft {
  const declared = typeof schema.$schema === 'string' ? schema.$schema : '';
  if (/draft-07/.test(declared)) return 'draft-07';
  if (declared.includes('2019-09')) return '2019-09';
  return '2020-12';
}

function zodCheck(schema: z.ZodType): OutputCheck {
  return (value) => {
    const parsed = schema.safeParse(value);
    if (parsed.success) return { ok: true, value: parsed.data };
    return {
      ok: false,
      errors: cap(parsed.error.issues.map((i) => `${i.path.length ? `/${i.path.join('/')}` : '(root)'}: ${i.message}`)),
    };
  };
}

function cap(errors: string[]): string[] {
  return errors.length > MAX_OUTPUT_ERRORS
    ? [...errors.slice(0, MAX_OUTPUT_ERRORS), `… and ${errors.length - MAX_OUTPUT_ERRORS} more`]
    : errors;
}
