import { withoutLiterals } from '@orgms/common/tracing/start-tracing';
import { expect } from 'chai';

describe('Traced SQL text (pg spans) carries no string literal', () => {
  it('when a statement formatted for DDL carries a password verifier, then the span text shows a placeholder instead', () => {
    expect(withoutLiterals(`CREATE ROLE "o_1" LOGIN PASSWORD 'SCRAM-SHA-256$4096:c2FsdA==$a:b'; COMMENT ON ROLE "o_1" IS 'orgms:1'`)).to.equal(
      `CREATE ROLE "o_1" LOGIN PASSWORD '?'; COMMENT ON ROLE "o_1" IS '?'`,
    );
  });

  it('when a literal holds a doubled quote, then it is masked whole; parameters and identifiers stay', () => {
    expect(withoutLiterals(`SELECT $1::text, "it's", 'it''s' FROM t WHERE a = $2`)).to.equal(`SELECT $1::text, "it's", '?' FROM t WHERE a = $2`);
  });
});
