/**
 * `--db URL` → a Ledger: a file path or `sqlite:PATH[?mode=ro]` is SQLite (embedded, the default), and
 * `postgres://` / `postgresql://` is PostgreSQL (loaded only when asked for).
 */
import { LedgerError, type Ledger } from './ledger.js';

/**
 * @example
 *   const ledger = await openLedger('sqlite:/var/lib/etcd-tls/ledger.db');
 *   const replicas = await openLedger('postgres://etcd-tls@db.example/ledger');
 */
export async function openLedger(url: string): Promise<Ledger> {
  if (/^postgres(ql)?:\/\//i.test(url)) {
    // Loaded only for postgres:// URLs, so SQLite users never load pg.
    const mod = await import('./postgres.js');
    return mod.openPostgresLedger(url);
  }
  // sqlite:PATH?mode=ro opens the file read-only (a copy to inspect; every write fails READ_ONLY).
  const readOnly = url.startsWith('sqlite:') && url.endsWith('?mode=ro');
  const bare = readOnly ? url.slice(0, -'?mode=ro'.length) : url;
  const path = bare.startsWith('sqlite:') ? bare.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '') : bare;
  if (path === '' || /^[a-z][a-z0-9+.-]*:\/\//i.test(path))
    throw new LedgerError('BAD_URL', `--db ${JSON.stringify(url)}: expected a file path, sqlite:PATH, or postgres://…`);
  const { openSqliteLedger } = await import('./sqlite.js');
  return openSqliteLedger(path, { readOnly });
}
