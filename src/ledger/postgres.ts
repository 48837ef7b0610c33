/**
 * The PostgreSQL ledger: cfssl's certdb `certificates` table through the `pg` client, for one CA
 * served by several `etcd-tls serve` replicas. The database is the one source of truth: serial
 * uniqueness is its primary key, a revocation is one row update every replica's CRL query sees.
 *
 * Inserts are group-committed: while one transaction is committing, concurrent insert() calls queue,
 * and the next transaction writes them all and commits once; each call resolves only after the
 * COMMIT that holds its rows returned (synchronous_commit is left at the server's setting, on by
 * default: durable). A duplicate serial in a group rolls the group back and replays its calls one
 * transaction each, so only the offending call fails.
 *
 * @example
 *   const ledger = await openPostgresLedger('postgres://etcd_tls:secret@db.example:5432/ca');
 *   await ledger.insert([record]);
 *   const crl = await ledger.revokedUnexpired(aki, new Date());
 */
import pg from 'pg';
import { LedgerError, type CertificateRecord, type Ledger, type RevokeOutcome } from './ledger.js';
import { CERTIFICATE_COLUMNS, POSTGRES_MIGRATION, POSTGRES_MIGRATION_LOCK } from './schema.js';

export interface PostgresLedgerOptions {
  /** Most connections this process opens (default 10). */
  maxConnections?: number;
  /** Give up connecting after this long (default 5000 ms). */
  connectTimeoutMs?: number;
  /** Cancel a statement on the server, and give up on its answer, after this long (default 15000 ms). */
  statementTimeoutMs?: number;
}

type Row = Record<string, unknown>;

/** True for the URL forms this adapter takes: postgres://… and postgresql://…. */
export function isPostgresUrl(url: string): boolean {
  return /^postgres(?:ql)?:\/\//i.test(url);
}

/** The URL without its password, for messages: postgres://user@host:port/db. */
export function describePostgresUrl(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    u.search = '';
    return u.toString();
  } catch {
    return 'the --db URL';
  }
}

function parseUrl(url: string): URL {
  if (!isPostgresUrl(url)) throw new LedgerError('BAD_URL', `${describePostgresUrl(url)}: not a postgres:// or postgresql:// URL`);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new LedgerError('BAD_URL', `the --db URL is not a valid URL (expected postgres://USER:PASSWORD@HOST:PORT/DATABASE)`);
  }
  if (!u.hostname && !u.searchParams.get('host')) {
    throw new LedgerError('BAD_URL', `${describePostgresUrl(url)}: no host (expected postgres://USER:PASSWORD@HOST:PORT/DATABASE)`);
  }
  if (u.pathname.length <= 1) {
    throw new LedgerError('BAD_URL', `${describePostgresUrl(url)}: no database name (expected postgres://USER:PASSWORD@HOST:PORT/DATABASE)`);
  }
  return u;
}

const CONNECTION_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ENOENT']);

/**
 * A pg or socket error as a LedgerError; anything that is not about the database's reachability,
 * permissions, schema or a duplicate is returned unchanged (an internal fault).
 */
export function toLedgerError(e: unknown, where: string): unknown {
  if (e instanceof LedgerError) return e;
  if (!(e instanceof Error)) return e;
  const code = (e as { code?: unknown }).code;
  const msg = e.message.replace(/[\u0000-\u001f\u007f]+/g, ' ');
  if (code === '23505') return new LedgerError('DUPLICATE_SERIAL', `${where}: ${msg}`);
  if (code === '25006') return new LedgerError('READ_ONLY', `${where} is read-only (a hot standby, or default_transaction_read_only): point --db at the primary`);
  if (code === '42501') return new LedgerError('READ_ONLY', `${where}: ${msg} (grant this user INSERT and UPDATE on certificates, or CREATE for db migrate)`);
  if (code === '42P01' || code === '42703') return new LedgerError('SCHEMA', `${where}: ${msg}; run 'etcd-tls db migrate --db URL' first`);
  if (code === '57014') return new LedgerError('UNAVAILABLE', `${where}: the statement timed out (${msg})`);
  if (typeof code === 'string' && (/^08/.test(code) || /^57P0[1-3]$/.test(code) || code === '53300' || code === '3D000' || /^28/.test(code) || code === '53100')) {
    return new LedgerError('UNAVAILABLE', `${where}: ${msg}`);
  }
  if (typeof code === 'string' && CONNECTION_ERRNOS.has(code)) return new LedgerError('UNAVAILABLE', `cannot reach ${where}: ${msg}`);
  // pg and pg-pool report a lost or slow connection with plain Errors and no code.
  if (/Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|connect ECONNREFUSED/i.test(msg)) {
    return new LedgerError('UNAVAILABLE', `cannot reach ${where}: ${msg}`);
  }
  return e;
}

interface PendingInsert {
  records: readonly CertificateRecord[];
  resolve: () => void;
  reject: (e: unknown) => void;
}

const bytes = (s: string): Buffer => Buffer.from(s, 'utf8');
const text = (v: unknown): string => (Buffer.isBuffer(v) ? v.toString('utf8') : v == null ? '' : String(v));
/** cfssl writes Go's zero time (0001-01-01) where we write NULL. */
const dateOrNull = (v: unknown): Date | null => (v instanceof Date && v.getUTCFullYear() > 1 ? v : null);
const STATUS_GOOD = bytes('good');
const STATUS_REVOKED = bytes('revoked');
// pg caps one statement at 65535 parameters; 13 columns a row.
const ROWS_PER_STATEMENT = 1000;

function rowParams(r: CertificateRecord): unknown[] {
  return [
    bytes(r.serialNumber),
    bytes(r.authorityKeyIdentifier),
    bytes(r.caLabel),
    bytes(r.status),
    r.reason,
    r.expiry,
    r.revokedAt,
    bytes(r.pem),
    r.issuedAt,
    r.notBefore,
    r.metadata === null ? null : JSON.stringify(r.metadata),
    // pg would send a JS array as a PostgreSQL array literal; the column is jsonb.
    JSON.stringify(r.sans),
    r.commonName,
  ];
}

function insertStatement(records: readonly CertificateRecord[]): { text: string; values: unknown[] } {
  const n = CERTIFICATE_COLUMNS.length;
  const tuples = records.map((_, i) => `(${CERTIFICATE_COLUMNS.map((_, j) => `$${i * n + j + 1}`).join(', ')})`);
  return {
    text: `INSERT INTO certificates (${CERTIFICATE_COLUMNS.join(', ')}) VALUES ${tuples.join(', ')}`,
    values: records.flatMap(rowParams),
  };
}

function fromRow(row: Row): CertificateRecord {
  const status = text(row.status);
  const sans = row.sans;
  return {
    serialNumber: text(row.serial_number),
    authorityKeyIdentifier: text(row.authority_key_identifier),
    caLabel: text(row.ca_label),
    status: status === 'revoked' ? 'revoked' : 'good',
    reason: typeof row.reason === 'number' ? row.reason : 0,
    expiry: row.expiry as Date,
    revokedAt: dateOrNull(row.revoked_at),
    pem: text(row.pem),
    issuedAt: (dateOrNull(row.issued_at) ?? dateOrNull(row.not_before) ?? row.expiry) as Date,
    notBefore: (dateOrNull(row.not_before) ?? row.expiry) as Date,
    sans: Array.isArray(sans) ? sans.map(String) : [],
    commonName: typeof row.common_name === 'string' ? row.common_name : '',
    metadata: row.metadata !== null && typeof row.metadata === 'object' && !Array.isArray(row.metadata) ? (row.metadata as Record<string, unknown>) : null,
  };
}

function duplicateMessage(records: readonly CertificateRecord[]): string {
  const first = records[0];
  if (!first) return 'a serial is already recorded';
  const more = records.length > 1 ? ` (or another of the ${records.length} serials in this batch)` : '';
  return `serial ${first.serialNumber} of CA ${first.authorityKeyIdentifier}${more} is already recorded in the ledger`;
}

class PostgresLedger implements Ledger {
  private readonly queue: PendingInsert[] = [];
  private flushing = false;
  private closed = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly where: string,
  ) {}

  insert(records: readonly CertificateRecord[]): Promise<void> {
    if (this.closed) return Promise.reject(new LedgerError('UNAVAILABLE', `${this.where}: the ledger is closed`));
    if (records.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ records, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  /** Commit whatever is queued, one transaction per round, until the queue is empty. */
  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const group = this.queue.splice(0);
        await this.commitGroup(group);
      }
    } finally {
      this.flushing = false;
    }
  }

  private async commitGroup(group: PendingInsert[]): Promise<void> {
    try {
      await this.inTransaction(group.flatMap((p) => p.records));
      for (const p of group) p.resolve();
    } catch (e) {
      const err = toLedgerError(e, this.where);
      if (!(err instanceof LedgerError && err.code === 'DUPLICATE_SERIAL')) {
        for (const p of group) p.reject(err);
        return;
      }
      // Replay one call per transaction: only the call holding the duplicate fails.
      for (const p of group) {
        try {
          await this.inTransaction(p.records);
          p.resolve();
        } catch (e2) {
          const err2 = toLedgerError(e2, this.where);
          p.reject(err2 instanceof LedgerError && err2.code === 'DUPLICATE_SERIAL' ? new LedgerError('DUPLICATE_SERIAL', duplicateMessage(p.records)) : err2);
        }
      }
    }
  }

  private async inTransaction(records: readonly CertificateRecord[]): Promise<void> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      for (let i = 0; i < records.length; i += ROWS_PER_STATEMENT) {
        await client.query(insertStatement(records.slice(i, i + ROWS_PER_STATEMENT)));
      }
      await client.query('COMMIT');
    } catch (e) {
      // A ROLLBACK that fails means the connection itself is gone: destroy it rather than pool it.
      await client.query('ROLLBACK').catch((rollbackError: unknown) => {
        broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      });
      throw e;
    } finally {
      client.release(broken);
    }
  }

  private async query(sql: string, values: unknown[]): Promise<pg.QueryResult<Row>> {
    if (this.closed) throw new LedgerError('UNAVAILABLE', `${this.where}: the ledger is closed`);
    try {
      return await this.pool.query<Row>(sql, values);
    } catch (e) {
      throw toLedgerError(e, this.where);
    }
  }

  async revoke(serialNumber: string, authorityKeyIdentifier: string, reason: number, at: Date): Promise<RevokeOutcome> {
    // One statement: the update, and whether the row exists at all (the CTE's snapshot is before the update).
    const r = await this.query(
      `WITH updated AS (
         UPDATE certificates SET status = $3, reason = $4, revoked_at = $5
          WHERE serial_number = $1 AND authority_key_identifier = $2 AND status = $6
          RETURNING 1)
       SELECT (SELECT count(*) FROM updated)::int AS updated,
              (SELECT count(*) FROM certificates WHERE serial_number = $1 AND authority_key_identifier = $2)::int AS present`,
      [bytes(serialNumber), bytes(authorityKeyIdentifier), STATUS_REVOKED, reason, at, STATUS_GOOD],
    );
    const row = r.rows[0] ?? {};
    if (row.updated === 1) return 'revoked';
    return row.present === 1 ? 'already-revoked' : 'unknown';
  }

  async get(serialNumber: string, authorityKeyIdentifier?: string): Promise<CertificateRecord[]> {
    const r =
      authorityKeyIdentifier === undefined
        ? await this.query('SELECT * FROM certificates WHERE serial_number = $1 ORDER BY authority_key_identifier', [bytes(serialNumber)])
        : await this.query('SELECT * FROM certificates WHERE serial_number = $1 AND authority_key_identifier = $2', [bytes(serialNumber), bytes(authorityKeyIdentifier)]);
    return r.rows.map(fromRow);
  }

  async list(filter: { status?: 'good' | 'revoked'; expiringBefore?: Date; caLabel?: string } = {}): Promise<CertificateRecord[]> {
    const where: string[] = [];
    const values: unknown[] = [];
    if (filter.status !== undefined) {
      values.push(bytes(filter.status));
      where.push(`status = $${values.length}`);
    }
    if (filter.expiringBefore !== undefined) {
      values.push(filter.expiringBefore);
      where.push(`expiry < $${values.length}`);
    }
    if (filter.caLabel !== undefined) {
      values.push(bytes(filter.caLabel));
      where.push(`ca_label = $${values.length}`);
    }
    const r = await this.query(
      `SELECT * FROM certificates ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY expiry, serial_number`,
      values,
    );
    return r.rows.map(fromRow);
  }

  async revokedUnexpired(authorityKeyIdentifier: string, now: Date): Promise<CertificateRecord[]> {
    const r = await this.query(
      'SELECT * FROM certificates WHERE authority_key_identifier = $1 AND status = $2 AND expiry > $3 ORDER BY serial_number',
      [bytes(authorityKeyIdentifier), STATUS_REVOKED, now],
    );
    return r.rows.map(fromRow);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Let queued inserts finish: close() must not drop a record a caller is waiting on.
    while (this.flushing || this.queue.length > 0) await new Promise((r) => setTimeout(r, 5));
    await this.pool.end();
  }
}

function makePool(url: string, opts: PostgresLedgerOptions): pg.Pool {
  const statementTimeout = opts.statementTimeoutMs ?? 15_000;
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.maxConnections ?? 10,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 5_000,
    idleTimeoutMillis: 30_000,
    // The server cancels a statement that runs too long; the client stops waiting a little later,
    // which also bounds a request when the network to the database is cut.
    statement_timeout: statementTimeout,
    query_timeout: statementTimeout + 5_000,
    keepAlive: true,
    application_name: 'etcd-tls',
  });
  // An idle connection the server drops (restart, failover) emits 'error' on the pool; unhandled, it
  // would end the process. The next query gets a fresh connection, or a LedgerError UNAVAILABLE.
  pool.on('error', () => {});
  return pool;
}

/**
 * Open the ledger at `url` (postgres://USER:PASSWORD@HOST:PORT/DATABASE). Rejects with LedgerError
 * BAD_URL, UNAVAILABLE (cannot connect), or SCHEMA (the tables are missing or older: run
 * `etcd-tls db migrate --db URL`). Opening never creates or alters tables.
 */
export async function openPostgresLedger(url: string, opts: PostgresLedgerOptions = {}): Promise<Ledger> {
  parseUrl(url);
  const where = describePostgresUrl(url);
  const pool = makePool(url, opts);
  try {
    const r = await pool.query<{ column_name: string }>(
      `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'certificates'`,
    );
    const have = new Set(r.rows.map((row) => row.column_name));
    const missing = CERTIFICATE_COLUMNS.filter((c) => !have.has(c));
    if (missing.length > 0) {
      throw new LedgerError(
        'SCHEMA',
        have.size === 0
          ? `${where} has no certificates table; run 'etcd-tls db migrate --db URL' first`
          : `${where}: the certificates table lacks ${missing.join(', ')}; run 'etcd-tls db migrate --db URL'`,
      );
    }
  } catch (e) {
    await pool.end().catch(() => {});
    throw toLedgerError(e, where);
  }
  return new PostgresLedger(pool, where);
}

/** What `db migrate` found and did, step by step. */
export interface MigrationReport {
  /** The database, without its password. */
  database: string;
  steps: { what: string; action: 'created' | 'present' }[];
}

/**
 * Create or complete the ledger's tables (cfssl's certdb schema) in one transaction; idempotent, and
 * safe to run from two places at once (an advisory lock serialises them). An existing cfssl database
 * is completed in place, never rewritten.
 */
export async function migratePostgres(url: string, opts: PostgresLedgerOptions = {}): Promise<MigrationReport> {
  parseUrl(url);
  const where = describePostgresUrl(url);
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 5_000,
    statement_timeout: opts.statementTimeoutMs ?? 60_000,
    application_name: 'etcd-tls db migrate',
  });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [POSTGRES_MIGRATION_LOCK]);
    const steps: MigrationReport['steps'] = [];
    for (const step of POSTGRES_MIGRATION) {
      const present = (await client.query<{ present: boolean }>(step.presentSql)).rows[0]?.present === true;
      if (!present) await client.query(step.ddl);
      steps.push({ what: step.what, action: present ? 'present' : 'created' });
    }
    await client.query('COMMIT');
    return { database: where, steps };
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw toLedgerError(e, where);
  } finally {
    await client.end().catch(() => {});
  }
}
