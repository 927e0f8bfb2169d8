import Joi from 'joi';

/** NIST 800-63B: a minimum length and no composition rules. */
export const PASSWORD_MIN_LENGTH = 8;
/** bcrypt reads 72 bytes at most and ignores the rest without a word. */
export const PASSWORD_MAX_BYTES = 72;

/**
 * The one rule for a password being set, wherever it is set: the API's bodies, the operator
 * commands (`admin:create`, `admin:password`) and BOOTSTRAP_ADMIN_PASSWORD. Bytes are counted in
 * UTF-8, not characters, so a long non-ASCII password is refused everywhere rather than silently
 * cut to its first 72 bytes by bcrypt (40 two-byte characters are 80 bytes).
 */
export const newPasswordSchema = Joi.string()
  .min(PASSWORD_MIN_LENGTH)
  .custom((value: string, helpers) => (Buffer.byteLength(value, 'utf8') > PASSWORD_MAX_BYTES ? helpers.error('string.maxBytes') : value))
  .messages({ 'string.maxBytes': `{#label} must be at most ${PASSWORD_MAX_BYTES} bytes` });
