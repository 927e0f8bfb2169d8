import { JobHandover } from '@orgms/api/http/job-handover';
import type { Logger } from '@orgms/common/logger';
import { expect } from 'chai';

const quiet = { warn: () => undefined, info: () => undefined } as unknown as Logger;

describe('Job handover (no servers)', () => {
  it('when Redis refuses a job, then it is held and delivered once at the next redelivery', async () => {
    const handover = new JobHandover(quiet);
    let redisUp = false;
    const delivered: string[] = [];
    const add = async () => {
      if (!redisUp) throw new Error('Redis is down');
      delivered.push('provision:org-1');
    };
    await handover.submit('provision:org-1', add);
    expect(handover.heldJobs).to.equal(1);
    expect(await handover.redeliver(), 'still down: nothing delivered').to.equal(0);
    expect(handover.heldJobs).to.equal(1);
    redisUp = true;
    expect(await handover.redeliver()).to.equal(1);
    expect(await handover.redeliver(), 'nothing is delivered twice').to.equal(0);
    expect(delivered).to.deep.equal(['provision:org-1']);
  });

  it('when the same job is refused twice, then it is held once', async () => {
    const handover = new JobHandover(quiet);
    const refuse = async () => {
      throw new Error('Redis is down');
    };
    await handover.submit('deprovision:org-2', refuse);
    await handover.submit('deprovision:org-2', refuse);
    expect(handover.heldJobs).to.equal(1);
  });

  it('when Redis takes the job at once, then nothing is held', async () => {
    const handover = new JobHandover(quiet);
    await handover.submit('provision:org-3', async () => true);
    expect(handover.heldJobs).to.equal(0);
  });
});
