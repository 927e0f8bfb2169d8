import { type FieldError, ValidationError } from '@orgms/common/errors';
import { JOI_OPTIONS } from '@orgms/common/validation-options';
import type { RequestHandler, Response } from 'express';
import type Joi from 'joi';

/** The schemas of one route's request parts (each capability's `*.schemas.ts`, each made with `requestShape`). */
export interface RequestSchemas {
  body?: Joi.ObjectSchema;
  query?: Joi.ObjectSchema;
  params?: Joi.ObjectSchema;
}

type Part = keyof RequestSchemas;

interface ValidatedInput {
  byPart: Partial<Record<Part, unknown>>;
  bySchema: Map<Joi.Schema, unknown>;
}

/**
 * Validates the listed request parts with joi (all errors at once, unknown keys refused) and
 * stores the converted values for the handler, which reads them with `validated(res, schema)`.
 */
export function validate(schemas: RequestSchemas): RequestHandler {
  return (req, res, next) => {
    const input: ValidatedInput = { byPart: {}, bySchema: new Map() };
    const errors: FieldError[] = [];
    for (const part of ['params', 'query', 'body'] as Part[]) {
      const schema = schemas[part];
      if (!schema) continue;
      const { value, errors: partErrors } = checkAgainst(schema, part === 'body' ? (req.body ?? {}) : req[part]);
      input.byPart[part] = value;
      input.bySchema.set(schema, value);
      for (const { field, message } of partErrors) errors.push({ field: field ? `${part}.${field}` : part, message });
    }
    if (errors.length > 0) {
      return next(new ValidationError(errors.map((e) => `${e.field}: ${e.message}`).join('; '), errors));
    }
    res.locals.input = input;
    next();
  };
}

/**
 * `raw` checked as a request part is (every error at once, each with its field's path, unknown
 * keys refused, values converted): also how a CLI command checks the body of the route it stands for.
 */
export function checkAgainst<T>(schema: Joi.ObjectSchema<T>, raw: unknown): { value: T; errors: FieldError[] } {
  const { value, error } = schema.validate(raw, JOI_OPTIONS);
  return { value, errors: (error?.details ?? []).map((detail) => ({ field: detail.path.join('.'), message: detail.message })) };
}

/**
 * The value (joi-converted: trimmed, defaults filled in) of the request part that `schema`
 * validated, typed by the schema itself: `validated(res, createUserBody)` is a `CreateUserBody`.
 * A schema that `validate` did not run for this request is a programming error.
 */
export function validated<T>(res: Response, schema: Joi.ObjectSchema<T>): T;
/**
 * One part by name, for middleware shared by routes whose schemas differ (the organization id in
 * `params`): the caller names the fields it reads. Handlers use the schema form above.
 */
export function validated<T>(res: Response, part: Part): T;
export function validated<T>(res: Response, source: Part | Joi.ObjectSchema<T>): T {
  const input = res.locals.input as ValidatedInput | undefined;
  if (typeof source === 'string') return input?.byPart[source] as T;
  if (!input?.bySchema.has(source)) throw new Error('validated(res, schema): validate() did not run this schema for this route');
  return input.bySchema.get(source) as T;
}
