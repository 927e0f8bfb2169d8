import { type Page, paginationQuery, requestShape, uuid } from '../http/common.schemas';

export interface BackupParams {
  id: string;
  backupId: string;
}

export const backupParams = requestShape<BackupParams>({ id: uuid.required(), backupId: uuid.required() });
export const listBackupsQuery = requestShape<Page>(paginationQuery);
