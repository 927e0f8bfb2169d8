import { requestShape, uuid } from '../http/common.schemas';

export interface ExportParams {
  id: string;
  exportId: string;
}

export const exportParams = requestShape<ExportParams>({ id: uuid.required(), exportId: uuid.required() });
