/**
 * `--db URL` → a Ledger: a file path or `sqlite:PATH` is SQLite (embedded, the default), and
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
  const path = url.startsWith('sqlite:') ? url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '') : url;
  if (path === '' || /^[a-z][a-z0-9+.-]*:\/\//i.test(path))
    throw new LedgerError('BAD_URL', `--db ${JSON.stringify(url)}: expected a file path, sqlite:PATH, or postgres://…`);
  const { openSqliteLedger } = await import('./sqlite.js');
  return openSqliteLedger(path);
}
