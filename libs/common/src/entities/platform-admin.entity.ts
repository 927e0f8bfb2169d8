import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

@Entity({ name: 'platform_admins' })
export class PlatformAdmin {
  @PrimaryColumn('uuid')
  id!: string;

  /** Stored lower-cased; unique case-insensitively (index on lower(email)). */
  @Column('varchar', { length: 254 })
  email!: string;

  @Column('varchar', { name: 'password_hash', length: 100, select: false })
  passwordHash!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
