/**
 * A LedgerError as the domain error the edges print (`etcd-tls: LEDGER_UNAVAILABLE: ...`, exit 1):
 * the ledger's codes are the adapters' vocabulary, the catalogue's are the user's.
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

/** `e` as an EtcdTlsError when it is a LedgerError; anything else unchanged. */
export function ledgerFailure(e: unknown): unknown {
  return e instanceof LedgerError ? fail(CODE[e.code], e.message, e) : e;
}
