import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { PlatformAdmin } from '../entities';
import { ConflictError } from '../errors';
import { hashPassword } from '../passwords';

export async function findPlatformAdminWithHash(dataSource: DataSource, email: string): Promise<PlatformAdmin | null> {
  return dataSource
    .getRepository(PlatformAdmin)
    .createQueryBuilder('a')
    .addSelect('a.passwordHash')
    .where('lower(a.email) = lower(:email)', { email })
    .getOne();
}

/** Inserts a platform admin; a taken email (any case) is a ConflictError. */
export async function createPlatformAdmin(dataSource: DataSource, email: string, password: string, rounds: number): Promise<PlatformAdmin> {
  const passwordHash = await hashPassword(password, rounds);
  const id = randomUUID();
  const inserted = await dataSource.query(
    'INSERT INTO platform_admins (id, email, password_hash) VALUES ($1, $2, $3) ON CONFLICT ((lower(email))) DO NOTHING RETURNING id',
    [id, email.toLowerCase(), passwordHash],
  );
  if (inserted.length === 0) throw new ConflictError(`A platform admin with email ${email.toLowerCase()} already exists.`);
  return dataSource.getRepository(PlatformAdmin).findOneByOrFail({ id });
}

/** Creates the bootstrap admin unless one with that email exists; safe on every start. */
export async function ensurePlatformAdmin(dataSource: DataSource, email: string, password: string, rounds: number): Promise<'created' | 'exists'> {
  try {
    await createPlatformAdmin(dataSource, email, password, rounds);
    return 'created';
  } catch (error) {
    if (error instanceof ConflictError) return 'exists';
    throw error;
  }
}
