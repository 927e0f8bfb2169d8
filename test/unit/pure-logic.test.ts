import { durationToSeconds } from '@orgms/api/auth/tokens';
import { decodeCursor, encodeCursor } from '@orgms/api/services/pagination';
import { slugify } from '@orgms/api/services/slug';
import { loadConfig, serverOf } from '@orgms/common/config';
import { isTransientDatabaseError } from '@orgms/common/database/database-errors';
import { databaseNameFor, markerFor, quoteIdent } from '@orgms/common/tenancy/database-names';
import { describeFailure, isPermanentFailure, JobFailure } from '@orgms/worker/job-failure';
import { expect } from 'chai';

describe('Pure logic (no servers)', () => {
  describe('configuration', () => {
    it('when nothing is set, then the documented defaults apply', () => {
      const config = loadConfig({});
      expect(config).to.include({
        port: 3000,
        databaseUrl: 'postgres://postgres@127.0.0.1:5432/orgms_control',
        orgDatabaseUrl: 'postgres://postgres@127.0.0.1:5432/postgres',
        orgDatabasePrefix: 'org_',
        redisUrl: 'redis://127.0.0.1:6379',
        queuePrefix: 'orgms',
        jwtExpiresIn: '1h',
        allowSelfSignup: false,
        bcryptRounds: 12,
        workerConcurrency: 4,
        logLevel: 'info',
      });
      expect(config.jwtSecret).to.have.length(64);
    });

    it('when a value is invalid, then loading fails naming every bad variable', () => {
      expect(() => loadConfig({ PORT: 'abc', ORG_DATABASE_PREFIX: 'Bad-Prefix"', BCRYPT_ROUNDS: '99' })).to.throw(/PORT.*ORG_DATABASE_PREFIX.*BCRYPT_ROUNDS/);
    });

    it('when NODE_ENV is production without JWT_SECRET, then loading fails', () => {
      expect(() => loadConfig({ NODE_ENV: 'production' })).to.throw(/JWT_SECRET is required/);
    });

    it('when a variable is set but empty, then its default applies', () => {
      expect(loadConfig({ PORT: '', BOOTSTRAP_ADMIN_EMAIL: '', BOOTSTRAP_ADMIN_PASSWORD: '' })).to.include({ port: 3000, bootstrapAdminEmail: undefined });
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
