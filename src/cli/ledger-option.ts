/**
 * `--db URL` on the commands that issue or revoke from files (gen, renew, revoke, crl, gencrl): the
 * same ledger `etcd-tls serve --db` keeps, opened by the same parser (ledger/open.ts).
 */
import { ledgerFailure } from '../ledger/failure.js';
import type { Ledger } from '../ledger/ledger.js';
import { openLedger } from '../ledger/open.js';
import type { FlagDefs } from './args.js';

export const DB_FLAG = {
  db: {
    type: 'string',
    value: 'URL',
    description: "issuance ledger to record in (as serve --db): a SQLite file or sqlite:PATH, or postgres://USER:PASSWORD@HOST:PORT/DATABASE",
  },
} as const satisfies FlagDefs;

/** The URL with its password masked, for output lines. */
export const describeDb = (url: string): string => url.replace(/\/\/([^@/:]*):[^@/]*@/, '//$1:***@');

/**
 * Run `fn` with the ledger `db` names (or none), closing it after. A ledger that cannot be opened
 * fails before `fn` runs, so nothing is written (LEDGER_UNAVAILABLE, BAD_DB_URL, LEDGER_SCHEMA...).
 */
export async function withLedgerOption<T>(db: string | undefined, fn: (ledger: Ledger | undefined) => Promise<T>): Promise<T> {
  if (db === undefined) return fn(undefined);
  let ledger: Ledger;
  try {
    ledger = await openLedger(db);
  } catch (e) {
    throw ledgerFailure(e, 'nothing was written');
  }
  try {
    return await fn(ledger);
  } finally {
    await ledger.close().catch(() => {});
  }
}
