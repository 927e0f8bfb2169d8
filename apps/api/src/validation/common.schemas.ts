import { CANONICAL_UUID, findMixedScriptConfusable, PASSWORD_MAX_BYTES, PASSWORD_MIN_LENGTH } from '@orgms/common';
import Joi from 'joi';

export const email = Joi.string().trim().lowercase().email({ tlds: false }).max(254);

/** NIST 800-63B: a minimum length and no composition rules; bcrypt reads 72 bytes at most. */
export const password = Joi.string()
  .min(PASSWORD_MIN_LENGTH)
  .custom((value: string, helpers) => (Buffer.byteLength(value, 'utf8') > PASSWORD_MAX_BYTES ? helpers.error('string.maxBytes') : value))
  .messages({ 'string.maxBytes': `password must be at most ${PASSWORD_MAX_BYTES} bytes` });

/**
 * A display name: printable text, no control characters, and no word that mixes look-alike
 * letters of different scripts ("Аcme" with a Cyrillic А). Uniqueness and lookups compare the
 * name key (libs/common organization-names.ts), not this text.
 */
export const organizationName = Joi.string()
  .trim()
  .min(2)
  .max(100)
  .pattern(/^[^\p{C}]+$/u)
  .custom((value: string, helpers) => {
    const mixed = findMixedScriptConfusable(value);
    return mixed ? helpers.error('string.mixedScripts', { scripts: mixed.scripts.join(' and ') }) : value;
  })
  .messages({
    'string.pattern.base': 'organization_name must not contain control characters',
    'string.mixedScripts': '{#label} mixes scripts that look alike ({#scripts}); use one script',
  });

/** An id we issued, in its canonical spelling (libs/common ids.ts); upper case is folded to it. Joi's `guid` takes too many. */
export const uuid = Joi.string()
  .lowercase()
  .pattern(CANONICAL_UUID)
  .messages({ 'string.pattern.base': '{{#label}} must be a UUID (8-4-4-4-12 hexadecimal digits)' });

export const idParams = Joi.object({ id: uuid.required() });

export const paginationQuery = {
  limit: Joi.number().integer().min(1).max(100).default(20),
  cursor: Joi.string()
    .max(200)
    .pattern(/^[A-Za-z0-9_-]+$/),
};
