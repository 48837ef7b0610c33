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

// ---- PostgreSQL ------------------------------------------------------------------------------------

/** One step of `etcd-tls db migrate`: what it creates, how to tell it is already there, its DDL. */
export interface PostgresMigrationStep {
  /** What the step does, for the report ("table certificates"). */
  what: string;
  /** SQL returning one row with a boolean `present`. */
  presentSql: string;
  /** Idempotent DDL: safe to run again, and on a database cfssl's own goose migrations created. */
  ddl: string;
}

const columnPresent = (table: string, column: string): string =>
  `SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = '${table}' AND column_name = '${column}') AS present`;
const tablePresent = (table: string): string =>
  `SELECT EXISTS (SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = '${table}') AS present`;
const indexPresent = (index: string): string =>
  `SELECT EXISTS (SELECT 1 FROM pg_indexes WHERE schemaname = current_schema() AND indexname = '${index}') AS present`;

/**
 * cfssl's certdb/pg migrations 001 (certificates, ocsp_responses) and 002 (issued_at, not_before,
 * metadata, sans, common_name), then the indexes the CRL and expiry queries use.
 */
export const POSTGRES_MIGRATION: readonly PostgresMigrationStep[] = [
  {
    what: 'table certificates',
    presentSql: tablePresent('certificates'),
    ddl: `CREATE TABLE IF NOT EXISTS certificates (
  serial_number            bytea NOT NULL,
  authority_key_identifier bytea NOT NULL,
  ca_label                 bytea,
  status                   bytea NOT NULL,
  reason                   int,
  expiry                   timestamptz,
  revoked_at               timestamptz,
  pem                      bytea NOT NULL,
  PRIMARY KEY (serial_number, authority_key_identifier)
)`,
  },
  ...(
    [
      ['issued_at', 'timestamptz'],
      ['not_before', 'timestamptz'],
      ['metadata', 'jsonb'],
      ['sans', 'jsonb'],
      ['common_name', 'text'],
    ] as const
  ).map(([column, type]) => ({
    what: `column certificates.${column}`,
    presentSql: columnPresent('certificates', column),
    ddl: `ALTER TABLE certificates ADD COLUMN IF NOT EXISTS ${column} ${type}`,
  })),
  {
    what: 'table ocsp_responses',
    presentSql: tablePresent('ocsp_responses'),
    ddl: `CREATE TABLE IF NOT EXISTS ocsp_responses (
  serial_number            bytea NOT NULL,
  authority_key_identifier bytea NOT NULL,
  body                     bytea NOT NULL,
  expiry                   timestamptz,
  PRIMARY KEY (serial_number, authority_key_identifier),
  FOREIGN KEY (serial_number, authority_key_identifier) REFERENCES certificates (serial_number, authority_key_identifier)
)`,
  },
  {
    what: 'index certificates_revoked (the CRL query)',
    presentSql: indexPresent('certificates_revoked'),
    ddl: `CREATE INDEX IF NOT EXISTS certificates_revoked ON certificates (authority_key_identifier, expiry) WHERE status = 'revoked'::bytea`,
  },
  {
    what: 'index certificates_expiry',
    presentSql: indexPresent('certificates_expiry'),
    ddl: 'CREATE INDEX IF NOT EXISTS certificates_expiry ON certificates (expiry)',
  },
];

/** Two `db migrate` runs at once (two replicas starting) take turns on this transaction-scoped lock. */
export const POSTGRES_MIGRATION_LOCK = 0x65746364; // "etcd"
