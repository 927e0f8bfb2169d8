import Joi from 'joi';
import { organizationName, type Page, paginationQuery, requestShape, uuid } from '../http/common.schemas';

export interface BackupParams {
  id: string;
  backupId: string;
}

export const backupParams = requestShape<BackupParams>({ id: uuid.required(), backupId: uuid.required() });
export const listBackupsQuery = requestShape<Page>(paginationQuery);

/** Where a backup is restored to: a new organization (a sandbox). The in-place restore (issue 24) is not built yet. */
export const RESTORE_MODES = ['new_organization'] as const;
export type RestoreMode = (typeof RESTORE_MODES)[number];

export interface RestoreBackupBody {
  mode: RestoreMode;
  organization_name: string;
}

/** POST /organizations/:id/backups/:backupId/restore: a sandbox needs its own name. */
export const restoreBackupBody = requestShape<RestoreBackupBody>({
  mode: Joi.string()
    .valid(...RESTORE_MODES)
    .required()
    .description('`new_organization` makes a new organization (a sandbox) of the backup.'),
  organization_name: organizationName.required().description("The new organization's name."),
});
