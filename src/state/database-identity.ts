// The database's identity (migration 010): a UUID written once by migrate, recorded in saved plans.
import { CreditsError } from '../errors.js';
import type { Queryable } from './store.js';

export async function readDatabaseId(db: Queryable): Promise<string> {
  const { rows } = await db.query<{ database_id: string }>('SELECT database_id FROM database_identity');
  const id = rows[0]?.database_id;
  if (!id) throw new CreditsError('DATABASE_ERROR', { reason: 'database_identity is empty' });
  return id;
}
