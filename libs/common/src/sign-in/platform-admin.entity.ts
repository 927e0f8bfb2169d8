import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

@Entity({ name: 'platform_admins' })
export class PlatformAdmin {
  @PrimaryColumn('uuid')
  id!: string;

  /** Stored lower-cased; unique case-insensitively (index on lower(email)). */
  @Column('varchar', { length: 254 })
  email!: string;

  @Column('varchar', { name: 'password_hash', length: 100, select: false })
  passwordHash!: string;

  /** Tokens carry the version they were issued at; bumping it revokes them all. */
  @Column('integer', { name: 'token_version', default: 0 })
  tokenVersion!: number;

  /** A deactivated admin can neither log in nor use a token issued before. */
  @Column('boolean', { name: 'is_active', default: true })
  isActive!: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
