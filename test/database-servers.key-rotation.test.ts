import { randomBytes } from 'node:crypto';
import { DatabaseServerStore } from '@orgms/common/fleet/database-server-store';
import { SecretBox } from '@orgms/common/secret-box';
import { expect } from 'chai';
import type { DataSource } from 'typeorm';
import { scratchControlDatabase } from './support/control-database';

const key = (id: string) => ({ id, key: randomBytes(32) });

describe('Database server URLs after a SECRETS_KEY rotation', () => {
  let ds: DataSource;
  let drop: () => Promise<void>;

  before(async () => {
    ({ dataSource: ds, drop } = await scratchControlDatabase('server_keys'));
  });
  after(() => drop?.());

  it('when the key rotates, then each URL is sealed again under the new key and the audit log says so, naming no URL', async () => {
    const old = key('old');
    const adminUrl = 'postgres://postgres:s3cret@10.0.0.12:5432/postgres';
    const server = await new DatabaseServerStore(ds, new SecretBox(old)).create({
      name: 'pg-rotated',
      adminUrl,
      poolUrl: null,
      capacity: 10,
      connectionBudget: 5,
    });

    const rotated = new DatabaseServerStore(ds, new SecretBox(key('new'), [old]));
    expect(await rotated.resealStale()).to.equal(1);
    expect(await rotated.resealStale()).to.equal(0);
    expect((await rotated.get(server.id)).adminUrl).to.equal(adminUrl);
    const [row] = await ds.query('SELECT admin_url_secret FROM database_servers WHERE id = $1', [server.id]);
    expect(row.admin_url_secret).to.match(/^v1\.new\./);

    const entries = await ds.query('SELECT action, actor_id, details FROM audit_log WHERE target_id = $1 ORDER BY at, action', [server.id]);
    expect(entries.map((e: { action: string }) => e.action)).to.deep.equal(['database_server.created', 'database_server.resealed']);
    expect(entries[1]).to.deep.equal({ action: 'database_server.resealed', actor_id: null, details: { changed: ['admin_url', 'pool_url'] } });
    expect(JSON.stringify(entries)).to.not.contain('s3cret');
  });
});
