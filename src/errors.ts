/**
 * The error catalogue: every domain error etcd-tls reports carries one of these stable codes.
 * Codes never change meaning once released; add new ones, do not reuse old ones.
 *
 * Bad input is an `EtcdTlsError` (exit 1). Misuse of the library API is a `TypeError`.
 * Anything else that escapes is an internal fault (exit 2).
 */
export const ERROR_CODES = {
  // Command line
  USAGE: 'the command line is malformed (unknown flag, missing argument)',
  UNKNOWN_COMMAND: 'no such command',
  MISSING_FLAG: 'a required flag was not given',

  // Files and input
  FILE_NOT_FOUND: 'a file named on the command line or in a config does not exist',
  FILE_UNREADABLE: 'a file exists but cannot be read',
  EMPTY_INPUT: 'the input (file or stdin) is empty',
  WRITE_FAILED: 'an output file could not be written; nothing was changed',
  WOULD_OVERWRITE: 'refusing to replace an existing file (a CA key, or a different CA) without -force',
  DIRECTORY_LOCKED: 'another etcd-tls run is writing into the same directory',
  UNSAFE_PATH: 'a path etcd-tls would write through is a symbolic link, or a directory would land outside the output directory',
  INPUT_TOO_LARGE: 'an input file or stdin is larger than etcd-tls reads (4 MiB)',

  // JSON / schema
  BAD_JSON: 'the input is not valid JSON',
  BAD_FIELD: 'a field has the wrong type or an invalid value',
  MISSING_FIELD: 'a required field is missing',

  // Keys
  BAD_KEY_SPEC: 'unsupported key algorithm or size',
  BAD_KEY: 'a private or public key cannot be parsed',
  KEY_MISMATCH: 'a private key does not belong to the certificate or CSR',

  // PEM / DER
  BAD_PEM: 'the file does not hold the expected PEM block',
  BAD_DER: 'a DER structure cannot be decoded',

  // Names and SANs
  BAD_NAME: 'a subject name attribute is invalid',
  BAD_HOSTNAME: 'a SAN entry is not a valid DNS name, IP address, email or URI',
  EMPTY_SUBJECT: 'a CA needs a CN or at least one names entry',

  // Signing policy
  BAD_DURATION: 'a duration or time value cannot be parsed',
  BAD_CONFIG: 'the signing configuration is invalid',
  UNKNOWN_PROFILE: 'the requested signing profile is not in the config',
  NO_USAGES: 'the profile allows no key usage',
  OUTLIVES_CA: 'the certificate would be valid after its CA expires',
  NOT_A_CA: 'the issuer certificate is not a CA (no CA:TRUE basic constraint or no certSign usage)',
  CA_NOT_ALLOWED: 'the profile or issuer does not allow issuing CA certificates',
  NAME_NOT_ALLOWED: 'the request does not match the profile name_whitelist',
  BAD_CSR_SIGNATURE: 'the CSR signature does not verify with its own public key',
  BAD_VALIDITY: 'the validity window is empty or inverted',

  // Cluster spec (cluster/)
  BAD_SPEC: 'the cluster spec is invalid',
  DUPLICATE_MEMBER: 'two members share a name or an address',
  PORT_COLLISION: 'two listeners of one host share a port',
  CA_KEY_MISSING: 'the CA certificate exists but its key does not',
  DIFFERENT_CA: 'the output directory holds a different CA',
  ETCD_NOT_FOUND: 'the etcd binary is not on PATH',
  CLUSTER_UNHEALTHY: 'the cluster did not become healthy in time',

  // Doctor (doctor/)
  CHECK_FAILED: 'one or more checks found errors',
  PROBE_FAILED: 'an endpoint could not be probed',
  MIGRATION_FAILED: 'the migration stopped before completing',
  MIGRATION_REFUSED: 'the cluster does not meet a precondition of the migration; nothing was changed',

  // Hostile or oversized input (src/pki/validate.ts)
  CONTROL_CHARACTER: 'a name, SAN, URL, path or flag value contains a control character (C0, DEL or C1)',
  TOO_LONG: 'a subject field, SAN or other value is longer than its documented limit',
  BAD_ENCODING: 'a text input is not valid UTF-8',
  NOTHING_RECOGNISED: 'explain found no known etcd TLS failure in its input',

  // Signing server, remote signing and the ledger (server/, ledger/)
  AUTH_REQUIRED: 'the profile requires an authenticated request (authsign), or the request has no token',
  BAD_TOKEN: 'the authsign token is not the HMAC of the request under the profile key',
  NOT_FOUND: 'no such certificate, endpoint or record',
  METHOD_NOT_ALLOWED: 'the HTTP method is not allowed on this endpoint',
  BODY_TOO_LARGE: 'the request body is larger than the server accepts',
  ENDPOINT_DISABLED: 'the endpoint is disabled because the server lacks what it needs (a CA, a ledger)',
  LEDGER_UNAVAILABLE: 'the issuance ledger cannot be reached or written; nothing was issued',
  LEDGER_READ_ONLY: 'the issuance ledger is read-only; nothing was issued',
  REMOTE_FAILED: 'the remote signing server could not be reached or answered with an error',
  // Ledger administration (db migrate, ledger list|show)
  BAD_DB_URL: 'the --db value is not a ledger file path, sqlite:PATH or postgres:// URL',
  LEDGER_SCHEMA: "the ledger database lacks the certificates table or columns; run 'etcd-tls db migrate'",
  DUPLICATE_SERIAL: 'a certificate with this serial number and CA is already recorded',
  CA_NOT_YET_VALID: 'the CA certificate is not valid yet (its notBefore is in the future)',
  TOO_MANY_MEMBERS: 'the spec has more members than etcd-tls generates for',

  // Live operations (ops/): member add/remove, rotate-ca
  OPERATION_REFUSED: 'a live operation does not meet a precondition; nothing was changed',
  QUORUM_AT_RISK: 'the operation would leave the cluster without quorum (or one failure away from it); nothing was changed',
  ADDRESS_COLLISION: "a new member's address or port is taken by another member or process; nothing was changed",
  OPERATION_IN_PROGRESS: 'another live operation (migration, rotation, member change) is recorded unfinished in the directory',
  MEMBER_UNHEALTHY: 'a member is unhealthy before a step; the step was not started (run again once it is healthy)',
  MEMBER_NOT_BACK: 'a member did not come back healthy after a step; the state is saved (run again to resume)',
  REVOCATION_UNAVAILABLE: "revoking a removed member's certificates is not available in this build",
  // Day 2 (lifecycle/)
  UNKNOWN_NAME: 'a member or client name is not in the directory',
  CA_PASSPHRASE_MISSING: 'the CA key is encrypted and no passphrase was given (--ca-passphrase-file, ETCD_TLS_CA_PASSPHRASE or a terminal)',
  CA_PASSPHRASE_WRONG: 'the passphrase does not decrypt the CA key',
  BAD_REVOCATION_RECORD: 'the revocation record (revoked.json) cannot be read; nothing was written',
  BAD_CRL: 'a CRL file cannot be parsed or is not signed by the CA',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** A domain error: bad input, a policy refusal, a missing file. Rendered as one line by the edges. */
export class EtcdTlsError extends Error {
  override readonly name = 'EtcdTlsError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Shorthand used throughout: `throw fail('BAD_FIELD', 'ca-csr.json: key.size: must be a number')`. */
export function fail(code: ErrorCode, message: string, cause?: unknown): EtcdTlsError {
  return new EtcdTlsError(code, message, cause === undefined ? undefined : { cause });
}

export function isEtcdTlsError(e: unknown): e is EtcdTlsError {
  return e instanceof EtcdTlsError;
}

/** Warnings are collected, not thrown: the edges print them as `etcd-tls: warning: ...`. */
export type Warnings = string[];

/**
 * `s` with every control character (C0, DEL, C1) written as an escape (`\n`, `\x1b`, `\u009b`), so
 * no message can move the cursor, recolour a terminal or forge a second line. The CLI's one error
 * printer and its warning sink pass every message through it.
 */
export function escapeControl(s: string): string {
  return s.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => {
    const named: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
    const code = c.charCodeAt(0);
    return named[c] ?? (code < 0x80 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`);
  });
}
