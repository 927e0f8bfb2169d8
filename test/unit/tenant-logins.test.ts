import { TenantLogins } from '@orgms/api/tenancy/tenant-logins';
import { withLogin } from '@orgms/common/fleet/server-urls';
import type { TenantRoleCredentials } from '@orgms/common/fleet/tenant-role-store';
import { expect } from 'chai';

/** A role store that counts its reads, and a logger that keeps its warnings. */
function fixture(granted: Map<string, TenantRoleCredentials>) {
  const reads: string[] = [];
  const warnings: Record<string, unknown>[] = [];
  const logins = new TenantLogins({
    roles: {
      grantedCredentials: async (orgId: string) => {
        reads.push(orgId);
        return granted.get(orgId);
      },
    },
    logger: { warn: (_message: string, meta: Record<string, unknown>) => warnings.push(meta) } as never,
  });
  return { logins, reads, warnings };
}

describe('TenantLogins (apps/api/src/tenancy/tenant-logins.ts)', () => {
  const withRoles = { name: 'default', tenantRoles: true };

  it('when an organization has its role, then its login is read once and kept, and nothing is logged', async () => {
    const { logins, reads, warnings } = fixture(new Map([['org-a', { roleName: 'org_a', password: 'p' }]]));
    expect(await logins.of('org-a', withRoles)).to.deep.equal({ user: 'org_a', password: 'p' });
    expect(await logins.of('org-a', withRoles)).to.deep.equal({ user: 'org_a', password: 'p' });
    expect(reads).to.deep.equal(['org-a']);
    expect(warnings).to.deep.equal([]);
  });

  it('when an organization has no role yet, then it uses the shared role, logged once, and is asked again once forgotten (the worker gave it one)', async () => {
    const granted = new Map<string, TenantRoleCredentials>();
    const { logins, reads, warnings } = fixture(granted);
    expect(await logins.of('org-b', withRoles)).to.equal(undefined);
    expect(await logins.of('org-b', withRoles)).to.equal(undefined);
    expect(reads).to.deep.equal(['org-b']);
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.include({ orgId: 'org-b', server: 'default' });

    granted.set('org-b', { roleName: 'org_b', password: 'q' });
    logins.forget('org-b');
    expect(await logins.of('org-b', withRoles)).to.deep.equal({ user: 'org_b', password: 'q' });
  });

  it('when the server was registered without tenant roles, then the shared role is used without asking, and said once', async () => {
    const { logins, reads, warnings } = fixture(new Map([['org-c', { roleName: 'org_c', password: 'r' }]]));
    const shared = { name: 'managed', tenantRoles: false };
    expect(await logins.of('org-c', shared)).to.equal(undefined);
    expect(await logins.of('org-c', shared)).to.equal(undefined);
    expect(reads).to.deep.equal([]);
    expect(warnings).to.have.length(1);
  });

  it('when a login is put into a URL, then user and password are encoded and host, port and database kept', () => {
    expect(withLogin('postgres://orgms:secret@10.0.0.12:6432/org_x', { user: 'org_x', password: 'a/b@c' })).to.equal(
      'postgres://org_x:a%2Fb%40c@10.0.0.12:6432/org_x',
    );
    expect(withLogin('postgres://orgms@h:5432/db', undefined)).to.equal('postgres://orgms@h:5432/db');
  });
});
