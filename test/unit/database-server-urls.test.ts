import { createDatabaseServerBody, updateDatabaseServerBody } from '@orgms/api/fleet/database-servers.schemas';
import { maskedUrl } from '@orgms/common/fleet/server-urls';
import { expect } from 'chai';

/** The messages the API would answer for a new server whose admin URL is `url` (none: accepted). */
function refusalsOf(url: string): string[] {
  const body = { name: 'pg-b', admin_url: url, capacity: 1, connection_budget: 1 };
  const { error } = createDatabaseServerBody.validate(body, { abortEarly: false, errors: { wrap: { label: false } } });
  return error?.details.map((detail) => detail.message) ?? [];
}

describe('Database server URLs (database-servers.schemas.ts, libs/common fleet/server-urls.ts)', () => {
  it('when a URL carries a credential as a parameter, then it is refused, saying the password goes in the user part, without echoing the value', () => {
    for (const parameter of ['password', 'PassWord', 'sslpassword', 'passfile']) {
      const refusals = refusalsOf(`postgres://u@db.internal:5432/postgres?sslmode=disable&${parameter}=hunter22`);
      expect(refusals, parameter).to.have.lengthOf(1);
      expect(refusals[0]).to.match(/^admin_url /);
      expect(refusals[0]).to.contain(parameter);
      expect(refusals[0]).to.contain('postgres://user:password@host');
      expect(refusals[0]).to.not.contain('hunter22');
    }
  });

  it('when a URL carries a parameter other than sslmode, application_name and connect_timeout, then it is refused naming it and the allowed ones', () => {
    for (const parameter of ['sslrootcert', 'sslcert', 'sslkey', 'host', 'port', 'user', 'options', 'ssl', 'uselibpqcompat']) {
      const refusals = refusalsOf(`postgres://u:p@db.internal:5432/postgres?${parameter}=/etc/passwd`);
      expect(refusals, parameter).to.deep.equal([`admin_url may not carry the parameter "${parameter}"; allowed: sslmode, application_name, connect_timeout`]);
    }
  });

  it('when the allowed parameters have values PostgreSQL would not take, then they are refused', () => {
    expect(refusalsOf('postgres://u@h/postgres?sslmode=sometimes')).to.have.lengthOf(1);
    expect(refusalsOf('postgres://u@h/postgres?connect_timeout=soon')).to.have.lengthOf(1);
  });

  it('when the host is a socket path, then it is refused', () => {
    expect(refusalsOf('postgres://u@%2Fvar%2Frun%2Fpostgresql/postgres')).to.have.lengthOf(1);
  });

  it('when a URL has its password in the user part and only allowed parameters, then it is accepted', () => {
    for (const url of [
      'postgres://orgms:secret@10.0.0.12:5432/postgres',
      'postgresql://orgms@db.internal/postgres?sslmode=verify-full&application_name=orgms&connect_timeout=5',
      'postgres://orgms@[::1]:5432/postgres?sslmode=disable',
    ]) {
      expect(refusalsOf(url), url).to.deep.equal([]);
    }
  });

  it('when a settings change carries such a URL, then the same rule refuses admin_url and pool_url', () => {
    const { error } = updateDatabaseServerBody.validate(
      { admin_url: 'postgres://u@h/postgres?password=x', pool_url: 'postgres://u@h:6432/postgres?sslkey=/k' },
      { abortEarly: false, errors: { wrap: { label: false } } },
    );
    expect(error?.details.map((detail) => detail.path.join('.'))).to.deep.equal(['admin_url', 'pool_url']);
  });

  it('when a server recorded before this rule carries a credential parameter, then answers mask it like the user part', () => {
    expect(maskedUrl('postgres://u:pw@h:5432/postgres?sslmode=disable&password=hunter22&sslpassword=x')).to.equal(
      'postgres://u:****@h:5432/postgres?sslmode=disable&password=****&sslpassword=****',
    );
  });
});
