import { InitControl1732200000000 } from './control/1732200000000-InitControl';
import { MigrationRuns1732300000000 } from './control/1732300000000-MigrationRuns';
import { PlatformAdminRevocation1732400000000 } from './control/1732400000000-PlatformAdminRevocation';
import { OrganizationNameKey1732500000000 } from './control/1732500000000-OrganizationNameKey';
import { DatabaseServers1732600000000 } from './control/1732600000000-DatabaseServers';
import { OrganizationExports1732700000000 } from './control/1732700000000-OrganizationExports';
import { IdempotencyKeys1732710000000 } from './control/1732710000000-IdempotencyKeys';
import { OrganizationArchives1732720000000 } from './control/1732720000000-OrganizationArchives';
import { TenantDatabaseRoles1732730000000 } from './control/1732730000000-TenantDatabaseRoles';
import { Webhooks1732740000000 } from './control/1732740000000-Webhooks';
import { RefreshTokens1732750000000 } from './control/1732750000000-RefreshTokens';
import { AuditLog1732760000000 } from './control/1732760000000-AuditLog';
import { WebhookOrganizationRepresentation1732770000000 } from './control/1732770000000-WebhookOrganizationRepresentation';
import { SessionGenerations1732780000000 } from './control/1732780000000-SessionGenerations';
import { WebhookDeliveriesWrittenByStore1732790000000 } from './control/1732790000000-WebhookDeliveriesWrittenByStore';
import { TrackedRuns1732795000000 } from './control/1732795000000-TrackedRuns';
import { OrganizationLimits1732800000000 } from './control/1732800000000-OrganizationLimits';
import { OneExportAtATime1732810000000 } from './control/1732810000000-OneExportAtATime';
import { DatabaseLimitsRuns1732820000000 } from './control/1732820000000-DatabaseLimitsRuns';
import { OrganizationDumps1732830000000 } from './control/1732830000000-OrganizationDumps';
import { OrganizationRestores1732840000000 } from './control/1732840000000-OrganizationRestores';
import { OrganizationSearch1732850000000 } from './control/1732850000000-OrganizationSearch';
import { WebhookDeliveryTraceParent1732857000000 } from './control/1732857000000-WebhookDeliveryTraceParent';
import { SpareDatabases1732860000000 } from './control/1732860000000-SpareDatabases';
import { CreateUsers1732200000000 } from './tenant/1732200000000-CreateUsers';
import { AddUserLastLogin1732300000000 } from './tenant/1732300000000-AddUserLastLogin';

/**
 * Migration classes, not globs, so one DataSource config works from `src` (tsx) and `dist`.
 * Append new migrations at the end of their list.
 */
export const controlMigrations = [
  InitControl1732200000000,
  MigrationRuns1732300000000,
  PlatformAdminRevocation1732400000000,
  OrganizationNameKey1732500000000,
  DatabaseServers1732600000000,
  OrganizationExports1732700000000,
  IdempotencyKeys1732710000000,
  OrganizationArchives1732720000000,
  TenantDatabaseRoles1732730000000,
  Webhooks1732740000000,
  RefreshTokens1732750000000,
  AuditLog1732760000000,
  WebhookOrganizationRepresentation1732770000000,
  SessionGenerations1732780000000,
  WebhookDeliveriesWrittenByStore1732790000000,
  TrackedRuns1732795000000,
  OrganizationLimits1732800000000,
  OneExportAtATime1732810000000,
  DatabaseLimitsRuns1732820000000,
  OrganizationDumps1732830000000,
  OrganizationRestores1732840000000,
  OrganizationSearch1732850000000,
  WebhookDeliveryTraceParent1732857000000,
  SpareDatabases1732860000000,
];
export const tenantMigrations = [CreateUsers1732200000000, AddUserLastLogin1732300000000];

/** The name of the newest tenant migration: an org database at this version is current. */
export const latestTenantMigration = tenantMigrations[tenantMigrations.length - 1].name;
