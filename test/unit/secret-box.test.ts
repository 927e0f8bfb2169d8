import { randomBytes } from 'node:crypto';
import { parseSecretKey, SecretBox } from '@orgms/common/secret-box';
import { expect } from 'chai';

const key = (id: string) => ({ id, key: randomBytes(32) });

describe('SecretBox (fleet/secret-box.ts)', () => {
  const url = 'postgres://orgms:s3cret@10.0.0.12:5432/postgres';

  it('when a value is sealed, then it opens to the same text and the sealed form shows neither the text nor the password', () => {
    const box = new SecretBox(key('primary'));
    const sealed = box.seal(url);
    expect(box.open(sealed)).to.equal(url);
    expect(sealed).to.match(/^v1\.primary\./);
    expect(sealed).to.not.contain('s3cret');
    expect(sealed).to.not.contain('10.0.0.12');
    expect(box.seal(url)).to.not.equal(sealed); // a fresh IV each time
  });

  it('when any part of a sealed value is changed, then opening it throws', () => {
    const box = new SecretBox(key('primary'));
    const parts = box.seal(url).split('.');
    const flip = (text: string) => {
      const bytes = Buffer.from(text, 'base64url');
      bytes[0] ^= 1;
      return bytes.toString('base64url');
    };
    for (const index of [2, 3, 4]) {
      const tampered = [...parts];
      tampered[index] = flip(tampered[index]);
      expect(() => box.open(tampered.join('.'))).to.throw();
    }
    expect(() => box.open(['v2', ...parts.slice(1)].join('.'))).to.throw();
    expect(() => box.open('not sealed')).to.throw();
  });

  it('when the key id is swapped for another known key, then opening fails (the id is authenticated)', () => {
    const old = key('old');
    const box = new SecretBox(key('new'), [old]);
    const parts = box.seal(url).split('.');
    parts[1] = 'old';
    expect(() => box.open(parts.join('.'))).to.throw();
  });

  it('when keys rotate, then values sealed with the old key open with it among the previous keys, are stale, and re-seal under the new id', () => {
    const old = key('2025');
    const sealedOld = new SecretBox(old).seal(url);
    const rotated = new SecretBox(key('2026'), [old]);
    expect(rotated.open(sealedOld)).to.equal(url);
    expect(rotated.isStale(sealedOld)).to.equal(true);
    const resealed = rotated.seal(rotated.open(sealedOld));
    expect(rotated.isStale(resealed)).to.equal(false);
    expect(resealed).to.match(/^v1\.2026\./);
    expect(rotated.currentKeyId).to.equal('2026');
    expect(() => new SecretBox(key('2026')).open(sealedOld)).to.throw(/2025/);
  });

  it('when a key is configured, then 32 bytes in hex or base64 are taken and anything else is refused', () => {
    const raw = randomBytes(32);
    expect(parseSecretKey('a', raw.toString('hex')).key.equals(raw)).to.equal(true);
    expect(parseSecretKey('b', raw.toString('base64')).key.equals(raw)).to.equal(true);
    expect(() => parseSecretKey('c', randomBytes(16).toString('hex'))).to.throw(/32 bytes/);
    expect(() => new SecretBox({ id: 'short', key: randomBytes(16) })).to.throw(/32 bytes/);
  });
});
