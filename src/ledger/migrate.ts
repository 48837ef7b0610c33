/**
 * `etcd-tls db migrate`: put the ledger's tables in place and say what was done. PostgreSQL tables
 * are created only here (never by serve, which may run with a role that cannot create them); a
 * SQLite ledger creates its own tables when opened, so migrating one is opening it once.
 */
import { existsSync } from 'node:fs';
import { openLedger } from './open.js';
import { isPostgresUrl, type MigrationReport } from './postgres.js';

export type { MigrationReport } from './postgres.js';

/** Create or complete the ledger schema at `url`; idempotent. Rejects with LedgerError. */
export async function migrateLedger(url: string): Promise<MigrationReport> {
  if (isPostgresUrl(url)) {
    const { migratePostgres } = await import('./postgres.js');
    return migratePostgres(url);
  }
  const path = url.startsWith('sqlite:') ? url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '') : url;
  const existed = existsSync(path);
  const ledger = await openLedger(url);
  await ledger.close();
  return { database: path, steps: [{ what: 'SQLite ledger file with tables certificates and ocsp_responses', action: existed ? 'present' : 'created' }] };
}
