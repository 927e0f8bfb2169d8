import type Joi from 'joi';

/**
 * How the API's request schemas are applied, and anything that must refuse with the same words
 * (operator commands): every error at once, converted values, labels unquoted (`email must be…`).
 */
export const JOI_OPTIONS: Joi.ValidationOptions = { abortEarly: false, convert: true, errors: { wrap: { label: false } } };
