import { ARCHIVE_STATUSES, BACKUP_KINDS, BACKUP_STATUSES, EXPORT_STATUSES } from '@orgms/common/data-safety/organization-dump-store';
import type { FromSchema, JSONSchema } from 'json-schema-to-ts';
import { dateTime, nextCursor, nullableDateTime, uuid } from '../openapi/shapes';

export const organizationExport = {
  type: 'object',
  description:
    "A `pg_dump -Fc` of an organization's database. `queued` → `running` → `ready` (download it) or `failed` (`error` says why); " +
    '`expired` once `expires_at` has passed (the file is deleted).',
  additionalProperties: false,
  required: ['id', 'organization_id', 'status', 'size_bytes', 'sha256', 'error', 'created_at', 'finished_at', 'expires_at'],
  properties: {
    id: uuid,
    organization_id: uuid,
    status: { type: 'string', enum: EXPORT_STATUSES },
    size_bytes: { type: ['integer', 'null'], minimum: 0, description: 'The size of the archive once ready.', examples: [48213] },
    sha256: {
      type: ['string', 'null'],
      pattern: '^[0-9a-f]{64}$',
      description: 'The SHA-256 of the archive in hex, once ready (the download sends it base64 in `Repr-Digest`).',
      examples: ['9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08'],
    },
    error: { type: ['string', 'null'], description: 'Why it failed.', examples: ['export: pg_dump failed (exit 1): connection refused'] },
    created_at: dateTime,
    finished_at: nullableDateTime,
    expires_at: nullableDateTime,
  },
} as const satisfies JSONSchema;

export const organizationArchive = {
  type: 'object',
  description:
    "A `pg_dump -Fc` of an organization's database written by its purge into ARCHIVE_DIR before the database was dropped; kept until an " +
    'operator removes it. `written` once the whole file is on disk, `verified` once `pg_restore --list` read it and its SHA-256 matched again.',
  additionalProperties: false,
  required: ['id', 'organization_id', 'file_name', 'status', 'size_bytes', 'sha256', 'created_at', 'verified_at', 'restore_command'],
  properties: {
    id: uuid,
    organization_id: uuid,
    file_name: {
      type: 'string',
      description: 'The file name inside ARCHIVE_DIR.',
      examples: ['4f0c2a7e-9d1b-4c1e-8f00-1234567890ab-20261205T041000123Z.dump'],
    },
    status: { type: 'string', enum: ARCHIVE_STATUSES },
    size_bytes: { type: 'integer', minimum: 0, description: 'The size of the file when it was written.', examples: [48213] },
    sha256: {
      type: 'string',
      pattern: '^[0-9a-f]{64}$',
      description: 'The SHA-256 of the file in hex, recorded when it was written.',
      examples: ['9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08'],
    },
    created_at: dateTime,
    verified_at: nullableDateTime,
    restore_command: {
      type: 'string',
      description: 'The command an operator runs (on a host with this installation and ARCHIVE_DIR) to recreate the organization from it, with a new id.',
      examples: ['npm run org:restore -- --archive /srv/orgms/var/archives/4f0c2a7e-9d1b-4c1e-8f00-1234567890ab-20261205T041000123Z.dump'],
    },
  },
} as const satisfies JSONSchema;

export const organizationArchiveList = {
  type: 'object',
  additionalProperties: false,
  required: ['items'],
  properties: { items: { type: 'array', items: organizationArchive, description: 'Newest first; every archive of the organization (no pagination).' } },
} as const satisfies JSONSchema;

export type OrganizationExportBody = FromSchema<typeof organizationExport>;
export type OrganizationArchiveBody = FromSchema<typeof organizationArchive>;
export type OrganizationArchiveListBody = FromSchema<typeof organizationArchiveList>;

export const organizationBackup = {
  type: 'object',
  description:
    "A verified `pg_dump -Fc` of an organization's database, with a manifest of per-table row counts taken in the dump's own snapshot. " +
    '`queued` → `running` → `verified` (written, read back by `pg_restore --list`, SHA-256 matched from disk) or `failed`; `expired` once ' +
    'retention (scheduled) or BACKUP_MANUAL_TTL (manual, pre_restore) ended it and its file is deleted. `restore_tested_at`: when a ' +
    'restore drill last restored it into a scratch database and found the manifest’s row counts.',
  additionalProperties: false,
  required: ['id', 'organization_id', 'kind', 'status', 'size_bytes', 'sha256', 'created_at', 'finished_at', 'expires_at', 'restore_tested_at'],
  properties: {
    id: uuid,
    organization_id: uuid,
    kind: { type: 'string', enum: BACKUP_KINDS, description: 'Taken by the schedule, asked for (`POST …/backups`), or of the data a restore replaced.' },
    status: { type: 'string', enum: BACKUP_STATUSES },
    size_bytes: { type: ['integer', 'null'], minimum: 0, description: 'The size of the file once written.', examples: [48213] },
    sha256: {
      type: ['string', 'null'],
      pattern: '^[0-9a-f]{64}$',
      description: 'The SHA-256 of the file in hex, once written.',
      examples: ['9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08'],
    },
    created_at: dateTime,
    finished_at: nullableDateTime,
    expires_at: nullableDateTime,
    restore_tested_at: nullableDateTime,
  },
} as const satisfies JSONSchema;

export const organizationBackupList = {
  type: 'object',
  additionalProperties: false,
  required: ['items', 'next_cursor'],
  properties: { items: { type: 'array', items: organizationBackup, description: 'Newest first.' }, next_cursor: nextCursor },
} as const satisfies JSONSchema;

export type OrganizationBackupBody = FromSchema<typeof organizationBackup>;
export type OrganizationBackupListBody = FromSchema<typeof organizationBackupList>;
