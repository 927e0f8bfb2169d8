import { Organization } from '@orgms/common';
import type { DataSource } from 'typeorm';

/** The live (not deleted) organization with this name, in any case; names of deleted ones are free again. */
export function findOrganizationByName(controlDb: DataSource, name: string): Promise<Organization | null> {
  return controlDb
    .getRepository(Organization)
    .createQueryBuilder('o')
    .where('lower(o.name) = lower(:name)', { name: name.trim() })
    .andWhere("o.status <> 'deleted'")
    .getOne();
}

/** The live organization with this id. */
export function findOrganizationById(controlDb: DataSource, id: string): Promise<Organization | null> {
  return controlDb.getRepository(Organization).createQueryBuilder('o').where('o.id = :id', { id }).andWhere("o.status <> 'deleted'").getOne();
}
