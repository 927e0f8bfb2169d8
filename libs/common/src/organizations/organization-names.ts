import unhomoglyph from 'unhomoglyph';

/**
 * Organization names are display text that people also type to log in (POST /admin/login
 * {organization_name}), so two names that look the same must not both exist, and a name must
 * not mix scripts inside a word in a way made to deceive ("Аcme" with a Cyrillic А).
 *
 * The confusable data is Unicode's own (UTS #39 confusables.txt), as shipped by the
 * `unhomoglyph` package; scripts come from the JavaScript engine's Unicode property escapes.
 */

/** UTS #39 prototypes: one source character → its prototype (the data `unhomoglyph` applies). */
const PROTOTYPES: Readonly<Record<string, string>> = require('unhomoglyph/data.json');

const DEFAULT_IGNORABLE = /\p{Default_Ignorable_Code_Point}/gu;

/**
 * The UTS #39 skeleton: NFD, default-ignorable code points removed, every character replaced by
 * its confusable prototype, NFD again. Equal skeletons mean "looks the same"; a skeleton is for
 * comparing, never for display (`m` becomes `rn`).
 */
export function confusableSkeleton(text: string): string {
  return unhomoglyph(text.normalize('NFD').replace(DEFAULT_IGNORABLE, '')).normalize('NFD');
}

let latinCapitalLookalikes: Map<string, string> | undefined;

/**
 * Capital letters of other scripts that look like a Latin capital (Cyrillic А, Greek Ι, Cherokee
 * Ꭺ…): every upper-case letter whose skeleton is that of a Latin capital A–Z, from the data.
 * Needed because lower case hides some whole-script look-alikes that capitals show: "Асме" and
 * "Acme" differ in the small letters (Cyrillic м is a small-cap M) but not as "АСМЕ"/"ACME",
 * and names are case-insensitive.
 */
function latinCapitalOf(char: string): string | undefined {
  if (!latinCapitalLookalikes) {
    const capitalBySkeleton = new Map<string, string>();
    for (let code = 0x41; code <= 0x5a; code++) capitalBySkeleton.set(confusableSkeleton(String.fromCharCode(code)), String.fromCharCode(code));
    latinCapitalLookalikes = new Map();
    for (const [source, prototype] of Object.entries(PROTOTYPES)) {
      const capital = capitalBySkeleton.get(prototype);
      if (capital && /^\P{ASCII}$/u.test(source) && /^\p{Lu}$/u.test(source)) latinCapitalLookalikes.set(source, capital);
    }
  }
  return latinCapitalLookalikes.get(char);
}

/** Full case folding, close enough for equality: upper then lower, so ß, ẞ and SS all become ss. */
function foldCase(text: string): string {
  return text.toLowerCase().toUpperCase().toLowerCase();
}

/**
 * The uniqueness and lookup key of an organization name (organizations.name_key): two names
 * with the same key are the same name to a reader. Trimmed, runs of white space made one space,
 * NFKC (full-width "Ａｃｍｅ" is "Acme"; NFC and NFD "Café" are one), case folded (with capital
 * look-alikes of other scripts read as the Latin capital they look like), then the UTS #39
 * skeleton, folded once more because some prototypes are capitals (0 → O).
 *
 * Changing this function changes stored keys: it needs a control migration that recomputes
 * name_key (see the spec that compares it with the one in the latest such migration).
 */
export function organizationNameKey(name: string): string {
  const text = name.trim().normalize('NFKC').replace(/\s+/gu, ' ');
  const capitals = [...text.toLowerCase().toUpperCase().normalize('NFD')].map((char) => latinCapitalOf(char) ?? char).join('');
  return foldCase(confusableSkeleton(capitals.toLowerCase().normalize('NFKC')));
}

/* ------------------------------------------------------------------------------------------ */
/* Mixed scripts                                                                               */
/* ------------------------------------------------------------------------------------------ */

/**
 * Unicode script names (long form) as the engine's `\p{Script_Extensions=…}` knows them.
 * Names the running engine does not know are skipped; characters of scripts it does know but
 * this list lacks count as "Unknown", which is a script of its own.
 */
const SCRIPT_NAMES = `Adlam Ahom Anatolian_Hieroglyphs Arabic Armenian Avestan Balinese Bamum Bassa_Vah Batak Bengali
  Beria_Erfe Bhaiksuki Bopomofo Brahmi Braille Buginese Buhid Canadian_Aboriginal Carian Caucasian_Albanian Chakma Cham
  Cherokee Chisoi Chorasmian Coptic Cuneiform Cypriot Cypro_Minoan Cyrillic Deseret Devanagari Dives_Akuru Dogra Duployan
  Egyptian_Hieroglyphs Elbasan Elymaic Ethiopic Garay Georgian Glagolitic Gothic Grantha Greek Gujarati Gunjala_Gondi
  Gurmukhi Gurung_Khema Han Hangul Hanifi_Rohingya Hanunoo Hatran Hebrew Hiragana Imperial_Aramaic Inscriptional_Pahlavi
  Inscriptional_Parthian Javanese Kaithi Kannada Katakana Kawi Kayah_Li Kharoshthi Khitan_Small_Script Khmer Khojki
  Khudawadi Kirat_Rai Lao Latin Lepcha Limbu Linear_A Linear_B Lisu Lycian Lydian Mahajani Makasar Malayalam Mandaic
  Manichaean Marchen Masaram_Gondi Medefaidrin Meetei_Mayek Mende_Kikakui Meroitic_Cursive Meroitic_Hieroglyphs Miao Modi
  Mongolian Mro Multani Myanmar Nabataean Nag_Mundari Nandinagari New_Tai_Lue Newa Nko Nushu Nyiakeng_Puachue_Hmong Ogham
  Ol_Chiki Ol_Onal Old_Hungarian Old_Italic Old_North_Arabian Old_Permic Old_Persian Old_Sogdian Old_South_Arabian
  Old_Turkic Old_Uyghur Oriya Osage Osmanya Pahawh_Hmong Palmyrene Pau_Cin_Hau Phags_Pa Phoenician Psalter_Pahlavi Rejang
  Runic Samaritan Saurashtra Sharada Shavian Siddham Sidetic SignWriting Sinhala Sogdian Sora_Sompeng Soyombo Sundanese
  Sunuwar Syloti_Nagri Syriac Tagalog Tagbanwa Tai_Le Tai_Tham Tai_Viet Tai_Yo Takri Tamil Tangsa Tangut Telugu Thaana
  Thai Tibetan Tifinagh Tirhuta Todhri Tolong_Siki Toto Tulu_Tigalari Ugaritic Vai Vithkuqi Wancho Warang_Citi Yezidi Yi
  Zanabazar_Square`.split(/\s+/);

const SCRIPT_PATTERNS: readonly { name: string; pattern: RegExp }[] = SCRIPT_NAMES.flatMap((name) => {
  try {
    return [{ name, pattern: new RegExp(`^\\p{Script_Extensions=${name}}$`, 'u') }];
  } catch {
    return []; // a script newer than this engine's Unicode
  }
});
/** Characters used with every script (digits, punctuation, emoji, combining marks): they never make a mix. */
const ANY_SCRIPT = /^[\p{Script_Extensions=Common}\p{Script_Extensions=Inherited}]$/u;

function scriptsOf(char: string): string[] {
  if (ANY_SCRIPT.test(char)) return [];
  const scripts = SCRIPT_PATTERNS.filter(({ pattern }) => pattern.test(char)).map(({ name }) => name);
  return scripts.length > 0 ? scripts : ['Unknown'];
}

/**
 * UTS #39 §5.1 augmented script sets: Han is written together with Hiragana and Katakana
 * (Japanese), with Hangul (Korean) and with Bopomofo, so those mixes are one writing system.
 */
const AUGMENTED: Readonly<Record<string, readonly string[]>> = {
  Han: ['Japanese', 'Korean', 'Han_with_Bopomofo'],
  Hiragana: ['Japanese'],
  Katakana: ['Japanese'],
  Hangul: ['Korean'],
  Bopomofo: ['Han_with_Bopomofo'],
};
const CJK_WRITING_SYSTEMS = ['Japanese', 'Korean', 'Han_with_Bopomofo'];

function augmented(scripts: readonly string[]): Set<string> {
  return new Set(scripts.flatMap((script) => [script, ...(AUGMENTED[script] ?? [])]));
}

function intersection(sets: readonly Set<string>[]): Set<string> {
  const [first, ...rest] = sets;
  return new Set([...(first ?? [])].filter((item) => rest.every((set) => set.has(item))));
}

/**
 * UTS #39 "Highly Restrictive": a word is fine in one script, or in Latin together with one
 * CJK writing system ("NTTドコモ").
 */
function isHighlyRestrictive(letters: readonly { scripts: string[] }[]): boolean {
  if (intersection(letters.map((l) => augmented(l.scripts))).size > 0) return true;
  const nonLatin = letters.filter((l) => !l.scripts.includes('Latin'));
  const resolved = intersection(nonLatin.map((l) => augmented(l.scripts)));
  return CJK_WRITING_SYSTEMS.some((system) => resolved.has(system));
}

let sharingPrototype: Map<string, string[]> | undefined;

/** The characters that look like `char` per the data: those with the same prototype, and the prototype itself. */
function lookalikesOf(char: string): string[] {
  if (!sharingPrototype) {
    sharingPrototype = new Map();
    for (const [source, prototype] of Object.entries(PROTOTYPES)) {
      const group = sharingPrototype.get(prototype) ?? [prototype];
      group.push(source);
      sharingPrototype.set(prototype, group);
    }
  }
  const prototype = PROTOTYPES[char] ?? char;
  return (sharingPrototype.get(prototype) ?? []).filter((other) => other !== char && [...other].length === 1);
}

function hasScript(char: string, script: string): boolean {
  return scriptsOf(char).includes(script);
}

/** A word that mixes scripts deceptively, and the scripts it mixes (for the error message). */
export interface MixedScriptConfusable {
  word: string;
  scripts: string[];
}

/**
 * The first word of `name` that mixes scripts in a way that is confusable, or null. A word mixes
 * scripts when no one script (or UTS #39 writing system: Japanese, Korean, Latin with either)
 * covers all its letters; the mix is confusable when one of its letters looks like a letter of
 * another script in the same word (Cyrillic "а" beside Latin letters, Greek "ο" in "Gοogle").
 * Digits, punctuation, emoji and marks belong to every script; words are split at anything
 * that is not a letter, mark or number, so "Acme Москва" is two one-script words and passes.
 */
export function findMixedScriptConfusable(name: string): MixedScriptConfusable | null {
  for (const word of name.normalize('NFKC').split(/[^\p{L}\p{M}\p{N}]+/u)) {
    if (/^[A-Za-z0-9]*$/.test(word)) continue; // plain ASCII: Latin only, the usual case
    const letters = [...word.normalize('NFD')].map((char) => ({ char, scripts: scriptsOf(char) })).filter((l) => l.scripts.length > 0);
    const present = [...new Set(letters.flatMap((l) => l.scripts))];
    if (present.length < 2 || isHighlyRestrictive(letters)) continue;
    for (const { char, scripts } of letters) {
      const others = present.filter((script) => !scripts.includes(script));
      if (lookalikesOf(char).some((other) => others.some((script) => hasScript(other, script)))) {
        const mixed = present.filter((script) => letters.some((l) => l.scripts.length === 1 && l.scripts[0] === script));
        return { word, scripts: (mixed.length >= 2 ? mixed : present).map((script) => script.replaceAll('_', ' ')).sort() };
      }
    }
  }
  return null;
}

/** True when a word of `name` mixes scripts confusably ("Аcme" with a Cyrillic А). */
export function isMixedScriptConfusable(name: string): boolean {
  return findMixedScriptConfusable(name) !== null;
}
