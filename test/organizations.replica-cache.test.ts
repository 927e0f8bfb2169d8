import { type ApiRuntime, startApiRuntime } from '@orgms/api/api-runtime';
import { expect } from 'chai';
import type supertest from 'supertest';
import { contractCheckedRequest } from './support/contract';
import { queryControlDatabase } from './support/control-database';
import { createOrganization, uniqueName, waitForStatus } from './support/organizations';
import { startStack, type TestStack } from './support/stack';

/**
 * Each API replica caches the organization rows and platform admins' token states that every
 * request reads, and drops them when it hears a change over pub/sub (or loses the subscription).
 */
describe('Replica caches of control-plane rows', () => {
  let stack: TestStack;
  let other: ApiRuntime;
  let otherRequest: ReturnType<typeof supertest>;
  before(async () => {
    stack = await startStack({ worker: true });
    other = startApiRuntime(stack.config, stack.logger);
    await other.ready;
    otherRequest = contractCheckedRequest(other.app);
    // Both subscriptions up: only then do the replicas cache.
    const deadline = Date.now() + 5000;
    while (!(stack.api.services.events.isLive && other.services.events.isLive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  });
  after(async () => {
    await other?.stop();
    await stack?.stop();
  });

  const readName = async (request: ReturnType<typeof supertest>, id: string) =>
    (
      await request
        .get(`/organizations/${id}`)
        .set('Authorization', `Bearer ${await stack.adminToken()}`)
        .expect(200)
    ).body.name as string;

  it('when an organization is renamed through one replica, then the other answers the new name as soon as it hears the change', async () => {
    const org = await createOrganization(stack);
    await waitForStatus(stack, org.id, ['active']);
    expect(await readName(otherRequest, org.id)).to.equal(org.name); // now cached on the other replica
    const renamed = uniqueName('Renamed');
    const token = await stack.adminToken();
    await stack.request.patch(`/organizations/${org.id}`).set('Authorization', `Bearer ${token}`).send({ organization_name: renamed }).expect(200);
    const changedAt = Date.now();
    let seenAfterMs = -1;
    while (Date.now() - changedAt < 2000) {
      if ((await readName(otherRequest, org.id)) === renamed) {
        seenAfterMs = Date.now() - changedAt;
        break;
      }
    }
    expect(seenAfterMs, 'the other replica saw the rename').to.be.at.least(0);
    process.stdout.write(`      (the other replica answered the new name ${seenAfterMs} ms after the rename)\n`);
  });

  it('when the row changes behind the service and the subscription is down, then reads bypass the cache', async () => {
    const org = await createOrganization(stack);
    await waitForStatus(stack, org.id, ['active']);
    expect(await readName(otherRequest, org.id)).to.equal(org.name);
    // A change nobody publishes: a live replica keeps serving what it cached (that is the cache at work)…
    await queryControlDatabase(stack, 'UPDATE organizations SET name = $2 WHERE id = $1', [org.id, 'Changed Behind The Back']);
    expect(await readName(otherRequest, org.id)).to.equal(org.name);
    // …but without its subscription it cannot know what changed, so it reads the database.
    await other.services.events.close();
    expect(other.services.events.isLive).to.equal(false);
    expect(await readName(otherRequest, org.id)).to.equal('Changed Behind The Back');
  });
});
