import type { MigrationInterface, QueryRunner } from 'typeorm';
import unhomoglyph from 'unhomoglyph';

/**
 * Organization names become unique by how they look, not by lower(name): "Аcme" (Cyrillic А),
 * "Ａｃｍｅ" (full width) and NFD "Café" used to live beside "Acme" and "Café". The key is computed
 * in JavaScript (NFKC, case folding, the UTS #39 confusable skeleton), so this migration fills
 * it for the existing rows itself.
 *
 * Live organizations whose names already look alike keep their rows: the oldest keeps the name
 * (and login by name); each younger one gets a key no name can have, plus an event saying so,
 * until someone renames it (a rename computes a real key). They stay reachable by id.
 */
export class OrganizationNameKey1732500000000 implements MigrationInterface {
  name = 'OrganizationNameKey1732500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE organizations ADD COLUMN name_key text`);
    const rows: { id: string; name: string; status: string }[] = await q.query(`SELECT id, name, status FROM organizations ORDER BY created_at, id`);
    const holder = new Map<string, string>();
    const ids: string[] = [];
    const keys: string[] = [];
    for (const row of rows) {
      let key = organizationNameKeyV1(row.name);
      if (row.status !== 'deleted') {
        const first = holder.get(key);
        if (first === undefined) {
          holder.set(key, row.id);
        } else {
          key = `${key}${UNNAMEABLE}${row.id}`;
          await q.query(`INSERT INTO organization_events (org_id, from_status, to_status, step, detail) VALUES ($1, $2, $2, 'name_key', $3)`, [
            row.id,
            row.status,
            `name looks like the name of organization ${first}: rename it to log in by name again`,
          ]);
        }
      }
      ids.push(row.id);
      keys.push(key);
    }
    for (let start = 0; start < ids.length; start += 1000) {
      await q.query(`UPDATE organizations AS o SET name_key = v.key FROM unnest($1::uuid[], $2::text[]) AS v(id, key) WHERE o.id = v.id`, [
        ids.slice(start, start + 1000),
        keys.slice(start, start + 1000),
      ]);
    }
    await q.query(`ALTER TABLE organizations ALTER COLUMN name_key SET NOT NULL`);
    await q.query(`DROP INDEX organizations_live_name_uq`);
    // The same rule as before, on the new key: unique among live organizations only.
    await q.query(`CREATE UNIQUE INDEX organizations_live_name_key_uq ON organizations (name_key) WHERE status <> 'deleted'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX organizations_live_name_key_uq`);
    await q.query(`ALTER TABLE organizations DROP COLUMN name_key`);
    await q.query(`CREATE UNIQUE INDEX organizations_live_name_uq ON organizations (lower(name)) WHERE status <> 'deleted'`);
  }
}

/** U+FFFF is a noncharacter: names refuse it (\p{C}) and no prototype contains it. */
const UNNAMEABLE = '\uffff';

/*
 * A frozen copy of organizationNameKey (libs/common organizations/organization-names.ts) as of
 * this migration: migrations cannot import libs/common (it depends on them), and what this one
 * stored must not change when that function does. A spec checks that both still agree; when
 * the function has to change, a new migration recomputes name_key with its own copy.
 */

const PROTOTYPES: Readonly<Record<string, string>> = require('unhomoglyph/data.json');

function skeleton(text: string): string {
  return unhomoglyph(text.normalize('NFD').replace(/\p{Default_Ignorable_Code_Point}/gu, '')).normalize('NFD');
}

let latinCapitals: Map<string, string> | undefined;

function latinCapitalOf(char: string): string | undefined {
  if (!latinCapitals) {
    const capitalBySkeleton = new Map<string, string>();
    for (let code = 0x41; code <= 0x5a; code++) capitalBySkeleton.set(skeleton(String.fromCharCode(code)), String.fromCharCode(code));
    latinCapitals = new Map();
    for (const [source, prototype] of Object.entries(PROTOTYPES)) {
      const capital = capitalBySkeleton.get(prototype);
      if (capital && /^\P{ASCII}$/u.test(source) && /^\p{Lu}$/u.test(source)) latinCapitals.set(source, capital);
    }
  }
  return latinCapitals.get(char);
}

export function organizationNameKeyV1(name: string): string {
  const text = name.trim().normalize('NFKC').replace(/\s+/gu, ' ');
  const capitals = [...text.toLowerCase().toUpperCase().normalize('NFD')].map((char) => latinCapitalOf(char) ?? char).join('');
  return skeleton(capitals.toLowerCase().normalize('NFKC')).toLowerCase().toUpperCase().toLowerCase();
}
