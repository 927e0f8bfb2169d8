import { gzipSync } from 'node:zlib';
import { expect } from 'chai';
import { Client } from 'pg';
import type { Response } from 'supertest';
import { uniqueName } from './support/organizations';
import { startStack, type TestStack } from './support/stack';

/**
 * Only UTF-8 JSON is read (README "a body that is not application/json is 415"):
 * a charset other than utf-8 is a 415, a body that is not UTF-8 (UTF-16/32, with or without a
 * byte order mark) is a 415 whatever its label, and neither is ever parsed: nothing is created.
 */
describe('Request bodies: UTF-8 JSON only', () => {
  let stack: TestStack;

  before(async () => {
    stack = await startStack();
  });
  after(() => stack?.stop());

  async function organizationCount(): Promise<number> {
    const client = new Client({ connectionString: stack.config.database.url });
    await client.connect();
    try {
      return (await client.query<{ n: number }>('SELECT count(*)::int AS n FROM organizations')).rows[0].n;
    } finally {
      await client.end();
    }
  }

  const newOrganization = () => JSON.stringify({ organization_name: uniqueName('Charset'), email: 'owner@example.test', password: 'correct horse battery' });
  const utf16le = (text: string, bom = false) => Buffer.concat([bom ? Buffer.from([0xff, 0xfe]) : Buffer.alloc(0), Buffer.from(text, 'utf16le')]);
  const utf16be = (text: string) => Buffer.from(utf16le(text).swap16());

  async function post(contentType: string, body: Buffer, headers: Record<string, string> = {}): Promise<Response> {
    return stack.request
      .post('/organizations')
      .set('Authorization', `Bearer ${await stack.adminToken()}`)
      .set('Content-Type', contentType)
      .set(headers)
      .serialize((raw: Buffer) => raw as unknown as string) // the bytes as they are (superagent would JSON-encode a Buffer)
      .send(body);
  }

  function expectRefused(res: Response, statuses: number[], what: string): void {
    expect(statuses, `${what} → ${res.status}: ${res.text.slice(0, 300)}`).to.include(res.status);
    expect(res.type, what).to.equal('application/problem+json');
    expect(res.body.status, what).to.equal(res.status);
    // Refused as bytes, never parsed into something that reached validation.
    expect(res.body.type, what).to.match(/\/(unsupported-media-type|unsupported-charset|malformed-json)$/);
  }

  const refused: Array<[string, string, () => Buffer, number[], Record<string, string>?]> = [
    ['UTF-16LE with a BOM, labelled charset=utf-16', 'application/json; charset=utf-16', () => utf16le(newOrganization(), true), [415]],
    ['UTF-16LE without a BOM, labelled charset=utf-16le', 'application/json; charset=utf-16le', () => utf16le(newOrganization()), [415]],
    ['UTF-16BE, labelled charset=UTF-16BE', 'application/json; charset=UTF-16BE', () => utf16be(newOrganization()), [415]],
    ['UTF-32, labelled charset=utf-32', 'application/json; charset=utf-32', () => Buffer.from(newOrganization(), 'ascii'), [415]],
    ['ASCII labelled charset=utf-16', 'application/json; charset="utf-16"', () => Buffer.from(newOrganization()), [415]],
    ['Latin-1 labelled charset=latin1', 'application/json; charset=latin1', () => Buffer.from(newOrganization(), 'latin1'), [415]],
    ['UTF-16LE with a BOM, labelled plain application/json', 'application/json', () => utf16le(newOrganization(), true), [415, 400]],
    ['UTF-16LE without a BOM, labelled plain application/json', 'application/json', () => utf16le(newOrganization()), [415, 400]],
    [
      'UTF-16BE with a BOM, labelled charset=utf-8',
      'application/json; charset=utf-8',
      () => Buffer.concat([Buffer.from([0xfe, 0xff]), utf16be(newOrganization())]),
      [415, 400],
    ],
    ['UTF-16LE with a BOM, gzip-compressed', 'application/json', () => gzipSync(utf16le(newOrganization(), true)), [415, 400], { 'Content-Encoding': 'gzip' }],
    [
      'a Latin-1 byte in a string, labelled plain application/json',
      'application/json',
      () => Buffer.from(newOrganization().replace('Charset', 'Ch\u00e4rset'), 'latin1'),
      [415, 400],
    ],
  ];

  for (const [name, contentType, body, statuses, headers] of refused) {
    it(`when a body is ${name}, then it answers ${statuses.join(' or ')} problem+json and creates nothing`, async () => {
      const before = await organizationCount();
      const res = await post(contentType, body(), headers);
      expectRefused(res, statuses, name);
      expect(await organizationCount(), `${name} created an organization`).to.equal(before);
    });
  }

  it('when a charset other than utf-8 is named, then the answer is the 415 (never a parse of the bytes)', async () => {
    const res = await post('application/json; charset=utf-16', utf16le(newOrganization(), true));
    expect(res.status).to.equal(415);
    expect(res.body.type).to.match(/unsupported-media-type$/);
  });

  it('when the body is UTF-8, with or without charset=utf-8 (any case), then it is read', async () => {
    const before = await organizationCount();
    for (const contentType of ['application/json', 'application/json; charset=utf-8', 'application/json; charset=UTF-8', 'application/json;charset="utf-8"']) {
      const res = await post(contentType, Buffer.from(newOrganization().replace('Charset', 'Chärset 🙂'), 'utf8'));
      expect(res.status, `${contentType}: ${res.text}`).to.equal(202);
    }
    expect(await organizationCount()).to.equal(before + 4);
  });
});
