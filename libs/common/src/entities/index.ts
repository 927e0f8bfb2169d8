export * from './organization.entity';
export * from './organization-event.entity';
export * from './organization-status';
export * from './platform-admin.entity';
export * from './tenant-user.entity';
