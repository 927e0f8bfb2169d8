import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { startApiRuntime } from '@orgms/api/api-runtime';
import { withDatabase } from '@orgms/common/database/database-urls';
import { createLogger } from '@orgms/common/logger';
import { expect } from 'chai';
import { Client } from 'pg';
import supertest from 'supertest';
import { ADMIN_EMAIL, ADMIN_PASSWORD, dropTestResources, testConfig } from './support/stack';

describe('Readiness means ready to serve every route', () => {
  const id = randomBytes(4).toString('hex');
  const config = testConfig(id);
  const logger = createLogger('test', 'error');
  logger.silent = true;

  after(() => dropTestResources(config, id));

  it('when the control database is reachable but its migrations cannot run yet, then /ready and the routes answer 503 until migrations and the bootstrap admin are done, and a login right after /ready succeeds', async () => {
    // Hold the migration lock, as another process migrating for a long time would.
    const server = new Client({ connectionString: withDatabase(config.database.url, 'postgres') });
    await server.connect();
    await server.query(`CREATE DATABASE orgms_test_${id}`);
    await server.end();
    const holder = new Client({ connectionString: config.database.url });
    await holder.connect();
    await holder.query("SELECT pg_advisory_lock(hashtext('orgms:control-migrations'))");

    const runtime = startApiRuntime(config, logger);
    const request = supertest(runtime.app);
    try {
      await sleep(1500); // long enough for the API to connect and wait for the lock
      const [{ connections }] = (
        await holder.query('SELECT count(*)::int AS connections FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [`orgms_test_${id}`])
      ).rows;
      expect(connections, 'the API is connected to the control database').to.be.greaterThan(0);
      const waiting = await request.get('/ready').expect(503);
      expect(waiting.body.checks.postgres).to.equal('unavailable');
      await request.post('/auth/login').send({ email: ADMIN_EMAIL, password: ADMIN_PASSWORD }).expect(503);

      await holder.query("SELECT pg_advisory_unlock(hashtext('orgms:control-migrations'))");
      let ready = 503;
      for (let i = 0; i < 100 && ready !== 200; i++) {
        ready = (await request.get('/ready')).status;
        if (ready !== 200) await sleep(50);
      }
      expect(ready).to.equal(200);
      await request.post('/auth/login').send({ email: ADMIN_EMAIL, password: ADMIN_PASSWORD }).expect(200);
    } finally {
      await holder.end();
      await runtime.stop();
    }
  });
});
