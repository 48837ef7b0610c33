/**
 * The ledger's tables: cfssl's certdb schema, so cfssl tools pointed at the same database read our rows
 * (and we read theirs). Column names and encodings are cfssl's: the serial as its decimal string, the
 * AKI as lowercase hex without colons, status 'good'/'revoked', all stored as bytes where cfssl stores
 * bytes. Serial uniqueness per CA is the primary key, enforced by the database itself.
 */

/** Every column of `certificates`, in the order the adapters write them. */
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
