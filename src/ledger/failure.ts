/**
 * A LedgerError as the domain error the edges print (`etcd-tls: LEDGER_UNAVAILABLE: ...`, exit 1) or
 * the server renders in its envelope: the ledger's codes are the adapters' vocabulary, the
 * catalogue's are the user's. The one mapping for every edge (CLI commands and the signing service).
 */
import { fail, type ErrorCode } from '../errors.js';
import { LedgerError } from './ledger.js';

const CODE: Record<LedgerError['code'], ErrorCode> = {
  BAD_URL: 'BAD_DB_URL',
  UNAVAILABLE: 'LEDGER_UNAVAILABLE',
  READ_ONLY: 'LEDGER_READ_ONLY',
  SCHEMA: 'LEDGER_SCHEMA',
  DUPLICATE_SERIAL: 'DUPLICATE_SERIAL',
};

/**
 * `e` as an EtcdTlsError when it is a LedgerError; anything else unchanged. `consequence` is what the
 * caller did not do because of it ("nothing was issued"), appended to the message.
 *
 * @example
 *   await ledger.insert(records).catch((e) => Promise.reject(ledgerFailure(e, 'nothing was written')));
 */
export function ledgerFailure(e: unknown, consequence?: string): unknown {
  if (!(e instanceof LedgerError)) return e;
  return fail(CODE[e.code], consequence ? `${e.message}; ${consequence}` : e.message, e);
}
