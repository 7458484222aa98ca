// The one table of declared fields (src/state/declared/fields.ts) names real columns of the right type: an
// amount is numeric, a flag boolean, a name text, on both drivers.
import { describe, expect, it } from 'vitest';
import { storeKinds } from '../support/databases.js';
import {
  ACCOUNT_FIELDS,
  GROUP_FIELDS,
  MEMBER_FIELDS,
  type FieldKind,
} from '../../src/state/declared/fields.js';

const SQL_TYPE: Record<FieldKind, string> = { amount: 'numeric', text: 'text', boolean: 'boolean' };
const TABLES = [
  ['accounts', ACCOUNT_FIELDS],
  ['groups', GROUP_FIELDS],
  ['members', MEMBER_FIELDS],
] as const;

describe.each(storeKinds)('declared fields on %s', (_kind, freshStore) => {
  it('every field is a column of its table with the type its kind says', async () => {
    const store = await freshStore();
    for (const [table, fields] of TABLES) {
      const { rows } = await store.query<{ column_name: string; data_type: string }>(
        `SELECT column_name, data_type FROM information_schema.columns
          WHERE table_schema = current_schema() AND table_name = $1`,
        [table],
      );
      const types = new Map(rows.map((r) => [r.column_name, r.data_type]));
      for (const [field, f] of Object.entries(fields)) {
        expect([table, field, types.get(f.column)]).toEqual([table, field, SQL_TYPE[f.kind]]);
      }
    }
  });
});
