import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

export const USER_ROLES = ['admin', 'member'] as const;
export type UserRole = (typeof USER_ROLES)[number];

/** A user of one organization; lives in that organization's own database. */
@Entity({ name: 'users' })
export class TenantUser {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('varchar', { length: 254 })
  email!: string;

  @Column('varchar', { name: 'password_hash', length: 100, select: false })
  passwordHash!: string;

  @Column('varchar', { length: 20 })
  role!: UserRole;

  @Column('boolean', { name: 'is_active', default: true })
  isActive!: boolean;

  /** Bumped on password change or deactivation; tokens carrying an older value are refused. */
  @Column('integer', { name: 'token_version', default: 0 })
  tokenVersion!: number;

  /** Set by every successful login, so admins can spot dormant accounts. */
  @Column('timestamptz', { name: 'last_login_at', nullable: true })
  lastLoginAt!: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
