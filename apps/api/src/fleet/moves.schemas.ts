import { requestShape, uuid } from '../http/common.schemas';
import { databaseServerName } from './database-servers.schemas';

export interface MoveOrganizationBody {
  database_server: string;
}

export const moveOrganizationBody = requestShape<MoveOrganizationBody>({
  database_server: databaseServerName.required().description('The server to move the organization database to (`GET /database-servers`).'),
});

export interface DrainParams {
  id: string;
  drainId: string;
}

export const drainParams = requestShape<DrainParams>({ id: uuid.required(), drainId: uuid.required() });
