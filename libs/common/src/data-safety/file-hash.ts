import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

export interface FileDigest {
  sizeBytes: number;
  /** Hex SHA-256 of the file's bytes. */
  sha256: string;
}

/** The SHA-256 (hex) and size of a file as it is on disk now. */
export async function hashFile(path: string): Promise<FileDigest> {
  const hash = createHash('sha256');
  let sizeBytes = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    sizeBytes += (chunk as Buffer).length;
  }
  return { sizeBytes, sha256: hash.digest('hex') };
}

/** The `Repr-Digest` header (RFC 9530) of content whose SHA-256 is `sha256` (hex). */
export function reprDigest(sha256: string): string {
  return `sha-256=:${Buffer.from(sha256, 'hex').toString('base64')}:`;
}
