/**
 * cfssl's response envelope: `{"success","result","errors":[{"code","message"}],"messages"}`, and the
 * one place where an error becomes an HTTP status and a cfssl error code. Messages carry etcd-tls's
 * stable code first (`UNKNOWN_PROFILE: ...`); a fault that is not a domain error is reported as
 * "internal error" with no detail (the detail goes to the server's log, never to the client).
 */
import { isEtcdTlsError, type ErrorCode } from '../errors.js';
import type { ApiMessage } from '../cfssl/service.js';

export interface Envelope {
  success: boolean;
  result: unknown;
  errors: ApiMessage[];
  messages: ApiMessage[];
}

/** HTTP status and cfssl error code (cfssl's errors/doc.go categories) for each domain error. */
const STATUS: Partial<Record<ErrorCode, [status: number, cfsslCode: number]>> = {
  BAD_JSON: [400, 400],
  BAD_FIELD: [400, 400],
  MISSING_FIELD: [400, 400],
  EMPTY_INPUT: [400, 400],
  AUTH_REQUIRED: [400, 400],
  BAD_TOKEN: [400, 400],
  UNKNOWN_PROFILE: [400, 5100],
  NO_USAGES: [400, 5100],
  BAD_CONFIG: [400, 5200],
  BAD_DURATION: [400, 5200],
  OUTLIVES_CA: [400, 5300],
  CA_NOT_ALLOWED: [400, 5300],
  BAD_VALIDITY: [400, 5300],
  EMPTY_SUBJECT: [400, 5300],
  BAD_HOSTNAME: [400, 5300],
  BAD_NAME: [400, 5300],
  NAME_NOT_ALLOWED: [400, 5500],
  CONTROL_CHARACTER: [400, 400],
  TOO_LONG: [400, 400],
  BAD_ENCODING: [400, 400],
  BAD_KEY_SPEC: [400, 2400],
  BAD_KEY: [400, 2003],
  KEY_MISMATCH: [400, 9300],
  BAD_CSR_SIGNATURE: [400, 9300],
  BAD_PEM: [400, 9002],
  BAD_DER: [400, 9002],
  NOT_A_CA: [400, 1000],
  NOT_FOUND: [404, 11200],
  ENDPOINT_DISABLED: [404, 404],
  METHOD_NOT_ALLOWED: [405, 405],
  BODY_TOO_LARGE: [413, 413],
  LEDGER_UNAVAILABLE: [503, 11000],
  LEDGER_READ_ONLY: [503, 11000],
  LEDGER_SCHEMA: [503, 11000],
  DUPLICATE_SERIAL: [503, 11000],
};

export const successEnvelope = (result: unknown, messages: ApiMessage[] = []): Envelope => ({ success: true, result, errors: [], messages });

/** The status and envelope for anything a handler threw; `internal` is set when it was not a domain error. */
export function errorEnvelope(e: unknown): { status: number; envelope: Envelope; internal?: unknown } {
  if (isEtcdTlsError(e)) {
    const [status, code] = STATUS[e.code] ?? [400, 400];
    return { status, envelope: { success: false, result: null, errors: [{ code, message: `${e.code}: ${printable(e.message)}` }], messages: [] } };
  }
  return { status: 500, envelope: { success: false, result: null, errors: [{ code: 500, message: 'INTERNAL: internal error (logged by the server)' }], messages: [] }, internal: e };
}

/** No raw control characters from a request echo into a response or a log line. */
export const printable = (s: string): string => s.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
