import { decodeCursor, decodeSortedCursor, encodeCursor, encodeSortedCursor } from '@orgms/api/http/pagination';
import { BadRequestError } from '@orgms/common/errors';
import { expect } from 'chai';

const ID = '0e6c4a12-3b7d-4c1e-9f00-1234567890ab';
const b64 = (text: string) => Buffer.from(text).toString('base64url');

/** The 400 `invalid-cursor` every refused cursor must be (never something that reaches PostgreSQL). */
function expectInvalid(encoded: string): void {
  let thrown: unknown;
  try {
    decodeCursor(encoded);
  } catch (error) {
    thrown = error;
  }
  expect(thrown, `decodeCursor(${JSON.stringify(encoded)}) must throw`).to.be.instanceOf(BadRequestError);
  expect(thrown).to.include({ status: 400, code: 'invalid-cursor' });
}

describe('Pagination cursors (pure)', () => {
  it('when a cursor comes from encodeCursor, then it decodes to the same position', () => {
    for (const createdAt of ['2026-01-02T03:04:05.678Z', '1970-01-01T00:00:00.000Z', '9999-12-31T23:59:59.999Z', '2024-02-29T12:00:00.000Z']) {
      const cursor = { createdAt: new Date(createdAt), id: ID };
      const encoded = encodeCursor(cursor);
      expect(encoded).to.match(/^[A-Za-z0-9_-]+$/);
      expect(decodeCursor(encoded)).to.deep.equal(cursor);
    }
  });

  it('when the id part is 36 dashes or 36 hex digits (not a canonical uuid), then it is a 400 invalid-cursor', () => {
    expectInvalid(b64(`2026-01-02T03:04:05.678Z|${'-'.repeat(36)}`));
    expectInvalid(b64(`2026-01-02T03:04:05.678Z|${'a'.repeat(36)}`));
    expectInvalid(b64(`2026-01-02T03:04:05.678Z|${'0123456789'.repeat(4).slice(0, 36)}`));
    expectInvalid(b64(`2026-01-02T03:04:05.678Z|${ID.toUpperCase()}`));
    expectInvalid(b64(`2026-01-02T03:04:05.678Z|{${ID}}`));
    expectInvalid(b64(`2026-01-02T03:04:05.678Z|${ID.replace(/-/g, '')}`));
    expectInvalid(b64(`2026-01-02T03:04:05.678Z|${ID}|extra`));
    expectInvalid(b64('-'.repeat(36)));
    expectInvalid(b64('0'.repeat(36)));
  });

  it('when the date is outside 1970–9999 (or outside PostgreSQL’s range), then it is a 400 invalid-cursor', () => {
    expectInvalid(b64(`+275760-09-13T00:00:00.000Z|${ID}`));
    expectInvalid(b64(`-271821-04-20T00:00:00.000Z|${ID}`));
    expectInvalid(b64(`0000-01-01T00:00:00.000Z|${ID}`));
    expectInvalid(b64(`1969-12-31T23:59:59.999Z|${ID}`));
  });

  it('when the date is not exactly what toISOString writes, then it is a 400 invalid-cursor', () => {
    for (const date of [
      '2026-02-30T00:00:00.000Z', // no such day
      '2026-01-02T25:00:00.000Z',
      '2026-01-02T03:04:05Z', // no milliseconds
      '2026-01-02T03:04:05.678+01:00',
      '2026-01-02',
      '1767323045678', // epoch milliseconds
      'Fri, 02 Jan 2026 03:04:05 GMT',
      'not a date',
      '',
    ]) {
      expectInvalid(b64(`${date}|${ID}`));
    }
  });

  it('when the text is not base64url of our cursor text, then it is a 400 invalid-cursor', () => {
    const good = encodeCursor({ createdAt: new Date('2026-01-02T03:04:05.678Z'), id: ID });
    expectInvalid('');
    expectInvalid('garbage');
    expectInvalid('!!!');
    expectInvalid(`${good}=`); // padding: not our spelling
    expectInvalid(`${good}==`);
    expectInvalid(Buffer.from(`2026-01-02T03:04:05.678Z|${ID}`).toString('base64')); // standard base64 alphabet / padding
    expectInvalid('A'.repeat(300));
    expectInvalid(b64(`2026-01-02T03:04:05.678Z|${ID}\u0000`));
    expectInvalid(b64(`2026-01-02T03:04:05.678Z\u00a0|${ID}`));
    expectInvalid(b64(`2026-01-02T03:04:05.678Z ${ID}`));
  });

  it('when a sorted cursor is followed in its own sort, then it decodes to its position; in another sort, or bent, it is a 400 invalid-cursor', () => {
    const byName = encodeSortedCursor('name', { key: 'acrne | "corp" ✓', id: ID });
    expect(decodeSortedCursor(byName, 'name', false)).to.deep.equal({ key: 'acrne | "corp" ✓', id: ID });
    const byCreation = encodeSortedCursor('-created_at', { key: '2026-01-02T03:04:05.678Z', id: ID });
    expect(decodeSortedCursor(byCreation, '-created_at', true)).to.deep.equal({ key: '2026-01-02T03:04:05.678Z', id: ID });
    const refusals: [string, string, boolean][] = [
      [byName, '-name', false],
      [byCreation, 'created_at', true],
      [encodeSortedCursor('-created_at', { key: '2026-02-30T00:00:00.000Z', id: ID }), '-created_at', true],
      [encodeSortedCursor('name', { key: 'acme', id: ID.toUpperCase() }), 'name', false],
      [encodeSortedCursor('name', { key: 'x'.repeat(1001), id: ID }), 'name', false],
      [encodeSortedCursor('name', { key: 'ac\u0000me', id: ID }), 'name', false],
      [b64(`["name","acme","${ID}",1]`), 'name', false],
      [b64(`["name", "acme", "${ID}"]`), 'name', false], // not our spelling of the JSON
      [b64(`2026-01-02T03:04:05.678Z|${ID}`), '-created_at', true], // an unsorted list's cursor
    ];
    for (const [encoded, sort, byInstant] of refusals) {
      let thrown: unknown;
      try {
        decodeSortedCursor(encoded, sort, byInstant);
      } catch (error) {
        thrown = error;
      }
      expect(thrown, `${Buffer.from(encoded, 'base64url').toString()} as ${sort}`)
        .to.be.instanceOf(BadRequestError)
        .and.include({ status: 400, code: 'invalid-cursor' });
    }
  });
});
