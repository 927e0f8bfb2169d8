import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** One AES-256 key and the id stored beside everything it encrypted, so keys can be rotated. */
export interface SecretKey {
  id: string;
  key: Buffer;
}

const VERSION = 'v1';

/**
 * Encrypts secrets at rest (database server URLs with their passwords) with AES-256-GCM. A
 * sealed value is `v1.<key id>.<iv>.<tag>.<ciphertext>` (base64url parts): the key id says which
 * key opens it, so after a rotation values sealed with an older key (SECRETS_PREVIOUS_KEYS)
 * still open, and the store re-seals them with the current key.
 */
export class SecretBox {
  private readonly keys: Map<string, Buffer>;

  constructor(
    private readonly current: SecretKey,
    previous: SecretKey[] = [],
  ) {
    this.keys = new Map([...previous, current].map((k) => [k.id, k.key]));
    for (const key of this.keys.values()) if (key.length !== 32) throw new Error('a secrets key must be 32 bytes');
  }

  get currentKeyId(): string {
    return this.current.id;
  }

  seal(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
    cipher.setAAD(Buffer.from(this.current.id));
    const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, this.current.id, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), data.toString('base64url')].join('.');
  }

  /** Throws when the value was sealed with an unknown key or was tampered with. */
  open(sealed: string): string {
    const [version, keyId, iv, tag, data] = sealed.split('.');
    const key = this.keys.get(keyId);
    if (version !== VERSION || !key || data === undefined) throw new Error(`cannot open a secret sealed with key "${keyId}"`);
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(keyId));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
  }

  /** Whether `sealed` should be sealed again with the current key. */
  isStale(sealed: string): boolean {
    return sealed.split('.')[1] !== this.current.id;
  }
}

/** A key as configured: 32 bytes in base64 (44 characters) or hex (64 characters). */
export function parseSecretKey(id: string, raw: string): SecretKey {
  const key = /^[0-9a-fA-F]{64}$/.test(raw) ? Buffer.from(raw, 'hex') : Buffer.from(raw, 'base64');
  if (key.length !== 32) throw new Error(`secrets key "${id}" must be 32 bytes, in base64 or hex`);
  return { id, key };
}
