import Joi from 'joi';
import { paginationQuery, requestShape, uuid } from '../http/common.schemas';

export interface AuditFilterQuery {
  organization_id?: string;
  actor_id?: string;
  action?: string;
  from?: Date;
  to?: Date;
  limit: number;
  cursor?: string;
}

export const auditQuery = requestShape<AuditFilterQuery>({
  organization_id: uuid.description("Only this organization's entries (an organization admin may name only its own, which is the default for it)."),
  actor_id: uuid.description('Only what this platform admin or user did.'),
  action: Joi.string()
    .max(100)
    .pattern(/^[a-z_]+(\.[a-z_]+)*(\.\*)?$/)
    .description('One action (`auth.login.failed`), or every action under a prefix (`auth.*`).')
    .example('auth.login.failed'),
  from: Joi.date().iso().description('Entries at or after this instant (ISO 8601).').example('2026-12-01T00:00:00Z'),
  to: Joi.date().iso().description('Entries before this instant (ISO 8601).').example('2026-12-06T00:00:00Z'),
  ...paginationQuery,
});
