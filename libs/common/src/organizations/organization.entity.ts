import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { OrganizationMetadata } from './organization-metadata';
import type { OrganizationStatus } from './organization-status';

/** Control-plane record of one organization. Column types are explicit: tsx emits no decorator metadata. */
@Entity({ name: 'organizations' })
export class Organization {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('varchar', { length: 100 })
  name!: string;

  /**
   * organizationNameKey(name): unique among live organizations, and what a lookup by name
   * compares. Internal (not a display value), so not selected by default.
   */
  @Column('text', { name: 'name_key', select: false })
  nameKey!: string;

  @Column('varchar', { length: 120 })
  slug!: string;

  /** A billing or CRM system's id for it, unique among organizations that are not purged (organization-metadata.ts). */
  @Column('varchar', { name: 'external_id', length: 128, nullable: true })
  externalId!: string | null;

  /** A small map of strings that other systems keep on it, within METADATA_LIMITS. */
  @Column('jsonb', { default: () => "'{}'::jsonb" })
  metadata!: OrganizationMetadata;

  /** Derived from the id at creation and never changed, so a rename never moves data. */
  @Column('varchar', { name: 'database_name', length: 63 })
  databaseName!: string;

  /** The database server holding the organization's database (database_servers). */
  @Column('uuid', { name: 'database_server_id', nullable: true })
  databaseServerId!: string | null;

  /** While `moving`: the server its database is being copied to. */
  @Column('uuid', { name: 'moving_to_server_id', nullable: true })
  movingToServerId!: string | null;

  /** While `restoring` (and until its old database is dropped): the backup replacing its data. */
  @Column('uuid', { name: 'restoring_backup_id', nullable: true })
  restoringBackupId!: string | null;

  /** The backup of the data an in-place restore replaced (kind `pre_restore`), once it is taken. */
  @Column('uuid', { name: 'pre_restore_backup_id', nullable: true })
  preRestoreBackupId!: string | null;

  /** The name of `databaseServerId`'s server, as read with the organization (not a column). */
  databaseServer?: string | null;

  /** `own`: connections log in as its own role; `shared`: as the service's (not a column; organization-rows.ts). */
  databaseRole?: 'own' | 'shared';

  @Column('varchar', { length: 20 })
  status!: OrganizationStatus;

  @Column('varchar', { length: 40, nullable: true })
  step!: string | null;

  @Column('integer', { default: 0 })
  attempts!: number;

  @Column('text', { name: 'last_error', nullable: true })
  lastError!: string | null;

  @Column('varchar', { name: 'admin_email', length: 254 })
  adminEmail!: string;

  /** The first admin's bcrypt hash, kept only until it is seeded into the org database. */
  @Column('varchar', { name: 'pending_admin_password_hash', length: 100, nullable: true, select: false })
  pendingAdminPasswordHash!: string | null;

  @Column('varchar', { name: 'schema_version', length: 100, nullable: true })
  schemaVersion!: string | null;

  /** When it was last deleted (soft: the database is kept until `purgeAfter`); null while live. */
  @Column({ type: 'timestamptz', name: 'deleted_at', precision: 3, nullable: true })
  deletedAt!: Date | null;

  /** The status it was deleted from: only an organization deleted while `active` has data to restore. */
  @Column('varchar', { name: 'deleted_from', length: 20, nullable: true })
  deletedFrom!: OrganizationStatus | null;

  /** While `deleted`: when the grace period ends and the worker archives and drops the database. */
  @Column({ type: 'timestamptz', name: 'purge_after', precision: 3, nullable: true })
  purgeAfter!: Date | null;

  /** Set on an organization recreated from an archive or made from a backup (a sandbox): provisioning restores that dump instead of cloning the template. */
  @Column('uuid', { name: 'restored_from_archive_id', nullable: true })
  restoredFromArchiveId!: string | null;

  /**
   * Bumped by every delete: its users' tokens carry the generation they were issued under and
   * only the current one is accepted, so a restore does not bring back sessions from before.
   */
  @Column('integer', { name: 'session_generation', default: 0 })
  sessionGeneration!: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
