import { decodeCursor, encodeCursor } from '@orgms/api/http/pagination';
import { durationToSeconds } from '@orgms/api/sign-in/tokens';
import { loadConfig } from '@orgms/common/config';
import { isTransientDatabaseError } from '@orgms/common/database/database-errors';
import { serverOf } from '@orgms/common/database/database-urls';
import { slugify } from '@orgms/common/organizations/slug';
import { databaseNameFor, markerFor, quoteIdent } from '@orgms/common/tenancy/database-names';
import { describeFailure, isPermanentFailure, JobFailure } from '@orgms/worker/job-failure';
import { expect } from 'chai';

describe('Pure logic (no servers)', () => {
  describe('configuration', () => {
    it('when nothing is set, then the documented defaults apply', () => {
      const config = loadConfig({});
      expect(config.runtime).to.deep.equal({ nodeEnv: 'development', logLevel: 'info', shutdownTimeoutMs: 10000 });
      expect(config.database).to.deep.equal({ url: 'postgres://postgres@127.0.0.1:5432/orgms_control', timeouts: { connectMs: 4000, queryMs: 4000 } });
      expect(config.tenancy).to.deep.equal({
        serverUrl: 'postgres://postgres@127.0.0.1:5432/postgres',
        databasePrefix: 'org_',
        templateEnabled: true,
        spareDatabases: 2,
        pools: { size: 2, budget: 40, idleMs: 60000, acquireTimeoutMs: 5000, timeouts: { connectMs: 4000, queryMs: 4000 } },
        fleet: { defaultServerCapacity: 1000, pgbouncer: undefined, moveSessionGraceMs: 5000 },
      });
      expect(config.secrets.current.id, 'outside production, the development key').to.equal('development');
      expect(config.queue).to.deep.equal({
        redisUrl: 'redis://127.0.0.1:6379',
        timeouts: { connectMs: 2000, commandMs: 2000 },
        prefix: 'orgms',
        retry: { provisioning: { attempts: 5, backoffMs: 2000 }, migrations: { attempts: 3, backoffMs: 2000 } },
      });
      expect(config.auth).to.deep.include({
        bcryptRounds: 12,
        bootstrapAdmin: undefined,
        allowSelfSignup: false,
        loginThrottle: { windowMs: 900000, perIp: 100, perAccount: 10 },
      });
      expect(config.auth.jwt).to.include({ expiresIn: '15m', issuer: 'orgms', audience: 'orgms-api' });
      expect(config.auth.refreshTokenTtl).to.equal('30d');
      expect(config.auth.jwt.secret).to.have.length(64);
      expect(config.worker).to.deep.equal({
        concurrency: 4,
        migrationConcurrency: 2,
        migrationBatchSize: 50,
        lockDurationMs: 10000,
        stalledIntervalMs: 5000,
        reconcile: { intervalMs: 30000, stuckAfterMs: 60000, orphansIntervalMs: 300000 },
        metrics: { port: 9464, host: '127.0.0.1' },
      });
      expect(config.http).to.deep.equal({ port: 3000, bodyLimit: '100kb', trustProxy: false, publicUrl: undefined, metricsToken: undefined });
    });

    it('when MIGRATION_BACKOFF_MS is set, then fleet migrations retry after it and provisioning keeps PROVISION_BACKOFF_MS', () => {
      const { retry } = loadConfig({ MIGRATION_BACKOFF_MS: '500', PROVISION_BACKOFF_MS: '100' }).queue;
      expect(retry.migrations.backoffMs).to.equal(500);
      expect(retry.provisioning.backoffMs).to.equal(100);
    });

    it('when a value is invalid, then loading fails naming every bad variable', () => {
      expect(() => loadConfig({ PORT: 'abc', ORG_DATABASE_PREFIX: 'Bad-Prefix"', BCRYPT_ROUNDS: '99' })).to.throw(/PORT.*ORG_DATABASE_PREFIX.*BCRYPT_ROUNDS/);
    });

    it('when NODE_ENV is production without JWT_SECRET, then loading fails', () => {
      expect(() => loadConfig({ NODE_ENV: 'production' })).to.throw(/JWT_SECRET is required/);
    });

    it('when a variable is set but empty, then its default applies', () => {
      const config = loadConfig({ PORT: '', BOOTSTRAP_ADMIN_EMAIL: '', BOOTSTRAP_ADMIN_PASSWORD: '' });
      expect(config.http.port).to.equal(3000);
      expect(config.auth.bootstrapAdmin).to.equal(undefined);
    });

    it('when only one bootstrap variable is set, then loading fails', () => {
      expect(() => loadConfig({ BOOTSTRAP_ADMIN_EMAIL: 'a@b.test' })).to.throw(/BOOTSTRAP_ADMIN_PASSWORD/);
    });

    it('when DATABASE_URL has a query string, then the server URL keeps it', () => {
      expect(serverOf('postgres://u:p@db:6543/control?sslmode=require')).to.equal('postgres://u:p@db:6543/postgres?sslmode=require');
    });
  });

  describe('database names', () => {
    it('when derived from an id, then they hold only the prefix and the hex of the id', () => {
      expect(databaseNameFor('0E6C4A12-3B7D-4C1E-9F00-1234567890AB', 'org_')).to.equal('org_0e6c4a123b7d4c1e9f001234567890ab');
    });

    it('when the id is not a uuid, then no name or marker is produced', () => {
      expect(() => databaseNameFor("x'; DROP DATABASE y; --", 'org_')).to.throw();
      expect(() => markerFor("x'; --")).to.throw();
    });

    it('when an identifier has anything but lowercase letters, digits and _, then quoting refuses it', () => {
      expect(quoteIdent('org_abc')).to.equal('"org_abc"');
      for (const bad of ['Org', 'a"b', 'a b', '', 'a;b', 'x'.repeat(64)]) expect(() => quoteIdent(bad)).to.throw();
    });
  });

  describe('small helpers', () => {
    it('when a name has accents and punctuation, then its slug is plain', () => {
      expect(slugify('  Ärzte & Söhne, GmbH! ')).to.equal('arzte-sohne-gmbh');
      expect(slugify('!!!')).to.equal('organization');
    });

    it('when a cursor round-trips, then it is unchanged; when it is garbage, then it is a 400', () => {
      const cursor = { createdAt: new Date('2026-01-02T03:04:05.678Z'), id: '0e6c4a12-3b7d-4c1e-9f00-1234567890ab' };
      expect(decodeCursor(encodeCursor(cursor))).to.deep.equal(cursor);
      expect(() => decodeCursor('garbage')).to.throw(/cursor is not valid/);
    });

    it('when JWT_EXPIRES_IN is given in s/m/h/d, then expires_in is in seconds', () => {
      expect([durationToSeconds('90'), durationToSeconds('15m'), durationToSeconds('1h'), durationToSeconds('7d')]).to.deep.equal([90, 900, 3600, 604800]);
    });

    it('when the connection goes away under a transaction (TypeORM releases its runner), then the error is transient: a 503, not a 500', () => {
      for (const name of ['QueryRunnerAlreadyReleasedError', 'QueryRunnerProviderAlreadyReleasedError', 'CannotExecuteNotConnectedError']) {
        expect(isTransientDatabaseError(Object.assign(new Error('released'), { name })), name).to.equal(true);
      }
      expect(isTransientDatabaseError(new Error('syntax error at or near "SELEC"'))).to.equal(false);
    });

    it('when provisioning fails, then last_error is our own sentence and permanence is decided by cause', () => {
      expect(describeFailure('create_database', Object.assign(new Error('permission denied to create database'), { code: '42501' }))).to.equal(
        'create_database: the database role lacks a privilege it needs (CREATEDB on ORG_DATABASE_URL)',
      );
      expect(describeFailure('migrate', new Error('SELECT secret FROM x'))).to.equal('migrate: unexpected error; see the worker log');
      expect(isPermanentFailure(new JobFailure('no', { permanent: true }))).to.equal(true);
      expect(isPermanentFailure(new JobFailure('later', { permanent: false }))).to.equal(false);
      expect(isPermanentFailure(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).to.equal(false);
    });
  });
});
