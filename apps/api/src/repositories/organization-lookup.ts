import { Organization, organizationNameKey } from '@orgms/common';
import type { DataSource } from 'typeorm';

/**
 * The live (not deleted) organization with this name as it looks: any case, full-width or
 * decomposed spellings, look-alike letters of other scripts (the name key, which the unique
 * index also uses). Names of deleted ones are free again.
 */
export function findOrganizationByName(controlDb: DataSource, name: string): Promise<Organization | null> {
  return controlDb
    .getRepository(Organization)
    .createQueryBuilder('o')
    .where('o.name_key = :key', { key: organizationNameKey(name) })
    .andWhere("o.status <> 'deleted'")
    .getOne();
}

/** The live organization with this id. */
export function findOrganizationById(controlDb: DataSource, id: string): Promise<Organization | null> {
  return controlDb.getRepository(Organization).createQueryBuilder('o').where('o.id = :id', { id }).andWhere("o.status <> 'deleted'").getOne();
}
