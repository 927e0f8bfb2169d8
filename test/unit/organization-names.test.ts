import { organizationName } from '@orgms/api/http/common.schemas';
import { confusableSkeleton, findMixedScriptConfusable, isMixedScriptConfusable, organizationNameKey } from '@orgms/common/organizations/organization-names';
import { slugify } from '@orgms/common/organizations/slug';
import { expect } from 'chai';
import fc from 'fast-check';
import { organizationNameKeyV1 } from '../../migrations/control/1732500000000-OrganizationNameKey';

const NFD_CAFE = 'Cafe\u0301';
const NFC_CAFE = 'Caf\u00e9';
/** "Acme" with a Cyrillic А (U+0410) and the rest Latin. */
const MIXED_ACME = '\u0410cme';
/** "Асме" all in Cyrillic (А с м е). */
const CYRILLIC_ACME = '\u0410\u0441\u043c\u0435';
const FULL_WIDTH_ACME = '\uff21\uff43\uff4d\uff45';

/** "abc" → "ａｂｃ": the full-width forms of printable ASCII. */
const fullWidth = (text: string) => text.replace(/[!-~]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));

describe('Organization names (pure)', () => {
  describe('the name key', () => {
    it('when names differ only by case, surrounding or repeated spaces, full width or NFC/NFD, then their keys are equal', () => {
      const key = organizationNameKey('Acme');
      for (const same of ['ACME', 'acme', ' acme ', '\tAcMe\n', FULL_WIDTH_ACME, '\uff21\uff23\uff2d\uff25']) {
        expect(organizationNameKey(same), JSON.stringify(same)).to.equal(key);
      }
      expect(organizationNameKey(NFD_CAFE)).to.equal(organizationNameKey(NFC_CAFE));
      expect(organizationNameKey('Acme  Widgets')).to.equal(organizationNameKey('Acme Widgets'));
    });

    it('when a name is written with look-alike letters of another script, whole or in part, then its key is the Latin one', () => {
      const key = organizationNameKey('Acme');
      expect(organizationNameKey(CYRILLIC_ACME), 'all-Cyrillic Асме').to.equal(key);
      expect(organizationNameKey('\u0410\u0421\u041c\u0415'), 'all-Cyrillic АСМЕ').to.equal(key);
      expect(organizationNameKey(MIXED_ACME), 'Cyrillic А + Latin cme').to.equal(key);
      expect(organizationNameKey('G\u03bfogle'), 'Greek omicron').to.equal(organizationNameKey('Google'));
      expect(organizationNameKey('\u041c\u043e\u0441\u043a\u0432\u0430'), 'Москва reads as MOCKBA').to.equal(organizationNameKey('Mockba'));
      expect(organizationNameKey('\u0399\u039f\u039d'), 'Greek capitals ΙΟΝ').to.equal(organizationNameKey('ion'));
      expect(organizationNameKey('Rnodern'), 'rn looks like m').to.equal(organizationNameKey('Modern'));
      expect(organizationNameKey('ACME0'), 'a zero looks like a capital O').to.equal(organizationNameKey('acmeo'));
    });

    it('when German sharp s comes as ß, ẞ or ss, then the keys are equal', () => {
      const key = organizationNameKey('Strasse');
      for (const same of ['Straße', 'STRAẞE', 'STRASSE', 'straße']) expect(organizationNameKey(same), same).to.equal(key);
    });

    it('when names really differ, then their keys differ', () => {
      const pairs = [
        ['Café', 'Cafe'],
        ['mail', 'mall'],
        ['Acme', 'Acne'],
        ['Acme Widgets', 'AcmeWidgets'],
        ['東京', '京都'],
        ['Zürich', 'Zurich'],
        ['Org 1', 'Org 2'],
      ];
      for (const [a, b] of pairs) expect(organizationNameKey(a), `${a} / ${b}`).to.not.equal(organizationNameKey(b));
    });

    it('when the skeleton is taken of UTS #39 examples, then it uses the Unicode data (m → rn, 1 and I → l, invisible characters dropped)', () => {
      expect(confusableSkeleton('m')).to.equal('rn');
      expect(confusableSkeleton('1I|')).to.equal('lll');
      expect(confusableSkeleton('pay\u200bpal')).to.equal(confusableSkeleton('paypal'));
      expect(confusableSkeleton('\u0430')).to.equal('a');
    });

    it('when any ASCII name changes case, width or surrounding space, then its key does not change (property)', () => {
      fc.assert(
        fc.property(fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 &-.'), minLength: 1 }), (name) => {
          const key = organizationNameKey(name);
          expect(organizationNameKey(name.toUpperCase())).to.equal(key);
          expect(organizationNameKey(name.toLowerCase())).to.equal(key);
          expect(organizationNameKey(fullWidth(name))).to.equal(key);
          expect(organizationNameKey(`  ${name} `)).to.equal(key);
        }),
      );
    });

    it('when the control migration 1732500000000 backfilled name_key, then it computed the key this code computes (else a new migration must recompute it)', () => {
      const samples = [
        'Acme',
        MIXED_ACME,
        CYRILLIC_ACME,
        FULL_WIDTH_ACME,
        NFD_CAFE,
        'Straße',
        'ẞ',
        '東京タワー',
        'İstanbul',
        'Ωmega',
        '  x  y ',
        'ACME0',
        'Ꭺcme',
      ];
      for (const name of samples) expect(organizationNameKeyV1(name), name).to.equal(organizationNameKey(name));
      fc.assert(
        fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (name) => {
          expect(organizationNameKeyV1(name)).to.equal(organizationNameKey(name));
        }),
        { numRuns: 200 },
      );
    });
  });

  describe('mixed-script confusables', () => {
    it('when a word mixes Latin with look-alike Cyrillic, Greek or Cherokee letters, then it is refused, naming the scripts', () => {
      expect(findMixedScriptConfusable(MIXED_ACME)).to.deep.equal({ word: MIXED_ACME, scripts: ['Cyrillic', 'Latin'] });
      expect(findMixedScriptConfusable('P\u0430ypal Inc')).to.deep.include({ scripts: ['Cyrillic', 'Latin'] });
      expect(findMixedScriptConfusable('The G\u03bfogle Company')).to.deep.equal({ word: 'G\u03bfogle', scripts: ['Greek', 'Latin'] });
      expect(findMixedScriptConfusable('\u13aacme')).to.deep.include({ scripts: ['Cherokee', 'Latin'] });
      // Latin letters hidden in a Cyrillic word are just as deceptive.
      expect(isMixedScriptConfusable('\u041c\u043e\u0441\u043a\u0432a')).to.equal(true);
      // Full width does not hide it: the check reads the NFKC form.
      expect(isMixedScriptConfusable('\uff21\u0441me')).to.equal(true);
    });

    it('when a name is in one script, or mixes only digits, punctuation, emoji or marks, then it passes', () => {
      const fine = [
        'Acme',
        CYRILLIC_ACME,
        FULL_WIDTH_ACME,
        'Café Zürich',
        NFD_CAFE,
        'Ärzte & Söhne, GmbH!',
        "O'Reilly Media",
        'Acme 2024 🚀',
        '3M',
        'Ελληνικά',
        'Москва',
        'עברית',
        'العربية',
        'हिन्दी',
        'ქართული',
        'Straße',
      ];
      for (const name of fine) expect(findMixedScriptConfusable(name), name).to.equal(null);
    });

    it('when a word mixes scripts that are written together (Japanese, Korean, Latin with either), or scripts sit in separate words, then it passes', () => {
      for (const name of ['東京タワー', 'ひらがなとカタカナと漢字', '서울大學校', 'NTTドコモ', 'LINEヤフー', 'Acme Москва', 'Tokyo 東京']) {
        expect(findMixedScriptConfusable(name), name).to.equal(null);
      }
    });
  });

  describe('the organization_name schema', () => {
    it('when the name mixes look-alike scripts, then it fails with a message naming the field and the scripts', () => {
      const { error } = organizationName.validate(MIXED_ACME, { errors: { wrap: { label: false } } });
      expect(error?.message).to.equal('value mixes scripts that look alike (Cyrillic and Latin); use one script');
      const labelled = organizationName.label('organization_name').validate(MIXED_ACME, { errors: { wrap: { label: false } } });
      expect(labelled.error?.message).to.equal('organization_name mixes scripts that look alike (Cyrillic and Latin); use one script');
    });

    it('when the name is fine, then the schema keeps its existing rules (trimmed, 2 to 100 characters, no control characters)', () => {
      expect(organizationName.validate('  Café Zürich ').value).to.equal('Café Zürich');
      expect(organizationName.validate(CYRILLIC_ACME).error).to.equal(undefined);
      expect(organizationName.validate('A').error?.message).to.match(/at least 2/);
      expect(organizationName.validate('x'.repeat(101)).error?.message).to.match(/less than or equal to 100/);
      expect(organizationName.validate('Acme\u0000').error?.message).to.match(/control characters/);
    });
  });

  describe('slugs', () => {
    it('when the name is full width, NFD, or has ß, then the slug is the plain one', () => {
      expect(slugify(FULL_WIDTH_ACME)).to.equal('acme');
      expect(slugify(NFD_CAFE)).to.equal(slugify(NFC_CAFE)).and.to.equal('cafe');
      expect(slugify('Straße ẞ')).to.equal('strasse-ss');
      expect(slugify('  Ärzte & Söhne, GmbH! ')).to.equal('arzte-sohne-gmbh');
    });
  });
});
