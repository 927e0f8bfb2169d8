import { type ApiRuntime, startApiRuntime } from '@orgms/api/api-runtime';
import { ConfigError } from '@orgms/common/config/environment';
import { expect } from 'chai';
import jwt from 'jsonwebtoken';
import { contractCheckedRequest } from './support/contract';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startStack, type TestStack, testConfig } from './support/stack';

/**
 * Rotating JWT_SECRET: tokens name their key (`kid`), the keys in JWT_PREVIOUS_SECRETS still
 * verify until they are removed, and a token naming no known key is refused. Each replica here
 * is one configuration step of the rotation, over the same control database.
 */
describe('Access token signing keys and their rotation', () => {
  const NEW_SECRET = `rotated-secret-${Date.now()}-0123456789abcdef`;
  let stack: TestStack;
  const replicas: ApiRuntime[] = [];

  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await Promise.all(replicas.map((replica) => replica.stop()));
    await stack?.stop();
  });

  /** Another API replica of the stack with its own JWT_* settings. */
  const replicaWith = async (env: Record<string, string>) => {
    const replica = startApiRuntime(testConfig(stack.id, env), stack.logger);
    replicas.push(replica);
    await replica.ready;
    return contractCheckedRequest(replica.app);
  };
  const login = async (request: ReturnType<typeof contractCheckedRequest>) =>
    (await request.post('/auth/login').send({ email: ADMIN_EMAIL, password: ADMIN_PASSWORD }).expect(200)).body.access_token as string;
  const headerOf = (token: string) => (jwt.decode(token, { complete: true }) as jwt.Jwt).header;
  /** The claims of a genuine token, signed again with `secret` and the given header fields. */
  const resigned = (token: string, secret: string, options: Pick<jwt.SignOptions, 'keyid'> = {}) =>
    jwt.sign(jwt.decode(token) as jwt.JwtPayload, secret, { algorithm: 'HS256', ...options });

  it('when a token is issued, then its header names the signing key by a kid that reveals nothing of the secret', async () => {
    const token = await stack.adminToken();
    const { kid, alg } = headerOf(token);
    expect(alg).to.equal('HS256');
    expect(kid)
      .to.be.a('string')
      .and.match(/^[A-Za-z0-9_-]{16}$/);
    expect(stack.config.auth.jwt.secret).to.not.include(kid as string);
  });

  it('when the secret is rotated with the old one in JWT_PREVIOUS_SECRETS, then old tokens still work and new ones are signed by the new key under its own kid', async () => {
    const oldToken = await stack.adminToken();
    const rotated = await replicaWith({ JWT_SECRET: NEW_SECRET, JWT_PREVIOUS_SECRETS: stack.config.auth.jwt.secret });
    await rotated.get('/organizations').set('Authorization', `Bearer ${oldToken}`).expect(200);

    const newToken = await login(rotated);
    const { audience, issuer } = stack.config.auth.jwt;
    expect(() => jwt.verify(newToken, NEW_SECRET, { algorithms: ['HS256'], audience, issuer })).to.not.throw();
    expect(headerOf(newToken).kid).to.be.a('string').and.not.equal(headerOf(oldToken).kid);
    await rotated.get('/organizations').set('Authorization', `Bearer ${newToken}`).expect(200);
  });

  it('when the old secret is removed from JWT_PREVIOUS_SECRETS, then its tokens answer 401 and the new key still verifies', async () => {
    const oldToken = await stack.adminToken();
    const newToken = await login(await replicaWith({ JWT_SECRET: NEW_SECRET, JWT_PREVIOUS_SECRETS: stack.config.auth.jwt.secret }));
    const afterRotation = await replicaWith({ JWT_SECRET: NEW_SECRET });
    const refused = await afterRotation.get('/organizations').set('Authorization', `Bearer ${oldToken}`).expect(401);
    expect(refused.type).to.equal('application/problem+json');
    await afterRotation.get('/organizations').set('Authorization', `Bearer ${newToken}`).expect(200);
  });

  it('when a token names an unknown kid, even signed with the current key, then it answers 401', async () => {
    const token = resigned(await stack.adminToken(), stack.config.auth.jwt.secret, { keyid: 'AAAAAAAAAAAAAAAA' });
    await stack.request.get('/organizations').set('Authorization', `Bearer ${token}`).expect(401);
  });

  it('when a token has no kid, even signed with the current key, then it answers 401', async () => {
    const token = resigned(await stack.adminToken(), stack.config.auth.jwt.secret);
    expect(headerOf(token)).to.not.have.property('kid');
    await stack.request.get('/organizations').set('Authorization', `Bearer ${token}`).expect(401);
  });

  it('when a previous key is shorter than 32 characters, then the configuration is refused without showing it', () => {
    const short = 'too-short-a-key';
    const load = () => testConfig(stack.id, { JWT_PREVIOUS_SECRETS: `${'k'.repeat(40)},${short}` });
    expect(load).to.throw(ConfigError, /JWT_PREVIOUS_SECRETS/);
    expect(load).to.throw(ConfigError).with.property('message').that.does.not.include(short);
  });
});
