import Joi from 'joi';
import { JOI_OPTIONS } from '../validation-options';
import { findMixedScriptConfusable } from './organization-names';

/**
 * The rules of a new organization's name and first admin's email, held here so that every way of
 * recording an organization applies the same ones with the same messages: the API's bodies
 * (apps/api validation) and `npm run org:restore`.
 */

export const email = Joi.string().trim().lowercase().email({ tlds: false }).max(254).example('owner@acme.test');

/**
 * A display name: printable text, no control characters, and no word that mixes look-alike
 * letters of different scripts ("Аcme" with a Cyrillic А). Uniqueness and lookups compare the
 * name key (organization-names.ts), not this text.
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
  })
  .description(
    'Printable text without control characters; a word may not mix look-alike letters of different scripts. ' +
      'Unique among live organizations, compared case-insensitively and by look-alike skeleton.',
  )
  .example('Acme Corp');

/** An organization's name and first admin's email, as POST /organizations reads them. */
export interface OrganizationIdentity {
  organization_name: string;
  email: string;
}

const organizationIdentity = Joi.object<Partial<OrganizationIdentity>>({ organization_name: organizationName, email });

/**
 * The given name and email checked and converted (trimmed, the email lower-cased) by the API's
 * rules; an Error whose message is the API's messages, `; `-separated, otherwise.
 */
export function checkedOrganizationIdentity<T extends Partial<OrganizationIdentity>>(identity: T): T {
  const { value, error } = organizationIdentity.validate(identity, JOI_OPTIONS);
  if (error) throw new Error(error.details.map((detail) => detail.message).join('; '));
  return value as T;
}
