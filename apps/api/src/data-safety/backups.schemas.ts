import Joi from 'joi';
import { organizationName, type Page, paginationQuery, requestShape, uuid } from '../http/common.schemas';

export interface BackupParams {
  id: string;
  backupId: string;
}

export const backupParams = requestShape<BackupParams>({ id: uuid.required(), backupId: uuid.required() });
export const listBackupsQuery = requestShape<Page>(paginationQuery);

/** Where a backup is restored to: over the organization's own data, or into a new organization (a sandbox). */
export const RESTORE_MODES = ['in_place', 'new_organization'] as const;
export type RestoreMode = (typeof RESTORE_MODES)[number];

export interface RestoreBackupBody {
  mode: RestoreMode;
  organization_name?: string;
}

/** POST /organizations/:id/backups/:backupId/restore: a sandbox needs its own name; an in-place restore takes none. */
export const restoreBackupBody = requestShape<RestoreBackupBody>({
  mode: Joi.string()
    .valid(...RESTORE_MODES)
    .required()
    .description("`in_place` replaces the organization's data with the backup's; `new_organization` makes a new organization (a sandbox) of it."),
  organization_name: organizationName.description("The new organization's name: required with `new_organization`, refused with `in_place`."),
}).when(Joi.object({ mode: Joi.valid('new_organization') }).unknown(), {
  // biome-ignore lint/suspicious/noThenProperty: joi's conditional schema, not a thenable
  then: Joi.object({ organization_name: Joi.required() }).unknown(),
  otherwise: Joi.object({ organization_name: Joi.forbidden() }).unknown(),
});
