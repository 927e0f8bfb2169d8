import { createHash, createHmac } from 'node:crypto';
import { SCRAM_ITERATIONS, scramVerifier } from '@orgms/worker/tenancy/tenant-roles';
import { expect } from 'chai';

/**
 * RFC 7677 section 3: the SCRAM-SHA-256 exchange of user "user" with password "pencil" (salt and
 * 4,096 iterations from the server-first message). A verifier computed from the same password,
 * salt and count must check the client's proof and produce the server's signature of it.
 */
const RFC_7677 = {
  password: 'pencil',
  salt: 'W22ZaJ0SNY7soEsUEjb6gQ==',
  iterations: 4096,
  authMessage: [
    'n=user,r=rOprNGfwEbeRWgbNEkqO',
    'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
    'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0',
  ].join(','),
  clientProof: 'dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  serverSignature: '6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
};

function parse(verifier: string): { iterations: number; salt: string; storedKey: Buffer; serverKey: Buffer } {
  const match = /^SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)$/.exec(verifier);
  if (!match) throw new Error(`not a SCRAM-SHA-256 verifier: ${verifier}`);
  return { iterations: Number(match[1]), salt: match[2], storedKey: Buffer.from(match[3], 'base64'), serverKey: Buffer.from(match[4], 'base64') };
}

describe('SCRAM-SHA-256 verifier of organization roles', () => {
  it("when computed from RFC 7677's password, salt and count, then it checks that exchange's client proof and signs it as the server did", () => {
    const { storedKey, serverKey } = parse(scramVerifier(RFC_7677.password, Buffer.from(RFC_7677.salt, 'base64'), RFC_7677.iterations));
    // What PostgreSQL does at login: ClientKey = proof XOR HMAC(StoredKey, AuthMessage); H(ClientKey) must be StoredKey.
    const clientSignature = createHmac('sha256', storedKey).update(RFC_7677.authMessage).digest();
    const proof = Buffer.from(RFC_7677.clientProof, 'base64');
    const clientKey = Buffer.from(proof.map((byte, i) => byte ^ clientSignature[i]));
    expect(createHash('sha256').update(clientKey).digest().equals(storedKey)).to.equal(true);
    expect(createHmac('sha256', serverKey).update(RFC_7677.authMessage).digest('base64')).to.equal(RFC_7677.serverSignature);
  });

  it('when made for a role, then it holds the low iteration count and a fresh 16-byte salt each time', () => {
    const first = parse(scramVerifier('a random password'));
    const second = parse(scramVerifier('a random password'));
    expect(first.iterations).to.equal(SCRAM_ITERATIONS).and.to.be.below(4096);
    expect(Buffer.from(first.salt, 'base64')).to.have.length(16);
    expect(first.salt).to.not.equal(second.salt);
    expect(first.storedKey.equals(second.storedKey)).to.equal(false);
  });
});
