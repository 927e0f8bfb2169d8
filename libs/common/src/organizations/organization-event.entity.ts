import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** Audit trail of an organization: one row per status change or provisioning step. */
@Entity({ name: 'organization_events' })
export class OrganizationEvent {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id!: string;

  @Column('uuid', { name: 'org_id' })
  orgId!: string;

  @Column('timestamptz', { default: () => 'now()' })
  at!: Date;

  @Column('varchar', { name: 'from_status', length: 20, nullable: true })
  fromStatus!: string | null;

  @Column('varchar', { name: 'to_status', length: 20 })
  toStatus!: string;

  @Column('varchar', { length: 40, nullable: true })
  step!: string | null;

  @Column('text', { nullable: true })
  detail!: string | null;

  @Column('varchar', { name: 'request_id', length: 100, nullable: true })
  requestId!: string | null;
}
