/**
 * The ledger's tables, as cfssl's certdb migrations create them, so `cfssl serve -db-config`, `cfssl
 * revoke` and plain SQL work on an etcd-tls ledger (and etcd-tls on a cfssl certdb).
 *
 * Encodings (cfssl's): serial_number is the decimal string, authority_key_identifier lowercase hex
 * without colons, status 'good' | 'revoked', sans a JSON array, metadata a JSON object.
 */

/**
 * SQLite: cfssl's 001_CreateCertificates plus 002_AddMetadataToCertificates, in one script. The
 * columns keep cfssl's `blob` declarations: a blob column has no type affinity, so a decimal serial
 * stays text (a `bytea` declaration has NUMERIC affinity and turned cfssl's serials into REALs).
 * Timestamps are text in the form Go's SQLite driver writes and parses (`2006-01-02 15:04:05.999-07:00`).
 */
export const SQLITE_SCHEMA = `
CREATE TABLE IF NOT EXISTS certificates (
  serial_number            blob NOT NULL,
  authority_key_identifier blob NOT NULL,
  ca_label                 blob,
  status                   blob NOT NULL,
  reason                   int,
  expiry                   timestamp,
  revoked_at               timestamp,
  pem                      blob NOT NULL,
  issued_at                timestamp,
  not_before               timestamp,
  metadata                 text,
  sans                     text,
  common_name              text,
  PRIMARY KEY(serial_number, authority_key_identifier)
);
CREATE TABLE IF NOT EXISTS ocsp_responses (
  serial_number            blob NOT NULL,
  authority_key_identifier blob NOT NULL,
  body                     blob NOT NULL,
  expiry                   timestamp,
  PRIMARY KEY(serial_number, authority_key_identifier),
  FOREIGN KEY(serial_number, authority_key_identifier) REFERENCES certificates(serial_number, authority_key_identifier)
);
`;

/** Columns every ledger row must have (a cfssl certdb made before migration 002 lacks the last five). */
export const CERTIFICATE_COLUMNS = [
  'serial_number',
  'authority_key_identifier',
  'ca_label',
  'status',
  'reason',
  'expiry',
  'revoked_at',
  'pem',
  'issued_at',
  'not_before',
  'metadata',
  'sans',
  'common_name',
] as const;
