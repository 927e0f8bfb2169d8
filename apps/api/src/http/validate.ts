import { ValidationError } from '@orgms/common';
import type { RequestHandler, Response } from 'express';
import type Joi from 'joi';

export interface RequestSchemas {
  body?: Joi.Schema;
  query?: Joi.Schema;
  params?: Joi.Schema;
}

type Part = keyof RequestSchemas;

/**
 * Validates the listed request parts with joi (all errors at once, unknown keys refused) and
 * stores the converted values for the handler: read them with `validated(res, part)`.
 */
export function validate(schemas: RequestSchemas): RequestHandler {
  return (req, res, next) => {
    const values: Record<string, unknown> = {};
    const errors: { field: string; message: string }[] = [];
    for (const part of ['params', 'query', 'body'] as Part[]) {
      const schema = schemas[part];
      if (!schema) continue;
      const raw = part === 'body' ? (req.body ?? {}) : req[part];
      const { value, error } = schema.validate(raw, { abortEarly: false, convert: true, errors: { wrap: { label: false } } });
      values[part] = value;
      for (const detail of error?.details ?? []) {
        errors.push({ field: [part, ...detail.path].join('.'), message: detail.message });
      }
    }
    if (errors.length > 0) {
      return next(new ValidationError(errors.map((e) => `${e.field}: ${e.message}`).join('; '), errors));
    }
    res.locals.input = values;
    next();
  };
}

/** One validated (and joi-converted) part of the current request. */
export function validated<T>(res: Response, part: Part): T {
  return res.locals.input[part] as T;
}
